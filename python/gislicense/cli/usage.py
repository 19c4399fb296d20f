"""``gislicense usage``: the usage history: recording polls (made for a scheduler), importing
logs and saved outputs, and reports (tables, JSON, CSV, one HTML page, plans)."""

from __future__ import annotations

from gislicense.cli.common import EXIT_OK, UsageError, failed
from gislicense.cli.options import command, days, parse_duration
from gislicense.exceptions import GisLicenseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from gislicense.cli.context import Context
    from gislicense.cli.options import Parents
    from gislicense.history import History

#: The reports ``usage report`` makes (the library's names with dashes).
REPORTS = (
    "peaks",
    "denials",
    "hours",
    "holders",
    "idle-members",
    "downgrade",
    "right-size",
    "gaps",
    "sources",
    "usage",
)


def add_commands(verbs: Any, p: Parents) -> None:
    record = command(
        verbs,
        "record",
        "record one poll of every source named (for a scheduler, every few minutes)",
        run_record,
        p.out,
        p.conn,
    )
    _add_history(record)
    record.add_argument(
        "--kind",
        choices=("openlm", "portal"),
        default="openlm",
        help="what --url is: an OpenLM server (sessions) or a portal (members); openlm",
    )
    record.add_argument(
        "--flexnet",
        metavar="PORT@HOST",
        action="append",
        dest="flexnet_servers",
        help="an ArcGIS License Manager to poll too, e.g. 27000@licsrv; repeatable",
    )
    record.add_argument(
        "--lmutil", metavar="PATH", help="FlexNet's lmutil (default: on PATH, or ArcGIS's)"
    )
    imported = command(
        verbs,
        "import-log",
        "import saved GetActiveProducts replies, lmstat outputs or FlexNet debug logs",
        run_import,
        p.out,
    )
    _add_history(imported)
    imported.add_argument("files", nargs="+", metavar="FILE")
    imported.add_argument(
        "--source", required=True, help="the source's name in the history (its server)"
    )
    imported.add_argument(
        "--format",
        choices=("auto", "openlm-xml", "lmstat", "lmgrd"),
        default="auto",
        help="what the files are (auto: told from their first lines)",
    )
    imported.add_argument(
        "--at", metavar="TIME", help="the time a saved listing was made (ISO 8601; the file's)"
    )
    report = command(
        verbs, "report", "reports from the usage history", run_report, p.out, p.conn, p.change
    )
    _add_history(report, gap=False)
    _add_report_options(report)


def _add_history(parser: argparse.ArgumentParser, gap: bool = True) -> None:
    parser.add_argument(
        "--history",
        metavar="FILE",
        help="the history file (default: history.sqlite in the user's data folder)",
    )
    if not gap:  # reports read the gaps the recording set
        parser.set_defaults(gap=None)
        return
    parser.add_argument(
        "--gap",
        type=parse_duration,
        metavar="DURATION",
        help="a stretch this long without a poll is a gap, not use (30m)",
    )


def _add_report_options(report: argparse.ArgumentParser) -> None:
    report.add_argument("report", choices=REPORTS, metavar="REPORT", help=", ".join(REPORTS))
    group = report.add_argument_group("report")
    group.add_argument(
        "--by", help="peaks, denials: hour, day, week, month; hours: user, workstation, feature"
    )
    group.add_argument("--feature", help="only this feature")
    group.add_argument(
        "--since", type=parse_duration, metavar="DURATION", help="only the last DURATION (30d, 12h)"
    )
    group.add_argument(
        "--days",
        type=days,
        metavar="N",
        help="idle-members, downgrade, right-size: idle for N days (90)",
    )
    group.add_argument("--entitlement", help="holders: this entitlement (desktopAdvN); 'all'")
    group.add_argument("--user-type", help="idle-members: only this user type")
    group.add_argument(
        "--issued",
        action="append",
        default=[],
        metavar="FEATURE=N",
        help="record how many of FEATURE were bought (OpenLM does not say); repeatable",
    )
    group.add_argument(
        "--html", metavar="FILE", help="also write one self-contained HTML page with charts"
    )
    group.add_argument(
        "--set-type",
        metavar="TYPE",
        help="idle-members, holders, downgrade: plan moving the members listed to this user "
        "type on the portal (users set-type; --apply to make it)",
    )
    group.add_argument(
        "--role",
        metavar="ROLE",
        help="with --set-type: auto (change the role first where the new type needs it) or a "
        "role to give every member, as users set-type --role",
    )


