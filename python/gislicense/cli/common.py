"""What every command shares: exit statuses, usage errors, and the library's errors and
advice said in the command's words."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from gislicense._hints import Hint
    from gislicense.exceptions import GisLicenseError

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


# The library advises in its own names (gislicense._hints); the command says the same with
# its options.

#: This command's option for each library parameter the library's advice names.
_OPTIONS = {
    "allow_all": "--all",
    "allow_admin_demotion": "--allow-admin-demotion",
    "include_admins": "--include-admins",
    "roles": "--role",
    "ca_bundle": "--ca-bundle",
    "allow_insecure_http": "--insecure-http",
    "username": "--username (or --profile)",
}

#: What this command says for advice that names nothing it has an option for.
_INSTEAD = {
    "password": f"set {PASSWORD_VARIABLE}",
    "release_and_update": "licenses release USER --user-type TYPE",
    "client": "leave out --url and --profile (the file names its server), or give that "
    "server's URL",
}


def hint_words(hint: Hint) -> str:
    """One piece of the library's advice in this command's words."""
    instead = _INSTEAD.get(hint.name)
    if instead is not None:
        return instead
    option = _OPTIONS.get(hint.name)
    if option is None:
        # A name without an option here stays as the library says it (a test keeps every
        # hint the library gives in these tables).
        return hint.words
    if hint.form == "label":
        return f"{option}: "
    given = "" if hint.value is None or hint.value is True else f" {hint.value}"
    return f"{hint.form} {option}{given}"


def in_command_words(text: str, hints: Sequence[Hint] | None = None) -> str:
    """A message of the library with its advice (``hints``, by default those it gives) in
    this command's words."""
    if hints is None:
        from gislicense._hints import hints_in

        hints = hints_in(text)
    for hint in hints:
        text = text.replace(hint.words, hint_words(hint), 1)
    return text


def failed(err: GisLicenseError, where: str | None = None) -> int:
    """Say what went wrong (on ``where``, a profile), in this command's words; the exit
    status for it."""
    from gislicense.exceptions import (
        AuthenticationError,
        InvalidInputError,
        NotFoundError,
        TransportError,
        UnreadableReplyError,
    )

    message = in_command_words(str(err), err.hints)
    on = f"{where}: " if where else ""
    print(f"gislicense: error: {on}{message}", file=sys.stderr)
    if isinstance(err, (InvalidInputError, NotFoundError)):
        return EXIT_USAGE
    if isinstance(err, (TransportError, AuthenticationError, UnreadableReplyError)):
        return EXIT_CONNECT
    return EXIT_FAILED
