"""The user's own folders, per platform: where gislicense keeps data and configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

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


def private_folder(folder: Path) -> None:
    """Make ``folder`` and its missing parents, each new one for its owner only (0700 on
    Linux and macOS): gislicense's files hold organization data (names, roles, URLs)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(mode=0o700, exist_ok=True)


def open_private(
    path: str | os.PathLike[str], *, newline: str | None = None, make_folders: bool = False
) -> TextIO:
    """Open ``path`` to write text (UTF-8), created readable by its owner only (0600 on Linux
    and macOS); with ``make_folders``, in private new folders (gislicense's own files; a path
    a person gave is written where it says, or refused). A file that exists keeps the mode
    its owner gave it."""
    target = Path(path)
    if make_folders:
        private_folder(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(descriptor, "w", encoding="utf-8", newline=newline)
