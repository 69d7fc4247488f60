from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.image_models_response_models import ImageModelsResponseModels


T = TypeVar("T", bound="ImageModelsResponse")


@_attrs_define
class ImageModelsResponse:
    """Response of `GET /api/images/models`.

    Attributes:
        models (ImageModelsResponseModels):
    """

    models: "ImageModelsResponseModels"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        models = self.models.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "models": models,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_models_response_models import ImageModelsResponseModels

        d = dict(src_dict)
        models = ImageModelsResponseModels.from_dict(d.pop("models"))

        image_models_response = cls(
            models=models,
        )

        image_models_response.additional_properties = d
        return image_models_response

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
