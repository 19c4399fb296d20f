"""The ``gislicense`` command: license housekeeping from a terminal or a scheduled job.

Every command that changes something plans first, shows the plan, and changes nothing
unless ``--apply`` is given; applying writes a journal that ``journal show|undo|resume``
read back. It is built on the library's own plans and journals.

One module per command group, each with its options next to its handlers: ``sessions``,
``users``, ``licenses``, ``plan_journal`` (plan and journal), ``profile``, ``usage`` (the
usage history), ``sandbox``.
Shared by them: ``common`` (exit statuses, usage errors, the library's errors and advice in
the command's words), ``options`` (option types and the shared option groups), ``context``
(a run's output and servers), ``running`` (lists read, plans shown and applied) and
``members`` (which members or items a command reaches).
"""

from __future__ import annotations

import argparse
import sys

from gislicense.cli.common import (
    EPILOG,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    failed,
)
from gislicense.cli.options import SHARED_DEFAULTS, Parents, Version
from gislicense.exceptions import GisLicenseError

# What only some commands need is imported where it is used, and typing not at all (type
# checkers read TYPE_CHECKING as true): `gislicense --help` stays quick.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "main"]

#: The command groups: what each is for, and the module (and its function) making their
#: commands. A group's module is imported only when the command line names the group.
GROUPS: dict[str, tuple[str, str, str]] = {
    "sessions": ("OpenLM: licenses in use now, closing them", "sessions", "add_commands"),
    "users": ("Portal: members, user types, roles", "users", "add_commands"),
    "licenses": ("Portal: named-user licenses (ArcGIS Pro...)", "licenses", "add_commands"),
    "plan": ("saved plans: show, apply", "plan_journal", "add_plan_commands"),
    "journal": (
        "journals of applied changes: show, undo, resume",
        "plan_journal",
        "add_journal_commands",
    ),
    "profile": ("saved connections: add, list, remove", "profile", "add_commands"),
    "usage": ("usage history: record, import-log, report", "usage", "add_commands"),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the group named in ``argv`` gets its commands made (making all of
    them costs more than the rest of ``gislicense --help``). None makes them all."""
    import importlib

    p = Parents()
    # No abbreviations: `--user` must not quietly mean `--username` (sessions have a real
    # --user filter), and an option added later must not change what an old script means.
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        prog="gislicense",
        description="See and manage who holds your GIS licenses.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[p.out, p.conn],
    )
    parser.add_argument("--version", action=Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    named = set(argv) if argv is not None else {*GROUPS, "sandbox", "toolbox"}
    for name, (help, module, adder) in GROUPS.items():
        group = commands.add_parser(name, help=help, description=help, allow_abbrev=False)
        if name in named:
            make = getattr(importlib.import_module(f"gislicense.cli.{module}"), adder)
            make(group.add_subparsers(dest="verb", required=True, metavar="ACTION"), p)
    sandbox = commands.add_parser(
        "sandbox", help="run the emulated license servers", allow_abbrev=False
    )
    if "sandbox" in named:
        from gislicense.cli.sandbox import add_options

        add_options(sandbox)
    toolbox = commands.add_parser(
        "toolbox",
        help="the ArcGIS Pro toolbox: its path, or a copy for a project",
        description="Print the path of the installed ArcGIS Pro toolbox (gislicense.pyt), "
        "or copy it with --copy-to.",
        allow_abbrev=False,
    )
    if "toolbox" in named:
        from gislicense.cli.toolbox import add_options as add_toolbox_options

        add_toolbox_options(toolbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (by default the process's); the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    for name, default in SHARED_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.verbose:
        _log_requests(args.verbose)
    if args.group == "sandbox":
        from gislicense.cli.sandbox import run

        return run(args)
    if args.group == "toolbox":
        from gislicense.cli.toolbox import run as run_toolbox

        return run_toolbox(args)
    from gislicense.cli.context import Context

    context = Context(args)
    try:
        status: int = args.run(context)
        return status
    except KeyboardInterrupt:
        if not context.interrupted_said:
            print("\ngislicense: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as err:
        print(f"gislicense: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except GisLicenseError as err:
        return failed(err)
    finally:
        context.close()


def _log_requests(verbose: int) -> None:
    """-v: gislicense's own log lines on stderr (not those of the libraries underneath);
    -vv: with the debug ones."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("gislicense: %(levelname)s: %(message)s"))
    logger = logging.getLogger("gislicense")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
