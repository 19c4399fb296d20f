"""The ArcGIS Pro toolbox: ``gislicense.pyt`` and the tools it declares.

The ``.pyt`` file only declares the ``Toolbox``; the tools are the classes of
:mod:`gislicense.toolbox.tools`, built on :mod:`~gislicense.toolbox.parameters` (the tools'
parameters, their choice lists and validation), :mod:`~gislicense.toolbox.sources` (signing
in through ArcGIS Pro or a saved profile) and :mod:`~gislicense.toolbox.running` (a plan
shown as tool messages, applied with the progressor and Cancel, tables written). Nothing
here imports ``arcpy`` until a tool runs, so the package imports anywhere.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["TOOL_NAMES", "copy_toolbox", "toolbox_path"]

#: The tools of the toolbox, by class name (the name Pro shows them under).
TOOL_NAMES = (
    "CloseSessions",
    "ChangeUserTypes",
    "ChangeRoles",
    "AssignProLicenses",
    "ReleaseOfflineLicenses",
    "UndoJournal",
    "LicenseReport",
    "UsageReport",
)


def toolbox_path() -> Path:
    """The installed ``gislicense.pyt``: add it to an ArcGIS Pro project (Catalog pane >
    Toolboxes > Add Toolbox), or copy it next to a project with :func:`copy_toolbox`."""
    return Path(__file__).with_name("gislicense.pyt")


def copy_toolbox(folder: str | Path) -> Path:
    """Copy ``gislicense.pyt`` into ``folder`` (made if missing) and return the copy's path.
    The copy imports the installed package, so it keeps working as gislicense is upgraded."""
    import shutil

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(toolbox_path(), target / toolbox_path().name))
