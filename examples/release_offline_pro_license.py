"""Release ArcGIS Pro licenses that members checked out for offline use.

A member whose laptop died (or was reimaged) with ArcGIS Pro checked out cannot sign in to
Pro anywhere else until an administrator releases the license. This lists who has the app
checked out and releases the members named, or everyone with --all. --dry-run prints what
would be released. The right endpoint is picked for the portal (classic Enterprise before
or after 10.7, or Enterprise on Kubernetes). Without --url it starts the built-in sandbox.

    python examples/release_offline_pro_license.py                 # list who has Pro offline
    python examples/release_offline_pro_license.py jdoe asmith     # release those two
    python examples/release_offline_pro_license.py --all --dry-run
    python examples/release_offline_pro_license.py --url https://gis.example.com/portal \\
        --username admin --app drone2map --all

The password comes from --password, the GISLICENSE_PORTAL_PASSWORD environment variable, or
a prompt. Exit status: 0 when the job ran, 1 when a release failed, 2 when the job could not
run.
"""

from __future__ import annotations

import argparse
import os
import sys

import gislicense


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("members", nargs="*", help="user names whose license to release")
    parser.add_argument("--all", action="store_true", help="release every offline license")
    parser.add_argument("--dry-run", action="store_true", help="show what would be released")
    parser.add_argument(
        "--app", default="arcgisprodesktop", help="arcgisprodesktop (default), drone2map, allsource"
    )
    parser.add_argument("--url", help="the portal, e.g. https://gis.example.com/portal")
    parser.add_argument("--username", help="an administrator (Manage Licenses privilege)")
    parser.add_argument("--password", help="its password (better: GISLICENSE_PORTAL_PASSWORD)")
    parser.add_argument("--ca-bundle", help="PEM file of your organization's CA")
    args = parser.parse_args(argv)
    if args.all and args.members:
        parser.error("name members or give --all, not both")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sandbox = None
    url, username, ca_bundle = args.url, args.username, args.ca_bundle
    password = args.password or os.environ.get("GISLICENSE_PORTAL_PASSWORD")
    if url is None:
        sandbox = gislicense.Sandbox()
        url, ca_bundle = sandbox.portal_url, os.fspath(sandbox.ca_file)
        username, password = sandbox.admin_username, sandbox.admin_password
        print(f"No --url given: using the built-in sandbox at {url}\n")
    try:
        gis = gislicense.GIS(url, username, password, ca_bundle=ca_bundle)
        licenses = gis.admin.license
        app_license = licenses.get(args.app)
        offline = app_license.offline
        print(f"{len(offline)} members have {app_license.title} checked out for offline use:")
        for holder in offline:
            seen = f"{holder.last_login:%Y-%m-%d}" if holder.last_login else "never"
            print(
                f"  {holder.username:<20} last sign-in {seen:<12} {', '.join(holder.entitlements)}"
            )

        chosen = [h.username for h in offline] if args.all else args.members
        if not chosen:
            print("\nName members to release, or give --all.")
            return 0
        report = licenses.release_many(chosen, args.app, dry_run=args.dry_run)
        print(f"\nReleasing {app_license.title}:")
        for outcome in report:
            reason = f"  ({outcome.reason})" if outcome.reason else ""
            print(f"  {outcome.status.replace('_', ' '):<14} {outcome.item}{reason}")
        print(f"  {report.summary()}")
        if args.dry_run:
            print("\nNothing was released (--dry-run).")
        return 1 if report.failed else 0
    except gislicense.GisLicenseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if sandbox is not None:
            sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
