"""Move members who have not signed in for a while to another user type.

The usual way to free Creator (or Professional) seats: members who have not signed in for
--days days move from --from to --to, e.g. Creator to Viewer. It prints the plan (each
member's steps, or why they cannot move) and changes nothing unless --apply is given.
Moving down to Viewer also sets the Viewer role first (a Viewer can hold no other);
administrators and you yourself are left alone. Applying writes a journal of every step;
--undo JOURNAL plans putting those members back (and --apply does it). Without --url it
starts the built-in sandbox and runs against it.

    python examples/change_user_license_type.py --days 90
    python examples/change_user_license_type.py --url https://gis.example.com/portal \\
        --username admin --from creator --to viewer --days 180 --apply
    python examples/change_user_license_type.py --url ... --undo JOURNAL --apply

The password comes from the GISLICENSE_PASSWORD environment variable, or a prompt
(never from the command line, where other users of the computer could see it).
Exit status: 0 when the job ran (members that could not be changed are listed with
the reason), 1 with --strict when some could not be changed, 2 when the job could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta, timezone

import gislicense
from gislicense.plans import Plan


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the portal, e.g. https://gis.example.com/portal")
    parser.add_argument("--username", help="an administrator of the organization")
    parser.add_argument("--ca-bundle", help="PEM file of your organization's CA")
    parser.add_argument("--days", type=int, default=90, help="not signed in for (90) days")
    parser.add_argument("--from", dest="source", default="creator", help="user type (creator)")
    parser.add_argument("--to", dest="target", default="viewer", help="new user type (viewer)")
    parser.add_argument("--apply", action="store_true", help="make the changes (default: plan)")
    parser.add_argument(
        "--journal", help="the journal to write (default: a new file in the journal folder)"
    )
    parser.add_argument("--undo", metavar="JOURNAL", help="put back what a journaled run did")
    parser.add_argument("--concurrency", type=int, default=8, help="requests at once (8)")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a member could not be changed"
    )
    args = parser.parse_args(argv)
    if args.days < 0:
        parser.error("--days must be 0 or more")
    return args


def last_seen(user: gislicense.User) -> str:
    if user.last_login is None:
        return "never"
    return f"{user.last_login:%Y-%m-%d}"


def print_plan(plan: Plan) -> None:
    print(f"\nThe plan: {plan.summary()}")
    for note in plan.notes:
        print(f"  note: {note}")
    for item in plan:
        what = item.describe_steps() if item.steps else item.reason or ""
        print(f"  {item.status.replace('_', ' '):<14} {item.item:<20} {what}")


def print_report(report: gislicense.BulkReport[str | gislicense.User]) -> None:
    print("\nDone:")
    for outcome in report:
        user = outcome.item
        name = user.username if isinstance(user, gislicense.User) else str(user)
        reason = f"  ({outcome.reason})" if outcome.reason else ""
        print(f"  {outcome.status.replace('_', ' '):<14} {name:<20}{reason}")
    print(f"  {report.summary()}")
    if report.journal:
        print(f"\nJournal: {report.journal}")
        print(f"Undo it with: --undo {report.journal}")


def idle_members(gis: gislicense.GIS, args: argparse.Namespace) -> Plan | None:
    """The plan for members of --from idle for --days, within the seats of --to."""
    source = gis.users.license_type(args.source)
    target = gis.users.license_type(args.target)
    me = gis.users.me.username.casefold()
    cutoff = datetime.now(timezone.utc) - timedelta(days=args.days)
    members = gis.users.search(user_type=source.id)
    idle = [
        u
        for u in members
        if (u.last_login or u.created or cutoff) <= cutoff
        # Administrators stay (custom administrator roles too: their base role is org_admin).
        and u.raw.get("role") != "org_admin"
        and u.username.casefold() != me
    ]
    idle.sort(key=lambda u: u.last_login or datetime.min.replace(tzinfo=timezone.utc))
    print(
        f"{len(members)} members are {source.name}; {len(idle)} have not signed in since "
        f"{cutoff:%Y-%m-%d} ({args.days} days) and would move to {target.name}."
    )
    if not idle:
        return None
    print(f"  {'user':<20} {'name':<26} last sign-in")
    for u in idle:
        print(f"  {u.username:<20} {u.full_name or '':<26} {last_seen(u)}")
    if target.available is not None and target.available < len(idle):
        # Only as many as there are seats, longest idle first: the rest keep their type
        # (and role) rather than being reported as failing for want of a seat.
        print(
            f"\n{target.name} has {target.available} free seats for {len(idle)} members: "
            f"only the first {target.available} (longest idle) move; buy seats or free "
            f"some {target.name} seats for the others."
        )
        idle = idle[: target.available]
    # roles="auto": the role a member needs for the new type (Viewer for Viewer) is set
    # in the same plan, in the order the portal accepts.
    return gis.users.plan_license_type(idle, target.id, roles="auto")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sandbox = None
    url, username, ca_bundle = args.url, args.username, args.ca_bundle
    password = os.environ.get("GISLICENSE_PASSWORD")
    if url is None:
        sandbox = gislicense.Sandbox()
        url, ca_bundle = sandbox.portal_url, os.fspath(sandbox.ca_file)
        username, password = sandbox.admin_username, sandbox.admin_password
        print(f"No --url given: using the built-in sandbox at {url}\n")
    try:
        gis = gislicense.GIS(url, username, password, ca_bundle=ca_bundle)
        if args.undo:
            plan = Plan.undo(args.undo, gis)
            print(f"Undoing the run journaled in {args.undo}.")
        else:
            found = idle_members(gis, args)
            if found is None:
                return 0
            plan = found
        print_plan(plan)
        if not args.apply:
            print("\nNothing was changed (a plan). Run again with --apply to make the changes.")
            return 1 if plan.failed and args.strict else 0
        report = plan.apply(journal=args.journal, concurrency=args.concurrency)
        print_report(report)
        print(f"Done at {datetime.now():%Y-%m-%d %H:%M:%S}")
        return 1 if (report.failed or report.unknown) and args.strict else 0
    except gislicense.GisLicenseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if sandbox is not None:
            sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
