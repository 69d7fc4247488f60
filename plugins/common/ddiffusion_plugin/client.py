"""Submit, poll, cancel and download through the generated `ddiffusion_api` client."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

import httpx

from ddiffusion_api import AuthenticatedClient
from ddiffusion_api.api.images import (
    images_create,
    images_delete,
    images_get,
    images_list_models,
)
from ddiffusion_api.api.texts import texts_create, texts_delete, texts_get, texts_list_models
from ddiffusion_api.api.videos import (
    videos_create,
    videos_delete,
    videos_get,
    videos_list_models,
)
from ddiffusion_api.models import ImageRequest, TextRequest, VideoRequest
from ddiffusion_api.types import Unset

from . import config

LOG = logging.getLogger("ddiffusion.client")

TERMINAL_STATUSES = frozenset(["SUCCESS", "FAILURE", "REVOKED", "REJECTED", "IGNORED"])

# Generated operations and request models per domain.
_OPERATIONS = {
    "images": (ImageRequest, images_create, images_get, images_delete, images_list_models),
    "texts": (TextRequest, texts_create, texts_get, texts_delete, texts_list_models),
    "videos": (VideoRequest, videos_create, videos_get, videos_delete, videos_list_models),
}

# A request sent on a keep-alive connection that the server closed meanwhile
# fails with RemoteProtocolError before the server reads it, so it is safe to
# send again. A reset while reading is retried only for GET and DELETE.
_RETRIES = 3


class ApiError(Exception):
    """A failed API call, with a message meant for the artist."""

    def __init__(self, message: str, status_code: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class TaskState:
    """Status, logs and outputs of one task as the server last reported them."""

    def __init__(
        self,
        task_id: str,
        status: str,
        logs: Optional[List[str]] = None,
        outputs: Optional[List[str]] = None,
        text: str = "",
        error_message: Optional[str] = None,
    ):
        self.task_id = task_id
        self.status = status
        self.logs = list(logs or [])
        self.outputs = list(outputs or [])
        self.text = text
        self.error_message = error_message

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def latest_log(self) -> str:
        return self.logs[-1] if self.logs else ""

    def __repr__(self) -> str:
        return "TaskState(%s, %s, %d logs, %d outputs)" % (
            self.task_id,
            self.status,
            len(self.logs),
            len(self.outputs),
        )


def _value(field: Any, default: Any = None) -> Any:
    """Return a generated model's field, with `default` for UNSET."""
    if isinstance(field, Unset):
        return default
    return field


