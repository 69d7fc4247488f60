from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
    Union,
    cast,
)
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.workflow_response_task_info import WorkflowResponseTaskInfo


T = TypeVar("T", bound="WorkflowResponse")


@_attrs_define
class WorkflowResponse:
    """
    Attributes:
        id (UUID):
        status (TaskStatus): Status of a task, with the state names of the original Celery-based server.

            This server produces `PENDING` (waiting in a lane), `STARTED` (running),
            `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
            enum so that clients generated from the original contract still parse.
        output (Union[Unset, list[str]]): Signed download URLs of the outputs, valid without an API key until they
            expire.
        error_message (Union[None, Unset, str]):
        logs (Union[Unset, list[str]]):
        task_info (Union[Unset, WorkflowResponseTaskInfo]):
    """

    id: UUID
    status: TaskStatus
    output: Union[Unset, list[str]] = UNSET
    error_message: Union[None, Unset, str] = UNSET
    logs: Union[Unset, list[str]] = UNSET
    task_info: Union[Unset, "WorkflowResponseTaskInfo"] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        status = self.status.value

        output: Union[Unset, list[str]] = UNSET
        if not isinstance(self.output, Unset):
            output = self.output

        error_message: Union[None, Unset, str]
        if isinstance(self.error_message, Unset):
            error_message = UNSET
        else:
            error_message = self.error_message

        logs: Union[Unset, list[str]] = UNSET
        if not isinstance(self.logs, Unset):
            logs = self.logs

        task_info: Union[Unset, dict[str, Any]] = UNSET
        if not isinstance(self.task_info, Unset):
            task_info = self.task_info.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
            }
        )
        if output is not UNSET:
            field_dict["output"] = output
        if error_message is not UNSET:
            field_dict["error_message"] = error_message
        if logs is not UNSET:
            field_dict["logs"] = logs
        if task_info is not UNSET:
            field_dict["task_info"] = task_info

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.workflow_response_task_info import WorkflowResponseTaskInfo

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        status = TaskStatus(d.pop("status"))

        output = cast(list[str], d.pop("output", UNSET))

        def _parse_error_message(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        error_message = _parse_error_message(d.pop("error_message", UNSET))

        logs = cast(list[str], d.pop("logs", UNSET))

        _task_info = d.pop("task_info", UNSET)
        task_info: Union[Unset, WorkflowResponseTaskInfo]
        if isinstance(_task_info, Unset):
            task_info = UNSET
        else:
            task_info = WorkflowResponseTaskInfo.from_dict(_task_info)

        workflow_response = cls(
            id=id,
            status=status,
            output=output,
            error_message=error_message,
            logs=logs,
            task_info=task_info,
        )

        workflow_response.additional_properties = d
        return workflow_response

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
