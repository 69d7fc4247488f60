"""Build the DDImage, DDVideo and DDText Group nodes and their knobs."""

from __future__ import annotations

import logging

import nuke

from ddiffusion_plugin import ApiClient, ApiError
from ddiffusion_plugin.models import menu_entries, preferred_entry

LOG = logging.getLogger("ddiffusion.nuke")


class NodeKind:
    """Domain, inputs and defaults of one of the three nodes."""

    def __init__(self, name, domain, inputs, prompt, width=None, height=None, optimizer=None, preferred_models=()):
        self.name = name
        self.domain = domain
        self.inputs = inputs
        self.prompt = prompt
        self.width = width
        self.height = height
        self.optimizer = optimizer
        self.preferred_models = list(preferred_models)


IMAGE = NodeKind(
    "DDImage",
    "images",
    ["image", "mask", "a", "b", "c"],
    "Detailed, 8k, photorealistic",
    width=1280,
    height=720,
    optimizer="IMAGE_OPTIMIZER",
    preferred_models=["sd-xl"],
)
VIDEO = NodeKind(
    "DDVideo",
    "videos",
    ["image", "last_image", "video"],
    "Detailed, cinematic, high quality",
    width=854,
    height=480,
    optimizer="VIDEO_OPTIMIZER",
)
TEXT = NodeKind("DDText", "texts", ["a", "b"], "", preferred_models=["gpt-5", "qwen-2"])
KINDS = {kind.name: kind for kind in (IMAGE, VIDEO, TEXT)}

TEXT_MODELS_PREFERRED = ["gpt-5", "qwen-2"]
OUTPUT_READ = "output_read"
TIME_OFFSET = "time_offset"


def kind_of(group):
    """Return the NodeKind of a Deferred Diffusion group, from its hidden `dd_kind` knob."""
    knob = group.knob("dd_kind")
    if knob is None or knob.value() not in KINDS:
        raise ValueError("%s is not a Deferred Diffusion node" % group.name())
    return KINDS[knob.value()]


def fetch_menu(domain):
    """Return menu entries for the models the server runs in `domain`.

    Returns an empty list when the server cannot be reached, so a node can
    still be created offline; Refresh Models fills the menu later.
    """
    try:
        # This runs on the UI thread, so the request gets short limits.
        with ApiClient(timeout=5.0, connect_timeout=2.0) as client:
            return menu_entries(client.list_models(domain))
    except ApiError as error:
        LOG.warning("could not list %s models: %s", domain, error.message)
        return []


def _button(name, label, function, tooltip=""):
    knob = nuke.PyScript_Knob(name, label, "import dd_nuke.actions\ndd_nuke.actions.%s(nuke.thisNode())" % function)
    if tooltip:
        knob.setTooltip(tooltip)
    return knob


def _same_line(knob):
    knob.clearFlag(nuke.STARTLINE)
    return knob


def _hidden(knob):
    knob.setFlag(nuke.INVISIBLE)
    return knob


def _unique_name(base):
    index = 1
    while nuke.toNode("%s%d" % (base, index)) is not None:
        index += 1
    return "%s%d" % (base, index)


def create(kind_name):
    """Create a Deferred Diffusion Group node of kind `kind_name` and return it."""
    kind = KINDS[kind_name]
    group = nuke.createNode("Group", inpanel=False)
    group.setName(_unique_name(kind.name))
    _build_internals(group, kind)
    _add_knobs(group, kind)
    return group


def _build_internals(group, kind):
    group.begin()
    try:
        for index, name in enumerate(kind.inputs):
            node = nuke.nodes.Input(name=name)
            node.setXYpos(index * 110, 0)
        output = nuke.nodes.Output()
        output.setXYpos(0, 300)
        if kind.domain == "texts":
            # A text node has no picture of its own: it passes its first input through.
            output.setInput(0, nuke.toNode(kind.inputs[0]))
            return
        read = nuke.nodes.Read(name=OUTPUT_READ)
        read.setXYpos(0, 120)
        read["on_error"].setValue("nearest frame")
        if kind.domain == "videos":
            offset = nuke.nodes.TimeOffset(name=TIME_OFFSET)
            offset.setInput(0, read)
            offset.setXYpos(0, 200)
            output.setInput(0, offset)
        else:
            output.setInput(0, read)
    finally:
        group.end()


