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
    from ..models.lane_status import LaneStatus


T = TypeVar("T", bound="SystemStatus")


@_attrs_define
class SystemStatus:
    """Response of `GET /api/system`.

    Attributes:
        version (str):
        instance_id (str): Random id of this server's database, stable across restarts.
        started_at (str):
        lanes (list['LaneStatus']):
        devices (list[str]): Device local models run on, such as `cpu` or `cuda:0`.
        waiting (int): Jobs waiting in all lanes, counted against `backlog_limit`.
        backlog_limit (int):
        loaded_models (Union[Unset, list[str]]): Local models loaded in memory now, most recently used first.
    """

    version: str
    instance_id: str
    started_at: str
    lanes: list["LaneStatus"]
    devices: list[str]
    waiting: int
    backlog_limit: int
    loaded_models: Union[Unset, list[str]] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        instance_id = self.instance_id

        started_at = self.started_at

        lanes = []
        for lanes_item_data in self.lanes:
            lanes_item = lanes_item_data.to_dict()
            lanes.append(lanes_item)

        devices = self.devices

        waiting = self.waiting

        backlog_limit = self.backlog_limit

        loaded_models: Union[Unset, list[str]] = UNSET
        if not isinstance(self.loaded_models, Unset):
            loaded_models = self.loaded_models

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "version": version,
                "instance_id": instance_id,
                "started_at": started_at,
                "lanes": lanes,
                "devices": devices,
                "waiting": waiting,
                "backlog_limit": backlog_limit,
            }
        )
        if loaded_models is not UNSET:
            field_dict["loaded_models"] = loaded_models

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.lane_status import LaneStatus

        d = dict(src_dict)
        version = d.pop("version")

        instance_id = d.pop("instance_id")

        started_at = d.pop("started_at")

        lanes = []
        _lanes = d.pop("lanes")
        for lanes_item_data in _lanes:
            lanes_item = LaneStatus.from_dict(lanes_item_data)

            lanes.append(lanes_item)

        devices = cast(list[str], d.pop("devices"))

        waiting = d.pop("waiting")

        backlog_limit = d.pop("backlog_limit")

        loaded_models = cast(list[str], d.pop("loaded_models", UNSET))

        system_status = cls(
            version=version,
            instance_id=instance_id,
            started_at=started_at,
            lanes=lanes,
            devices=devices,
            waiting=waiting,
            backlog_limit=backlog_limit,
            loaded_models=loaded_models,
        )

        system_status.additional_properties = d
        return system_status

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
