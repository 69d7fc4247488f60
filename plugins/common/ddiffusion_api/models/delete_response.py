from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_status import TaskStatus

T = TypeVar("T", bound="DeleteResponse")


@_attrs_define
class DeleteResponse:
    """Response of `DELETE /api/{domain}/{id}`.

    Attributes:
        id (UUID): ID of the task
        status (TaskStatus): Status of a task, with the state names of the original Celery-based server.

            This server produces `PENDING` (waiting in a lane), `STARTED` (running),
            `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
            enum so that clients generated from the original contract still parse.
        message (str): Additional information about the cancellation result
    """

    id: UUID
    status: TaskStatus
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        status = self.status.value

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        status = TaskStatus(d.pop("status"))

        message = d.pop("message")

        delete_response = cls(
            id=id,
            status=status,
            message=message,
        )

        delete_response.additional_properties = d
        return delete_response

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
