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

from ..models.pull_status import PullStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.file_progress import FileProgress


T = TypeVar("T", bound="ModelPull")


@_attrs_define
class ModelPull:
    """A model download and its progress.

    Attributes:
        name (str):
        status (PullStatus): State of a model download.
        files (list['FileProgress']): Files started so far, in the order they started.
        error (Union[None, Unset, str]): Reason the download failed, with what to do next.
    """

    name: str
    status: PullStatus
    files: list["FileProgress"]
    error: Union[None, Unset, str] = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        status = self.status.value

        files = []
        for files_item_data in self.files:
            files_item = files_item_data.to_dict()
            files.append(files_item)

        error: Union[None, Unset, str]
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "status": status,
                "files": files,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.file_progress import FileProgress

        d = dict(src_dict)
        name = d.pop("name")

        status = PullStatus(d.pop("status"))

        files = []
        _files = d.pop("files")
        for files_item_data in _files:
            files_item = FileProgress.from_dict(files_item_data)

            files.append(files_item)

        def _parse_error(data: object) -> Union[None, Unset, str]:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Union[None, Unset, str], data)

        error = _parse_error(d.pop("error", UNSET))

        model_pull = cls(
            name=name,
            status=status,
            files=files,
            error=error,
        )

        model_pull.additional_properties = d
        return model_pull

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
