from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_event_type_0_kind import JobEventType0Kind

if TYPE_CHECKING:
    from ..models.job_summary import JobSummary


T = TypeVar("T", bound="JobEventType0")


@_attrs_define
class JobEventType0:
    """The job's current state; sent on every status change and on connect.

    Attributes:
        job (JobSummary): One job as the job listing and the event stream show it.
        kind (JobEventType0Kind):
    """

    job: "JobSummary"
    kind: JobEventType0Kind
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job = self.job.to_dict()

        kind = self.kind.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job": job,
                "kind": kind,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_summary import JobSummary

        d = dict(src_dict)
        job = JobSummary.from_dict(d.pop("job"))

        kind = JobEventType0Kind(d.pop("kind"))

        job_event_type_0 = cls(
            job=job,
            kind=kind,
        )

        job_event_type_0.additional_properties = d
        return job_event_type_0

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
