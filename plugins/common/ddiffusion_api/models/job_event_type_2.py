from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_event_type_2_kind import JobEventType2Kind

T = TypeVar("T", bound="JobEventType2")


@_attrs_define
class JobEventType2:
    """New progress of a running job, from 0.0 to 1.0.

    Attributes:
        id (UUID):
        progress (float):
        kind (JobEventType2Kind):
    """

    id: UUID
    progress: float
    kind: JobEventType2Kind
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        progress = self.progress

        kind = self.kind.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "progress": progress,
                "kind": kind,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        progress = d.pop("progress")

        kind = JobEventType2Kind(d.pop("kind"))

        job_event_type_2 = cls(
            id=id,
            progress=progress,
            kind=kind,
        )

        job_event_type_2.additional_properties = d
        return job_event_type_2

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
