"""The user's own folders, per platform: where gislicense keeps data and configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Per kind: the Windows variable and its usual place, the XDG variable and its default.
_PLACES = {
    "data": ("LOCALAPPDATA", ("AppData", "Local"), "XDG_DATA_HOME", (".local", "share")),
    "config": ("APPDATA", ("AppData", "Roaming"), "XDG_CONFIG_HOME", (".config",)),
}


def user_folder(kind: str) -> Path:
    """gislicense's folder for ``kind`` ("data" or "config"): under ``%LOCALAPPDATA%`` /
    ``%APPDATA%`` on Windows, ``~/Library/Application Support`` on macOS (both kinds),
    ``$XDG_DATA_HOME`` / ``$XDG_CONFIG_HOME`` (or their defaults) elsewhere."""
    windows, windows_default, xdg, xdg_default = _PLACES[kind]
    if sys.platform == "win32":
        base = Path(os.environ.get(windows) or Path.home().joinpath(*windows_default))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get(xdg) or Path.home().joinpath(*xdg_default))
    return base / "gislicense"
