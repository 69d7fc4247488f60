"""Button handlers of the Deferred Diffusion nodes and the UI updates of their tasks.

Handlers run on Nuke's main thread. Every network call runs on a
`TaskRunner` thread, whose callbacks come back through
`nuke.executeInMainThread`, so knobs are only touched on the main thread.
"""

from __future__ import annotations

import functools
import logging
import os
import webbrowser

import nuke

from ddiffusion_plugin import ApiClient, ApiError, TaskRunner, files, runner
from ddiffusion_plugin.config import api_address, documentation_url, task_monitor_url
from ddiffusion_plugin.models import menu_entries, model_name
from ddiffusion_plugin.status import rgba_int, status_colour, status_label

from . import capture
from .nodes import OUTPUT_READ, TIME_OFFSET, kind_of

LOG = logging.getLogger("ddiffusion.nuke")

SCHEDULES = {
    "images": runner.IMAGE_SCHEDULE,
    "videos": runner.VIDEO_SCHEDULE,
    "texts": runner.TEXT_SCHEDULE,
    "optimize": runner.OPTIMIZE_SCHEDULE,
}

# Runners of the tasks being followed, by node name (and "<name>:optimize").
_RUNNERS = {}

RUNNING_STATUSES = ("SUBMITTING", "PENDING", "STARTED", "RECEIVED", "RETRY", "CANCELLING")


def post_to_main(callback, *args):
    nuke.executeInMainThread(callback, args)


def open_url(url):
    webbrowser.open(url)


def active_runner(group, suffix=""):
    return _RUNNERS.get(group.fullName() + suffix)


# Node state display


def _show(group, status, label, logs=None):
    group["label"].setValue(label)
    group["tile_color"].setValue(rgba_int(status_colour(status)))
    group["status"].setValue(status)
    if logs is not None:
        group["logs"].setValue("\n".join(logs))


def _fail(group, message, show_dialog=True):
    """Mark the node failed with `message` and show it in a dialog."""
    _show(group, "FAILURE", "[ERROR]\n" + message.splitlines()[0][:120])
    logs = group["logs"].value()
    group["logs"].setValue((logs + "\n" if logs else "") + "ERROR: " + message)
    if show_dialog:
        nuke.message("%s: %s" % (group.name(), message))


def _guarded(group, key, callback):
    """Wrap a main-thread callback so that a deleted node stops its runner."""

    @functools.wraps(callback)
    def call(*args):
        try:
            group.fullName()
        except ValueError:
            stale = _RUNNERS.pop(key, None)
            if stale is not None:
                stale.stop()
            return
        callback(*args)

    return call


# Handlers


def generate(group):
    """Capture the inputs, then submit and follow a task without blocking the UI."""
    kind = kind_of(group)
    frame = int(nuke.frame())
    try:
        plan = _output_plan(group, kind, frame)
        fields = _request_fields(group, kind, frame)
    except (ValueError, capture.CaptureError) as error:
        _fail(group, str(error))
        return
    group["task_id"].setValue("")
    group["submitted_frame"].setValue(frame)
    _show(group, "SUBMITTING", "[SUBMITTING]", logs=[])
    _follow(group, kind, plan, fields=fields)


def get_task(group):
    """Fetch the task in the Task ID knob and follow it until it ends.

    This reconnects a node to its task after the script was reopened.
    """
    kind = kind_of(group)
    task_id = group["task_id"].value().strip()
    if not task_id:
        _fail(group, "Task ID is empty: generate first, or paste the ID of a task.")
        return
    frame = int(group["submitted_frame"].value()) or int(nuke.frame())
    try:
        plan = _output_plan(group, kind, frame)
    except ValueError as error:
        _fail(group, str(error))
        return
    _show(group, "PENDING", "[CONNECTING]")
    _follow(group, kind, plan, task_id=task_id)


def cancel(group):
    """Ask the server to cancel the node's task; polling goes on until it reports REVOKED."""
    kind = kind_of(group)
    active = active_runner(group)
    if active is not None and active.running:
        active.cancel()
    else:
        task_id = group["task_id"].value().strip()
        if not task_id:
            _fail(group, "There is no task to cancel: Task ID is empty.")
            return
        frame = int(group["submitted_frame"].value()) or int(nuke.frame())
        try:
            plan = _output_plan(group, kind, frame)
        except ValueError as error:
            _fail(group, str(error))
            return
        _follow(group, kind, plan, task_id=task_id).cancel()
    _show(group, "CANCELLING", "[CANCELLING]")


