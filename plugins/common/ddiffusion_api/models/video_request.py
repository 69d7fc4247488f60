from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="VideoRequest")


@_attrs_define
class VideoRequest:
    """A request to generate or transform a video.

    Attributes:
        model (str): Name of the model; GET /api/videos/models lists those this server runs. Any name the server lists
            is accepted.
        prompt (Union[Unset, str]): Positive Prompt text Default: 'Slow camera zoom in, 4k, high quality, cinematic,
            realistic'.
        height (Union[Unset, int]):  Default: 480.
        width (Union[Unset, int]):  Default: 854.
        num_frames (Union[Unset, int]): Preferred number of frames. External models round it to the nearest duration
            they support. Default: 48.
        seed (Union[Unset, int]):  Default: 42.
        image (Union[None, Unset, str]): Base64 image used as the first frame or as a reference.
        last_image (Union[None, Unset, str]): Base64 image that guides the last frame; requires `image`.
        video (Union[None, Unset, str]): Base64 video for video-to-video or upscaling.
        generate_audio (Union[Unset, bool]): Ask models that can to generate an audio track as well; costs more time.
            Default: False.
    """

    model: str
    prompt: Union[Unset, str] = (
        "Slow camera zoom in, 4k, high quality, cinematic, realistic"
    )
    height: Union[Unset, int] = 480
    width: Union[Unset, int] = 854
    num_frames: Union[Unset, int] = 48
    seed: Union[Unset, int] = 42
    image: Union[None, Unset, str] = UNSET
    last_image: Union[None, Unset, str] = UNSET
    video: Union[None, Unset, str] = UNSET
    generate_audio: Union[Unset, bool] = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        prompt = self.prompt

        height = self.height

        width = self.width

        num_frames = self.num_frames

        seed = self.seed

        image: Union[None, Unset, str]
        if isinstance(self.image, Unset):
            image = UNSET
        else:
            image = self.image

        last_image: Union[None, Unset, str]
        if isinstance(self.last_image, Unset):
            last_image = UNSET
        else:
            last_image = self.last_image

        video: Union[None, Unset, str]
        if isinstance(self.video, Unset):
            video = UNSET
        else:
            video = self.video

        generate_audio = self.generate_audio

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
            }
        )
        if prompt is not UNSET:
            field_dict["prompt"] = prompt
        if height is not UNSET:
            field_dict["height"] = height
        if width is not UNSET:
            field_dict["width"] = width
        if num_frames is not UNSET:
            field_dict["num_frames"] = num_frames
        if seed is not UNSET:
            field_dict["seed"] = seed
        if image is not UNSET:
            field_dict["image"] = image
        if last_image is not UNSET:
            field_dict["last_image"] = last_image
        if video is not UNSET:
            field_dict["video"] = video
        if generate_audio is not UNSET:
            field_dict["generate_audio"] = generate_audio

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model")

        prompt = d.pop("prompt", UNSET)

        height = d.pop("height", UNSET)

        width = d.pop("width", UNSET)

        num_frames = d.pop("num_frames", UNSET)

        seed = d.pop("seed", UNSET)

        def _parse_image(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        image = _parse_image(d.pop("image", UNSET))

        def _parse_last_image(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        last_image = _parse_last_image(d.pop("last_image", UNSET))

        def _parse_video(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        video = _parse_video(d.pop("video", UNSET))

        generate_audio = d.pop("generate_audio", UNSET)

        video_request = cls(
            model=model,
            prompt=prompt,
            height=height,
            width=width,
            num_frames=num_frames,
            seed=seed,
            image=image,
            last_image=last_image,
            video=video,
            generate_audio=generate_audio,
        )

        video_request.additional_properties = d
        return video_request

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
