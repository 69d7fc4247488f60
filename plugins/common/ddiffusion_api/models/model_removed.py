from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ModelRemoved")


@_attrs_define
class ModelRemoved:
    """Response of `DELETE /api/models/{name}`.

    Attributes:
        name (str):
        freed_bytes (int): Bytes the removed files took on disk.
        removed_paths (int): Cache folders deleted; 0 when the model had no files.
        unloaded (bool): The model was in memory and has been unloaded first.
    """

    name: str
    freed_bytes: int
    removed_paths: int
    unloaded: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        freed_bytes = self.freed_bytes

        removed_paths = self.removed_paths

        unloaded = self.unloaded

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "freed_bytes": freed_bytes,
                "removed_paths": removed_paths,
                "unloaded": unloaded,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        freed_bytes = d.pop("freed_bytes")

        removed_paths = d.pop("removed_paths")

        unloaded = d.pop("unloaded")

        model_removed = cls(
            name=name,
            freed_bytes=freed_bytes,
            removed_paths=removed_paths,
            unloaded=unloaded,
        )

        model_removed.additional_properties = d
        return model_removed

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
