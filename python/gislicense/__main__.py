"""Command line: ``python -m gislicense sandbox`` runs the sandbox in the foreground."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from gislicense import Sandbox, __version__


def _sandbox(args: argparse.Namespace) -> int:
    # Warnings (a sandbox reachable from other machines, say) go to stderr.
    logging.basicConfig(level=logging.WARNING, format="gislicense: %(levelname)s: %(message)s")
    sandbox = Sandbox(
        sessions=args.sessions,
        seed=args.seed,
        permissions=args.permissions,
        latency=args.latency,
        host=args.host,
        openlm_port=args.openlm_port,
        paging=not args.no_paging,
        portal_members=args.members,
        portal_offline=args.offline,
        portal_port=args.portal_port,
        portal_tls=not args.portal_http,
        token_lifetime=args.token_lifetime,
        portal_version=args.portal_version,
        portal_deployment="kubernetes" if args.kubernetes else "classic",
    )
    for user_type, seats in args.seats:
        sandbox.set_seats(user_type, seats)
    if any((args.error_rate, args.http500_rate, args.http503_rate, args.drop_rate)):
        sandbox.set_faults(
            error=args.error_rate,
            http500=args.http500_rate,
            http503=args.http503_rate,
            drop=args.drop_rate,
        )
    print(f"gislicense {__version__} sandbox running", flush=True)
    print(f"  OpenLM: {sandbox.openlm_url}", flush=True)
    # Beyond loopback the passwords are random: this is where the person who started it sees them.
    if args.permissions or sandbox.openlm_password != _WELL_KNOWN_OPENLM_PASSWORD:
        print(f"  OpenLM login: {sandbox.openlm_username} / {sandbox.openlm_password}", flush=True)
    print(f"  Portal: {sandbox.portal_url}", flush=True)
    print(f"    administrator: {sandbox.admin_username} / {sandbox.admin_password}", flush=True)
    print(f"    member:        {sandbox.user_username} / {sandbox.user_password}", flush=True)
    if not args.portal_http:
        print(f"    CA certificate (ca_bundle=): {sandbox.ca_file}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


_WELL_KNOWN_OPENLM_PASSWORD = "sandbox-password"


def _seats(text: str) -> tuple[str, int]:
    user_type, _, seats = text.partition("=")
    if not user_type or not seats.isdigit():
        raise argparse.ArgumentTypeError(f"expected TYPE=N, like creatorUT=5000, not {text!r}")
    return user_type, int(seats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gislicense", description=__doc__)
    parser.add_argument("--version", action="version", version=f"gislicense {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="run the emulated license servers")
    sandbox.add_argument("--sessions", type=int, default=500, help="licenses in use (500)")
    sandbox.add_argument("--seed", type=int, default=1, help="seed of the generated site (1)")
    sandbox.add_argument("--permissions", action="store_true", help="OpenLM wants a login")
    sandbox.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    sandbox.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (127.0.0.1); any other is reachable from other machines, "
        "so the sandbox then makes random passwords and prints them",
    )
    sandbox.add_argument("--openlm-port", type=int, default=0, help="OpenLM port (any free one)")
    sandbox.add_argument("--no-paging", action="store_true", help="no GetActiveProducts2")
    sandbox.add_argument("--members", type=int, default=300, help="portal members (300)")
    sandbox.add_argument(
        "--offline", type=int, default=5, help="members with ArcGIS Pro checked out offline (5)"
    )
    sandbox.add_argument(
        "--seats",
        type=_seats,
        action="append",
        default=[],
        metavar="TYPE=N",
        help="seats of a user type, e.g. creatorUT=5000 (repeatable)",
    )
    sandbox.add_argument("--portal-port", type=int, default=0, help="portal port (any free one)")
    sandbox.add_argument("--portal-http", action="store_true", help="portal over plain HTTP")
    sandbox.add_argument(
        "--portal-version", default="2024.1", help="the portal's REST version (2024.1 = 11.3)"
    )
    sandbox.add_argument(
        "--kubernetes", action="store_true", help="ArcGIS Enterprise on Kubernetes (admin API)"
    )
    sandbox.add_argument(
        "--token-lifetime", type=float, default=1_209_600.0, help="longest token life, seconds"
    )
    for fault in ("error", "http500", "http503", "drop"):
        sandbox.add_argument(f"--{fault}-rate", type=float, default=0.0, metavar="RATE")
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return _sandbox(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
