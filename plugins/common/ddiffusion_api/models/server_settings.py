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
    from ..models.provider_key_status import ProviderKeyStatus


T = TypeVar("T", bound="ServerSettings")


@_attrs_define
class ServerSettings:
    """Response of `GET /api/admin/settings`.

    Attributes:
        device (str): Device of local models: `auto`, `cpu`, `cuda`, `cuda:N` or `metal`.
        memory_budget_gb (float): Sum of the catalogue's `memory_gb` that loaded models may use, in GiB.
        keep_alive_seconds (int): Seconds a loaded model stays in memory after its last job.
        bind (str): Address and port the server listens on.
        data_dir (str): Folder of the database, inputs and outputs.
        auto_download (bool):
        provider_keys (list['ProviderKeyStatus']):
        config_file (Union[None, Unset, str]): The `config.toml` that `PUT /api/admin/settings` writes; null when the
            server was started without one.
    """

    device: str
    memory_budget_gb: float
    keep_alive_seconds: int
    bind: str
    data_dir: str
    auto_download: bool
    provider_keys: list["ProviderKeyStatus"]
    config_file: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = self.device

        memory_budget_gb = self.memory_budget_gb

        keep_alive_seconds = self.keep_alive_seconds

        bind = self.bind

        data_dir = self.data_dir

        auto_download = self.auto_download

        provider_keys = []
        for provider_keys_item_data in self.provider_keys:
            provider_keys_item = provider_keys_item_data.to_dict()
            provider_keys.append(provider_keys_item)

        config_file: Union[None, Unset, str]
        if isinstance(self.config_file, Unset):
            config_file = UNSET
        else:
            config_file = self.config_file

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "memory_budget_gb": memory_budget_gb,
                "keep_alive_seconds": keep_alive_seconds,
                "bind": bind,
                "data_dir": data_dir,
                "auto_download": auto_download,
                "provider_keys": provider_keys,
            }
        )
        if config_file is not UNSET:
            field_dict["config_file"] = config_file

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.provider_key_status import ProviderKeyStatus

        d = dict(src_dict)
        device = d.pop("device")

        memory_budget_gb = d.pop("memory_budget_gb")

        keep_alive_seconds = d.pop("keep_alive_seconds")

        bind = d.pop("bind")

        data_dir = d.pop("data_dir")

        auto_download = d.pop("auto_download")

        provider_keys = []
        _provider_keys = d.pop("provider_keys")
        for provider_keys_item_data in _provider_keys:
            provider_keys_item = ProviderKeyStatus.from_dict(provider_keys_item_data)

            provider_keys.append(provider_keys_item)

        def _parse_config_file(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        config_file = _parse_config_file(d.pop("config_file", UNSET))

        server_settings = cls(
            device=device,
            memory_budget_gb=memory_budget_gb,
            keep_alive_seconds=keep_alive_seconds,
            bind=bind,
            data_dir=data_dir,
            auto_download=auto_download,
            provider_keys=provider_keys,
            config_file=config_file,
        )

        server_settings.additional_properties = d
        return server_settings

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
