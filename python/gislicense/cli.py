"""The ``gislicense`` command: license housekeeping from a terminal or a scheduled job.

Every command that changes something plans first, shows the plan, and changes nothing
unless ``--apply`` is given; applying writes a journal that ``journal show|undo|resume``
read back. It is built on the library's own plans and journals.
"""

from __future__ import annotations

import argparse
import os
import sys

from gislicense.exceptions import GisLicenseError

# What only some commands need is imported where it is used, and typing not at all (type
# checkers read TYPE_CHECKING as true): `gislicense --help` stays quick.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Callable, Coroutine, Sequence
    from typing import Any, NoReturn, TextIO

    from gislicense import GIS, ActiveProduct, BulkReport, OpenLM, Sandbox, User
    from gislicense.plans import Plan

# Exit statuses, as --help and the README state them.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONNECT = 3
EXIT_INTERRUPTED = 130

PASSWORD_VARIABLE = "GISLICENSE_PASSWORD"

EPILOG = f"""\
exit status:
  0    everything done, or planned without a predicted failure
  1    some items failed (or are predicted to), are unknown or left unfinished, or the
       server refused the command
  2    bad usage or configuration (a wrong option, an unknown user type, a missing --url)
  3    cannot connect or sign in (network, TLS, timeout, wrong password)
  130  interrupted (Ctrl-C); what was done is in the journal

Servers: --url (with --username), or a saved --profile (gislicense profile add). The
password comes from {PASSWORD_VARIABLE}_<PROFILE>, the system keyring (a profile saved with
--store-password), {PASSWORD_VARIABLE}, or a prompt; --password on the command line is
refused (other users of the computer can see it). Changes are planned and shown; --apply
makes them, writing a journal (--journal PATH, by default a new file in the user's data
folder)."""


class UsageError(Exception):
    """A command that cannot run as given: exit 2 with the message."""


# The library's advice, in this command's words.
_CLI_WORDS = [
    ("pass allow_all=True", "pass --all"),
    (
        "gis.admin.license.release_and_update does both",
        "licenses release USER --user-type TYPE does both",
    ),
    ("select with include_admins=True (--include-admins)", "pass --include-admins"),
    ("pass allow_admin_demotion=True", "pass --allow-admin-demotion"),
    ('plan with roles="auto"', "pass --role auto"),
    ("pass ca_bundle=", "pass --ca-bundle"),
    ("pass allow_insecure_http=True", "pass --insecure-http"),
    ("with allow_insecure_http=True", "with --insecure-http"),
    ("pass password=", f"set {PASSWORD_VARIABLE}"),
    ("pass username= and password=, or token=", "pass --username (or --profile)"),
    ("pass username= and password=", "pass --username (or --profile)"),
    (
        "apply it with a client of that server",
        "leave out --url and --profile (the file names its server), or give that server's URL",
    ),
    ("ca_bundle: cannot read", "--ca-bundle: cannot read"),
    ("Pass ca_bundle=", "Pass --ca-bundle"),
]


def cli_words(message: str) -> str:
    for library, command in _CLI_WORDS:
        message = message.replace(library, command)
    return message


# ---------------------------------------------------------------------------------------
# Reading the command line


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


def _seats(text: str) -> tuple[str, int]:
    user_type, _, seats = text.partition("=")
    if not user_type or not seats.isdigit():
        raise argparse.ArgumentTypeError(f"expected TYPE=N, like creatorUT=5000, not {text!r}")
    return user_type, int(seats)


