"""Model menus built from `GET /api/{domain}/models`."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

EXTERNAL_PREFIX = "external/"


def menu_entries(models: Dict[str, Dict[str, Any]]) -> List[str]:
    """Return menu entries, local models first, external ones prefixed with `external/`."""
    local = sorted(name for name, info in models.items() if not info.get("external"))
    external = sorted(EXTERNAL_PREFIX + name for name, info in models.items() if info.get("external"))
    return local + external


def model_name(entry: str) -> str:
    """Return the model name of a menu entry, without the `external/` prefix."""
    entry = entry.strip()
    if entry.startswith(EXTERNAL_PREFIX):
        return entry[len(EXTERNAL_PREFIX):]
    return entry


def preferred_entry(entries: List[str], preferred: List[str]) -> Optional[str]:
    """Return the first entry whose model name is in `preferred`, else the first entry."""
    for name in preferred:
        for entry in entries:
            if model_name(entry) == name:
                return entry
    return entries[0] if entries else None
