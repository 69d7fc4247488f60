from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProfileInfo")


@_attrs_define
class ProfileInfo:
    """A profile as listings show it, without its key.

    Attributes:
        name (str):
        base_url (str):
        enabled (bool):
        has_key (bool): True if the profile has an API key; the key itself is never returned.
    """

    name: str
    base_url: str
    enabled: bool
    has_key: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        base_url = self.base_url

        enabled = self.enabled

        has_key = self.has_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "base_url": base_url,
                "enabled": enabled,
                "has_key": has_key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        base_url = d.pop("base_url")

        enabled = d.pop("enabled")

        has_key = d.pop("has_key")

        profile_info = cls(
            name=name,
            base_url=base_url,
            enabled=enabled,
            has_key=has_key,
        )

        profile_info.additional_properties = d
        return profile_info

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