class _Version(argparse.Action):
    """--version, reading the version only when asked (it loads the native core)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> NoReturn:
        from gislicense import __version__

        parser.exit(0, f"gislicense {__version__}\n")


class _RefusePassword(argparse.Action):
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
    group.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
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


def _session_filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("which sessions")
    for name, what in (
        ("feature", "license feature (Editor, ARC/INFO...)"),
        ("vendor", "vendor daemon (ARCGIS)"),
        ("server", "license server, its name in OpenLM"),
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


def _member_selection(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("users", nargs="*", metavar="USER", help=f"members to {what}")
    group = parser.add_argument_group("which members")
    group.add_argument(
        "--users-file", metavar="FILE", help="user names, one a line ('-' for stdin)"
    )
    group.add_argument(
        "--idle-days",
        type=days,
        metavar="N",
        help="members who have not signed in for N days (and joined before that)",
    )
    group.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="USER",
        help="leave out this member; repeatable",
    )
    group.add_argument(
        "--include-admins",
        action="store_true",
        help="let --from/--idle-days select administrators too (left out otherwise, and "
        "listed in the plan's notes)",
    )


def _item_selection(parser: argparse.ArgumentParser, what: str) -> None:
    """Which items of a saved plan or a journal to act on: all, or those named."""
    parser.add_argument(
        "users",
        nargs="*",
        metavar="USER",
        help=f"only these members (or sessions' users or "
        f"workstations) of the {what}; all by default",
    )
    group = parser.add_argument_group("which items")
    group.add_argument("--users-file", metavar="FILE", help="names, one a line ('-' for stdin)")
    group.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="USER",
        help="leave out this member (or session's user or workstation); repeatable",
    )


class _Parents:
    """The option groups commands share, made once per parser."""

    def __init__(self) -> None:
        self.out = _output_options()
        self.conn = _connection_options()
        self._change: argparse.ArgumentParser | None = None

    @property
    def change(self) -> argparse.ArgumentParser:
        if self._change is None:
            self._change = _change_options()
        return self._change


def _command(
    verbs: Any, name: str, help: str, run: Callable[..., int], *parents: Any
) -> argparse.ArgumentParser:
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


def _admin_guard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-admin-demotion",
        action="store_true",
        help="let the change demote the signed-in or the last administrator",
    )


def _sessions_commands(verbs: Any, p: _Parents) -> None:
    listing = _command(
        verbs, "list", "list the licenses in use (OpenLM)", run_sessions_list, p.out, p.conn
    )
    _session_filters(listing)
    close = _command(
        verbs,
        "close",
        "close the applications holding licenses (through the OpenLM Agent)",
        run_sessions_close,
        p.out,
        p.conn,
        p.change,
    )
    _session_filters(close)
    close.add_argument(
        "--close-wait",
        type=float,
        metavar="SECONDS",
        help="how long to watch the closed sessions end before reporting one unknown (30)",
    )


def _users_commands(verbs: Any, p: _Parents) -> None:
    listing = _command(
        verbs, "list", "list the organization's members", run_users_list, p.out, p.conn
    )
    listing.add_argument("--type", dest="user_type", help="only this user type")
    listing.add_argument(
        "--role",
        help="only members whose role column reads so (viewer, data editor, user, publisher, "
        "administrator, or a custom role's name or id)",
    )
    listing.add_argument(
        "--idle-days", type=days, metavar="N", help="only members who have not signed in for N days"
    )
    set_type = _command(
        verbs, "set-type", "change members' user type", run_users_set_type, p.out, p.conn, p.change
    )
    _member_selection(set_type, "change")
    set_type.add_argument(
        "--to",
        required=True,
        metavar="TYPE",
        help="the new user type (viewer, creator, GISProfessionalStdUT...)",
    )
    set_type.add_argument(
        "--from", dest="from_type", metavar="TYPE", help="select the members of this user type"
    )
    set_type.add_argument(
        "--role",
        metavar="ROLE",
        help="auto: change the role first where the new type needs it; or a role (viewer, "
        "data editor, a custom role's name or id): give every member that role too",
    )
    _admin_guard(set_type)
    set_role = _command(
        verbs, "set-role", "change members' role", run_users_set_role, p.out, p.conn, p.change
    )
    _member_selection(set_role, "change")
    set_role.add_argument(
        "--to",
        required=True,
        metavar="ROLE",
        help="the new role (viewer, user, publisher, or a custom role)",
    )
    set_role.add_argument(
        "--from", dest="from_role", metavar="ROLE", help="select the members with this role"
    )
    _admin_guard(set_role)


def _licenses_commands(verbs: Any, p: _Parents) -> None:
    _command(
        verbs, "list", "the licenses the organization bought", run_licenses_list, p.out, p.conn
    )
    report = _command(
        verbs,
        "report",
        "bought, assigned and left of each entitlement",
        run_licenses_report,
        p.out,
        p.conn,
    )
    report.add_argument("--license", help="only this license (pro, drone2map, a title)")
    offline = _command(
        verbs,
        "offline",
        "members with a license checked out for offline use",
        run_licenses_offline,
        p.out,
        p.conn,
    )
    offline.add_argument("--license", help="only this license (pro, drone2map, a title)")
    holders = _command(
        verbs,
        "holders",
        "who holds which entitlement (ArcGIS Pro...), with their last sign-in",
        run_licenses_holders,
        p.out,
        p.conn,
    )
    holders.add_argument("--license", help="only this license (pro, drone2map, a title)")
    holders.add_argument(
        "--entitlement",
        "-e",
        action="append",
        metavar="ID",
        help="only holders of this entitlement (desktopAdvN...); repeatable",
    )
    assign = _command(
        verbs, "assign", "give members entitlements", run_licenses_assign, p.out, p.conn, p.change
    )
    _member_selection(assign, "give entitlements")
    assign.add_argument("--license", default="pro", help="the license (pro)")
    assign.add_argument(
        "--entitlements",
        "-e",
        nargs="+",
        required=True,
        metavar="ID",
        help="entitlement ids (desktopAdvN, spatialAnalystN...)",
    )
    assign.add_argument(
        "--add",
        action="store_true",
        help="add to what each member holds (default: set exactly these)",
    )
    revoke = _command(
        verbs, "revoke", "take entitlements away", run_licenses_revoke, p.out, p.conn, p.change
    )
    _member_selection(revoke, "take entitlements from")
    revoke.add_argument("--license", default="pro", help="the license (pro)")
    revoke.add_argument(
        "--entitlements",
        "-e",
        nargs="+",
        default=["*"],
        metavar="ID",
        help="entitlement ids (default: all)",
    )
    release = _command(
        verbs,
        "release",
        "release licenses checked out for offline use (cannot be undone)",
        run_licenses_release,
        p.out,
        p.conn,
        p.change,
    )
    _member_selection(release, "release")
    release.add_argument("--app", default="pro", help="pro (default), drone2map or allsource")
    after = release.add_argument_group("then, for each member released")
    after.add_argument(
        "--user-type",
        metavar="TYPE",
        help="change the user type (the change the check-out was blocking): a departed "
        "employee down to viewer, say",
    )
    after.add_argument(
        "--revoke", action="store_true", help="revoke their entitlements under the license"
    )
    after.add_argument(
        "--role",
        metavar="ROLE",
        help="with --user-type: auto (the role the new type needs), or a role to give",
    )


def _plan_commands(verbs: Any, p: _Parents) -> None:
    show = _command(verbs, "show", "show a saved plan", run_plan_show, p.out)
    show.add_argument("file", metavar="FILE")
    apply = _command(verbs, "apply", "apply a saved plan", run_plan_apply, p.out, p.conn, p.change)
    apply.add_argument("file", metavar="FILE")
    _item_selection(apply, "plan")


def _journal_commands(verbs: Any, p: _Parents) -> None:
    # The connection options are taken (people repeat them from `journal undo`), not needed.
    show = _command(verbs, "show", "what a run did, item by item", run_journal_show, p.out, p.conn)
    show.add_argument("file", metavar="FILE")
    undo = _command(
        verbs,
        "undo",
        "plan undoing what a run did (--apply to undo)",
        run_journal_undo,
        p.out,
        p.conn,
        p.change,
    )
    undo.add_argument("file", metavar="FILE")
    _item_selection(undo, "run")
    resume = _command(
        verbs,
        "resume",
        "plan finishing an interrupted run (--apply to finish)",
        run_journal_resume,
        p.out,
        p.conn,
        p.change,
    )
    resume.add_argument("file", metavar="FILE")
    _item_selection(resume, "run")


def _profile_commands(verbs: Any, p: _Parents) -> None:
    add = _command(verbs, "add", "save a connection under a name", run_profile_add)
    add.add_argument("name", metavar="NAME")
    add.add_argument("--url", required=True, help="the portal or the OpenLM server")
    add.add_argument(
        "--kind",
        choices=["portal", "openlm"],
        help="what the server is (default: openlm for :7014 or /OpenLMServer, else portal)",
    )
    add.add_argument("--username", "-u", help="sign in as this user")
    add.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    add.add_argument("--ca-bundle", metavar="PEM", help="extra CA certificates to trust")
    add.add_argument("--timeout", type=float, metavar="SECONDS", help="per request")
    add.add_argument("--insecure-http", action="store_true", help="an http:// test portal")
    add.add_argument(
        "--store-password",
        action="store_true",
        help="ask for the password (or take GISLICENSE_PASSWORD) and keep it in the system "
        "keyring (needs the keyring package)",
    )
    add.add_argument(
        "--client-id",
        metavar="ID",
        help="a portal: sign in with OAuth with this app (app credentials with its client "
        "secret, else a person on the portal's sign-in page)",
    )
    add.add_argument(
        "--store-client-secret",
        action="store_true",
        help="ask for the app's client secret (or take GISLICENSE_CLIENT_SECRET) and keep it "
        "in the system keyring",
    )
    add.add_argument("--cert-file", metavar="FILE", help="a portal behind PKI: client certificate")
    add.add_argument("--key-file", metavar="FILE", help="the client certificate's key (PEM)")
    add.add_argument(
        "--store-cert-password",
        action="store_true",
        help="ask for the PKCS#12 file's password (or take GISLICENSE_CERT_PASSWORD) and keep "
        "it in the system keyring",
    )
    _command(verbs, "list", "the saved connections", run_profile_list, p.out)
    remove = _command(verbs, "remove", "forget a saved connection", run_profile_remove)
    remove.add_argument("name", metavar="NAME")


#: The command groups: what each is for, and how its commands are made.
GROUPS: dict[str, tuple[str, Callable[[Any, _Parents], None]]] = {
    "sessions": ("OpenLM: licenses in use now, closing them", _sessions_commands),
    "users": ("Portal: members, user types, roles", _users_commands),
    "licenses": ("Portal: named-user licenses (ArcGIS Pro...)", _licenses_commands),
    "plan": ("saved plans: show, apply", _plan_commands),
    "journal": ("journals of applied changes: show, undo, resume", _journal_commands),
    "profile": ("saved connections: add, list, remove", _profile_commands),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the group named in ``argv`` gets its commands made (making all of
    them costs more than the rest of ``gislicense --help``). None makes them all."""
    p = _Parents()
    # No abbreviations: `--user` must not quietly mean `--username` (sessions have a real
    # --user filter), and an option added later must not change what an old script means.
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        prog="gislicense",
        description="See and manage who holds your GIS licenses.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[p.out, p.conn],
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    named = set(argv) if argv is not None else {*GROUPS, "sandbox"}
    for name, (help, make) in GROUPS.items():
        group = commands.add_parser(name, help=help, description=help, allow_abbrev=False)
        if name in named:
            make(group.add_subparsers(dest="verb", required=True, metavar="ACTION"), p)
    sandbox = commands.add_parser(
        "sandbox", help="run the emulated license servers", allow_abbrev=False
    )
    if "sandbox" in named:
        _sandbox_options(sandbox)
    return parser


