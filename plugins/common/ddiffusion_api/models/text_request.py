from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.system_prompt import SystemPrompt
from ..types import UNSET, Unset

T = TypeVar("T", bound="TextRequest")


@_attrs_define
class TextRequest:
    """A request to generate text, optionally about images or videos.

    Attributes:
        model (Union[Unset, str]): Name of the model; GET /api/texts/models lists those this server runs. Any name the
            server lists is accepted. Default: 'qwen-2'.
        prompt (Union[Unset, str]): Prompt text Default: ''.
        system_prompt (Union[Unset, SystemPrompt]): Instruction preset sent to a text model before the user's prompt.
            Default: SystemPrompt.BASE.
        images (Union[Unset, list[str]]): Image references as base64 strings
        videos (Union[Unset, list[str]]): Video references as base64 strings
    """

    model: Union[Unset, str] = "qwen-2"
    prompt: Union[Unset, str] = ""
    system_prompt: Union[Unset, SystemPrompt] = SystemPrompt.BASE
    images: Union[Unset, list[str]] = UNSET
    videos: Union[Unset, list[str]] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        prompt = self.prompt

        system_prompt: Union[Unset, str] = UNSET
        if not isinstance(self.system_prompt, Unset):
            system_prompt = self.system_prompt.value

        images: Union[Unset, list[str]] = UNSET
        if not isinstance(self.images, Unset):
            images = self.images

        videos: Union[Unset, list[str]] = UNSET
        if not isinstance(self.videos, Unset):
            videos = self.videos

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if model is not UNSET:
            field_dict["model"] = model
        if prompt is not UNSET:
            field_dict["prompt"] = prompt
        if system_prompt is not UNSET:
            field_dict["system_prompt"] = system_prompt
        if images is not UNSET:
            field_dict["images"] = images
        if videos is not UNSET:
            field_dict["videos"] = videos

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model", UNSET)

        prompt = d.pop("prompt", UNSET)

        _system_prompt = d.pop("system_prompt", UNSET)
        system_prompt: Union[Unset, SystemPrompt]
        if isinstance(_system_prompt, Unset):
            system_prompt = UNSET
        else:
            system_prompt = SystemPrompt(_system_prompt)

        images = cast(list[str], d.pop("images", UNSET))

        videos = cast(list[str], d.pop("videos", UNSET))

        text_request = cls(
            model=model,
            prompt=prompt,
            system_prompt=system_prompt,
            images=images,
            videos=videos,
        )

        text_request.additional_properties = d
        return text_request

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
