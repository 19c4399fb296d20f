"""``gislicense sessions list|close --flexnet PORT@HOST``: the same commands on an ArcGIS
License Manager, through lmutil."""

from __future__ import annotations

from gislicense.cli.common import EXIT_OK, UsageError
from gislicense.cli.running import run_plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gislicense.cli.context import Context
    from gislicense.flexnet import FlexNet, FlexNetSession

COLUMNS = [
    "username",
    "workstation",
    "feature",
    "server",
    "handle",
    "start_time",
    "licenses",
    "borrowed",
]


async def sessions(context: Context, flexnet: FlexNet) -> list[FlexNetSession]:
    """The sessions the filters choose; the filters FlexNet cannot judge are refused."""
    import datetime as _dt

    from gislicense.flexnet import _NO_IDLE

    args = context.args
    if args.idle is not None:
        raise UsageError(f"--idle: {_NO_IDLE}; --min-age chooses by start time")
    if args.closable:
        raise UsageError(
            "--closable: FlexNet has no OpenLM Agent to close applications; every session "
            "can be taken back with lmremove unless the server refuses it"
        )
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
    if args.min_age is not None:
        # Start times are on the license server's clock, taken as this machine's.
        cutoff = _dt.datetime.now() - args.min_age
        filters["start_time"] = lambda t: t is not None and t <= cutoff
    found = await flexnet.get_active_products_async(**filters)
    excluded = {name.casefold() for name in args.exclude}
    return [
        s
        for s in found
        if s.username.casefold() not in excluded and s.workstation.casefold() not in excluded
    ]


async def session_rows(context: Context, flexnet: FlexNet) -> list[dict[str, Any]]:
    return [s.to_dict() for s in await sessions(context, flexnet)]


def run_close(context: Context) -> int:
    import asyncio

    args = context.args
    chosen = [args.feature, args.vendor, args.server, args.user, args.workstation, args.min_age]
    if not any(chosen) and not args.allow_all and args.keep_free is None:
        raise UsageError(
            "no filter given: this would take back every license; choose sessions with "
            "--feature, --user, --min-age... or --keep-free N, or pass --all if that is meant"
        )
    if args.keep_free is not None and args.keep_free < 0:
        raise UsageError(f"--keep-free takes a number from 0, not {args.keep_free}")
    flexnet = context.flexnet()
    found = asyncio.run(sessions(context, flexnet))
    if not found:
        context.say("No session matches: nothing to close.")
        return EXIT_OK
    # --keep-free alone chooses among every session: it leaves most of them open.
    allow_all = args.allow_all or args.keep_free is not None
    plan = flexnet.plan_close(found, allow_all=allow_all, keep_free=args.keep_free)
    return run_plan(context, plan)
