"""Asking for a password that was not given."""

from __future__ import annotations

import sys

from gislicense.exceptions import InvalidInputError


def in_notebook() -> bool:
    """Whether a Jupyter kernel runs this code (not merely has ipykernel imported)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or too odd to ask: as if none
        return False
    return shell is not None and hasattr(shell, "kernel")


def can_ask() -> bool:
    """Whether a person can answer a prompt: a terminal, or a notebook (whose kernel's
    getpass asks in the notebook, where stdin is no terminal)."""
    if sys.stdin is not None and sys.stdin.isatty():
        return True
    return in_notebook()


def password_for(username: str | None, password: str | None, where: str) -> str | None:
    """The password to use: the one given, else asked with getpass when a person can answer."""
    if username is None or password is not None:
        return password
    if can_ask():
        import getpass

        return getpass.getpass(f"Password for {username} at {where}: ")
    raise InvalidInputError(
        f"a username ({username!r}) was given without a password, and there is no terminal "
        "or notebook to ask in: pass password="
    )
