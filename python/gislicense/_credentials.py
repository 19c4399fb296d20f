"""Asking for a password that was not given."""

from __future__ import annotations

import sys

from gislicense.exceptions import InvalidInputError


def password_for(username: str | None, password: str | None, where: str) -> str | None:
    """The password to use: the one given, else asked with getpass when a person can answer."""
    if username is None or password is not None:
        return password
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"Password for {username} at {where}: ")
    raise InvalidInputError(
        f"a username ({username!r}) was given without a password, and there is no terminal "
        "to ask for one: pass password="
    )
