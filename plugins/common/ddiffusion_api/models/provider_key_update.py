from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProviderKeyUpdate")


@_attrs_define
class ProviderKeyUpdate:
    """Body of `PUT /api/admin/provider-keys/{provider}`; an empty or null key removes it.

    Attributes:
        key (Union[None, Unset, str]):
    """

    key: Union[None, Unset, str] = UNSET

    def to_dict(self) -> dict[str, Any]:
        key: Union[None, Unset, str]
        if isinstance(self.key, Unset):
            key = UNSET
        else:
            key = self.key

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if key is not UNSET:
            field_dict["key"] = key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_key(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        key = _parse_key(d.pop("key", UNSET))

        provider_key_update = cls(
            key=key,
        )

        return provider_key_update