def error_detail(content: bytes) -> str:
    """Extract the server's message from an error body.

    FastAPI-style bodies carry `detail` as a string or as a list of
    validation errors with `loc` and `msg`; 500s carry `message` and `detail`.
    """
    text = content.decode("utf-8", errors="replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:500] or "no message"
    if not isinstance(body, dict):
        return text[:500]
    detail = body.get("detail")
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                location = ".".join(str(part) for part in item.get("loc", []) if part != "body")
                message = item.get("msg", "")
                parts.append("%s: %s" % (location, message) if location else message)
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if detail:
        message = body.get("message")
        return "%s: %s" % (message, detail) if message else str(detail)
    return str(body.get("message") or text[:500])


class ApiClient:
    """Client of one Deferred Diffusion server.

    `address` and `key` default to DDIFFUSION_API_ADDRESS and
    DDIFFUSION_API_KEY. Methods raise `ApiError` for every failure except a
    dropped keep-alive connection, which is retried up to three times.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        key: Optional[str] = None,
        timeout: float = 180.0,
        connect_timeout: float = 5.0,
    ):
        self.address = (address or config.api_address()).rstrip("/")
        self.key = config.api_key() if key is None else key
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._client = AuthenticatedClient(
            base_url=self.address,
            token=self.key,
            headers=config.identity_headers(),
            timeout=self._timeout,
            raise_on_unexpected_status=False,
        )

    def close(self) -> None:
        self._client.get_httpx_client().close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # Calls

    def list_models(self, domain: str) -> Dict[str, Dict[str, Any]]:
        """Return the models the server runs in `domain`, name to capabilities."""
        operations = self._operations(domain)
        response = self._call("GET", "/api/%s/models" % domain, lambda: operations[4].sync_detailed(client=self._client))
        models = response.parsed.models.to_dict()
        return {name: dict(info) for name, info in models.items()}

    def submit(self, domain: str, fields: Dict[str, Any]) -> TaskState:
        """Create a task from request `fields` (the JSON body) and return its state."""
        operations = self._operations(domain)
        body = operations[0].from_dict(fields)
        response = self._call(
            "POST",
            "/api/%s" % domain,
            lambda: operations[1].sync_detailed(client=self._client, body=body),
            idempotent=False,
        )
        return TaskState(str(response.parsed.id), response.parsed.status.value)

    def get(self, domain: str, task_id: str) -> TaskState:
        """Return the current state of task `task_id`."""
        operations = self._operations(domain)
        identifier = self._task_uuid(task_id)
        response = self._call(
            "GET",
            "/api/%s/%s" % (domain, task_id),
            lambda: operations[2].sync_detailed(identifier, client=self._client),
        )
        parsed = response.parsed
        output = _value(parsed.output, [])
        text = ""
        if isinstance(output, str):
            text, output = output, []
        return TaskState(
            str(parsed.id),
            parsed.status.value,
            logs=_value(parsed.logs, []),
            outputs=output,
            text=text,
            error_message=_value(parsed.error_message),
        )

    def cancel(self, domain: str, task_id: str) -> Tuple[str, str]:
        """Ask the server to cancel a task; return its status and message."""
        operations = self._operations(domain)
        identifier = self._task_uuid(task_id)
        response = self._call(
            "DELETE",
            "/api/%s/%s" % (domain, task_id),
            lambda: operations[3].sync_detailed(identifier, client=self._client),
        )
        return response.parsed.status.value, response.parsed.message

    def download(self, url: str, destination: str) -> str:
        """Download a signed output URL to `destination`, which appears only complete.

        Signed URLs need no key, so none is sent with them.
        """
        folder = os.path.dirname(os.path.abspath(destination))
        os.makedirs(folder, exist_ok=True)
        handle, partial = tempfile.mkstemp(prefix=".download-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as target:
                self._stream(url, target)
            os.replace(partial, destination)
        except BaseException:
            if os.path.exists(partial):
                os.remove(partial)
            raise
        return destination

    # Helpers

    def _stream(self, url: str, target: Any) -> None:
        for attempt in range(1, _RETRIES + 1):
            try:
                with httpx.stream("GET", url, timeout=self._timeout, follow_redirects=True) as response:
                    if response.status_code != 200:
                        response.read()
                        raise ApiError(
                            "Download of %s failed with HTTP %d: %s"
                            % (url.split("?")[0], response.status_code, error_detail(response.content)),
                            response.status_code,
                        )
                    target.seek(0)
                    target.truncate()
                    for chunk in response.iter_bytes():
                        target.write(chunk)
                return
            except (httpx.RemoteProtocolError, httpx.ReadError) as error:
                if attempt == _RETRIES:
                    raise ApiError("Download of %s failed: %s" % (url.split("?")[0], error))
                LOG.info("download of %s dropped (%s), retrying", url.split("?")[0], error)
            except httpx.HTTPError as error:
                raise self._transport_error("GET", url.split("?")[0], error)

    def _operations(self, domain: str) -> tuple:
        try:
            return _OPERATIONS[domain]
        except KeyError:
            raise ValueError("unknown domain %r; expected one of %s" % (domain, ", ".join(_OPERATIONS)))

    @staticmethod
    def _task_uuid(task_id: str) -> uuid.UUID:
        try:
            return uuid.UUID(str(task_id).strip())
        except ValueError:
            raise ApiError("Task ID %r is not a valid task ID (a UUID such as 2c8bce03-1ddc-40ab-9eac-47a7f4d02ffd)" % task_id)

    def _call(self, method: str, path: str, send: Callable[[], Any], idempotent: bool = True) -> Any:
        """Run one generated operation and return its response if it succeeded."""
        if not self.key:
            raise ApiError(
                "DDIFFUSION_API_KEY is not set. Create a key with `ddiffusion keys create NAME` "
                "and set DDIFFUSION_API_KEY in the environment that starts Nuke or Houdini."
            )
        for attempt in range(1, _RETRIES + 1):
            try:
                response = send()
                break
            except httpx.RemoteProtocolError as error:
                dropped, retry = error, attempt < _RETRIES
            except httpx.ReadError as error:
                dropped, retry = error, idempotent and attempt < _RETRIES
            except httpx.HTTPError as error:
                raise self._transport_error(method, path, error)
            except ValueError as error:
                # The generated parser raises ValueError on a body that is not JSON.
                raise ApiError("%s %s%s returned a response that is not valid JSON: %s" % (method, self.address, path, error))
            if not retry:
                raise ApiError("%s %s%s failed: the connection was closed (%s)" % (method, self.address, path, dropped))
            LOG.info("%s %s: connection dropped (%s), retrying", method, path, dropped)
            time.sleep(0.1 * attempt)

        status = int(response.status_code)
        if status == 200 and response.parsed is not None:
            return response
        detail = error_detail(response.content)
        message = "%s %s failed with HTTP %d: %s" % (method, path, status, detail)
        if status in (401, 403):
            message += ". Check DDIFFUSION_API_KEY: it must be a key this server issued."
        raise ApiError(message, status)

    def _transport_error(self, method: str, path: str, error: Exception) -> ApiError:
        if isinstance(error, httpx.ConnectError):
            return ApiError(
                "Cannot connect to the Deferred Diffusion server at %s (%s). Start it with "
                "`ddiffusion serve`, or set DDIFFUSION_API_ADDRESS to the address of a running server."
                % (self.address, error)
            )
        if isinstance(error, httpx.TimeoutException):
            return ApiError("%s %s timed out on %s: %s" % (method, path, self.address, type(error).__name__))
        return ApiError("%s %s on %s failed: %s" % (method, path, self.address, error))
