"""Contains all the data models used in inputs/outputs"""

from .catalog_model import CatalogModel
from .delete_response import DeleteResponse
from .domain import Domain
from .error_detail import ErrorDetail
from .file_progress import FileProgress
from .http_validation_error import HTTPValidationError
from .image_create_response import ImageCreateResponse
from .image_models_response import ImageModelsResponse
from .image_models_response_models import ImageModelsResponseModels
from .image_request import ImageRequest
from .image_response import ImageResponse
from .image_response_task_info import ImageResponseTaskInfo
from .images_model_info import ImagesModelInfo
from .images_model_info_provider_type_0 import ImagesModelInfoProviderType0
from .job_detail import JobDetail
from .job_detail_request import JobDetailRequest
from .job_event_type_0 import JobEventType0
from .job_event_type_0_kind import JobEventType0Kind
from .job_event_type_1 import JobEventType1
from .job_event_type_1_kind import JobEventType1Kind
from .job_event_type_2 import JobEventType2
from .job_event_type_2_kind import JobEventType2Kind
from .job_list import JobList
from .job_summary import JobSummary
from .key_created import KeyCreated
from .key_deleted import KeyDeleted
from .key_info import KeyInfo
from .key_source import KeySource
from .lane_status import LaneStatus
from .model_pull import ModelPull
from .model_removed import ModelRemoved
from .patch import Patch
from .patch_class_type import PatchClassType
from .profile_check import ProfileCheck
from .profile_check_models import ProfileCheckModels
from .profile_info import ProfileInfo
from .profile_update import ProfileUpdate
from .provider import Provider
from .provider_key_status import ProviderKeyStatus
from .provider_key_update import ProviderKeyUpdate
from .pull_status import PullStatus
from .queue_position import QueuePosition
from .references import References
from .server_settings import ServerSettings
from .settings_saved import SettingsSaved
from .settings_update import SettingsUpdate
from .system_prompt import SystemPrompt
from .system_status import SystemStatus
from .task_status import TaskStatus
from .text_create_response import TextCreateResponse
from .text_models_response import TextModelsResponse
from .text_models_response_models import TextModelsResponseModels
from .text_request import TextRequest
from .text_response import TextResponse
from .text_response_task_info import TextResponseTaskInfo
from .texts_model_info import TextsModelInfo
from .texts_model_info_provider_type_0 import TextsModelInfoProviderType0
from .unloaded import Unloaded
from .validation_error import ValidationError
from .video_create_response import VideoCreateResponse
from .video_models_response import VideoModelsResponse
from .video_models_response_models import VideoModelsResponseModels
from .video_request import VideoRequest
from .video_response import VideoResponse
from .video_response_task_info import VideoResponseTaskInfo
from .videos_model_info import VideosModelInfo
from .videos_model_info_provider_type_0 import VideosModelInfoProviderType0
from .workflow_create_response import WorkflowCreateResponse
from .workflow_request import WorkflowRequest
from .workflow_request_workflow import WorkflowRequestWorkflow
from .workflow_request_workflow_additional_property import (
    WorkflowRequestWorkflowAdditionalProperty,
)
from .workflow_response import WorkflowResponse
from .workflow_response_task_info import WorkflowResponseTaskInfo

__all__ = (
    "CatalogModel",
    "DeleteResponse",
    "Domain",
    "ErrorDetail",
    "FileProgress",
    "HTTPValidationError",
    "ImageCreateResponse",
    "ImageModelsResponse",
    "ImageModelsResponseModels",
    "ImageRequest",
    "ImageResponse",
    "ImageResponseTaskInfo",
    "ImagesModelInfo",
    "ImagesModelInfoProviderType0",
    "JobDetail",
    "JobDetailRequest",
    "JobEventType0",
    "JobEventType0Kind",
    "JobEventType1",
    "JobEventType1Kind",
    "JobEventType2",
    "JobEventType2Kind",
    "JobList",
    "JobSummary",
    "KeyCreated",
    "KeyDeleted",
    "KeyInfo",
    "KeySource",
    "LaneStatus",
    "ModelPull",
    "ModelRemoved",
    "Patch",
    "PatchClassType",
    "ProfileCheck",
    "ProfileCheckModels",
    "ProfileInfo",
    "ProfileUpdate",
    "Provider",
    "ProviderKeyStatus",
    "ProviderKeyUpdate",
    "PullStatus",
    "QueuePosition",
    "References",
    "ServerSettings",
    "SettingsSaved",
    "SettingsUpdate",
    "SystemPrompt",
    "SystemStatus",
    "TaskStatus",
    "TextCreateResponse",
    "TextModelsResponse",
    "TextModelsResponseModels",
    "TextRequest",
    "TextResponse",
    "TextResponseTaskInfo",
    "TextsModelInfo",
    "TextsModelInfoProviderType0",
    "Unloaded",
    "ValidationError",
    "VideoCreateResponse",
    "VideoModelsResponse",
    "VideoModelsResponseModels",
    "VideoRequest",
    "VideoResponse",
    "VideoResponseTaskInfo",
    "VideosModelInfo",
    "VideosModelInfoProviderType0",
    "WorkflowCreateResponse",
    "WorkflowRequest",
    "WorkflowRequestWorkflow",
    "WorkflowRequestWorkflowAdditionalProperty",
    "WorkflowResponse",
    "WorkflowResponseTaskInfo",
)
