"""Callbacks of the DDImage, DDText and DDVideo digital assets and the UI updates of their tasks.

The assets' buttons and menus call the functions here with `kwargs["node"]`.
Every network call runs on a `TaskRunner` thread whose callbacks come back
through `hou.ui.postEventCallback`, so parameters are only set on
Houdini's main thread.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import webbrowser

import hou

from ddiffusion_plugin import ApiClient, ApiError, TaskRunner, files, runner
from ddiffusion_plugin.config import api_address, documentation_url, task_monitor_url
from ddiffusion_plugin.models import EXTERNAL_PREFIX, preferred_entry
from ddiffusion_plugin.status import status_colour, status_label

from . import capture, interface

LOG = logging.getLogger("ddiffusion.houdini")

SCHEDULES = {
    "images": runner.IMAGE_SCHEDULE,
    "videos": runner.VIDEO_SCHEDULE,
    "texts": runner.TEXT_SCHEDULE,
    "optimize": runner.OPTIMIZE_SCHEDULE,
}

STATUS_KEY = "nodeinfo_api_status"
MESSAGE_KEY = "nodeinfo_api_message"
RUNNING_STATUSES = ("SUBMITTING", "PENDING", "STARTED", "RECEIVED", "RETRY", "CANCELLING")
MENU_CACHE_SECONDS = 60.0


class AssetKind:
    """Domain, inputs and output parameter of one of the three assets."""

    def __init__(self, name, domain, inputs, output_parm=None, optimizer=None):
        self.name = name
        self.domain = domain
        self.inputs = inputs
        self.output_parm = output_parm
        self.optimizer = optimizer


IMAGE = AssetKind("DDImage", "images", interface.IMAGE.inputs, "output_image_path", "IMAGE_OPTIMIZER")
TEXT = AssetKind("DDText", "texts", interface.TEXT.inputs)
VIDEO = AssetKind("DDVideo", "videos", interface.VIDEO.inputs, "output_video_path", "VIDEO_OPTIMIZER")
KINDS = {kind.name: kind for kind in (IMAGE, TEXT, VIDEO)}

# Runners of the tasks being followed, by node path (and "<path>:optimize").
_RUNNERS = {}
_MENU_CACHE = {}


def post_to_ui(callback, *args):
    """Run `callback(*args)` on Houdini's main thread, or at once without a UI (hython)."""
    if hou.isUIAvailable():
        hou.ui.postEventCallback(functools.partial(callback, *args))
    else:
        callback(*args)


def open_url(url):
    webbrowser.open(url)


def kind_of(node):
    parm = node.parm("dd_kind")
    if parm is None or parm.evalAsString() not in KINDS:
        raise ValueError("%s is not a Deferred Diffusion asset" % node.path())
    return KINDS[parm.evalAsString()]


def active_runner(node, suffix=""):
    return _RUNNERS.get(node.path() + suffix)


# Status display


def _show(node, status, message, logs=None):
    node.setUserData(STATUS_KEY, status)
    node.setUserData(MESSAGE_KEY, message)
    node.setColor(hou.Color(status_colour(status)))
    if logs is not None:
        node.parm("logs").set("\n".join(logs))


def _fail(node, message, show_dialog=True):
    _show(node, "FAILURE", message)
    logs = node.parm("logs").evalAsString()
    node.parm("logs").set((logs + "\n" if logs else "") + "ERROR: " + message)
    if show_dialog and hou.isUIAvailable():
        hou.ui.displayMessage("%s: %s" % (node.name(), message), severity=hou.severityType.Error)


def _guarded(node, key, callback):
    """Wrap a main-thread callback so that a deleted node stops its runner."""

    @functools.wraps(callback)
    def call(*args):
        try:
            node.path()
        except hou.ObjectWasDeleted:
            stale = _RUNNERS.pop(key, None)
            if stale is not None:
                stale.stop()
            return
        callback(*args)

    return call


# Menus


def model_menu(domain, node=None, parm_name="model"):
    """Return a menu script's flat [token, label, ...] list of the models the server runs.

    Results are cached for a minute. When the server cannot be reached, the
    menu lists only the parameter's current value, so it is kept.
    """
    cached = _MENU_CACHE.get(domain)
    if cached is None or time.monotonic() - cached[0] > MENU_CACHE_SECONDS:
        try:
            # Menu scripts run on the UI thread, so the request gets short limits.
            with ApiClient(timeout=5.0, connect_timeout=2.0) as client:
                models = client.list_models(domain)
            cached = (time.monotonic(), models)
            _MENU_CACHE[domain] = cached
        except ApiError as error:
            LOG.warning("could not list %s models: %s", domain, error.message)
            current = node.parm(parm_name).evalAsString() if node is not None else ""
            return [current, current] if current else []
    items = []
    models = cached[1]
    for name in sorted(models, key=lambda name: (bool(models[name].get("external")), name)):
        label = EXTERNAL_PREFIX + name if models[name].get("external") else name
        items.extend([name, label])
    return items


