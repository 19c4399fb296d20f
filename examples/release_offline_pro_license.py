"""Release ArcGIS Pro licenses that members checked out for offline use.

A member whose laptop died (or was reimaged) with ArcGIS Pro checked out cannot sign in to
Pro anywhere else until an administrator releases the license; the check-out also blocks
changing their user type or entitlements. This lists who has the app checked out and plans
releasing it for the members named, or everyone with --all, optionally followed by a new
user type (--user-type) and revoking their entitlements (--revoke). Nothing is changed
unless --apply is given; a member is released only if the steps after it will go through (a
release cannot be undone). Applying writes a journal; --undo JOURNAL plans putting user
types, roles and entitlements back and lists the releases, which cannot be. The right
endpoint is picked for the portal (classic Enterprise before or after 10.7, or Enterprise
on Kubernetes). Without --url it starts the built-in sandbox.

    python examples/release_offline_pro_license.py                 # list who has Pro offline
    python examples/release_offline_pro_license.py jdoe asmith     # plan releasing those two
    python examples/release_offline_pro_license.py --all --apply
    python examples/release_offline_pro_license.py jdoe --user-type viewer --revoke --apply
    python examples/release_offline_pro_license.py --url https://gis.example.com/portal \\
        --username admin --app drone2map --all
    python examples/release_offline_pro_license.py --url ... --undo JOURNAL --apply

The password comes from the GISLICENSE_PASSWORD environment variable, or a prompt
(never from the command line, where other users of the computer could see it).
Exit status: 0 when the job ran, 1 when a member failed (or is predicted to) or
its outcome is unknown, 2 when the job could not run.
"""

from __future__ import annotations

import argparse
import os
import sys

import gislicense
from gislicense.plans import Plan


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("members", nargs="*", help="user names whose license to release")
    parser.add_argument("--all", action="store_true", help="release every offline license")
    parser.add_argument("--apply", action="store_true", help="make the changes (default: plan)")
    parser.add_argument(
        "--app", default="arcgisprodesktop", help="arcgisprodesktop (default), drone2map, allsource"
    )
    parser.add_argument("--user-type", help="then move the members to this user type")
    parser.add_argument(
        "--revoke", action="store_true", help="then revoke their entitlements to the app"
    )
    parser.add_argument(
        "--journal", help="the journal to write (default: a new file in the journal folder)"
    )
    parser.add_argument("--undo", metavar="JOURNAL", help="put back what a journaled run did")
    parser.add_argument("--url", help="the portal, e.g. https://gis.example.com/portal")
    parser.add_argument("--username", help="an administrator (Manage Licenses privilege)")
    parser.add_argument("--ca-bundle", help="PEM file of your organization's CA")
    args = parser.parse_args(argv)
    if args.all and args.members:
        parser.error("name members or give --all, not both")
    if args.undo and (args.all or args.members or args.user_type or args.revoke):
        parser.error("--undo takes only the journal (and --apply)")
    return args


def print_plan(plan: Plan) -> None:
    print(f"\nThe plan: {plan.summary()}")
    for note in plan.notes:
        print(f"  note: {note}")
    for item in plan:
        what = item.describe_steps() if item.steps else item.reason or ""
        print(f"  {item.status.replace('_', ' '):<14} {item.item:<20} {what}")


def make_plan(gis: gislicense.GIS, args: argparse.Namespace) -> Plan | None:
    """List who has the app checked out; the plan for the members chosen."""
    licenses = gis.admin.license
    app_license = licenses.get(args.app)
    offline = app_license.offline
    print(f"{len(offline)} members have {app_license.title} checked out for offline use:")
    for holder in offline:
        seen = f"{holder.last_login:%Y-%m-%d}" if holder.last_login else "never"
        print(f"  {holder.username:<20} last sign-in {seen:<12} {', '.join(holder.entitlements)}")
    chosen = [h.username for h in offline] if args.all else args.members
    if not chosen:
        print("\nName members to release, or give --all.")
        return None
    if args.user_type or args.revoke:
        return licenses.plan_release_and_update(
            chosen,
            user_type=args.user_type,
            entitlements="*" if args.revoke else None,
            license=app_license.title,
            app=args.app,
            roles="auto",
        )
    return licenses.plan_release(chosen, args.app)


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
            print(f"Undoing the run journaled in {args.undo}.")
            plan = Plan.undo(args.undo, gis)
        else:
            made = make_plan(gis, args)
            if made is None:
                return 0
            plan = made
        print_plan(plan)
        if not args.apply:
            print("\nNothing was released or changed (a plan). Run again with --apply.")
            return 1 if plan.failed else 0
        report = plan.apply(journal=args.journal)
        print("\nDone:")
        for outcome in report:
            reason = f"  ({outcome.reason})" if outcome.reason else ""
            print(f"  {outcome.status.replace('_', ' '):<14} {outcome.item}{reason}")
        print(f"  {report.summary()}")
        if report.journal:
            print(f"\nJournal: {report.journal}")
            print(f"Undo what can be undone with: --undo {report.journal}")
        return 1 if report.failed or report.unknown else 0
    except gislicense.GisLicenseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if sandbox is not None:
            sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
