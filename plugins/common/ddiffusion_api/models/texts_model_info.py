from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.texts_model_info_provider_type_0 import TextsModelInfoProviderType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="TextsModelInfo")


@_attrs_define
class TextsModelInfo:
    """Provider and description of a text model.

    Attributes:
        provider (TextsModelInfoProviderType0): Source/provider identifier
        external (bool): True if the model is invoked via an external API
        description (Union[None, Unset, str]):
    """

    provider: TextsModelInfoProviderType0
    external: bool
    description: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        provider: str
        if isinstance(self.provider, TextsModelInfoProviderType0):
            provider = self.provider.value

        external = self.external

        description: Union[None, Unset, str]
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "provider": provider,
                "external": external,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_provider(data: object) -> TextsModelInfoProviderType0:
            if not isinstance(data, str):
                raise TypeError()
            provider_type_0 = TextsModelInfoProviderType0(data)

            return provider_type_0

        provider = _parse_provider(d.pop("provider"))

        external = d.pop("external")

        def _parse_description(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        description = _parse_description(d.pop("description", UNSET))

        texts_model_info = cls(
            provider=provider,
            external=external,
            description=description,
        )

        texts_model_info.additional_properties = d
        return texts_model_info

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
