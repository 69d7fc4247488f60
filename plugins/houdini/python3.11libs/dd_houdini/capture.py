"""Render a digital asset's COP inputs to files through temporary ROP Image nodes."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import hou

from ddiffusion_plugin import files

# NOTE: the node type and parameter names below are those of Houdini 20.5's
# Copernicus ROP Image; they have not been checked in a running Houdini.
ROP_TYPE = "rop_image"
ROP_OUTPUT_PARM = "copoutput"


class CaptureError(Exception):
    """An input could not be rendered to a file."""


def render_input(node, index, path, first, last=None):
    """Render input `index` of `node` over [first, last] (one frame by default) to `path`.

    `path` may contain `$F4` for sequences. The ROP is created next to the
    asset, because the inside of a locked asset cannot be edited.
    """
    upstream = node.input(index)
    if upstream is None:
        raise CaptureError("%s has nothing connected to input %d" % (node.path(), index + 1))
    rop = node.parent().createNode(ROP_TYPE, "dd_capture_%s_%d" % (node.name(), index))
    try:
        rop.setInput(0, upstream)
        rop.parm(ROP_OUTPUT_PARM).set(path.replace("\\", "/"))
        rop.render(frame_range=(first, first if last is None else last))
    finally:
        rop.destroy()


def encode_movie(pattern, first, count, target):
    """Encode a PNG sequence (`%04d` pattern) into an H.264 MP4 at 24 fps with Houdini's hffmpeg."""
    executable = shutil.which("hffmpeg") or os.path.join(os.environ.get("HFS", ""), "bin", "hffmpeg")
    command = [
        executable,
        "-y",
        "-loglevel",
        "error",
        "-framerate",
        "24",
        "-start_number",
        str(first),
        "-i",
        pattern,
        "-frames:v",
        str(count),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        target,
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as error:
        raise CaptureError("Encoding the video input with %s failed: %s" % (executable, error))


def capture_inputs(node, input_names, scene_path, frame, num_frames=0, only=None):
    """Render each connected input and return {input name: base64 text}.

    Stills are PNG at `frame`; an input named `video` becomes an MP4 of
    `num_frames` frames from `frame`. Files under 1000 bytes count as empty
    renders, as in the original assets. Temporary files are removed.
    """
    folder = files.temp_folder(scene_path)
    stamp = "%d" % (time.time() * 1000)
    encoded = {}
    for index, name in enumerate(input_names):
        if node.input(index) is None or (only is not None and name not in only):
            continue
        stem = os.path.join(folder, "%s_%s_%s" % (files.safe_name(node.name()), name, stamp))
        created = []
        try:
            if name == "video":
                count = max(1, num_frames)
                render_input(node, index, stem + ".$F4.png", frame, frame + count - 1)
                created = [stem + ".%04d.png" % number for number in range(frame, frame + count)]
                path = stem + ".mp4"
                encode_movie(stem + ".%04d.png", frame, count, path)
                created.append(path)
            else:
                path = stem + ".png"
                render_input(node, index, path, frame)
                created = [path]
            if not os.path.isfile(path):
                raise CaptureError("Rendering input %s of %s wrote no file at %s" % (name, node.path(), path))
            if os.path.getsize(path) >= 1000:
                encoded[name] = files.encode_file(path)
        finally:
            for leftover in created:
                if os.path.exists(leftover):
                    os.remove(leftover)
    return encoded
