"""Paths of captured inputs and downloaded outputs next to the artist's scene."""

from __future__ import annotations

import base64
import os
import re
import shutil
import time
from typing import Optional

FOLDER = "deferred-diffusion"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """Return `name` with characters other than letters, digits, `.`, `_` and `-` replaced by `_`."""
    return _UNSAFE.sub("_", name).strip("._") or "node"


def work_folder(scene_path: str) -> str:
    """Return `<scene folder>/deferred-diffusion`; raise ValueError for an unsaved scene."""
    if not scene_path:
        raise ValueError("The script or scene is not saved. Save it first, because inputs and results are written next to it in deferred-diffusion/.")
    return os.path.join(os.path.dirname(os.path.abspath(scene_path)), FOLDER)


def temp_folder(scene_path: str) -> str:
    folder = os.path.join(work_folder(scene_path), "tmp")
    os.makedirs(folder, exist_ok=True)
    return folder


def output_folder(scene_path: str, node_name: str) -> str:
    return os.path.join(work_folder(scene_path), safe_name(node_name))


def frame_file(folder: str, stem: str, frame: Optional[int], extension: str) -> str:
    """Return `<folder>/<stem>.<frame padded to 5>.<extension>`, or without the frame when it is None."""
    if frame is None:
        return os.path.join(folder, "%s.%s" % (safe_name(stem), extension))
    return os.path.join(folder, "%s.%05d.%s" % (safe_name(stem), int(frame), extension))


def snapshot(path: str, now: Optional[float] = None) -> str:
    """Copy `path` to `snapshots/<YYYYmmdd_HHMMSS>_<file name>` beside it and return the copy's path.

    A second snapshot of the same file in the same second gets a `-2`, `-3`, ... suffix.
    """
    folder = os.path.join(os.path.dirname(path), "snapshots")
    os.makedirs(folder, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(now))
    target = os.path.join(folder, "%s_%s" % (stamp, os.path.basename(path)))
    counter = 2
    while os.path.exists(target):
        target = os.path.join(folder, "%s-%d_%s" % (stamp, counter, os.path.basename(path)))
        counter += 1
    shutil.copy2(path, target)
    return target


def encode_file(path: str) -> str:
    """Return the file's bytes as base64 text, the form the API takes images and videos in."""
    with open(path, "rb") as source:
        return base64.b64encode(source.read()).decode("ascii")
