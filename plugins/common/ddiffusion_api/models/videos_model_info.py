from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.videos_model_info_provider_type_0 import VideosModelInfoProviderType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="VideosModelInfo")


@_attrs_define
class VideosModelInfo:
    """Capabilities and provider of a video model.

    Attributes:
        external (bool): True if the model is invoked via an external API
        provider (VideosModelInfoProviderType0): Source/provider identifier
        text_to_video (Union[Unset, bool]):  Default: False.
        image_to_video (Union[Unset, bool]):  Default: False.
        video_to_video (Union[Unset, bool]):  Default: False.
        last_image (Union[Unset, bool]):  Default: False.
        audio (Union[Unset, bool]):  Default: False.
        description (Union[None, Unset, str]):
    """

    external: bool
    provider: VideosModelInfoProviderType0
    text_to_video: Union[Unset, bool] = False
    image_to_video: Union[Unset, bool] = False
    video_to_video: Union[Unset, bool] = False
    last_image: Union[Unset, bool] = False
    audio: Union[Unset, bool] = False
    description: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        external = self.external

        provider: str
        if isinstance(self.provider, VideosModelInfoProviderType0):
            provider = self.provider.value

        text_to_video = self.text_to_video

        image_to_video = self.image_to_video

        video_to_video = self.video_to_video

        last_image = self.last_image

        audio = self.audio

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
        if text_to_video is not UNSET:
            field_dict["text_to_video"] = text_to_video
        if image_to_video is not UNSET:
            field_dict["image_to_video"] = image_to_video
        if video_to_video is not UNSET:
            field_dict["video_to_video"] = video_to_video
        if last_image is not UNSET:
            field_dict["last_image"] = last_image
        if audio is not UNSET:
            field_dict["audio"] = audio
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        external = d.pop("external")

        def _parse_provider(data: object) -> VideosModelInfoProviderType0:
            if not isinstance(data, str):
                raise TypeError()
            provider_type_0 = VideosModelInfoProviderType0(data)

            return provider_type_0

        provider = _parse_provider(d.pop("provider"))

        text_to_video = d.pop("text_to_video", UNSET)

        image_to_video = d.pop("image_to_video", UNSET)

        video_to_video = d.pop("video_to_video", UNSET)

        last_image = d.pop("last_image", UNSET)

        audio = d.pop("audio", UNSET)

        def _parse_description(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        description = _parse_description(d.pop("description", UNSET))

        videos_model_info = cls(
            external=external,
            provider=provider,
            text_to_video=text_to_video,
            image_to_video=image_to_video,
            video_to_video=video_to_video,
            last_image=last_image,
            audio=audio,
            description=description,
        )

        videos_model_info.additional_properties = d
        return videos_model_info

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