def _history(context: Context) -> History:
    import datetime as _dt

    from gislicense.history import DEFAULT_GAP, History

    args = context.args
    gap = args.gap if args.gap is not None else DEFAULT_GAP
    if gap <= _dt.timedelta(0):
        raise UsageError("--gap must be longer than 0")
    return History(args.history, gap=gap)


def _sources(context: Context) -> list[tuple[str, Any]]:
    """The sources a recording run polls: the sandbox's two servers, every profile named
    (every kind: OpenLM, portal, License Manager), --url, and each --flexnet."""
    from gislicense.flexnet import FlexNet

    args = context.args
    extra: dict[str, Any] = {} if args.timeout is None else {"timeout": args.timeout}
    license_managers = [
        (server, FlexNet(server, lmutil=args.lmutil, **extra))
        for server in args.flexnet_servers or ()
    ]
    if args.sandbox:
        return [
            ("sandbox openlm", context.openlm()),
            ("sandbox portal", context.portal()),
            *license_managers,
        ]
    names = list(args.profile or [])
    if args.all_profiles:
        from gislicense import profiles

        names = [p.name for p in profiles.all_profiles()]
        if not names:
            raise UsageError("no server is saved as a profile (gislicense profile add)")
    if names:
        from gislicense import profiles

        named = [(n, context.client(profiles.load(n).kind, profile=n)) for n in names]
        return [*named, *license_managers]
    if not args.url:
        if license_managers:
            return license_managers
        raise UsageError(
            "name the sources: --profile (repeatable), --all-profiles, --url with --kind, "
            "--flexnet PORT@HOST, or --sandbox"
        )
    return [(args.url, context.client(args.kind)), *license_managers]


def run_record(context: Context) -> int:
    """One poll of each source; a source that fails is reported (and recorded as a gap),
    the others recorded."""
    status = EXIT_OK
    rows = []
    with _history(context) as history:
        try:
            sources = _sources(context)
        except GisLicenseError as err:
            return failed(err)
        for name, client in sources:
            try:
                done = history.record(client)
            except GisLicenseError as err:
                status = max(status, failed(err, name))
                continue
            rows.append({"target": name, **done})
    context.rows(rows, ["target", "kind", "sessions", "members", "changes"])
    context.say(f"Recorded {len(rows)} of {len(sources)} sources in {history.path}")
    return status


def _format(path: str, chosen: str) -> str:
    if chosen != "auto":
        return chosen
    with open(path, "rb") as file:
        head = file.read(4096).lstrip()
    if head.startswith(b"<"):
        return "openlm-xml"
    if b"lmstat" in head or b"Users of " in head:
        return "lmstat"
    return "lmgrd"


def _when(text: str | None) -> Any:
    import datetime as _dt

    if text is None:
        return None
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time (2025-03-01T09:30)") from None


def run_import(context: Context) -> int:
    args = context.args
    rows = []
    with _history(context) as history:
        for path in args.files:
            try:
                kind = _format(path, args.format)
            except OSError as err:
                raise UsageError(f"cannot read {path}: {err.strerror}") from None
            rows.append({"file": path, "format": kind, **_import_one(args, history, path, kind)})
    shown = ["file", "format", "sessions", "events", "out", "in", "denied"]
    every = list(dict.fromkeys([*shown, *(k for r in rows for k in r)]))
    context.rows(rows, shown, every)
    context.say(f"Imported {len(rows)} files into {history.path}")
    return EXIT_OK


