"""Close the ArcGIS Editor sessions: OpenLM's example script, done right.

Lists who holds the ArcGIS Editor (Standard) license through OpenLM's GetActiveProducts and
asks the OpenLM Agent on each workstation to close the application (CloseApplication),
many at a time, reporting what happened to each session. It shows the plan and closes
nothing unless --apply is given. Without --url it starts the built-in sandbox and runs
against it. (The installed command does the same: gislicense sessions close --feature Editor.)

    python examples/close_editor_sessions.py
    python examples/close_editor_sessions.py --apply
    python examples/close_editor_sessions.py --url http://openlm01:7014/OpenLMServer \\
        --server "GIS License Server"

The password comes from the GISLICENSE_PASSWORD environment variable, or a prompt
(never from the command line, where other users of the computer could see it).
Exit status: 0 when the job ran (sessions that could not be closed are listed with
the reason), 1 with --strict when some could not be closed, 2 when the job could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime

import gislicense


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="OpenLM server, e.g. http://openlm01:7014/OpenLMServer")
    parser.add_argument("--username", help="OpenLM user, when the server has permissions on")
    parser.add_argument("--feature", default="Editor", help="license feature to free (Editor)")
    parser.add_argument("--vendor", default="ARCGIS", help="vendor daemon (ARCGIS)")
    parser.add_argument(
        "--server",
        help="only sessions on this license server (its descriptive name in OpenLM); also "
        "the name sent to close sessions whose server OpenLM does not report",
    )
    parser.add_argument("--apply", action="store_true", help="close them (default: plan)")
    parser.add_argument("--concurrency", type=int, default=32, help="closes at once (32)")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a session could not be closed"
    )
    return parser.parse_args(argv)


def since(session: gislicense.ActiveProduct) -> str:
    if session.start_time is None:
        return ""
    # With the date: a session left open can be a week or two old.
    return session.start_time.astimezone().strftime("%a %d %b %H:%M")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sandbox = None
    url = args.url
    if url is None:
        sandbox = gislicense.Sandbox()
        url = sandbox.openlm_url
        print(f"No --url given: using the built-in sandbox at {url}\n")
    try:
        password = os.environ.get("GISLICENSE_PASSWORD")
        openlm = gislicense.OpenLM(url, args.username, password)
        server = args.server

        def on_server(name: str | None) -> bool:
            return server is None or name is None or name.casefold() == server.casefold()

        sessions = openlm.get_active_products(
            vendor=args.vendor, feature=args.feature, server=on_server
        )
        if not sessions:
            print(f"No one is using the {args.vendor} {args.feature} license.")
            return 0

        print(f"{len(sessions)} {args.feature} sessions in use:")
        print(f"  {'user':<16} {'workstation':<14} {'since':<16} license server")
        for s in sessions:
            print(f"  {s.username:<16} {s.workstation:<14} {since(s):<16} {s.server or '?'}")

        verb = "Closing" if args.apply else "Planning to close"
        print(f"\n{verb} {len(sessions)} sessions...")
        report = openlm.close_applications(
            sessions, server=server, dry_run=not args.apply, concurrency=args.concurrency
        )
        for outcome in report:
            product = outcome.item
            assert isinstance(product, gislicense.ActiveProduct)
            reason = f"  ({outcome.reason})" if outcome.reason else ""
            status = outcome.status.replace("_", " ")
            print(f"  {status:<12} {product.username:<16} {product.workstation:<14}{reason}")
        print(f"\n{report.summary()} at {datetime.now():%Y-%m-%d %H:%M:%S}")
        if not args.apply:
            print("Nothing was closed: this is the plan. Run again with --apply to close them.")
        if report.failed:
            print("Sessions that failed are still open; see the reasons above.")
            return 1 if args.strict else 0
        return 0
    except gislicense.GisLicenseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if sandbox is not None:
            sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
