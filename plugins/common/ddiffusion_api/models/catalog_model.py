from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.domain import Domain
from ..models.provider import Provider
from ..types import UNSET, Unset

T = TypeVar("T", bound="CatalogModel")


@_attrs_define
class CatalogModel:
    """One catalogue model, as `GET /api/models` lists it.

    Attributes:
        domain (Domain): A family of requests with its own routes under `/api/{domain}`.
        name (str):
        provider (Provider): Provider that runs a model.
        installed (bool): Local models: all files are in the Hugging Face cache. External
            models: the provider's key is configured.
        gated (bool): The repository needs an accepted licence and a token (`HF_TOKEN`).
        loaded (bool): The model's pipeline is in memory now.
        description (Union[None, Unset, str]):
        size_bytes (Union[None, Unset, int]): Bytes on disk of the files present; null for external models.
        license_ (Union[None, Unset, str]):
        runs_on (Union[None, Unset, str]): Remote profile that the model's routing rule in `profiles.toml` sends its
            jobs to.
    """

    domain: Domain
    name: str
    provider: Provider
    installed: bool
    gated: bool
    loaded: bool
    description: Union[None, Unset, str] = UNSET
    size_bytes: Union[None, Unset, int] = UNSET
    license_: Union[None, Unset, str] = UNSET
    runs_on: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        domain = self.domain.value

        name = self.name

        provider = self.provider.value

        installed = self.installed

        gated = self.gated

        loaded = self.loaded

        description: Union[None, Unset, str]
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        size_bytes: Union[None, Unset, int]
        if isinstance(self.size_bytes, Unset):
            size_bytes = UNSET
        else:
            size_bytes = self.size_bytes

        license_: Union[None, Unset, str]
        if isinstance(self.license_, Unset):
            license_ = UNSET
        else:
            license_ = self.license_

        runs_on: Union[None, Unset, str]
        if isinstance(self.runs_on, Unset):
            runs_on = UNSET
        else:
            runs_on = self.runs_on

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "domain": domain,
                "name": name,
                "provider": provider,
                "installed": installed,
                "gated": gated,
                "loaded": loaded,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes
        if license_ is not UNSET:
            field_dict["license"] = license_
        if runs_on is not UNSET:
            field_dict["runs_on"] = runs_on

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        domain = Domain(d.pop("domain"))

        name = d.pop("name")

        provider = Provider(d.pop("provider"))

        installed = d.pop("installed")

        gated = d.pop("gated")

        loaded = d.pop("loaded")

        def _parse_description(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        description = _parse_description(d.pop("description", UNSET))

        def _parse_size_bytes(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        size_bytes = _parse_size_bytes(d.pop("size_bytes", UNSET))

        def _parse_license_(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        license_ = _parse_license_(d.pop("license", UNSET))

        def _parse_runs_on(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        runs_on = _parse_runs_on(d.pop("runs_on", UNSET))

        catalog_model = cls(
            domain=domain,
            name=name,
            provider=provider,
            installed=installed,
            gated=gated,
            loaded=loaded,
            description=description,
            size_bytes=size_bytes,
            license_=license_,
            runs_on=runs_on,
        )

        catalog_model.additional_properties = d
        return catalog_model

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
