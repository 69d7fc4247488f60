from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.profile_check_models import ProfileCheckModels


T = TypeVar("T", bound="ProfileCheck")


@_attrs_define
class ProfileCheck:
    """Outcome of checking a profile: version and models of the remote.

    Attributes:
        name (str):
        version (str):
        models (ProfileCheckModels): Models by domain (`images`, `texts`, `videos`).
    """

    name: str
    version: str
    models: "ProfileCheckModels"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        version = self.version

        models = self.models.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "version": version,
                "models": models,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.profile_check_models import ProfileCheckModels

        d = dict(src_dict)
        name = d.pop("name")

        version = d.pop("version")

        models = ProfileCheckModels.from_dict(d.pop("models"))

        profile_check = cls(
            name=name,
            version=version,
            models=models,
        )

        profile_check.additional_properties = d
        return profile_check

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