def _add_knobs(group, kind):
    add = group.addKnob
    add(nuke.Tab_Knob("dd_tab", "Deferred Diffusion"))
    add(_hidden(nuke.String_Knob("dd_kind", "kind", kind.name)))

    entries = fetch_menu(kind.domain)
    model = nuke.Enumeration_Knob("model", "Model", entries or [""])
    model.setTooltip("Models the server runs, from GET /api/%s/models; external/ marks external providers." % kind.domain)
    add(model)
    default = preferred_entry(entries, kind.preferred_models)
    if default:
        model.setValue(default)
    add(_same_line(_button("refresh_models", "Refresh Models", "refresh_models", "Reload the model menus from the server")))

    add(_button("generate", "Generate", "generate", "Capture the inputs and submit a task"))
    add(_same_line(_button("cancel", "Cancel", "cancel", "Ask the server to cancel the running task")))
    add(nuke.String_Knob("task_id", "Task ID"))
    add(_same_line(_button("get_task", "Get Task", "get_task", "Fetch the task in Task ID and follow it until it ends")))

    prompt = nuke.Multiline_Eval_String_Knob("prompt", "Prompt")
    prompt.setValue(kind.prompt)
    add(prompt)

    if kind.optimizer:
        text_entries = fetch_menu("texts")
        text_model = nuke.Enumeration_Knob("text_model", "Text Model", text_entries or [""])
        add(text_model)
        text_default = preferred_entry(text_entries, TEXT_MODELS_PREFERRED)
        if text_default:
            text_model.setValue(text_default)
        add(_same_line(_button("optimize", "\U0001F916 Optimize", "optimize", "Rewrite the prompt with the text model")))

    if kind.width:
        width = nuke.Int_Knob("width", "Width Height")
        width.setValue(kind.width)
        width.setTooltip("Output size in pixels; an input image's size wins over it.")
        add(width)
        height = _same_line(nuke.Int_Knob("height", ""))
        height.setValue(kind.height)
        add(height)

    if kind.domain == "images":
        strength = nuke.Double_Knob("strength", "Strength")
        strength.setRange(0.0, 1.0)
        strength.setValue(0.5)
        add(strength)
        steps = nuke.Int_Knob("steps", "Steps")
        steps.setTooltip("Denoising steps; 0 uses the model's default.")
        add(steps)
        exr = nuke.Boolean_Knob("use_exr", "EXR (linear float)")
        exr.setTooltip("Send inputs and keep results as 32-bit linear EXR instead of 8-bit sRGB PNG.")
        add(exr)

    if kind.domain == "videos":
        frames = nuke.Int_Knob("frames", "Frames")
        frames.setRange(24, 250)
        frames.setValue(48)
        add(frames)

    if kind.domain in ("images", "videos"):
        seed = nuke.Int_Knob("seed", "Seed")
        seed.setValue(42)
        add(seed)

    if kind.domain == "texts":
        add(nuke.Multiline_Eval_String_Knob("response", "Response"))

    add(nuke.Tab_Knob("dd_misc", "Misc"))
    add(_button("documentation", "Documentation", "open_documentation", "Open the API reference in a browser"))
    add(_same_line(_button("task_monitor", "Task Monitor", "open_task_monitor", "Open the server's page for this task")))
    add(nuke.Multiline_Eval_String_Knob("logs", "Logs"))
    add(_hidden(nuke.String_Knob("status", "status")))
    add(_hidden(nuke.Int_Knob("submitted_frame", "submitted frame")))
    if kind.domain != "texts":
        for knob_name, label in (("file", "File"), ("first", "First"), ("last", "Last"), ("on_error", "Missing Frames"), ("colorspace", "Colorspace")):
            link = nuke.Link_Knob("read_" + knob_name, label)
            link.makeLink(OUTPUT_READ, knob_name)
            add(link)
    if kind.domain == "videos":
        link = nuke.Link_Knob("read_time_offset", "Time Offset")
        link.makeLink(TIME_OFFSET, "time_offset")
        add(link)
