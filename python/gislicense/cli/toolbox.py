"""``gislicense toolbox``: where the ArcGIS Pro toolbox is installed, and a copy of it for a
project (Catalog pane > Toolboxes > Add Toolbox)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def add_options(toolbox: argparse.ArgumentParser) -> None:
    toolbox.add_argument(
        "--copy-to",
        metavar="DIR",
        help="copy gislicense.pyt into this folder (made if missing), next to a Pro project",
    )


def run(args: argparse.Namespace) -> int:
    """Print the installed toolbox's path, or copy it and print the copy's."""
    from gislicense.cli.common import EXIT_OK, EXIT_USAGE
    from gislicense.toolbox import copy_toolbox, toolbox_path

    if args.copy_to is None:
        print(toolbox_path())
        return EXIT_OK
    try:
        copied = copy_toolbox(args.copy_to)
    except OSError as err:
        import sys

        where = args.copy_to
        print(f"gislicense: error: cannot copy the toolbox to {where}: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(copied)
    return EXIT_OK
