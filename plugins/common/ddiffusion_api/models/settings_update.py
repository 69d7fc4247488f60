from collections.abc import Mapping
from typing import (
    Any,
    TypeVar,
    Union,
    cast,
)

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SettingsUpdate")


@_attrs_define
class SettingsUpdate:
    """Body of `PUT /api/admin/settings`: the settings to change; the others keep their values.

    Attributes:
        device (Union[None, Unset, str]):
        memory_budget_gb (Union[None, Unset, float]):
        keep_alive_seconds (Union[None, Unset, int]):
        bind (Union[None, Unset, str]):
        auto_download (Union[None, Unset, bool]):
    """

    device: Union[None, Unset, str] = UNSET
    memory_budget_gb: Union[None, Unset, float] = UNSET
    keep_alive_seconds: Union[None, Unset, int] = UNSET
    bind: Union[None, Unset, str] = UNSET
    auto_download: Union[None, Unset, bool] = UNSET

    def to_dict(self) -> dict[str, Any]:
        device: Union[None, Unset, str]
        if isinstance(self.device, Unset):
            device = UNSET
        else:
            device = self.device

        memory_budget_gb: Union[None, Unset, float]
        if isinstance(self.memory_budget_gb, Unset):
            memory_budget_gb = UNSET
        else:
            memory_budget_gb = self.memory_budget_gb

        keep_alive_seconds: Union[None, Unset, int]
        if isinstance(self.keep_alive_seconds, Unset):
            keep_alive_seconds = UNSET
        else:
            keep_alive_seconds = self.keep_alive_seconds

        bind: Union[None, Unset, str]
        if isinstance(self.bind, Unset):
            bind = UNSET
        else:
            bind = self.bind

        auto_download: Union[None, Unset, bool]
        if isinstance(self.auto_download, Unset):
            auto_download = UNSET
        else:
            auto_download = self.auto_download

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if device is not UNSET:
            field_dict["device"] = device
        if memory_budget_gb is not UNSET:
            field_dict["memory_budget_gb"] = memory_budget_gb
        if keep_alive_seconds is not UNSET:
            field_dict["keep_alive_seconds"] = keep_alive_seconds
        if bind is not UNSET:
            field_dict["bind"] = bind
        if auto_download is not UNSET:
            field_dict["auto_download"] = auto_download

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_device(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        device = _parse_device(d.pop("device", UNSET))

        def _parse_memory_budget_gb(data: object) -> Union[None, Unset, float]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, float], data)

        memory_budget_gb = _parse_memory_budget_gb(d.pop("memory_budget_gb", UNSET))

        def _parse_keep_alive_seconds(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        keep_alive_seconds = _parse_keep_alive_seconds(
            d.pop("keep_alive_seconds", UNSET)
        )

        def _parse_bind(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        bind = _parse_bind(d.pop("bind", UNSET))

        def _parse_auto_download(data: object) -> Union[None, Unset, bool]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, bool], data)

        auto_download = _parse_auto_download(d.pop("auto_download", UNSET))

        settings_update = cls(
            device=device,
            memory_budget_gb=memory_budget_gb,
            keep_alive_seconds=keep_alive_seconds,
            bind=bind,
            auto_download=auto_download,
        )

        return settings_update