def optimize(group):
    """Rewrite the prompt with the text model, from the prompt and the image inputs."""
    kind = kind_of(group)
    if not kind.optimizer:
        return
    frame = int(nuke.frame())
    try:
        script = nuke.root()["name"].value()
        inputs = capture.capture_inputs(group, kind, script, frame, only=("image", "last_image"))
    except (ValueError, capture.CaptureError) as error:
        _fail(group, str(error))
        return
    images = [inputs[name] for name in ("image", "last_image") if name in inputs]
    system_prompt = kind.optimizer
    if kind.name == "DDVideo" and "last_image" in inputs:
        system_prompt = "VIDEO_TRANSITION"
    fields = {
        "model": model_name(group["text_model"].value()),
        "prompt": group["prompt"].value(),
        "system_prompt": system_prompt,
        "images": images,
    }
    key = group.fullName() + ":optimize"
    previous = _RUNNERS.pop(key, None)
    if previous is not None:
        previous.stop()

    def finished(state, _result):
        _RUNNERS.pop(key, None)
        if state.status == "SUCCESS" and state.text.strip():
            group["prompt"].setValue(state.text.strip())
            _show(group, "SUCCESS", "")
        else:
            _fail(group, "Prompt optimisation ended with %s: %s" % (state.status, state.error_message or "no text"))

    def failed(message):
        _RUNNERS.pop(key, None)
        _fail(group, message)

    _show(group, "PENDING", "[OPTIMIZING]")
    task = TaskRunner(
        "texts",
        post_to_main,
        SCHEDULES["optimize"],
        fields=fields,
        on_finished=_guarded(group, key, finished),
        on_error=_guarded(group, key, failed),
    )
    _RUNNERS[key] = task
    task.start()


def refresh_models(group):
    """Reload the model menus from the server, keeping the current choices when listed."""
    kind = kind_of(group)
    menus = [("model", kind.domain)]
    if group.knob("text_model") is not None:
        menus.append(("text_model", "texts"))
    try:
        with ApiClient(timeout=5.0, connect_timeout=2.0) as client:
            for knob_name, domain in menus:
                entries = menu_entries(client.list_models(domain))
                knob = group[knob_name]
                current = knob.value()
                knob.setValues(entries or [""])
                if current in entries:
                    knob.setValue(current)
                elif entries:
                    knob.setValue(entries[0])
    except ApiError as error:
        _fail(group, error.message)


def open_documentation(group):
    open_url(documentation_url(api_address()))


def open_task_monitor(group):
    task_id = group["task_id"].value().strip()
    if not task_id:
        nuke.message("Task ID is empty: there is no task to show yet.")
        return
    open_url(task_monitor_url(api_address(), task_id))


def resume_all():
    """Follow again the tasks that were running when the script was saved (onScriptLoad)."""
    for group in nuke.allNodes("Group", recurseGroups=True):
        kind_knob = group.knob("dd_kind")
        if kind_knob is None or not group["task_id"].value().strip():
            continue
        if group["status"].value() in RUNNING_STATUSES:
            get_task(group)


# Requests


class _OutputPlan:
    """Destination of a task's result, decided on the main thread before polling."""

    def __init__(self, folder, stem, frame, use_exr):
        self.folder = folder
        self.stem = stem
        self.frame = frame
        self.use_exr = use_exr


def _output_plan(group, kind, frame):
    script = nuke.root()["name"].value()
    folder = files.output_folder(script, group.name())
    use_exr = bool(group.knob("use_exr") is not None and group["use_exr"].value())
    return _OutputPlan(folder, files.safe_name(group.name()), frame, use_exr)


def _request_fields(group, kind, frame):
    """Read the knobs and capture the inputs into the JSON body of a create request."""
    script = nuke.root()["name"].value()
    files.work_folder(script)
    model = model_name(group["model"].value())
    if not model:
        raise ValueError("No model is selected: press Refresh Models once the server is running.")
    fields = {"model": model, "prompt": group["prompt"].value()}
    if kind.domain == "texts":
        inputs = capture.capture_inputs(group, kind, script, frame)
        fields["images"] = [inputs[name] for name in kind.inputs if name in inputs]
        return fields

    fields["width"] = int(group["width"].value())
    fields["height"] = int(group["height"].value())
    fields["seed"] = int(group["seed"].value())
    if kind.domain == "images":
        use_exr = bool(group["use_exr"].value())
        inputs = capture.capture_inputs(group, kind, script, frame, as_exr=use_exr)
        fields["strength"] = float(group["strength"].value())
        steps = int(group["steps"].value())
        if steps > 0:
            fields["steps"] = steps
        for name in ("image", "mask"):
            if name in inputs:
                fields[name] = inputs[name]
        fields["references"] = [{"image": inputs[name]} for name in ("a", "b", "c") if name in inputs]
    else:
        frames = int(group["frames"].value())
        inputs = capture.capture_inputs(group, kind, script, frame, num_frames=frames)
        fields["num_frames"] = frames
        for name in ("image", "last_image", "video"):
            if name in inputs:
                fields[name] = inputs[name]
    return fields


