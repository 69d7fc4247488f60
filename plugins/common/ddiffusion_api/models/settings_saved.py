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
    from ..models.server_settings import ServerSettings


T = TypeVar("T", bound="SettingsSaved")


@_attrs_define
class SettingsSaved:
    """Response of `PUT /api/admin/settings`.

    Attributes:
        settings (ServerSettings): Response of `GET /api/admin/settings`.
        restart_required (list[str]): Settings written that take effect only after the server restarts.
        warning (Union[None, Unset, str]): Present when the new bind address lets other machines reach the server.
    """

    settings: "ServerSettings"
    restart_required: list[str]
    warning: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        settings = self.settings.to_dict()

        restart_required = self.restart_required

        warning: Union[None, Unset, str]
        if isinstance(self.warning, Unset):
            warning = UNSET
        else:
            warning = self.warning

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "settings": settings,
                "restart_required": restart_required,
            }
        )
        if warning is not UNSET:
            field_dict["warning"] = warning

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.server_settings import ServerSettings

        d = dict(src_dict)
        settings = ServerSettings.from_dict(d.pop("settings"))

        restart_required = cast(list[str], d.pop("restart_required"))

        def _parse_warning(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        warning = _parse_warning(d.pop("warning", UNSET))

        settings_saved = cls(
            settings=settings,
            restart_required=restart_required,
            warning=warning,
        )

        settings_saved.additional_properties = d
        return settings_saved

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
