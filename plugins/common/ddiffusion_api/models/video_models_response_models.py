from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.videos_model_info import VideosModelInfo


T = TypeVar("T", bound="VideoModelsResponseModels")


@_attrs_define
class VideoModelsResponseModels:
    """ """

    additional_properties: dict[str, "VideosModelInfo"] = _attrs_field(
        init=False, factory=dict
    )

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            field_dict[prop_name] = prop.to_dict()

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.videos_model_info import VideosModelInfo

        d = dict(src_dict)
        video_models_response_models = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():
            additional_property = VideosModelInfo.from_dict(prop_dict)

            additional_properties[prop_name] = additional_property

        video_models_response_models.additional_properties = additional_properties
        return video_models_response_models

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> "VideosModelInfo":
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: "VideosModelInfo") -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
