"""``gislicense sessions``: the licenses in use on an OpenLM server or an ArcGIS License
Manager (``--flexnet PORT@HOST``), and closing the applications (or, with FlexNet, taking
back the licenses) that hold them."""

from __future__ import annotations

from gislicense.cli.common import EXIT_OK, UsageError
from gislicense.cli.options import command, parse_duration
from gislicense.cli.running import run_plan, run_read

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from gislicense import ActiveProduct, OpenLM
    from gislicense.cli.context import Context
    from gislicense.cli.options import Parents


def add_commands(verbs: Any, p: Parents) -> None:
    listing = command(
        verbs, "list", "list the licenses in use (OpenLM or FlexNet)", run_list, p.out, p.conn
    )
    _add_filters(listing)
    close = command(
        verbs,
        "close",
        "close the applications holding licenses (through the OpenLM Agent)",
        run_close,
        p.out,
        p.conn,
        p.change,
    )
    _add_filters(close)
    close.add_argument(
        "--close-wait",
        type=float,
        metavar="SECONDS",
        help="how long to watch the closed sessions end before reporting one unknown (30)",
    )
    close.add_argument(
        "--keep-free",
        type=int,
        metavar="N",
        help="close only as many sessions of each feature, longest-running first, as it takes "
        "to leave N of its licenses free (needs the issued totals: --flexnet)",
    )


def _add_filters(parser: argparse.ArgumentParser) -> None:
    flexnet = parser.add_argument_group("an ArcGIS License Manager instead of OpenLM")
    flexnet.add_argument(
        "--flexnet", metavar="PORT@HOST", help="the License Manager, e.g. 27000@licsrv"
    )
    flexnet.add_argument(
        "--lmutil", metavar="PATH", help="FlexNet's lmutil (default: on PATH, or ArcGIS's)"
    )
    group = parser.add_argument_group("which sessions")
    for name, what in (
        ("feature", "license feature (Editor, ARC/INFO...)"),
        ("vendor", "vendor daemon (ARCGIS)"),
        ("server", "license server, its name in OpenLM (FlexNet: its host)"),
        ("user", "user name"),
        ("workstation", "workstation"),
    ):
        group.add_argument(
            f"--{name}", action="append", metavar=name.upper(), help=f"{what}; repeatable"
        )
    group.add_argument(
        "--idle",
        type=parse_duration,
        metavar="DURATION",
        help="only sessions idle at least this long (2h, 90m, 1d)",
    )
    group.add_argument(
        "--closable",
        action="store_true",
        help="only sessions OpenLM can close (the OpenLM Agent is on the workstation)",
    )
    group.add_argument(
        "--min-age",
        type=parse_duration,
        metavar="DURATION",
        help="only sessions open at least this long",
    )
    group.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out this user or workstation; repeatable",
    )


COLUMNS = [
    "username",
    "workstation",
    "feature",
    "server",
    "start_time",
    "idle_time",
    "closable",
]


async def _sessions(context: Context, openlm: OpenLM) -> list[ActiveProduct]:
    """The sessions the filters choose."""
    import datetime as _dt

    args = context.args
    filters: dict[str, Any] = {}
    for option, field in (
        ("feature", "feature"),
        ("vendor", "vendor"),
        ("server", "server"),
        ("user", "username"),
        ("workstation", "workstation"),
    ):
        values = getattr(args, option)
        if values:
            filters[field] = values
    if args.idle is not None:
        idle: _dt.timedelta = args.idle
        filters["idle_time"] = lambda t: t is not None and t >= idle
    if args.closable:
        filters["closable"] = True
    if args.min_age is not None:
        cutoff = _dt.datetime.now(_dt.timezone.utc) - args.min_age
        filters["start_time"] = lambda t: t is not None and t <= cutoff
    sessions = await openlm.get_active_products_async(**filters)
    excluded = {name.casefold() for name in args.exclude}
    return [
        s
        for s in sessions
        if (s.username or "").casefold() not in excluded
        and (s.workstation or "").casefold() not in excluded
    ]


async def _session_rows(context: Context, openlm: OpenLM) -> list[dict[str, Any]]:
    return [s.to_dict() for s in await _sessions(context, openlm)]


def run_list(context: Context) -> int:
    from gislicense._core import active_product_fields

    if _kind(context) == "flexnet":
        from gislicense.cli.sessions_flexnet import COLUMNS as FLEXNET_COLUMNS
        from gislicense.cli.sessions_flexnet import session_rows
        from gislicense.flexnet import FIELDS

        every = [f for f in FIELDS if f != "product"]
        return run_read(context, "flexnet", session_rows, FLEXNET_COLUMNS, every, "sessions")
    every = [name for name, _ in active_product_fields()]
    return run_read(context, "openlm", _session_rows, COLUMNS, every, "sessions")


def _kind(context: Context) -> str:
    """flexnet for --flexnet, or when every --profile named is a License Manager."""
    from gislicense import profiles

    args = context.args
    if args.flexnet:
        return "flexnet"
    named = list(args.profile or [])
    if named and not args.sandbox and all(profiles.load(n).kind == "flexnet" for n in named):
        return "flexnet"
    return "openlm"


def run_close(context: Context) -> int:
    args = context.args
    if _kind(context) == "flexnet":
        from gislicense.cli.sessions_flexnet import run_close as run_flexnet_close

        return run_flexnet_close(context)
    if args.keep_free is not None:
        raise UsageError(
            "--keep-free needs each feature's issued total, which OpenLM's replies do not "
            "give: use it with --flexnet"
        )
    chosen = [
        args.feature,
        args.vendor,
        args.server,
        args.user,
        args.workstation,
        args.idle,
        args.min_age,
    ]
    if not any(chosen) and not args.allow_all:
        raise UsageError(
            "no filter given: this would close every session; choose sessions with "
            "--feature, --user, --idle... or pass --all if that is meant"
        )
    import asyncio

    openlm = context.openlm()
    sessions = asyncio.run(_sessions(context, openlm))
    if not sessions:
        context.say("No session matches: nothing to close.")
        return EXIT_OK
    plan = openlm.plan_close(sessions, allow_all=context.args.allow_all)
    return run_plan(context, plan)
