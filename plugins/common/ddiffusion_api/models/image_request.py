from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.references import References


T = TypeVar("T", bound="ImageRequest")


@_attrs_define
class ImageRequest:
    """A request to generate or transform an image.

    Attributes:
        model (str): Name of the model; GET /api/images/models lists those this server runs. Any name the server lists
            is accepted.
        prompt (Union[Unset, str]): Positive Prompt text Default: 'Detailed, 8k, photorealistic'.
        height (Union[Unset, int]):  Default: 720.
        width (Union[Unset, int]):  Default: 1280.
        seed (Union[Unset, int]):  Default: 42.
        strength (Union[Unset, float]): Strength of the transformation of the input image (image-to-image and inpainting
            only). Ignored for text-to-image. Default: 0.5.
        image (Union[None, Unset, str]): Base64 image. Given without a mask, it runs image-to-image from this image; its
            size replaces width and height.
        mask (Union[None, Unset, str]): Base64 image mask for inpainting; requires `image`. Non-zero or opaque pixels
            mark the area to change.
        references (Union[Unset, list['References']]): Optional reference images that guide models which support
            references.
        steps (Union[None, Unset, int]): Denoising steps, 1 to 150; the model's default when left out.
        guidance_scale (Union[None, Unset, float]): Classifier-free guidance scale, 0 to 30; the model's default when
            left out.
        scheduler (Union[None, Unset, str]): Scheduler: ddim, euler, euler_a or dpmpp_2m_karras; the model's default
            when left out.
        negative_prompt (Union[None, Unset, str]): Negative prompt; the model's default when left out.
    """

    model: str
    prompt: Union[Unset, str] = "Detailed, 8k, photorealistic"
    height: Union[Unset, int] = 720
    width: Union[Unset, int] = 1280
    seed: Union[Unset, int] = 42
    strength: Union[Unset, float] = 0.5
    image: Union[None, Unset, str] = UNSET
    mask: Union[None, Unset, str] = UNSET
    references: Union[Unset, list["References"]] = UNSET
    steps: Union[None, Unset, int] = UNSET
    guidance_scale: Union[None, Unset, float] = UNSET
    scheduler: Union[None, Unset, str] = UNSET
    negative_prompt: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        prompt = self.prompt

        height = self.height

        width = self.width

        seed = self.seed

        strength = self.strength

        image: Union[None, Unset, str]
        if isinstance(self.image, Unset):
            image = UNSET
        else:
            image = self.image

        mask: Union[None, Unset, str]
        if isinstance(self.mask, Unset):
            mask = UNSET
        else:
            mask = self.mask

        references: Union[Unset, list[dict[str, Any]]] = UNSET
        if not isinstance(self.references, Unset):
            references = []
            for references_item_data in self.references:
                references_item = references_item_data.to_dict()
                references.append(references_item)

        steps: Union[None, Unset, int]
        if isinstance(self.steps, Unset):
            steps = UNSET
        else:
            steps = self.steps

        guidance_scale: Union[None, Unset, float]
        if isinstance(self.guidance_scale, Unset):
            guidance_scale = UNSET
        else:
            guidance_scale = self.guidance_scale

        scheduler: Union[None, Unset, str]
        if isinstance(self.scheduler, Unset):
            scheduler = UNSET
        else:
            scheduler = self.scheduler

        negative_prompt: Union[None, Unset, str]
        if isinstance(self.negative_prompt, Unset):
            negative_prompt = UNSET
        else:
            negative_prompt = self.negative_prompt

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
        if seed is not UNSET:
            field_dict["seed"] = seed
        if strength is not UNSET:
            field_dict["strength"] = strength
        if image is not UNSET:
            field_dict["image"] = image
        if mask is not UNSET:
            field_dict["mask"] = mask
        if references is not UNSET:
            field_dict["references"] = references
        if steps is not UNSET:
            field_dict["steps"] = steps
        if guidance_scale is not UNSET:
            field_dict["guidance_scale"] = guidance_scale
        if scheduler is not UNSET:
            field_dict["scheduler"] = scheduler
        if negative_prompt is not UNSET:
            field_dict["negative_prompt"] = negative_prompt

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.references import References

        d = dict(src_dict)
        model = d.pop("model")

        prompt = d.pop("prompt", UNSET)

        height = d.pop("height", UNSET)

        width = d.pop("width", UNSET)

        seed = d.pop("seed", UNSET)

        strength = d.pop("strength", UNSET)

        def _parse_image(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        image = _parse_image(d.pop("image", UNSET))

        def _parse_mask(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        mask = _parse_mask(d.pop("mask", UNSET))

        references = []
        _references = d.pop("references", UNSET)
        for references_item_data in _references or []:
            references_item = References.from_dict(references_item_data)

            references.append(references_item)

        def _parse_steps(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        steps = _parse_steps(d.pop("steps", UNSET))

        def _parse_guidance_scale(data: object) -> Union[None, Unset, float]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, float], data)

        guidance_scale = _parse_guidance_scale(d.pop("guidance_scale", UNSET))

        def _parse_scheduler(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        scheduler = _parse_scheduler(d.pop("scheduler", UNSET))

        def _parse_negative_prompt(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        negative_prompt = _parse_negative_prompt(d.pop("negative_prompt", UNSET))

        image_request = cls(
            model=model,
            prompt=prompt,
            height=height,
            width=width,
            seed=seed,
            strength=strength,
            image=image,
            mask=mask,
            references=references,
            steps=steps,
            guidance_scale=guidance_scale,
            scheduler=scheduler,
            negative_prompt=negative_prompt,
        )

        image_request.additional_properties = d
        return image_request

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
