"""Submit and poll a task on a background thread, reporting to the host's UI thread."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, Optional

from .client import ApiClient, ApiError, TaskState

LOG = logging.getLogger("ddiffusion.runner")

# Posts a callable with its arguments to the host's UI thread, for example
# nuke.executeInMainThread or hou.ui.postEventCallback.
PostToUi = Callable[..., None]


class PollSchedule:
    """Delays between polls: `first_delay` seconds, multiplied by `factor` while
    nothing changes, at most `max_delay`; the runner gives up after
    `time_limit` seconds of polling."""

    def __init__(self, first_delay: float = 0.5, max_delay: float = 5.0, factor: float = 1.5, time_limit: float = 1500.0):
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.factor = factor
        self.time_limit = time_limit

    def next_delay(self, delay: float, changed: bool) -> float:
        if changed:
            return self.first_delay
        return min(delay * self.factor, self.max_delay)


# Limits per node kind, as long as the original plug-ins waited: 25 minutes
# for images, 50 for videos, about 8 for texts and 100 s for prompt optimising.
IMAGE_SCHEDULE = PollSchedule(max_delay=5.0, time_limit=25 * 60)
VIDEO_SCHEDULE = PollSchedule(max_delay=10.0, time_limit=50 * 60)
TEXT_SCHEDULE = PollSchedule(max_delay=5.0, time_limit=500)
OPTIMIZE_SCHEDULE = PollSchedule(first_delay=0.5, max_delay=1.0, time_limit=100)


class TaskRunner:
    """Submits a task (unless `task_id` is given) and polls it until it ends.

    All network calls run on a daemon thread. Each callback is handed to
    `post` so that the host runs it on its UI thread:

    - `on_submitted(state)` once the server accepted the task,
    - `on_update(state, elapsed_seconds)` after each poll,
    - `on_finished(state, result)` when the task ended, where `result` is what
      `prepare_result(client, state)` returned on the background thread (for
      example the paths of downloaded outputs),
    - `on_error(message)` when a call failed or polling timed out.

    `cancel()` asks the server to cancel the task and keeps polling until it
    reports REVOKED; `stop()` only stops polling.
    """

    def __init__(
        self,
        domain: str,
        post: PostToUi,
        schedule: PollSchedule,
        fields: Optional[Dict[str, Any]] = None,
        task_id: Optional[str] = None,
        client_factory: Callable[[], ApiClient] = ApiClient,
        on_submitted: Optional[Callable[[TaskState], None]] = None,
        on_update: Optional[Callable[[TaskState, float], None]] = None,
        on_finished: Optional[Callable[[TaskState, Any], None]] = None,
        on_error: Optional[Callable[[str], None]] = None,
        prepare_result: Optional[Callable[[ApiClient, TaskState], Any]] = None,
        started_at: Optional[float] = None,
    ):
        if (fields is None) == (task_id is None):
            raise ValueError("give either request fields to submit or the task_id of a submitted task")
        self.domain = domain
        self.task_id = task_id
        self._post = post
        self._schedule = schedule
        self._fields = fields
        self._client_factory = client_factory
        self._on_submitted = on_submitted
        self._on_update = on_update
        self._on_finished = on_finished
        self._on_error = on_error
        self._prepare_result = prepare_result
        self._started_at = started_at
        self._wake = threading.Event()
        self._stopped = False
        self._cancel_requested = False
        self._cancel_sent = False
        self._thread = threading.Thread(target=self._run, name="ddiffusion-%s" % domain, daemon=True)

    # Control, from any thread

    def start(self) -> "TaskRunner":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling; callbacks that were already posted may still run."""
        self._stopped = True
        self._wake.set()

    def cancel(self) -> None:
        """Ask the server to cancel the task, then keep polling until it ends."""
        self._cancel_requested = True
        self._wake.set()

    def join(self, timeout: Optional[float] = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    # Background thread

    def _emit(self, callback: Optional[Callable[..., None]], *args: Any) -> None:
        if callback is not None and not self._stopped:
            self._post(callback, *args)

    def _run(self) -> None:
        try:
            with self._client_factory() as client:
                self._poll(client)
        except ApiError as error:
            LOG.warning("%s task %s failed: %s", self.domain, self.task_id or "(not submitted)", error.message)
            self._emit(self._on_error, error.message)
        except Exception as error:  # noqa: BLE001 - the host must hear of every failure
            LOG.exception("%s task %s failed", self.domain, self.task_id)
            self._emit(self._on_error, "%s: %s" % (type(error).__name__, error))

    def _poll(self, client: ApiClient) -> None:
        if self.task_id is None:
            state = client.submit(self.domain, self._fields)
            self.task_id = state.task_id
            LOG.info("submitted %s task %s", self.domain, self.task_id)
            self._emit(self._on_submitted, state)
        started = self._started_at if self._started_at is not None else time.time()
        delay = 0.0
        last_seen = None
        while not self._stopped:
            if self._cancel_requested and not self._cancel_sent:
                self._cancel_sent = True
                status, message = client.cancel(self.domain, self.task_id)
                LOG.info("cancel of %s task %s: %s, %s", self.domain, self.task_id, status, message)
            state = client.get(self.domain, self.task_id)
            elapsed = time.time() - started
            if state.finished:
                result = None
                if self._prepare_result is not None and not self._stopped:
                    result = self._prepare_result(client, state)
                self._emit(self._on_update, state, elapsed)
                self._emit(self._on_finished, state, result)
                return
            self._emit(self._on_update, state, elapsed)
            if elapsed > self._schedule.time_limit:
                raise ApiError(
                    "Gave up waiting for %s task %s after %d minutes (last status %s). "
                    "Press Get Task to check it again." % (self.domain, self.task_id, elapsed // 60, state.status)
                )
            seen = (state.status, len(state.logs))
            delay = self._schedule.next_delay(delay or self._schedule.first_delay, seen != last_seen)
            last_seen = seen
            self._wake.wait(delay)
            self._wake.clear()