def refresh_models(node):
    """Forget the cached model lists so the menus ask the server again."""
    _MENU_CACHE.clear()


def on_created(node):
    """Pick default models from the server when the asset is placed (OnCreated script)."""
    kind = kind_of(node)
    preferred = {"images": ["sd-xl"], "texts": ["gpt-5", "qwen-2"], "videos": []}
    menus = [("model", kind.domain)]
    if node.parm("text_model") is not None:
        menus.append(("text_model", "texts"))
    for parm_name, domain in menus:
        tokens = model_menu(domain, node, parm_name)[::2]
        choice = preferred_entry(tokens, preferred[domain if parm_name == "model" else "texts"])
        if choice:
            node.parm(parm_name).set(choice)


# Callbacks


def generate(node):
    """Capture the inputs, then submit and follow a task without blocking the UI."""
    kind = kind_of(node)
    frame = int(hou.frame())
    try:
        plan = _output_plan(node, kind, frame)
        fields = _request_fields(node, kind, frame)
    except (ValueError, capture.CaptureError) as error:
        _fail(node, str(error))
        return
    node.parm("task_id").set("")
    node.parm("submitted_frame").set(frame)
    _show(node, "SUBMITTING", "Submitting", logs=[])
    _follow(node, kind, plan, fields=fields)


def get_task(node):
    """Fetch the task in the Task ID parameter and follow it until it ends."""
    kind = kind_of(node)
    task_id = node.parm("task_id").evalAsString().strip()
    if not task_id:
        _fail(node, "Task ID is empty: generate first, or paste the ID of a task.")
        return
    frame = node.parm("submitted_frame").evalAsInt() or int(hou.frame())
    try:
        plan = _output_plan(node, kind, frame)
    except ValueError as error:
        _fail(node, str(error))
        return
    _show(node, "PENDING", "Connecting to task %s" % task_id)
    _follow(node, kind, plan, task_id=task_id)


def cancel(node):
    """Ask the server to cancel the node's task; polling goes on until it reports REVOKED."""
    kind = kind_of(node)
    active = active_runner(node)
    if active is not None and active.running:
        active.cancel()
    else:
        task_id = node.parm("task_id").evalAsString().strip()
        if not task_id:
            _fail(node, "There is no task to cancel: Task ID is empty.")
            return
        frame = node.parm("submitted_frame").evalAsInt() or int(hou.frame())
        try:
            plan = _output_plan(node, kind, frame)
        except ValueError as error:
            _fail(node, str(error))
            return
        _follow(node, kind, plan, task_id=task_id).cancel()
    _show(node, "CANCELLING", "Cancelling")


def optimize(node):
    """Rewrite the prompt with the text model, from the prompt and the image inputs."""
    kind = kind_of(node)
    if not kind.optimizer:
        return
    try:
        inputs = capture.capture_inputs(node, kind.inputs, hou.hipFile.path(), int(hou.frame()), only=("image", "last_image"))
    except (ValueError, capture.CaptureError) as error:
        _fail(node, str(error))
        return
    system_prompt = kind.optimizer
    if kind is VIDEO and "last_image" in inputs:
        system_prompt = "VIDEO_TRANSITION"
    fields = {
        "model": node.parm("text_model").evalAsString(),
        "prompt": node.parm("prompt").evalAsString(),
        "system_prompt": system_prompt,
        "images": [inputs[name] for name in ("image", "last_image") if name in inputs],
    }
    key = node.path() + ":optimize"
    previous = _RUNNERS.pop(key, None)
    if previous is not None:
        previous.stop()

    def finished(state, _result):
        _RUNNERS.pop(key, None)
        if state.status == "SUCCESS" and state.text.strip():
            node.parm("prompt").set(state.text.strip())
            _show(node, "SUCCESS", "Prompt optimised")
        else:
            _fail(node, "Prompt optimisation ended with %s: %s" % (state.status, state.error_message or "no text"))

    def failed(message):
        _RUNNERS.pop(key, None)
        _fail(node, message)

    _show(node, "PENDING", "Optimising the prompt")
    task = TaskRunner(
        "texts",
        post_to_ui,
        SCHEDULES["optimize"],
        fields=fields,
        on_finished=_guarded(node, key, finished),
        on_error=_guarded(node, key, failed),
    )
    _RUNNERS[key] = task
    task.start()


def open_documentation(node):
    open_url(documentation_url(api_address()))


def open_task_monitor(node):
    task_id = node.parm("task_id").evalAsString().strip()
    if not task_id:
        _fail(node, "Task ID is empty: there is no task to show yet.")
        return
    open_url(task_monitor_url(api_address(), task_id))


def resume_all(nodes):
    """Follow again the tasks of `nodes` that were running when the scene was saved."""
    for node in nodes:
        if node.parm("dd_kind") is None or not node.parm("task_id").evalAsString().strip():
            continue
        if node.userData(STATUS_KEY) in RUNNING_STATUSES:
            get_task(node)


# Requests