def _import_one(args: argparse.Namespace, history: History, path: str, kind: str) -> dict[str, Any]:
    at = _when(args.at)
    if kind == "openlm-xml":
        return {"sessions": history.import_active_products(path, source=args.source, at=at)}
    if kind == "lmstat":
        import datetime as _dt
        import os

        from gislicense import parse_lmstat

        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read()
        when = at if at is not None else _dt.datetime.fromtimestamp(os.stat(path).st_mtime)
        # Start times carry no year: an output without its status line is dated by --at
        # (or the file's time), on the license server's clock.
        day = when.astimezone().date() if when.tzinfo is not None else when.date()
        status = parse_lmstat(text, date=day)
        return {"sessions": history.import_lmstat(status, source=args.source, at=when)}
    from gislicense import parse_lmgrd_log

    counts = history.import_log(parse_lmgrd_log(path), source=args.source)
    events = sum(n for k, n in counts.items() if k != "UNDATED")
    return {"events": events, **{k.lower(): n for k, n in counts.items()}}


#: The options each report takes: the command line's name, and the library's.
_OPTIONS: dict[str, tuple[str, ...]] = {
    "peaks": ("by", "feature", "since"),
    "denials": ("by", "since"),
    "hours": ("by", "since"),
    "usage": ("feature", "since"),
    "holders": ("entitlement", "set_type"),
    "idle_members": ("days", "user_type", "set_type"),
    "downgrade": ("days", "set_type"),
    "right_size": ("days", "since"),
    "gaps": (),
    "sources": (),
}


def _report_options(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """The library's arguments of report ``name`` from the options given; an option the
    report does not take is a usage error (it would be silently ignored)."""
    import time

    takes = _OPTIONS[name]
    if args.role is not None and args.set_type is None:
        raise UsageError("--role goes with --set-type")
    for option in ("by", "feature", "since", "days", "entitlement", "user_type", "set_type"):
        if getattr(args, option) is not None and option not in takes:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} does not apply to the {args.report} report")
    options: dict[str, Any] = {}
    if args.by is not None:
        options["by"] = args.by
    if args.feature is not None:
        options["feature"] = args.feature
    if args.since is not None:
        options["start"] = time.time() - args.since.total_seconds()
    if args.days is not None:
        options["idle_days" if name == "right_size" else "days"] = args.days
    if args.entitlement is not None:
        options["entitlement"] = None if args.entitlement == "all" else args.entitlement
    if args.user_type is not None:
        options["user_type"] = args.user_type
    if name == "downgrade" and args.set_type is not None:
        options["to"] = args.set_type
    return options


def _set_issued(history: History, given: list[str]) -> None:
    for text in given:
        feature, _, count = text.rpartition("=")
        if not feature or not count.isdigit():
            raise UsageError(f"--issued {text!r}: write it as FEATURE=N (Editor=10)")
        history.set_issued(feature, int(count))


def run_report(context: Context) -> int:
    args = context.args
    name = args.report.replace("-", "_")
    options = _report_options(args, name)
    with _history(context) as history:
        _set_issued(history, args.issued)
        rows = history.rows(name, **options)
        if args.html:
            when = {"start": options["start"]} if "start" in options else {}
            history.report_html(args.html, feature=args.feature, idle_days=args.days or 90, **when)
            context.say(f"Wrote {args.html}")
    if args.set_type is not None:
        return _plan(context, rows)
    columns = [c for c in (rows[0] if rows else []) if c != "usernames"]
    context.rows(rows, columns, [*columns, "usernames"] if name == "downgrade" else None)
    context.say(f"{len(rows)} rows")
    return EXIT_OK


def _plan(context: Context, rows: list[dict[str, Any]]) -> int:
    """Plan moving the members a report lists to --set-type (as ``users set-type``)."""
    from gislicense.cli.running import run_plan

    names: list[str] = []
    for row in rows:
        for user in row.get("usernames") or [row.get("username")]:
            if user and user not in names:
                names.append(user)
    if not names:
        context.say("The report lists no member: nothing to plan.")
        return EXIT_OK
    gis = context.portal()
    args = context.args
    plan = gis.users.plan_license_type(
        names, args.set_type, roles=args.role, allow_all=args.allow_all
    )
    return run_plan(context, plan)
