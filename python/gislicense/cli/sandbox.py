"""``gislicense sandbox``: the emulated OpenLM server, portal and ArcGIS License Manager,
run until Ctrl-C (or SIGTERM), with what to sign in with printed."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gislicense import Sandbox


def _seats(text: str) -> tuple[str, int]:
    user_type, _, seats = text.partition("=")
    if not user_type or not seats.isdigit():
        raise argparse.ArgumentTypeError(f"expected TYPE=N, like creatorUT=5000, not {text!r}")
    return user_type, int(seats)


def add_options(sandbox: argparse.ArgumentParser) -> None:
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
    sandbox.add_argument(
        "--close-delay",
        type=float,
        default=0.2,
        help="seconds the OpenLM Agent takes to close an application after a close is queued",
    )
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
    platform = sandbox.add_mutually_exclusive_group()
    platform.add_argument(
        "--kubernetes", action="store_true", help="ArcGIS Enterprise on Kubernetes (admin API)"
    )
    platform.add_argument(
        "--online",
        action="store_true",
        help="an ArcGIS Online organization (no administrator API, served at the host's root)",
    )
    sandbox.add_argument(
        "--portal-pki",
        action="store_true",
        help="the portal requires a client certificate; one for each account is written and "
        "its files printed",
    )
    sandbox.add_argument(
        "--token-lifetime", type=float, default=1_209_600.0, help="longest token life, seconds"
    )
    sandbox.add_argument(
        "--license-manager-sessions",
        type=int,
        default=25,
        metavar="N",
        help="licenses checked out of the sandbox's ArcGIS License Manager (25): reach it "
        "with --flexnet and --lmutil as printed",
    )
    for fault in ("error", "http500", "http503", "drop"):
        sandbox.add_argument(f"--{fault}-rate", type=float, default=0.0, metavar="RATE")


_WELL_KNOWN_OPENLM_PASSWORD = "sandbox-password"


def run(args: argparse.Namespace) -> int:
    import logging
    import signal
    import time

    # Warnings (a sandbox reachable from other machines, say) go to stderr.
    logging.basicConfig(level=logging.WARNING, format="gislicense: %(levelname)s: %(message)s")
    from gislicense.sandbox import LicenseManagerSandbox

    if args.license_manager_sessions < 0:
        raise SystemExit("gislicense sandbox: --license-manager-sessions is 0 or more")
    sandbox = _started(args)
    manager = LicenseManagerSandbox(args.license_manager_sessions, seed=args.seed)
    _print_how_to_use(sandbox, args)
    # The License Manager is a stand-in lmutil (a small program reading a state file), so
    # it is reached as a real one is: --flexnet PORT@HOST --lmutil PATH.
    print(f"  ArcGIS License Manager: {manager.server}", flush=True)
    print(f"    lmutil (--lmutil): {manager.lmutil_path}", flush=True)
    print(f"    debug log: {manager.log_path}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    # A service manager stops with SIGTERM: stop as for Ctrl-C, removing the CA and the
    # client certificates' folder.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        manager.stop()
    return 0


def _started(args: argparse.Namespace) -> Sandbox:
    from gislicense import Sandbox

    sandbox = Sandbox(
        sessions=args.sessions,
        seed=args.seed,
        permissions=args.permissions,
        latency=args.latency,
        host=args.host,
        openlm_port=args.openlm_port,
        paging=not args.no_paging,
        close_delay=args.close_delay,
        portal_members=args.members,
        portal_offline=args.offline,
        portal_port=args.portal_port,
        portal_tls=not args.portal_http,
        token_lifetime=args.token_lifetime,
        portal_version=args.portal_version,
        portal_deployment=_deployment(args),
        portal_pki=args.portal_pki,
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
    return sandbox


def _deployment(args: argparse.Namespace) -> str:
    if args.online:
        return "online"
    return "kubernetes" if args.kubernetes else "classic"


def _print_how_to_use(sandbox: Sandbox, args: argparse.Namespace) -> None:
    """Where the servers are and what to sign in with."""
    from gislicense import __version__

    print(f"gislicense {__version__} sandbox running", flush=True)
    print(f"  OpenLM: {sandbox.openlm_url}", flush=True)
    # Beyond loopback the passwords are random: this is where the person who started it sees them.
    if args.permissions or sandbox.openlm_password != _WELL_KNOWN_OPENLM_PASSWORD:
        print(f"  OpenLM login: {sandbox.openlm_username} / {sandbox.openlm_password}", flush=True)
    what = "ArcGIS Online organization" if args.online else "Portal"
    print(f"  {what}: {sandbox.portal_url}", flush=True)
    print(f"    administrator: {sandbox.admin_username} / {sandbox.admin_password}", flush=True)
    print(f"    member:        {sandbox.user_username} / {sandbox.user_password}", flush=True)
    # App credentials reach administrative operations from 11.4 (REST 2024.2).
    try:
        version = tuple(int(part) for part in args.portal_version.split(".")[:2])
    except ValueError:
        version = (0, 0)
    acts = "" if version >= (2024, 2) else " (acts as an app from --portal-version 2024.2)"
    print(
        f"    OAuth app (client_id / client_secret): {sandbox.oauth_client_id} / "
        f"{sandbox.oauth_client_secret}{acts}",
        flush=True,
    )
    if not args.portal_http:
        print(f"    CA certificate (ca_bundle=): {sandbox.ca_file}", flush=True)
    if args.portal_pki:
        for username in (sandbox.admin_username, sandbox.user_username):
            cert, key = sandbox.client_certificate(username)
            print(f"    client certificate of {username}: {cert} (key: {key})", flush=True)
