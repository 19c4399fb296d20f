"""Signing a person in through OAuth 2.0: the portal's own sign-in page (so any identity
provider it federates works), opened in the browser with the code coming back to a loopback
listener, or, where no browser can open here (a notebook, a server), shown as a link whose
page gives a code to paste."""

from __future__ import annotations

import os
import sys

from gislicense import _core
from gislicense._credentials import can_ask, in_notebook
from gislicense.exceptions import AuthenticationError, InvalidInputError


def browser_can_open() -> bool:
    """Whether a browser on this machine can show the sign-in page to the person running
    this: not in a notebook (its kernel may run elsewhere), and on Linux only with a desktop
    or a BROWSER set (otherwise a text browser would take over the terminal)."""
    if in_notebook():
        return False
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("BROWSER")
    ):
        return False
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


#: The refresh token's life asked for: two weeks, a portal's default, so long jobs go on.
REFRESH_MINUTES = 20_160


def sign_in_code(
    url: str,
    client_id: str,
    *,
    browser: bool | None,
    allow_insecure_http: bool,
    timeout: float,
) -> _core.Code:
    """The authorization code of a sign-in on the portal's page, with its PKCE verifier."""
    loopback = browser_can_open() if browser is None else browser
    authorization = _core.Authorization(
        url, client_id, loopback, REFRESH_MINUTES, allow_insecure_http
    )
    if loopback:
        import webbrowser

        print(f"Sign in to the portal in your browser: {authorization.url}", file=sys.stderr)
        if not webbrowser.open(authorization.url):
            print("(No browser opened: open the page above yourself.)", file=sys.stderr)
        try:
            code: _core.Code = authorization.receive(timeout).wait()
        except AuthenticationError as nothing:
            # The browser may run where 127.0.0.1 is not this machine: the address it ended
            # on holds the code.
            if "no sign-in came back" not in str(nothing) or not can_ask():
                raise
            import getpass

            print(
                "No sign-in came back here. If the browser ended on a page that could not be "
                "reached, paste that page's address:",
                file=sys.stderr,
            )
            return authorization.code_from_text(getpass.getpass("Address: "))
        return code
    if not can_ask():
        raise InvalidInputError(
            "signing in with client_id= alone needs a person: a browser here, or a terminal or "
            "notebook to paste the code in. For a scheduled job use app credentials "
            "(client_id= and client_secret=) or a saved profile"
        )
    import getpass

    print(f"Sign in to the portal on this page, then paste the code it shows:\n{authorization.url}")
    return authorization.code_from_text(getpass.getpass("Code: "))
