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

T = TypeVar("T", bound="LaneStatus")


@_attrs_define
class LaneStatus:
    """Status of one lane.

    Attributes:
        name (str):
        concurrency (int):
        running (int):
        waiting (int):
        time_limit_seconds (Union[None, Unset, int]): Seconds a job may run before it fails; null for no limit.
    """

    name: str
    concurrency: int
    running: int
    waiting: int
    time_limit_seconds: Union[None, Unset, int] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        concurrency = self.concurrency

        running = self.running

        waiting = self.waiting

        time_limit_seconds: Union[None, Unset, int]
        if isinstance(self.time_limit_seconds, Unset):
            time_limit_seconds = UNSET
        else:
            time_limit_seconds = self.time_limit_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "concurrency": concurrency,
                "running": running,
                "waiting": waiting,
            }
        )
        if time_limit_seconds is not UNSET:
            field_dict["time_limit_seconds"] = time_limit_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        concurrency = d.pop("concurrency")

        running = d.pop("running")

        waiting = d.pop("waiting")

        def _parse_time_limit_seconds(data: object) -> Union[None, Unset, int]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, int], data)

        time_limit_seconds = _parse_time_limit_seconds(
            d.pop("time_limit_seconds", UNSET)
        )

        lane_status = cls(
            name=name,
            concurrency=concurrency,
            running=running,
            waiting=waiting,
            time_limit_seconds=time_limit_seconds,
        )

        lane_status.additional_properties = d
        return lane_status

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
