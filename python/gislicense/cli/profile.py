"""``gislicense profile``: saved connections (a server, who signs in, and where the secrets
are kept), added, listed and removed."""

from __future__ import annotations

import argparse
import os
import sys

from gislicense.cli.common import EXIT_OK, PASSWORD_VARIABLE, UsageError
from gislicense.cli.options import RefusePassword, command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gislicense.cli.context import Context
    from gislicense.cli.options import Parents


def add_commands(verbs: Any, p: Parents) -> None:
    add = command(verbs, "add", "save a connection under a name", run_add)
    _add_connection_options(add)
    _add_sign_in_options(add)
    command(verbs, "list", "the saved connections", run_list, p.out)
    remove = command(verbs, "remove", "forget a saved connection", run_remove)
    remove.add_argument("name", metavar="NAME")


def _add_connection_options(add: argparse.ArgumentParser) -> None:
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--url",
        required=True,
        help="the portal, the OpenLM server, or a License Manager (27000@host)",
    )
    add.add_argument(
        "--kind",
        choices=["portal", "openlm", "flexnet"],
        help="what the server is (default: flexnet for PORT@HOST, openlm for :7014 or "
        "/OpenLMServer, else portal)",
    )
    add.add_argument("--username", "-u", help="sign in as this user")
    add.add_argument("--password", nargs="?", action=RefusePassword, help=argparse.SUPPRESS)
    add.add_argument("--ca-bundle", metavar="PEM", help="extra CA certificates to trust")
    add.add_argument("--timeout", type=float, metavar="SECONDS", help="per request")
    add.add_argument("--insecure-http", action="store_true", help="an http:// test portal")


def _add_sign_in_options(add: argparse.ArgumentParser) -> None:
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


def _kind_of(url: str) -> str:
    """A License Manager is PORT@HOST; an OpenLM server listens on 7014 under
    /OpenLMServer; anything else is a portal."""
    plain = url.lower().rstrip("/")
    if "@" in plain and "/" not in plain and plain.split("@", 1)[0].isdigit():
        return "flexnet"
    return "openlm" if plain.endswith("openlmserver") or ":7014" in plain else "portal"


def _absolute(path: str | None) -> str | None:
    from pathlib import Path

    return None if path is None else str(Path(path).expanduser().resolve())


def run_add(context: Context) -> int:
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
    to_store = _secrets_to_store(args)
    for which, value in to_store:
        profiles.store_secret(args.name, which, value)
    profiles.save(profile)
    kept = ", ".join(which.replace("_", " ") for which, _ in to_store)
    stored = f" ({kept} in the system keyring)" if kept else ""
    context.say(f"Saved the profile {args.name!r}: {profile.kind} {profile.url}{stored}.")
    return EXIT_OK


def _secrets_to_store(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The secrets --store-... asks to keep in the keyring, each taken from its variable or
    asked for; all of them before any is kept."""
    from gislicense import profiles

    # Which secrets to keep, what each needs, and how it is asked for.
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
    return to_store


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


def _password_source(profile: Any) -> str:
    """Where a profile's password (or app secret) comes from, never it."""
    from gislicense import profiles

    if profile.client_id:
        return "client secret: " + _secret_source(
            profile, "client_secret", "none (a person signs in)"
        )
    if not profile.username:
        return "none (no sign-in)"
    if os.environ.get(profiles.password_variable(profile.name)):
        return profiles.password_variable(profile.name)
    if profiles.keyring_password(profile.name):
        return "keyring"
    if os.environ.get(PASSWORD_VARIABLE):
        return PASSWORD_VARIABLE
    return "asked"


def run_list(context: Context) -> int:
    from gislicense import profiles

    rows = [
        {
            "name": profile.name,
            "kind": profile.kind,
            "url": profile.url,
            "username": profile.username,
            "ca_bundle": profile.ca_bundle,
            "timeout": profile.timeout,
            "password": _password_source(profile),
            "client_id": profile.client_id,
            "cert_file": profile.cert_file,
            "cert_password": _secret_source(profile, "cert_password", "none")
            if profile.cert_file
            else None,
        }
        for profile in profiles.all_profiles()
    ]
    columns = ["name", "kind", "url", "username", "password"]
    context.rows(
        rows, columns, [*columns, "client_id", "cert_file", "cert_password", "ca_bundle", "timeout"]
    )
    context.say(f"{len(rows)} profiles in {profiles.profiles_file()}")
    return EXIT_OK


def run_remove(context: Context) -> int:
    from gislicense import profiles

    if not profiles.remove(context.args.name):
        raise UsageError(f"there is no profile {context.args.name!r}")
    context.say(f"Removed the profile {context.args.name!r}.")
    return EXIT_OK
