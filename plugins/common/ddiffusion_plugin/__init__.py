"""Shared client layer of the Deferred Diffusion plug-ins for Nuke and Houdini.

`ApiClient` wraps the generated `ddiffusion_api` package: it reads the
server address and key from the environment, sends the caller's identity,
retries dropped keep-alive connections and turns every other failure into an
`ApiError` whose message can be shown to the artist. `TaskRunner` submits and
polls a task on a background thread and reports to the host's UI thread.
"""

from .client import ApiClient, ApiError, TaskState
from .config import api_address, api_key, identity_headers
from .runner import PollSchedule, TaskRunner

__all__ = [
    "ApiClient",
    "ApiError",
    "PollSchedule",
    "TaskRunner",
    "TaskState",
    "api_address",
    "api_key",
    "identity_headers",
]
