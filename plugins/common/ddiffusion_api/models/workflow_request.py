from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    TypeVar,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.patch import Patch
    from ..models.workflow_request_workflow import WorkflowRequestWorkflow


T = TypeVar("T", bound="WorkflowRequest")


@_attrs_define
class WorkflowRequest:
    """A ComfyUI workflow in API format with the patches to apply before it runs.

    Attributes:
        workflow (WorkflowRequestWorkflow):
        patches (list['Patch']):
    """

    workflow: "WorkflowRequestWorkflow"
    patches: list["Patch"]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        workflow = self.workflow.to_dict()

        patches = []
        for patches_item_data in self.patches:
            patches_item = patches_item_data.to_dict()
            patches.append(patches_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "workflow": workflow,
                "patches": patches,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.patch import Patch
        from ..models.workflow_request_workflow import WorkflowRequestWorkflow

        d = dict(src_dict)
        workflow = WorkflowRequestWorkflow.from_dict(d.pop("workflow"))

        patches = []
        _patches = d.pop("patches")
        for patches_item_data in _patches:
            patches_item = Patch.from_dict(patches_item_data)

            patches.append(patches_item)

        workflow_request = cls(
            workflow=workflow,
            patches=patches,
        )

        workflow_request.additional_properties = d
        return workflow_request

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
