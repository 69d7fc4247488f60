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

from ..models.domain import Domain
from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_detail_request import JobDetailRequest
    from ..models.queue_position import QueuePosition


T = TypeVar("T", bound="JobDetail")


@_attrs_define
class JobDetail:
    """Response of `GET /api/jobs/{id}`: a job of any domain with its request.

    Attributes:
        id (UUID):
        domain (Domain): A family of requests with its own routes under `/api/{domain}`.
        model (str):
        status (TaskStatus): Status of a task, with the state names of the original Celery-based server.

            This server produces `PENDING` (waiting in a lane), `STARTED` (running),
            `SUCCESS`, `FAILURE` and `REVOKED` (cancelled). The other values stay in the
            enum so that clients generated from the original contract still parse.
        lane (str): Lane the job runs in: `local`, `external` or `remote`.
        priority (int):
        progress (float): Fraction done, from 0.0 to 1.0.
        attempts (int):
        created_at (str): RFC 3339 timestamps in UTC.
        user_id (str):
        machine_id (str):
        request (JobDetailRequest): The request as submitted, with each input image, mask or video
            replaced by a signed download URL instead of its base64.
        logs (list[str]):
        outputs (list[str]): Signed URLs of the outputs; empty until the job succeeds.
        started_at (Union[None, Unset, str]):
        finished_at (Union[None, Unset, str]):
        error_message (Union[None, Unset, str]):
        queue_position (Union['QueuePosition', None, Unset]):
        key_name (Union[None, Unset, str]):
        output_text (Union[None, Unset, str]): Generated text of a text job.
    """

    id: UUID
    domain: Domain
    model: str
    status: TaskStatus
    lane: str
    priority: int
    progress: float
    attempts: int
    created_at: str
    user_id: str
    machine_id: str
    request: "JobDetailRequest"
    logs: list[str]
    outputs: list[str]
    started_at: Union[None, Unset, str] = UNSET
    finished_at: Union[None, Unset, str] = UNSET
    error_message: Union[None, Unset, str] = UNSET
    queue_position: Union["QueuePosition", None, Unset] = UNSET
    key_name: Union[None, Unset, str] = UNSET
    output_text: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.queue_position import QueuePosition

        id = str(self.id)

        domain = self.domain.value

        model = self.model

        status = self.status.value

        lane = self.lane

        priority = self.priority

        progress = self.progress

        attempts = self.attempts

        created_at = self.created_at

        user_id = self.user_id

        machine_id = self.machine_id

        request = self.request.to_dict()

        logs = self.logs

        outputs = self.outputs

        started_at: Union[None, Unset, str]
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        else:
            started_at = self.started_at

        finished_at: Union[None, Unset, str]
        if isinstance(self.finished_at, Unset):
            finished_at = UNSET
        else:
            finished_at = self.finished_at

        error_message: Union[None, Unset, str]
        if isinstance(self.error_message, Unset):
            error_message = UNSET
        else:
            error_message = self.error_message

        queue_position: Union[None, Unset, dict[str, Any]]
        if isinstance(self.queue_position, Unset):
            queue_position = UNSET
        elif isinstance(self.queue_position, QueuePosition):
            queue_position = self.queue_position.to_dict()
        else:
            queue_position = self.queue_position

        key_name: Union[None, Unset, str]
        if isinstance(self.key_name, Unset):
            key_name = UNSET
        else:
            key_name = self.key_name

        output_text: Union[None, Unset, str]
        if isinstance(self.output_text, Unset):
            output_text = UNSET
        else:
            output_text = self.output_text

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "domain": domain,
                "model": model,
                "status": status,
                "lane": lane,
                "priority": priority,
                "progress": progress,
                "attempts": attempts,
                "created_at": created_at,
                "user_id": user_id,
                "machine_id": machine_id,
                "request": request,
                "logs": logs,
                "outputs": outputs,
            }
        )
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if error_message is not UNSET:
            field_dict["error_message"] = error_message
        if queue_position is not UNSET:
            field_dict["queue_position"] = queue_position
        if key_name is not UNSET:
            field_dict["key_name"] = key_name
        if output_text is not UNSET:
            field_dict["output_text"] = output_text

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_detail_request import JobDetailRequest
        from ..models.queue_position import QueuePosition

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        domain = Domain(d.pop("domain"))

        model = d.pop("model")

        status = TaskStatus(d.pop("status"))

        lane = d.pop("lane")

        priority = d.pop("priority")

        progress = d.pop("progress")

        attempts = d.pop("attempts")

        created_at = d.pop("created_at")

        user_id = d.pop("user_id")

        machine_id = d.pop("machine_id")

        request = JobDetailRequest.from_dict(d.pop("request"))

        logs = cast(list[str], d.pop("logs"))

        outputs = cast(list[str], d.pop("outputs"))

        def _parse_started_at(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        def _parse_finished_at(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        finished_at = _parse_finished_at(d.pop("finished_at", UNSET))

        def _parse_error_message(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        error_message = _parse_error_message(d.pop("error_message", UNSET))

        def _parse_queue_position(data: object) -> Union["QueuePosition", None, Unset]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                queue_position_type_1 = QueuePosition.from_dict(data)

                return queue_position_type_1
            except:  # noqa: E722
                pass
            return cast(Union["QueuePosition", None, Unset], data)

        queue_position = _parse_queue_position(d.pop("queue_position", UNSET))

        def _parse_key_name(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        key_name = _parse_key_name(d.pop("key_name", UNSET))

        def _parse_output_text(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        output_text = _parse_output_text(d.pop("output_text", UNSET))

        job_detail = cls(
            id=id,
            domain=domain,
            model=model,
            status=status,
            lane=lane,
            priority=priority,
            progress=progress,
            attempts=attempts,
            created_at=created_at,
            user_id=user_id,
            machine_id=machine_id,
            request=request,
            logs=logs,
            outputs=outputs,
            started_at=started_at,
            finished_at=finished_at,
            error_message=error_message,
            queue_position=queue_position,
            key_name=key_name,
            output_text=output_text,
        )

        job_detail.additional_properties = d
        return job_detail

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