class _OutputPlan:
    """Destination of a task's result, decided on the main thread before polling."""

    def __init__(self, folder, stem, frame):
        self.folder = folder
        self.stem = stem
        self.frame = frame


def _output_plan(node, kind, frame):
    folder = files.output_folder(hou.hipFile.path(), node.name())
    return _OutputPlan(folder, files.safe_name(node.name()), frame)


def _request_fields(node, kind, frame):
    scene = hou.hipFile.path()
    files.work_folder(scene)
    model = node.parm("model").evalAsString().strip()
    if model.startswith(EXTERNAL_PREFIX):
        model = model[len(EXTERNAL_PREFIX):]
    if not model:
        raise ValueError("No model is selected: pick one once the server is running.")
    fields = {"model": model, "prompt": node.parm("prompt").evalAsString()}
    if kind is TEXT:
        inputs = capture.capture_inputs(node, kind.inputs, scene, frame)
        fields["images"] = [inputs[name] for name in kind.inputs if name in inputs]
        return fields

    fields["width"] = node.parm("width").evalAsInt()
    fields["height"] = node.parm("height").evalAsInt()
    fields["seed"] = node.parm("seed").evalAsInt()
    if kind is IMAGE:
        inputs = capture.capture_inputs(node, kind.inputs, scene, frame)
        fields["strength"] = node.parm("strength").evalAsFloat()
        steps = node.parm("steps").evalAsInt()
        if steps > 0:
            fields["steps"] = steps
        for name in ("image", "mask"):
            if name in inputs:
                fields[name] = inputs[name]
        fields["references"] = [{"image": inputs[name]} for name in kind.inputs[2:] if name in inputs]
    else:
        frames = node.parm("num_frames").evalAsInt()
        inputs = capture.capture_inputs(node, kind.inputs, scene, frame, num_frames=frames)
        fields["num_frames"] = frames
        for name in ("image", "last_image", "video"):
            if name in inputs:
                fields[name] = inputs[name]
    return fields


# Following a task


def _download(plan, kind, client, state):
    """Download the first output next to the scene, with a snapshot copy (background thread)."""
    if state.status != "SUCCESS" or kind is TEXT:
        return None
    if not state.outputs:
        raise ApiError("Task %s succeeded but returned no output file." % state.task_id)
    if kind is VIDEO:
        path = files.frame_file(plan.folder, plan.stem, None, "mp4")
    else:
        path = files.frame_file(plan.folder, plan.stem, plan.frame, "png")
    client.download(state.outputs[0], path)
    return {"path": path, "snapshot": files.snapshot(path)}


def _follow(node, kind, plan, fields=None, task_id=None):
    key = node.path()
    previous = _RUNNERS.pop(key, None)
    if previous is not None:
        previous.stop()

    def submitted(state):
        node.parm("task_id").set(state.task_id)
        _show(node, state.status, "Submitted task %s" % state.task_id)

    def updated(state, elapsed):
        _show(node, state.status, status_label(state.status, elapsed, state.latest_log).replace("\n", " "), logs=state.logs)

    def finished(state, result):
        if _RUNNERS.get(key) is task:
            del _RUNNERS[key]
        _finish(node, kind, plan, state, result)

    def failed(message):
        if _RUNNERS.get(key) is task:
            del _RUNNERS[key]
        _fail(node, message)

    task = TaskRunner(
        kind.domain,
        post_to_ui,
        SCHEDULES[kind.domain],
        fields=fields,
        task_id=task_id,
        on_submitted=_guarded(node, key, submitted),
        on_update=_guarded(node, key, updated),
        on_finished=_guarded(node, key, finished),
        on_error=_guarded(node, key, failed),
        prepare_result=functools.partial(_download, plan, kind),
    )
    _RUNNERS[key] = task
    task.start()
    return task


def _hip_relative(path):
    """Return `path` with the scene's folder replaced by `$HIP`, so the scene can move."""
    hip = os.path.dirname(os.path.abspath(hou.hipFile.path()))
    path = os.path.abspath(path)
    if path.startswith(hip + os.sep):
        return "$HIP/" + os.path.relpath(path, hip).replace("\\", "/")
    return path.replace("\\", "/")


def _finish(node, kind, plan, state, result):
    if state.status == "FAILURE":
        message = state.error_message or "the task failed without a message"
        _show(node, "FAILURE", message, logs=state.logs + ["ERROR: " + message])
        return
    if state.status != "SUCCESS":
        _show(node, state.status, "Task %s" % state.status.lower(), logs=state.logs)
        return
    if kind is TEXT:
        node.parm("response").set(state.text)
    else:
        path = result["path"]
        if kind is IMAGE:
            # $F5 lets the reader follow the frames generated so far.
            path = os.path.join(plan.folder, "%s.$F5.png" % plan.stem)
        else:
            node.parm("video_start_frame").set(plan.frame)
        node.parm(kind.output_parm).set(_hip_relative(path))
        reader = node.node("output_reader")
        if reader is not None:
            reader.parm("reload").pressButton()
    _show(node, "SUCCESS", "Done in task %s" % state.task_id, logs=state.logs)
