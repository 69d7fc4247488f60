"""Render a node's inputs to files through temporary Write nodes, and convert results."""

from __future__ import annotations

import glob
import os
import re
import time

import nuke

from ddiffusion_plugin import files

# NOTE: colourspace names follow Nuke's default OCIO config (nuke-default);
# scripts on an ACES config need "Utility - sRGB - Texture" and "ACES - ACEScg" instead.
SRGB = "sRGB"
LINEAR = "linear"


class CaptureError(Exception):
    """An input could not be rendered to a file."""


def _nuke_path(path):
    return path.replace("\\", "/")


def _with_group(group, function, *args):
    group.begin()
    try:
        return function(*args)
    finally:
        group.end()


def render_still(group, input_name, path, frame, as_exr=False):
    """Render the group's Input node `input_name` at `frame` to a PNG or a 32-bit linear EXR."""

    def render():
        source = nuke.toNode(input_name)
        if source is None:
            raise CaptureError("%s has no input named %s" % (group.name(), input_name))
        write = nuke.nodes.Write(name="dd_capture_%s" % input_name)
        try:
            write.setInput(0, source)
            write["file"].setValue(_nuke_path(path))
            # The server reads a mask's RGB luminance, so a matte held only in
            # alpha (a Roto's output) needs a Shuffle alpha to rgb in front.
            write["channels"].setValue("rgb")
            if as_exr:
                write["file_type"].setValue("exr")
                write["datatype"].setValue("32 bit float")
                write["colorspace"].setValue(LINEAR)
            else:
                write["file_type"].setValue("png")
                write["datatype"].setValue("8 bit")
                write["colorspace"].setValue(SRGB)
            nuke.execute(write, frame, frame)
        finally:
            nuke.delete(write)

    _with_group(group, render)
    if not os.path.isfile(path):
        raise CaptureError("Rendering input %s of %s wrote no file at %s" % (input_name, group.name(), path))
    return path


def render_clip(group, input_name, path, first, last):
    """Render the group's Input node `input_name` over [first, last] to an H.264 movie."""

    def render():
        source = nuke.toNode(input_name)
        write = nuke.nodes.Write(name="dd_capture_%s" % input_name)
        try:
            write.setInput(0, source)
            write["file"].setValue(_nuke_path(path))
            write["file_type"].setValue("mov")
            # NOTE: the codec knob and its value are those of Nuke 13 to 15's
            # mov64 writer; other releases may name them differently.
            write["mov64_codec"].setValue("h264")
            write["mov64_fps"].setValue(24)
            write["colorspace"].setValue(SRGB)
            nuke.execute(write, first, last)
        finally:
            nuke.delete(write)

    _with_group(group, render)
    if not os.path.isfile(path):
        raise CaptureError("Rendering input %s of %s wrote no file at %s" % (input_name, group.name(), path))
    return path


def capture_inputs(group, kind, script_path, frame, as_exr=False, num_frames=0, only=None):
    """Render each connected input and return {input name: base64 text}.

    Stills are rendered at `frame`; an input named `video` is rendered over
    `num_frames` frames from `frame`. The masks are always 8-bit PNG. `only`
    limits the capture to those input names. The temporary files are removed
    once encoded.
    """
    folder = files.temp_folder(script_path)
    stamp = "%d" % (time.time() * 1000)
    encoded = {}
    for index, name in enumerate(kind.inputs):
        if group.input(index) is None or (only is not None and name not in only):
            continue
        stem = "%s_%s_%s" % (files.safe_name(group.name()), name, stamp)
        if name == "video":
            path = render_clip(group, name, os.path.join(folder, stem + ".mp4"), frame, frame + max(1, num_frames) - 1)
        else:
            exr = as_exr and name != "mask"
            path = render_still(group, name, os.path.join(folder, stem + (".exr" if exr else ".png")), frame, exr)
        try:
            encoded[name] = files.encode_file(path)
        finally:
            os.remove(path)
    return encoded


def convert_to_exr(group, png_path, exr_path, frame):
    """Convert a downloaded sRGB PNG into a 32-bit float linear EXR through Nuke."""

    def convert():
        read = nuke.nodes.Read(name="dd_convert_read")
        write = nuke.nodes.Write(name="dd_convert_write")
        try:
            read["file"].setValue(_nuke_path(png_path))
            read["colorspace"].setValue(SRGB)
            write.setInput(0, read)
            write["file"].setValue(_nuke_path(exr_path))
            write["file_type"].setValue("exr")
            write["datatype"].setValue("32 bit float")
            write["colorspace"].setValue(LINEAR)
            nuke.execute(write, frame, frame)
        finally:
            nuke.delete(write)
            nuke.delete(read)

    _with_group(group, convert)
    return exr_path


def sequence_range(folder, stem, extension):
    """Return (first, last) frame of the files `<stem>.<5 digits>.<extension>` in `folder`, or None."""
    pattern = re.compile(r"^%s\.(\d{5})\.%s$" % (re.escape(stem), re.escape(extension)))
    frames = []
    for path in glob.glob(os.path.join(folder, "%s.*.%s" % (glob.escape(stem), extension))):
        match = pattern.match(os.path.basename(path))
        if match:
            frames.append(int(match.group(1)))
    if not frames:
        return None
    return min(frames), max(frames)