# Following a task


def _download(plan, domain, client, state):
    """Download the first output next to the script, with a snapshot copy (background thread)."""
    if state.status != "SUCCESS" or domain == "texts":
        return None
    if not state.outputs:
        raise ApiError("Task %s succeeded but returned no output file." % state.task_id)
    if domain == "videos":
        path = files.frame_file(plan.folder, plan.stem, None, "mp4")
    else:
        path = files.frame_file(plan.folder, plan.stem, plan.frame, "png")
    client.download(state.outputs[0], path)
    return {"path": path, "snapshot": files.snapshot(path)}


def _follow(group, kind, plan, fields=None, task_id=None):
    key = group.fullName()
    previous = _RUNNERS.pop(key, None)
    if previous is not None:
        previous.stop()

    def submitted(state):
        group["task_id"].setValue(state.task_id)
        _show(group, state.status, status_label(state.status))

    def updated(state, elapsed):
        _show(group, state.status, status_label(state.status, elapsed, state.latest_log), logs=state.logs)

    def finished(state, result):
        if _RUNNERS.get(key) is task:
            del _RUNNERS[key]
        _finish(group, kind, plan, state, result)

    def failed(message):
        if _RUNNERS.get(key) is task:
            del _RUNNERS[key]
        _fail(group, message)

    task = TaskRunner(
        kind.domain,
        post_to_main,
        SCHEDULES[kind.domain],
        fields=fields,
        task_id=task_id,
        on_submitted=_guarded(group, key, submitted),
        on_update=_guarded(group, key, updated),
        on_finished=_guarded(group, key, finished),
        on_error=_guarded(group, key, failed),
        prepare_result=functools.partial(_download, plan, kind.domain),
    )
    _RUNNERS[key] = task
    task.start()
    return task


def _finish(group, kind, plan, state, result):
    if state.status == "FAILURE":
        message = state.error_message or "the task failed without a message"
        _show(group, "FAILURE", "[FAILURE]\n" + message.splitlines()[0][:120], logs=state.logs + ["ERROR: " + message])
        return
    if state.status != "SUCCESS":
        _show(group, state.status, "[%s]" % state.status, logs=state.logs)
        return
    if kind.domain == "texts":
        group["response"].setValue(state.text)
    elif kind.domain == "images":
        _load_image(group, plan, result["path"])
    else:
        _load_video(group, plan, result["path"])
    _show(group, "SUCCESS", "", logs=state.logs)


def _load_image(group, plan, png_path):
    extension = "png"
    colorspace = capture.SRGB
    if plan.use_exr:
        # NOTE: the server writes 8-bit PNG only, so this EXR is a linear float
        # copy of that PNG and carries no more precision than it.
        extension = "exr"
        colorspace = capture.LINEAR
        exr_path = files.frame_file(plan.folder, plan.stem, plan.frame, "exr")
        capture.convert_to_exr(group, png_path, exr_path, plan.frame)
        files.snapshot(exr_path)
    read = group.node(OUTPUT_READ)
    pattern = os.path.join(plan.folder, "%s.#####.%s" % (plan.stem, extension)).replace("\\", "/")
    read["file"].setValue(pattern)
    read["colorspace"].setValue(colorspace)
    frames = capture.sequence_range(plan.folder, plan.stem, extension) or (plan.frame, plan.frame)
    for knob_name, value in (("origfirst", frames[0]), ("origlast", frames[1]), ("first", frames[0]), ("last", frames[1])):
        read[knob_name].setValue(value)
    read["reload"].execute()


def _load_video(group, plan, mp4_path):
    read = group.node(OUTPUT_READ)
    read["file"].setValue(mp4_path.replace("\\", "/"))
    read["reload"].execute()
    # A movie's frames start at the Read's first frame (1), so shifting by the
    # difference puts the clip's first frame at the frame where it was generated.
    offset = group.node(TIME_OFFSET)
    offset["time_offset"].setValue(plan.frame - int(read["first"].value()))
