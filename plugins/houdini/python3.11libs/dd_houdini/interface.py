"""Inputs and parameters of the three digital assets, as plain data.

`scripts/build_hdas.py` turns these into Houdini parameter templates, and
the tests build their fake nodes from them, so both use the same names.
"""

from __future__ import annotations

CALLBACK = "import dd_houdini.tasks\ndd_houdini.tasks.%s(kwargs['node'])"
MENU_SCRIPT = "import dd_houdini.tasks\nreturn dd_houdini.tasks.model_menu(%r, kwargs['node'], %r)"


class ParmSpec:
    """One parameter: `kind` is string, multiline, int, float, toggle or button."""

    def __init__(self, name, label, kind, default=None, folder="Main", callback=None, menu_domain=None,
                 menu_items=None, minimum=None, maximum=None, hidden=False, join_next=False, help=""):
        self.name = name
        self.label = label
        self.kind = kind
        self.default = default
        self.folder = folder
        self.callback = CALLBACK % callback if callback else None
        self.menu_script = MENU_SCRIPT % (menu_domain, name) if menu_domain else None
        self.menu_items = menu_items
        self.minimum = minimum
        self.maximum = maximum
        self.hidden = hidden
        self.join_next = join_next
        self.help = help


class AssetSpec:
    def __init__(self, kind, type_name, label, inputs, parms):
        self.kind = kind
        self.type_name = type_name
        self.label = label
        self.inputs = inputs
        self.parms = parms


def _common_head(kind, domain):
    return [
        ParmSpec("dd_kind", "Kind", "string", default=kind, hidden=True),
        ParmSpec("model", "Model", "string", menu_domain=domain, help="Models the server runs; the menu asks the server"),
        ParmSpec("generate", "Generate", "button", callback="generate", join_next=True),
        ParmSpec("cancel", "Cancel", "button", callback="cancel", join_next=True),
        ParmSpec("refresh_models", "Refresh Models", "button", callback="refresh_models"),
        ParmSpec("task_id", "Task ID", "string", join_next=True),
        ParmSpec("get_task", "Get Task", "button", callback="get_task"),
    ]


def _optimizer():
    return [
        ParmSpec("text_model", "Text Model", "string", menu_domain="texts", join_next=True),
        ParmSpec("optimize", "\U0001F916 Optimize", "button", callback="optimize"),
    ]


def _misc(output_parm=None):
    parms = [
        ParmSpec("documentation", "Documentation", "button", folder="Misc", callback="open_documentation", join_next=True),
        ParmSpec("task_monitor", "Task Monitor", "button", folder="Misc", callback="open_task_monitor"),
        ParmSpec("logs", "Logs", "multiline", default="", folder="Misc"),
        ParmSpec("submitted_frame", "Submitted Frame", "int", default=0, folder="Misc", hidden=True),
    ]
    if output_parm:
        parms.append(ParmSpec(output_parm, output_parm.replace("_", " ").title(), "string", default="", folder="Misc"))
    return parms


IMAGE = AssetSpec(
    "DDImage",
    "deferred_diffusion::dd_image::1.0",
    "DD Image",
    ["image", "mask", "reference_a", "reference_b", "reference_c"],
    _common_head("DDImage", "images")
    + [ParmSpec("prompt", "Prompt", "multiline", default="Detailed, 8k, photorealistic")]
    + _optimizer()
    + [
        ParmSpec("width", "Width", "int", default=1280, minimum=128, maximum=2048, join_next=True),
        ParmSpec("height", "Height", "int", default=720, minimum=128, maximum=2048),
        ParmSpec("strength", "Strength", "float", default=0.5, minimum=0.0, maximum=1.0),
        ParmSpec("steps", "Steps", "int", default=0, minimum=0, maximum=150, help="0 uses the model's default"),
        ParmSpec("seed", "Seed", "int", default=42, minimum=0, maximum=2**31 - 1),
    ]
    + _misc("output_image_path"),
)

TEXT = AssetSpec(
    "DDText",
    "deferred_diffusion::dd_text::1.0",
    "DD Text",
    ["image_a", "image_b"],
    _common_head("DDText", "texts")
    + [
        ParmSpec(
            "prompt",
            "Prompt",
            "multiline",
            default="",
            menu_items=[
                "Describe this image.",
                "Compare these images.",
                "Write a Stable Diffusion prompt that describes this image.",
            ],
        ),
        ParmSpec("response", "Response", "multiline", default=""),
    ]
    + _misc(),
)

VIDEO = AssetSpec(
    "DDVideo",
    "deferred_diffusion::dd_video::1.0",
    "DD Video",
    ["image", "last_image", "video"],
    _common_head("DDVideo", "videos")
    + [ParmSpec("prompt", "Prompt", "multiline", default="Slow camera zoom in, 4k, high quality, cinematic, realistic")]
    + _optimizer()
    + [
        ParmSpec("width", "Width", "int", default=854, minimum=128, maximum=2048, join_next=True),
        ParmSpec("height", "Height", "int", default=480, minimum=128, maximum=2048),
        ParmSpec("num_frames", "Frames", "int", default=48, minimum=24, maximum=250),
        ParmSpec("seed", "Seed", "int", default=42, minimum=0, maximum=2**31 - 1),
        ParmSpec("video_start_frame", "Video Start Frame", "int", default=1, folder="Misc"),
    ]
    + _misc("output_video_path"),
)

ASSETS = {spec.kind: spec for spec in (IMAGE, TEXT, VIDEO)}
