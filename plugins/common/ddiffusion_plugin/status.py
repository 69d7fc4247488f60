"""Node labels and colours for task states, shared by both hosts."""

from __future__ import annotations

from typing import Tuple

# RGB in 0..1 per status; statuses not listed are grey.
STATUS_COLOURS = {
    "SUBMITTING": (0.85, 0.85, 0.35),
    "PENDING": (0.85, 0.75, 0.2),
    "STARTED": (0.25, 0.45, 0.85),
    "SUCCESS": (0.25, 0.7, 0.3),
    "FAILURE": (0.8, 0.2, 0.2),
}
GREY = (0.45, 0.45, 0.45)

MAX_LOG_LINE = 80


def status_colour(status: str) -> Tuple[float, float, float]:
    return STATUS_COLOURS.get(status, GREY)


def rgba_int(colour: Tuple[float, float, float]) -> int:
    """Pack an RGB colour into Nuke's 0xRRGGBBAA tile colour integer."""
    red, green, blue = (max(0, min(255, int(round(channel * 255)))) for channel in colour)
    return (red << 24) | (green << 16) | (blue << 8) | 0xFF


def status_label(status: str, elapsed: float = 0.0, latest_log: str = "") -> str:
    """Return a node label such as "[STARTED] 12s" over the latest log line."""
    label = "[%s] %ds" % (status, int(elapsed))
    line = latest_log.strip().splitlines()[-1] if latest_log.strip() else ""
    if len(line) > MAX_LOG_LINE:
        line = line[: MAX_LOG_LINE - 3] + "..."
    return label + ("\n" + line if line else "")
