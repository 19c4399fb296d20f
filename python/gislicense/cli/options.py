"""Reading the command line: option types, and the option groups commands share (output,
connection, changing), each made once per parser."""

from __future__ import annotations

import argparse

from gislicense.cli.common import EPILOG, EXIT_USAGE, PASSWORD_VARIABLE

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Callable
    from typing import Any, NoReturn


def parse_duration(text: str) -> _dt.timedelta:
    """``90m``, ``2h``, ``1h30m``, ``3d``, ``45s``: a whole number with a unit, or several."""
    import datetime as _dt
    import re

    if text.strip() == "0":
        return _dt.timedelta(0)
    parts = re.findall(r"(\d+)\s*([dhms])", text.strip().lower())
    rebuilt = "".join(f"{n}{u}" for n, u in parts)
    if not parts or rebuilt != re.sub(r"\s+", "", text.strip().lower()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: write it as 90m, 2h, 1h30m or 3d"
        )
    seconds = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return _dt.timedelta(seconds=sum(int(n) * seconds[u] for n, u in parts))


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: give 1 or more")
    return value


def days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} days: give 0 or more")
    return value


class Version(argparse.Action):
    """--version, reading the version only when asked (it loads the native core)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> NoReturn:
        from gislicense import __version__

        parser.exit(0, f"gislicense {__version__}\n")


class RefusePassword(argparse.Action):
    """--password: refused, with where the password goes instead."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> NoReturn:
        parser.exit(
            EXIT_USAGE,
            f"{parser.prog}: error: a password on the command line is visible to other users "
            f"of this computer and stays in the shell's history; set {PASSWORD_VARIABLE} "
            "instead, or leave it out to be asked\n",
        )


# Output and connection options go before the command or after it: both parsers have them,
# without defaults (a command's would overwrite what was given before it); `main` fills the
# defaults in.
SHARED_DEFAULTS: dict[str, Any] = {
    "form": None,
    "output": None,
    "quiet": False,
    "verbose": 0,
    "url": None,
    "username": None,
    "ca_bundle": None,
    "insecure_http": False,
    "timeout": None,
    "profile": None,
    "all_profiles": False,
    "sandbox": False,
}


def _output_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("output")
    form = group.add_mutually_exclusive_group()
    form.add_argument("--json", dest="form", action="store_const", const="json", help="JSON")
    form.add_argument("--csv", dest="form", action="store_const", const="csv", help="CSV")
    group.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not the screen")
    group.add_argument("--quiet", "-q", action="store_true", help="no summary or hints on stderr")
    group.add_argument("--verbose", "-v", action="count", help="log requests (-vv)")
    return parent


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("connection")
    group.add_argument(
        "--url",
        help="the server: the portal (https://host/portal) for users and licenses, the "
        "OpenLM server (http://host:7014/OpenLMServer) for sessions",
    )
    group.add_argument("--username", "-u", help="sign in as this user")
    group.add_argument("--password", nargs="?", action=RefusePassword, help=argparse.SUPPRESS)
    group.add_argument("--ca-bundle", metavar="PEM", help="extra CA certificates to trust")
    group.add_argument(
        "--insecure-http", action="store_true", help="accept an http:// portal (test portals)"
    )
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="per request (60)")
    group.add_argument(
        "--profile",
        "-p",
        action="append",
        metavar="NAME",
        help="a saved connection (gislicense profile add); a list repeats it for each server",
    )
    group.add_argument(
        "--all-profiles",
        action="store_true",
        help="a list from every saved server of the kind it needs, in one table",
    )
    group.add_argument(
        "--sandbox",
        action="store_true",
        help="run against a fresh built-in sandbox (no server needed; forgotten on exit)",
    )
    return parent


def _change_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("changing")
    group.add_argument("--apply", action="store_true", help="make the change (default: plan)")
    group.add_argument("--journal", metavar="PATH", help="where applying writes its journal")
    group.add_argument("--save-plan", metavar="FILE", help="save the plan (for plan apply)")
    group.add_argument("--concurrency", type=positive, default=None, help="requests at once")
    group.add_argument(
        "--all",
        dest="allow_all",
        action="store_true",
        help="it is meant to cover everyone: let the change reach every member or session",
    )
    return parent


class Parents:
    """The option groups commands share, made once per parser: ``out`` (output), ``conn``
    (connection), ``change`` (planning and applying)."""

    def __init__(self) -> None:
        self.out = _output_options()
        self.conn = _connection_options()
        self._change: argparse.ArgumentParser | None = None

    @property
    def change(self) -> argparse.ArgumentParser:
        if self._change is None:
            self._change = _change_options()
        return self._change


def command(
    verbs: Any, name: str, help: str, run: Callable[..., int], *parents: Any
) -> argparse.ArgumentParser:
    """A command of a group (``users set-type``), run by ``run``, with the shared option
    groups ``parents``."""
    made: argparse.ArgumentParser = verbs.add_parser(
        name,
        allow_abbrev=False,
        help=help,
        description=help,
        parents=list(parents),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.set_defaults(run=run)
    return made
