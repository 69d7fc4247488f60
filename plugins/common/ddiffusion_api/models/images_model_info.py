from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.images_model_info_provider_type_0 import ImagesModelInfoProviderType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="ImagesModelInfo")


@_attrs_define
class ImagesModelInfo:
    """Capabilities and provider of an image model.

    Attributes:
        external (bool): True if the model is invoked via an external API
        provider (ImagesModelInfoProviderType0): Source/provider identifier
        text_to_image (Union[Unset, bool]):  Default: False.
        image_to_image (Union[Unset, bool]):  Default: False.
        inpainting (Union[Unset, bool]):  Default: False.
        references (Union[Unset, bool]):  Default: False.
        description (Union[None, Unset, str]):
    """

    external: bool
    provider: ImagesModelInfoProviderType0
    text_to_image: Union[Unset, bool] = False
    image_to_image: Union[Unset, bool] = False
    inpainting: Union[Unset, bool] = False
    references: Union[Unset, bool] = False
    description: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        external = self.external

        provider: str
        if isinstance(self.provider, ImagesModelInfoProviderType0):
            provider = self.provider.value

        text_to_image = self.text_to_image

        image_to_image = self.image_to_image

        inpainting = self.inpainting

        references = self.references

        description: Union[None, Unset, str]
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "external": external,
                "provider": provider,
            }
        )
        if text_to_image is not UNSET:
            field_dict["text_to_image"] = text_to_image
        if image_to_image is not UNSET:
            field_dict["image_to_image"] = image_to_image
        if inpainting is not UNSET:
            field_dict["inpainting"] = inpainting
        if references is not UNSET:
            field_dict["references"] = references
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        external = d.pop("external")

        def _parse_provider(data: object) -> ImagesModelInfoProviderType0:
            if not isinstance(data, str):
                raise TypeError()
            provider_type_0 = ImagesModelInfoProviderType0(data)

            return provider_type_0

        provider = _parse_provider(d.pop("provider"))

        text_to_image = d.pop("text_to_image", UNSET)

        image_to_image = d.pop("image_to_image", UNSET)

        inpainting = d.pop("inpainting", UNSET)

        references = d.pop("references", UNSET)

        def _parse_description(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        description = _parse_description(d.pop("description", UNSET))

        images_model_info = cls(
            external=external,
            provider=provider,
            text_to_image=text_to_image,
            image_to_image=image_to_image,
            inpainting=inpainting,
            references=references,
            description=description,
        )

        images_model_info.additional_properties = d
        return images_model_info

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