# ---------------------------------------------------------------------------------------
# Running


class Context:
    """What a command run shares: where output goes, and the servers it opened."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sandbox: Sandbox | None = None
        self._stream: TextIO | None = None
        #: Whether an interruption was explained already (with the journal to resume).
        self.interrupted_said = False

    @property
    def form(self) -> str:
        return getattr(self.args, "form", None) or "table"

    def say(self, text: str) -> None:
        """A line for the person at the terminal (stderr): summaries, hints, notes."""
        if not getattr(self.args, "quiet", False):
            print(text, file=sys.stderr, flush=True)

    def rows(
        self,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[str],
        all_columns: Sequence[str] | None = None,
    ) -> None:
        from gislicense import _output

        _output.write(rows, columns, form=self.form, stream=self.stream, all_columns=all_columns)

    @property
    def stream(self) -> TextIO:
        if self._stream is None:
            output = getattr(self.args, "output", None)
            if output:
                from gislicense._folders import open_private

                try:
                    self._stream = open_private(output, newline="")
                except OSError as err:
                    raise UsageError(f"cannot write {output}: {err.strerror}") from None
            else:
                self._stream = sys.stdout
        return self._stream

    def close(self) -> None:
        if self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()
        if self.sandbox is not None:
            self.sandbox.stop()

    # Servers

    def _started_sandbox(self) -> Sandbox:
        if self.sandbox is None:
            from gislicense import Sandbox

            self.sandbox = Sandbox()
            self.say("Using a fresh built-in sandbox; changes made to it are forgotten on exit.")
        return self.sandbox

    def _password(self) -> str | None:
        """The password for --username; none without one (an OpenLM server that wants no
        login is not sent the portal's password)."""
        if not self.args.username:
            return None
        password = os.environ.get(PASSWORD_VARIABLE)
        if password:
            return password
        if not sys.stdin.isatty():
            raise UsageError(
                f"--username was given but no password: set {PASSWORD_VARIABLE} (there is no "
                "terminal to ask on)"
            )
        return None

    def _given(self, kind: str) -> dict[str, Any]:
        """The connection options given on the command line (they win over a profile's)."""
        given: dict[str, Any] = {}
        for option in ("url", "username", "ca_bundle", "timeout"):
            value = getattr(self.args, option)
            if value is not None:
                given[option] = value
        if self.args.insecure_http and kind == "portal":
            given["allow_insecure_http"] = True
        close_wait = getattr(self.args, "close_wait", None)
        if close_wait is not None and kind == "openlm":
            given["close_wait"] = close_wait
        return given

    def _with_profile(self, kind: str) -> dict[str, Any]:
        """What the command line adds to a profile: another user signs in with the
        password of the command line's own sources."""
        given = self._given(kind)
        if "username" in given:
            given["password"] = self._password()
        return given

    def profile_names(self, kind: str) -> list[str]:
        """The saved profiles this run names (--profile, --all-profiles)."""
        from gislicense import profiles

        if self.args.all_profiles:
            names = [p.name for p in profiles.all_profiles() if p.kind == kind]
            if not names:
                server = "portal" if kind == "portal" else "OpenLM server"
                raise UsageError(f"no {server} is saved as a profile (gislicense profile add)")
            return names
        return list(self.args.profile or [])

    def _one_profile(self, kind: str) -> str | None:
        names = self.profile_names(kind)
        if len(names) > 1:
            raise UsageError("this command goes to one server: name one --profile")
        return names[0] if names else None

    def _check_profile(self, name: str, kind: str) -> None:
        """Stop early, in words, when a profile is for the other kind of server, or its
        password cannot be found or asked for."""
        from gislicense import profiles

        profile = profiles.load(name)
        if profile.kind != kind:
            server, commands = (
                ("an OpenLM server", "sessions")
                if profile.kind == "openlm"
                else ("a portal", "users and licenses")
            )
            raise UsageError(
                f"the profile {name!r} is for {server}: use it with the {commands} commands"
            )
        signs_in = profile.username is not None and self.args.username in (None, profile.username)
        if signs_in and profile.password() is None and not sys.stdin.isatty():
            raise UsageError(
                f"no password for the profile {name!r}: set {profiles.password_variable(name)} "
                f"(or {PASSWORD_VARIABLE}), or store it in the system keyring with "
                f"`gislicense profile add {name} ... --store-password`"
            )

    def _no_target(self, what: str) -> UsageError:
        return UsageError(
            f"name the {what} with --url (and --username) or a saved --profile "
            "(gislicense profile add), or try the command on the built-in sandbox with --sandbox"
        )

    def client(self, kind: str, profile: str | None = None) -> Any:
        return self.portal(profile=profile) if kind == "portal" else self.openlm(profile=profile)

    def portal(self, url: str | None = None, profile: str | None = None) -> GIS:
        """The portal to use: the sandbox, a profile, --url, or ``url`` (a plan's)."""
        from gislicense import GIS

        if self.args.sandbox:
            sandbox = self._started_sandbox()
            return GIS(
                sandbox.portal_url,
                sandbox.admin_username,
                sandbox.admin_password,
                ca_bundle=sandbox.ca_file,
            )
        profile = profile or self._one_profile("portal")
        if profile is not None:
            self._check_profile(profile, "portal")
            return GIS(profile=profile, **self._with_profile("portal"))
        given = self._given("portal")
        url = given.pop("url", None) or url
        if not url:
            raise self._no_target("portal")
        return GIS(url, password=self._password(), **given)

    def openlm(self, url: str | None = None, profile: str | None = None) -> OpenLM:
        """The OpenLM server to use: the sandbox, a profile, --url, or ``url``."""
        from gislicense import OpenLM

        if self.args.sandbox:
            close_wait = self._given("openlm").get("close_wait", 30.0)
            return OpenLM(self._started_sandbox().openlm_url, close_wait=close_wait)
        profile = profile or self._one_profile("openlm")
        if profile is not None:
            self._check_profile(profile, "openlm")
            return OpenLM(profile=profile, **self._with_profile("openlm"))
        given = self._given("openlm")
        url = given.pop("url", None) or url
        if not url:
            raise self._no_target("OpenLM server")
        return OpenLM(url, password=self._password(), **given)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    for name, default in SHARED_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.verbose:
        import logging

        # gislicense's own lines only: not those of the libraries underneath.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("gislicense: %(levelname)s: %(message)s"))
        logger = logging.getLogger("gislicense")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if args.verbose > 1 else logging.INFO)
    if args.group == "sandbox":
        return _sandbox(args)
    context = Context(args)
    try:
        status: int = args.run(context)
        return status
    except KeyboardInterrupt:
        if not context.interrupted_said:
            print("\ngislicense: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as err:
        print(f"gislicense: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except GisLicenseError as err:
        return _failed(err)
    finally:
        context.close()


def _failed(err: GisLicenseError, where: str | None = None) -> int:
    """Say what went wrong (on ``where``, a profile), in this command's words; the exit
    status for it."""
    from gislicense import (
        AuthenticationError,
        InvalidInputError,
        NotFoundError,
        TransportError,
        UnreadableReplyError,
    )

    message = cli_words(str(err))
    on = f"{where}: " if where else ""
    print(f"gislicense: error: {on}{message}", file=sys.stderr)
    if isinstance(err, (InvalidInputError, NotFoundError)):
        return EXIT_USAGE
    if isinstance(err, (TransportError, AuthenticationError, UnreadableReplyError)):
        return EXIT_CONNECT
    return EXIT_FAILED


# ---------------------------------------------------------------------------------------
# Plans, applied or shown


def run_read(
    context: Context,
    kind: str,
    read: Callable[[Context, Any], Coroutine[Any, Any, list[dict[str, Any]]]],
    columns: list[str],
    all_columns: list[str] | None,
    noun: str,
) -> int:
    """A list from one server, or from several at once (--profile a --profile b,
    --all-profiles) as one table with a ``target`` column; a server that fails is reported
    and the others listed."""
    import asyncio

    every = all_columns or columns
    names = [] if context.args.sandbox else context.profile_names(kind)
    if len(names) <= 1:
        rows = asyncio.run(read(context, context.client(kind)))
        context.rows(rows, columns, every)
        context.say(f"{len(rows)} {noun}")
        return EXIT_OK
    # Made one after another (a password may be asked for), then read all at once. A server
    # that cannot be reached, or set up (a CA file gone), is reported; the others are listed.
    status, failed, rows = EXIT_OK, 0, []
    clients = []
    for name in names:
        try:
            clients.append((name, context.client(kind, profile=name)))
        except GisLicenseError as err:
            status, failed = max(status, _failed(err, name)), failed + 1

    async def everywhere() -> list[list[dict[str, Any]] | BaseException]:
        reads = (read(context, client) for _, client in clients)
        return list(await asyncio.gather(*reads, return_exceptions=True))

    for (name, _), result in zip(clients, asyncio.run(everywhere())):
        if isinstance(result, GisLicenseError):
            status, failed = max(status, _failed(result, name)), failed + 1
        elif isinstance(result, BaseException):
            raise result
        else:
            rows.extend({"target": name, **row} for row in result)
    context.rows(rows, ["target", *columns], ["target", *every])
    context.say(f"{len(rows)} {noun} from {len(names) - failed} of {len(names)} servers")
    return status


def show_plan(context: Context, plan: Plan) -> None:
    _show_rows(context, plan.to_rows())
    for note in plan.notes:
        context.say(f"note: {cli_words(note)}")
    context.say(f"Plan: {plan.summary()}")


def show_report(context: Context, report: BulkReport[Any], names: Sequence[str]) -> None:
    """The outcomes, each item named as its plan names it."""
    rows = report.to_rows()
    for row, name in zip(rows, names):
        row["item"] = name
    _show_rows(context, rows)


def _show_rows(context: Context, rows: list[dict[str, Any]]) -> None:
    """A plan's or a report's rows: a table of what a person reads (a close's session, else
    the item and its steps); JSON and CSV with every field, the steps a list in JSON."""
    from gislicense import _output, _rows

    for row in rows:
        row["reason"] = cli_words(row["reason"]) if row.get("reason") else None
    shown = _rows.view_columns(rows)
    every = _rows.columns(rows) or shown
    _output.write(
        rows, shown, form=context.form, stream=context.stream, all_columns=every, flat=_rows.flat
    )


def run_plan(context: Context, plan: Plan, *, batch_size: int = 25, read_now: bool = True) -> int:
    """Show the plan; apply it with --apply, journaled. The exit status of both.

    ``read_now``: the plan was made by this command, from the state read moments ago, so
    applying it needs not read that again (a saved plan is re-checked first)."""
    from gislicense.plans import _journal_path

    args = context.args
    if args.save_plan:
        try:
            plan.save(args.save_plan)
        except OSError as err:
            raise UsageError(f"cannot write the plan to {args.save_plan}: {err.strerror}") from None
        context.say(f"Plan saved to {args.save_plan}.")
    if not args.apply:
        show_plan(context, plan)
        if plan.changes:
            context.say(
                "Nothing was changed: this is the plan. Run again with --apply to apply it."
            )
        return EXIT_FAILED if _predicted_failures(plan) else EXIT_OK
    for note in plan.notes:
        context.say(f"note: {cli_words(note)}")
    journal = args.journal or _journal_path(None, plan.operation)
    display = _progress_display(context)
    plan._read_now = read_now
    try:
        report = plan.apply(
            journal=journal,
            batch_size=batch_size,
            concurrency=args.concurrency,
            progress=display or False,
        )
    except KeyboardInterrupt:
        context.say(
            f"\nInterrupted. The journal {journal} says what was done; "
            f"`gislicense journal resume {journal} --apply` finishes the rest."
        )
        context.interrupted_said = True
        raise
    show_report(context, report, [i.item for i in plan.items])
    context.say(f"Applied: {report.summary()}. Journal: {journal}")
    return EXIT_FAILED if any(not o.ok for o in report) else EXIT_OK


def _progress_display(context: Context) -> Callable[[int, int], None] | None:
    """A line on a terminal's stderr that counts the items applied; none in a pipe, a log
    or with --quiet."""
    if context.args.quiet or not sys.stderr.isatty():
        return None
    from gislicense._progress import line

    return line(sys.stderr)


def _predicted_failures(plan: Plan) -> bool:
    return any(i.status == "failed" for i in plan.items)


# ---------------------------------------------------------------------------------------
# sessions


SESSION_COLUMNS = [
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


def run_sessions_list(context: Context) -> int:
    from gislicense._core import active_product_fields

    every = [name for name, _ in active_product_fields()]
    return run_read(context, "openlm", _session_rows, SESSION_COLUMNS, every, "sessions")


def run_sessions_close(context: Context) -> int:
    args = context.args
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


# ---------------------------------------------------------------------------------------
# users


USER_COLUMNS = ["username", "full_name", "user_type", "role", "last_login", "disabled"]
USER_FIELDS = [
    "username",
    "full_name",
    "email",
    "user_type",
    "role",
    "role_id",
    "level",
    "last_login",
    "created",
    "modified",
    "disabled",
]


def _user_row(member: User) -> dict[str, Any]:
    return {field: getattr(member, field) for field in USER_FIELDS}


async def _user_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    args = context.args
    members = await gis.users.search_async(user_type=args.user_type, role=args.role)
    if args.idle_days is not None:
        from gislicense.selection import is_idle

        members = [m for m in members if is_idle(m, args.idle_days)]
    return [_user_row(m) for m in members]


def run_users_list(context: Context) -> int:
    return run_read(context, "portal", _user_rows, USER_COLUMNS, USER_FIELDS, "members")


def _named(args: argparse.Namespace) -> list[str]:
    names = list(args.users)
    if args.users_file:
        names.extend(_read_names(args.users_file))
    return names


def _read_names(path: str) -> list[str]:
    from pathlib import Path

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    # A user name holds no '#': what follows one is a comment.
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [name for name in names if name]


def _members(
    context: Context,
    gis: GIS,
    *,
    user_type: str | None = None,
    role: str | None = None,
) -> list[Any]:
    """The members a change names: given by name, or selected by type, role, or idleness
    (the library's selection: administrators left out unless --include-admins, and said in
    the plan's notes)."""
    args = context.args
    names = _named(args)
    selects = user_type is not None or role is not None or args.idle_days is not None
    # The ways this command selects, for the messages.
    selectors = "--from, --idle-days" if hasattr(args, "to") else "--idle-days"
    if hasattr(args, "app"):
        selectors += "; or --all: everyone who has it checked out"
    if names and selects:
        raise UsageError(f"name the members or select them ({selectors}), not both")
    excluded = {name.casefold() for name in args.exclude}
    if names:
        return [n for n in names if n.casefold() not in excluded]
    if args.users_file and not selects:
        raise UsageError(f"{args.users_file} names no one")
    if not selects:
        also = "; --all selects no one: it lets a change reach everyone" if args.allow_all else ""
        raise UsageError(
            f"name the members (USER..., --users-file) or select them ({selectors}){also}"
        )
    return gis.users.select(
        user_type=user_type,
        role=role,
        idle_days=args.idle_days,
        include_admins=args.include_admins,
        exclude=args.exclude,
    )


def _nothing_selected(context: Context, names: Sequence[Any] = ()) -> int:
    for note in getattr(names, "notes", []):
        context.say(f"note: {cli_words(note)}")
    context.say("No member matches: nothing to change.")
    return EXIT_OK


def _selected(context: Context, plan: Plan) -> Plan:
    """The items of a saved plan or a journal the command names (all when none)."""
    args = context.args
    names = _named(args)
    if not names and not args.exclude:
        return plan
    if args.users_file and not names:
        raise UsageError(f"{args.users_file} names no one")
    return plan.select(names or None, exclude=args.exclude)


def run_users_set_type(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = _members(context, gis, user_type=args.from_type)
    if not names:
        return _nothing_selected(context, names)
    plan = gis.users.plan_license_type(
        names,
        args.to,
        roles=args.role,
        allow_admin_demotion=args.allow_admin_demotion,
        allow_all=args.allow_all,
    )
    return run_plan(context, plan)


def run_users_set_role(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = _members(context, gis, role=args.from_role)
    if not names:
        return _nothing_selected(context, names)
    plan = gis.users.plan_role(
        names, args.to, allow_admin_demotion=args.allow_admin_demotion, allow_all=args.allow_all
    )
    return run_plan(context, plan)


# ---------------------------------------------------------------------------------------
# licenses


async def _license_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    return [
        {"license": lic.title, "item_id": lic.item_id, "entitlements": lic.entitlements}
        for lic in await gis.admin.license.all_async()
    ]


def run_licenses_list(context: Context) -> int:
    columns = ["license", "item_id", "entitlements"]
    return run_read(context, "portal", _license_rows, columns, None, "licenses")


async def _licenses(context: Context, gis: GIS) -> list[Any]:
    name = context.args.license
    if name:
        return [await gis.admin.license.get_async(name)]
    return await gis.admin.license.all_async()


async def _report_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    return [
        {"license": lic.title, **count.as_dict()}
        for lic in await _licenses(context, gis)
        for count in await lic.report_async()
    ]


def run_licenses_report(context: Context) -> int:
    columns = ["license", "entitlement", "total", "assigned", "remaining"]
    return run_read(context, "portal", _report_rows, columns, None, "entitlements")


async def _offline_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    return [
        {
            "license": lic.title,
            "username": held.username,
            "entitlements": held.entitlements,
            "last_login": held.last_login,
        }
        for lic in await _licenses(context, gis)
        for held in await lic.offline_async()
    ]


def run_licenses_offline(context: Context) -> int:
    columns = ["license", "username", "entitlements", "last_login"]
    return run_read(
        context, "portal", _offline_rows, columns, None, "licenses checked out for offline use"
    )


async def _holder_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    wanted = set(context.args.entitlement or [])
    return [
        {
            "license": lic.title,
            "username": held.username,
            "entitlements": ", ".join(held.entitlements),
            "offline": held.disconnected,
            "last_login": held.last_login,
        }
        for lic in await _licenses(context, gis)
        for held in await lic.users_async()
        if held.entitlements and (not wanted or wanted & set(held.entitlements))
    ]


def run_licenses_holders(context: Context) -> int:
    columns = ["license", "username", "entitlements", "offline", "last_login"]
    return run_read(context, "portal", _holder_rows, columns, None, "holders")


def run_licenses_assign(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = _members(context, gis)
    if not names:
        return _nothing_selected(context, names)
    plan = gis.admin.license.get(args.license).plan_assign(
        names, args.entitlements, overwrite=not args.add, allow_all=args.allow_all
    )
    return run_plan(context, plan)


def run_licenses_revoke(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = _members(context, gis)
    if not names:
        return _nothing_selected(context, names)
    entitlements = "*" if args.entitlements == ["*"] else args.entitlements
    plan = gis.admin.license.get(args.license).plan_revoke(
        names, entitlements, allow_all=args.allow_all
    )
    return run_plan(context, plan)


#: Which license an app's check-out is under, for ``release --all``.
_APP_LICENSE = {"arcgisprodesktop": "pro", "arcgisallsource": "allsource"}


def run_licenses_release(context: Context) -> int:
    args = context.args
    gis = context.portal()
    named = bool(args.users or args.users_file or args.idle_days is not None)
    if args.allow_all and named:
        raise UsageError("name the members or release --all, not both")
    if args.allow_all:
        # --all alone: everyone who has the app checked out now.
        license = gis.admin.license.get(_APP_LICENSE.get(args.app.lower(), args.app))
        names = [held.username for held in license.offline]
        excluded = {name.casefold() for name in args.exclude}
        names = [n for n in names if n.casefold() not in excluded]
    else:
        names = _members(context, gis)
    if not names:
        context.say("No one has it checked out: nothing to release.")
        return EXIT_OK
    if args.role and not args.user_type:
        raise UsageError("--role goes with --user-type")
    if args.user_type or args.revoke:
        # Release, then the changes the check-out was blocking: one plan, one journal.
        plan = gis.admin.license.plan_release_and_update(
            names,
            user_type=args.user_type,
            entitlements="*" if args.revoke else None,
            license=_APP_LICENSE.get(args.app.lower(), args.app),
            app=args.app,
            roles=args.role,
            allow_all=args.allow_all,
        )
    else:
        plan = gis.admin.license.plan_release(names, args.app, allow_all=args.allow_all)
    return run_plan(context, plan)


# ---------------------------------------------------------------------------------------
# plans and journals


def _load_plan_data(path: str) -> dict[str, Any]:
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    except ValueError:
        raise UsageError(f"{path} is not a gislicense plan (not JSON)") from None
    if not isinstance(data, dict) or "items" not in data or "service" not in data:
        raise UsageError(f"{path} is not a gislicense plan")
    return data


def _client_for(context: Context, operation: str, service: str) -> Any:
    """The client for a plan's or a journal's server: as the command line says, else the
    saved profile of that server, else the server itself (with --username)."""
    from gislicense import profiles

    kind = "openlm" if operation == "close_applications" else "portal"
    args = context.args
    if not (args.sandbox or args.url or args.profile or args.all_profiles):
        same = service.rstrip("/").lower()
        for saved in profiles.all_profiles():
            if saved.kind == kind and saved.url.rstrip("/").lower() == same:
                return context.client(kind, profile=saved.name)
    return context.openlm(service) if kind == "openlm" else context.portal(service)


def run_plan_show(context: Context) -> int:
    from gislicense.plans import Plan

    data = _load_plan_data(context.args.file)
    plan = Plan.load(context.args.file, None)
    context.say(f"{data.get('operation')} on {data.get('service')}")
    show_plan(context, plan)
    return EXIT_FAILED if _predicted_failures(plan) else EXIT_OK


def run_plan_apply(context: Context) -> int:
    from gislicense.plans import Plan

    data = _load_plan_data(context.args.file)
    client = _client_for(context, str(data.get("operation")), str(data["service"]))
    plan = _selected(context, Plan.load(context.args.file, client))
    if not context.args.apply:
        context.say(
            f"The plan as saved ({plan.created:%Y-%m-%d %H:%M}); --apply re-checks each item "
            "against the server first and sends only what still holds."
        )
    return run_plan(context, plan, read_now=False)


def _journal(path: str) -> Any:
    from pathlib import Path

    from gislicense.plans import Journal

    if not Path(path).is_file():
        raise UsageError(f"there is no journal {path}")
    return Journal(path)


def run_journal_show(context: Context) -> int:
    args = context.args
    if args.url or args.username or args.profile or args.sandbox:
        context.say("(journal show reads only the journal: no server or sign-in is needed)")
    journal = _journal(args.file)
    plan = journal.plan
    context.say(f"{plan.get('operation')} on {plan.get('service')}")
    _show_rows(context, journal.report.to_rows())
    resume = f"`gislicense journal resume {context.args.file} --apply` finishes it"
    if journal.finished:
        state = "finished"
    elif journal.ended:
        state = f"{len(journal.unfinished)} left unfinished: {resume}"
    else:
        state = f"interrupted: {resume}"
    context.say(f"{journal.report.summary()} ({state})")
    left = not journal.finished or any(not o.ok for o in journal.report)
    return EXIT_FAILED if left else EXIT_OK


def run_journal_undo(context: Context) -> int:
    from gislicense.plans import Plan

    journal = _journal(context.args.file)
    operation = str(journal.plan.get("operation"))
    if operation == "close_applications":
        # Nothing to send: a closed application cannot be reopened. Say who it was.
        rows = [
            {**row, "status": "skipped", "reason": "a closed session cannot be reopened"}
            for row in journal.report.to_rows()
            if row["status"] in ("closed", "unknown")
        ]
        _show_rows(context, rows)
        context.say(f"Nothing to undo: {len(rows)} sessions were closed by this run.")
        return EXIT_OK
    gis = _client_for(context, operation, str(journal.plan.get("service") or ""))
    # Undoing for some members is a run of its own, journaled like any.
    return run_plan(context, _selected(context, Plan.undo(context.args.file, gis)))


def run_journal_resume(context: Context) -> int:
    from gislicense.plans import Plan

    journal = _journal(context.args.file)
    plan_data = journal.plan
    client = _client_for(context, str(plan_data.get("operation")), str(plan_data["service"]))
    plan = _selected(context, Plan.resume(context.args.file, client))
    if context.args.journal is None:
        # A resume appends to the run's own journal.
        context.args.journal = context.args.file
    return run_plan(context, plan)


# ---------------------------------------------------------------------------------------
# profiles


def _kind_of(url: str) -> str:
    """An OpenLM server listens on 7014 under /OpenLMServer; anything else is a portal."""
    plain = url.lower().rstrip("/")
    return "openlm" if plain.endswith("openlmserver") or ":7014" in plain else "portal"


def _absolute(path: str | None) -> str | None:
    from pathlib import Path

    return None if path is None else str(Path(path).expanduser().resolve())


def run_profile_add(context: Context) -> int:
    from pathlib import Path

    from gislicense import profiles

    args = context.args
    if args.client_id is not None and not args.client_id.strip():
        raise UsageError("--client-id is empty: give the app's client id")
    for option, path in (("--cert-file", args.cert_file), ("--key-file", args.key_file)):
        if path is not None and not Path(path).expanduser().is_file():
            raise UsageError(f"{option} {path}: no such file")
    profile = profiles.Profile(
        args.name,
        args.kind or _kind_of(args.url),
        args.url,
        username=args.username,
        ca_bundle=args.ca_bundle,
        timeout=args.timeout,
        allow_insecure_http=args.insecure_http,
        client_id=args.client_id,
        # Saved whole: the profile is used from any folder.
        cert_file=_absolute(args.cert_file),
        key_file=_absolute(args.key_file),
    )
    # Which secrets to keep in the keyring, what each needs, and how it is asked for.
    wanted = [
        ("password", args.store_password, args.username, "--username"),
        ("client_secret", args.store_client_secret, args.client_id, "--client-id"),
        ("cert_password", args.store_cert_password, args.cert_file, "--cert-file"),
    ]
    to_store: list[tuple[str, str]] = []
    for which, asked, needs, option in wanted:
        if not asked:
            continue
        flag = "--store-" + which.replace("_", "-")
        what = which.replace("_", " ")
        if not needs:
            raise UsageError(f"{flag} needs {option}: whose {what} is it?")
        if not profiles.has_keyring():
            raise UsageError(
                f"{flag} needs the keyring package (pip install keyring); or keep the {what} in "
                f"{profiles.secret_variable(args.name, which)}"
            )
        value = os.environ.get(profiles.SECRETS[which])
        if not value:
            if not sys.stdin.isatty():
                raise UsageError(
                    f"no terminal to ask for the {what} on: set {profiles.SECRETS[which]}"
                )
            import getpass

            value = getpass.getpass(f"The {what} of {needs} for {args.url}: ")
        to_store.append((which, value))
    for which, value in to_store:
        profiles.store_secret(args.name, which, value)
    profiles.save(profile)
    kept = ", ".join(which.replace("_", " ") for which, _ in to_store)
    stored = f" ({kept} in the system keyring)" if kept else ""
    context.say(f"Saved the profile {args.name!r}: {profile.kind} {profile.url}{stored}.")
    return EXIT_OK


def _secret_source(profile: Any, which: str, none: str) -> str:
    """Where a profile's secret would come from, in the order it is looked for; never it."""
    from gislicense import profiles

    own = profiles.secret_variable(profile.name, which)
    if os.environ.get(own):
        return own
    if profiles.keyring_secret(profile.name, which):
        return "keyring"
    if os.environ.get(profiles.SECRETS[which]):
        return profiles.SECRETS[which]
    return none


def run_profile_list(context: Context) -> int:
    from gislicense import profiles

    rows = []
    for profile in profiles.all_profiles():
        # Where the password comes from, never the password.
        if profile.client_id:
            password = "client secret: " + _secret_source(
                profile, "client_secret", "none (a person signs in)"
            )
        elif not profile.username:
            password = "none (no sign-in)"
        elif os.environ.get(profiles.password_variable(profile.name)):
            password = profiles.password_variable(profile.name)
        elif profiles.keyring_password(profile.name):
            password = "keyring"
        elif os.environ.get(PASSWORD_VARIABLE):
            password = PASSWORD_VARIABLE
        else:
            password = "asked"
        rows.append(
            {
                "name": profile.name,
                "kind": profile.kind,
                "url": profile.url,
                "username": profile.username,
                "ca_bundle": profile.ca_bundle,
                "timeout": profile.timeout,
                "password": password,
                "client_id": profile.client_id,
                "cert_file": profile.cert_file,
                "cert_password": _secret_source(profile, "cert_password", "none")
                if profile.cert_file
                else None,
            }
        )
    columns = ["name", "kind", "url", "username", "password"]
    context.rows(
        rows, columns, [*columns, "client_id", "cert_file", "cert_password", "ca_bundle", "timeout"]
    )
    context.say(f"{len(rows)} profiles in {profiles.profiles_file()}")
    return EXIT_OK


def run_profile_remove(context: Context) -> int:
    from gislicense import profiles

    if not profiles.remove(context.args.name):
        raise UsageError(f"there is no profile {context.args.name!r}")
    context.say(f"Removed the profile {context.args.name!r}.")
    return EXIT_OK


# ---------------------------------------------------------------------------------------
# sandbox


def _sandbox_options(sandbox: argparse.ArgumentParser) -> None:
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
    sandbox.add_argument(
        "--kubernetes", action="store_true", help="ArcGIS Enterprise on Kubernetes (admin API)"
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
    for fault in ("error", "http500", "http503", "drop"):
        sandbox.add_argument(f"--{fault}-rate", type=float, default=0.0, metavar="RATE")


_WELL_KNOWN_OPENLM_PASSWORD = "sandbox-password"


def _sandbox(args: argparse.Namespace) -> int:
    import logging
    import time

    from gislicense import Sandbox, __version__

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
        close_delay=args.close_delay,
        portal_members=args.members,
        portal_offline=args.offline,
        portal_port=args.portal_port,
        portal_tls=not args.portal_http,
        token_lifetime=args.token_lifetime,
        portal_version=args.portal_version,
        portal_deployment="kubernetes" if args.kubernetes else "classic",
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
    print(f"gislicense {__version__} sandbox running", flush=True)
    print(f"  OpenLM: {sandbox.openlm_url}", flush=True)
    # Beyond loopback the passwords are random: this is where the person who started it sees them.
    if args.permissions or sandbox.openlm_password != _WELL_KNOWN_OPENLM_PASSWORD:
        print(f"  OpenLM login: {sandbox.openlm_username} / {sandbox.openlm_password}", flush=True)
    print(f"  Portal: {sandbox.portal_url}", flush=True)
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
    print("Press Ctrl-C to stop.", flush=True)
    import signal

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
    return 0
