from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.patch_class_type import PatchClassType

T = TypeVar("T", bound="Patch")


@_attrs_define
class Patch:
    """A value written into the workflow node whose `_meta.title` matches `title`.

    Attributes:
        title (str):
        class_type (PatchClassType): Node class a patch may target.
        value (Any):
    """

    title: str
    class_type: PatchClassType
    value: Any
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        class_type = self.class_type.value

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "title": title,
                "class_type": class_type,
                "value": value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

        class_type = PatchClassType(d.pop("class_type"))

        value = d.pop("value")

        patch = cls(
            title=title,
            class_type=class_type,
            value=value,
        )

        patch.additional_properties = d
        return patch

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
