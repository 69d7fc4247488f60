from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.key_source import KeySource
from ..models.provider import Provider

T = TypeVar("T", bound="ProviderKeyStatus")


@_attrs_define
class ProviderKeyStatus:
    """Whether a provider has a key, never the key itself.

    Attributes:
        provider (Provider): Provider that runs a model.
        configured (bool):
        source (KeySource): Where a provider key comes from.
        variable (str): Environment variable that takes precedence over `config.toml`.
    """

    provider: Provider
    configured: bool
    source: KeySource
    variable: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        provider = self.provider.value

        configured = self.configured

        source = self.source.value

        variable = self.variable

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "provider": provider,
                "configured": configured,
                "source": source,
                "variable": variable,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        provider = Provider(d.pop("provider"))

        configured = d.pop("configured")

        source = KeySource(d.pop("source"))

        variable = d.pop("variable")

        provider_key_status = cls(
            provider=provider,
            configured=configured,
            source=source,
            variable=variable,
        )

        provider_key_status.additional_properties = d
        return provider_key_status

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
