"""Which members a change reaches (named, read from a file, or selected by type, role or
idleness), and which items of a saved plan or a journal a command acts on: their options,
and how they are read."""

from __future__ import annotations

import sys

from gislicense.cli.common import EXIT_OK, UsageError
from gislicense.cli.options import days
from gislicense.cli.running import say_notes

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from gislicense import GIS
    from gislicense.cli.context import Context
    from gislicense.plans import Plan


def add_member_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("users", nargs="*", metavar="USER", help=f"members to {what}")
    group = parser.add_argument_group("which members")
    group.add_argument(
        "--users-file", metavar="FILE", help="user names, one a line ('-' for stdin)"
    )
    group.add_argument(
        "--idle-days",
        type=days,
        metavar="N",
        help="members who have not signed in for N days (and joined before that)",
    )
    group.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="USER",
        help="leave out this member; repeatable",
    )
    group.add_argument(
        "--include-admins",
        action="store_true",
        help="let --from/--idle-days select administrators too (left out otherwise, and "
        "listed in the plan's notes)",
    )


def add_item_options(parser: argparse.ArgumentParser, what: str) -> None:
    """Which items of a saved plan or a journal to act on: all, or those named."""
    parser.add_argument(
        "users",
        nargs="*",
        metavar="USER",
        help=f"only these members (or sessions' users or "
        f"workstations) of the {what}; all by default",
    )
    group = parser.add_argument_group("which items")
    group.add_argument("--users-file", metavar="FILE", help="names, one a line ('-' for stdin)")
    group.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="USER",
        help="leave out this member (or session's user or workstation); repeatable",
    )


def named(args: argparse.Namespace) -> list[str]:
    """The names given: on the command line, then in --users-file."""
    names = list(args.users)
    if args.users_file:
        names.extend(read_names(args.users_file))
    return names


def read_names(path: str) -> list[str]:
    """The names in a file ('-': stdin), one a line."""
    from pathlib import Path

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    # A user name holds no '#': what follows one is a comment.
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [name for name in names if name]


def members(
    context: Context,
    gis: GIS,
    *,
    user_type: str | None = None,
    role: str | None = None,
) -> list[Any]:
    """The members a change names: given by name, or selected by type, role, or idleness
    (the library's selection: administrators left out unless --include-admins, and said in
    the plan's notes)."""
    args = context.args
    names = named(args)
    selects = user_type is not None or role is not None or args.idle_days is not None
    # The ways this command selects, for the messages.
    selectors = "--from, --idle-days" if hasattr(args, "to") else "--idle-days"
    if hasattr(args, "app"):
        selectors += "; or --all: everyone who has it checked out"
    if names and selects:
        raise UsageError(f"name the members or select them ({selectors}), not both")
    excluded = {name.casefold() for name in args.exclude}
    if names:
        return [n for n in names if n.casefold() not in excluded]
    if args.users_file and not selects:
        raise UsageError(f"{args.users_file} names no one")
    if not selects:
        also = "; --all selects no one: it lets a change reach everyone" if args.allow_all else ""
        raise UsageError(
            f"name the members (USER..., --users-file) or select them ({selectors}){also}"
        )
    return gis.users.select(
        user_type=user_type,
        role=role,
        idle_days=args.idle_days,
        include_admins=args.include_admins,
        exclude=args.exclude,
    )


def nothing_selected(context: Context, names: Sequence[Any] = ()) -> int:
    """Say that no member matches (and what the selection left out): nothing to do."""
    say_notes(context, getattr(names, "notes", []))
    context.say("No member matches: nothing to change.")
    return EXIT_OK


def selected(context: Context, plan: Plan) -> Plan:
    """The items of a saved plan or a journal the command names (all when none)."""
    args = context.args
    names = named(args)
    if not names and not args.exclude:
        return plan
    if args.users_file and not names:
        raise UsageError(f"{args.users_file} names no one")
    return plan.select(names or None, exclude=args.exclude)
