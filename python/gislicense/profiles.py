"""Named connections: where a portal or an OpenLM server is and how to sign in to it, saved
once and used by name from Python (``GIS(profile="prod")``, ``OpenLM(profile="lm")``) and
from the command line (``gislicense --profile prod ...``).

Profiles live in ``profiles.ini`` in :func:`config_dir`, one section each; nothing secret is
written there. A password comes, in this order, from the environment variable
``GISLICENSE_PASSWORD_<PROFILE>`` (the name in capitals, other characters as ``_``), the
system keyring when the optional ``keyring`` package is installed (service ``gislicense``,
the profile's name as the key), ``GISLICENSE_PASSWORD``, or a prompt on the terminal.

A portal profile may sign in with OAuth instead (``client_id``): with app credentials when
its client secret is found (``GISLICENSE_CLIENT_SECRET_<PROFILE>``, the keyring under
``<profile>:client_secret``, ``GISLICENSE_CLIENT_SECRET``), else by a person on the portal's
sign-in page. It may present a client certificate (``cert_file``, ``key_file``); a PKCS#12
file's password comes the same way (``GISLICENSE_CERT_PASSWORD_<PROFILE>``, the keyring under
``<profile>:cert_password``, ``GISLICENSE_CERT_PASSWORD``).
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import TYPE_CHECKING, Any

from gislicense.exceptions import InvalidInputError

if TYPE_CHECKING:
    from configparser import ConfigParser
    from pathlib import Path

#: The keyring service passwords are stored under; the key is the profile's name.
KEYRING_SERVICE = "gislicense"
PASSWORD_VARIABLE = "GISLICENSE_PASSWORD"
#: The secrets a profile's connection may need, and the environment variable of each (the
#: profile's own is this with ``_<PROFILE>`` added).
SECRETS = {
    "password": PASSWORD_VARIABLE,
    "client_secret": "GISLICENSE_CLIENT_SECRET",
    "cert_password": "GISLICENSE_CERT_PASSWORD",
}
KINDS = ("portal", "openlm", "flexnet")
#: The settings a profile may hold, besides its kind and URL.
SETTINGS = (
    "username",
    "ca_bundle",
    "timeout",
    "connect_timeout",
    "allow_insecure_http",
    "client_id",
    "cert_file",
    "key_file",
)


def config_dir() -> Path:
    """``$GISLICENSE_CONFIG_DIR``, else the user's configuration folder:
    ``%APPDATA%\\gislicense`` on Windows, ``~/Library/Application Support/gislicense`` on
    macOS, ``$XDG_CONFIG_HOME/gislicense`` or ``~/.config/gislicense`` elsewhere."""
    from pathlib import Path

    from gislicense._folders import user_folder

    chosen = os.environ.get("GISLICENSE_CONFIG_DIR")
    return Path(chosen) if chosen else user_folder("config")


def profiles_file() -> Path:
    return config_dir() / "profiles.ini"


class Profile:
    """One named connection.

    Attributes:
        name: The profile's name.
        kind: ``"portal"``, ``"openlm"`` or ``"flexnet"`` (an ArcGIS License Manager, its
            URL ``27000@host``).
        url: The server.
        username: Who signs in; None for none (an OpenLM server without permissions).
        ca_bundle: A PEM file of extra CAs to trust, or None.
        timeout, connect_timeout: Seconds, or None for the defaults.
        allow_insecure_http: Accept an ``http://`` portal (test portals).
        client_id: Sign in to the portal with OAuth, with this app.
        cert_file, key_file: A client certificate for a portal behind PKI.
    """

    __slots__ = (
        "allow_insecure_http",
        "ca_bundle",
        "cert_file",
        "client_id",
        "connect_timeout",
        "key_file",
        "kind",
        "name",
        "timeout",
        "url",
        "username",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        url: str,
        *,
        username: str | None = None,
        ca_bundle: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        allow_insecure_http: bool = False,
        client_id: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
    ) -> None:
        check_name(name)
        if kind not in KINDS:
            raise InvalidInputError(
                f"a profile is for a portal, an OpenLM server or a License Manager (flexnet), "
                f"not {kind!r}"
            )
        if not url.strip():
            raise InvalidInputError(f"the profile {name!r} needs a URL")
        self.name = name
        self.kind = kind
        self.url = url.strip()
        self.username = username or None
        self.ca_bundle = ca_bundle or None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.allow_insecure_http = allow_insecure_http
        self.client_id = client_id or None
        self.cert_file = cert_file or None
        self.key_file = key_file or None
        if kind != "portal" and (self.client_id or self.cert_file or self.key_file):
            raise InvalidInputError(
                "client_id, cert_file and key_file are for a portal profile, not an OpenLM one"
            )
        if self.client_id and self.username:
            raise InvalidInputError(
                f"the profile {name!r} signs in as a user or with client_id (OAuth), not both"
            )
        if self.key_file and not self.cert_file:
            raise InvalidInputError("key_file needs its certificate as cert_file")

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username else ""
        return f"Profile({self.name!r}, {self.kind!r}, {self.url!r}{user})"

    def options(self) -> dict[str, Any]:
        """The connection options it sets, as the client classes take them."""
        options: dict[str, Any] = {}
        if self.ca_bundle:
            options["ca_bundle"] = self.ca_bundle
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.connect_timeout is not None:
            options["connect_timeout"] = self.connect_timeout
        if self.allow_insecure_http and self.kind == "portal":
            options["allow_insecure_http"] = True
        for key in ("cert_file", "key_file"):
            if getattr(self, key):
                options[key] = getattr(self, key)
        return options

    def password(self) -> str | None:
        """The password, from the environment or the keyring (see the module); None when
        neither has one (the caller asks, or signs in without)."""
        if self.username is None:
            return None
        return self.secret("password")

    def secret(self, which: str) -> str | None:
        """A secret of this profile (``password``, ``client_secret``, ``cert_password``): its
        own environment variable, the keyring, then the general variable; None if none."""
        own = os.environ.get(secret_variable(self.name, which))
        if own:
            return own
        stored = keyring_secret(self.name, which)
        if stored:
            return stored
        return os.environ.get(SECRETS[which]) or None


def check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name or ""):
        raise InvalidInputError(
            f"a profile name is letters, digits, '.', '_' or '-' (at most 64), not {name!r}"
        )


def password_variable(name: str) -> str:
    """The environment variable that holds one profile's password."""
    return secret_variable(name, "password")


def secret_variable(name: str, which: str) -> str:
    """The environment variable that holds one profile's secret of that kind."""
    return f"{SECRETS[which]}_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}"


def _keyring_key(name: str, which: str) -> str:
    # The password under the profile's name (as before), the others beside it.
    return name if which == "password" else f"{name}:{which}"


def _read() -> ConfigParser:
    from configparser import ConfigParser, Error

    parser = ConfigParser(interpolation=None)
    path = profiles_file()
    try:
        parser.read(path, encoding="utf-8")
    except (Error, UnicodeDecodeError) as err:
        raise InvalidInputError(f"{path} cannot be read as profiles: {err}") from None
    return parser


def _number(section: Any, key: str, name: str) -> float | None:
    text = section.get(key)
    if text in (None, ""):
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(
            f"the profile {name!r} has {key} = {text!r}: give a number of seconds"
        ) from None


def load(name: str) -> Profile:
    """The profile called ``name``.

    Raises:
        InvalidInputError: There is no such profile (the message lists the ones there are),
            or it cannot be read.
    """
    parser = _read()
    if not parser.has_section(name):
        known = ", ".join(parser.sections()) or "none yet"
        raise InvalidInputError(
            f"there is no profile {name!r} in {profiles_file()} (profiles: {known})"
        )
    section = parser[name]
    return Profile(
        name,
        section.get("kind", "portal"),
        section.get("url", ""),
        username=section.get("username"),
        ca_bundle=section.get("ca_bundle"),
        timeout=_number(section, "timeout", name),
        connect_timeout=_number(section, "connect_timeout", name),
        allow_insecure_http=section.getboolean("allow_insecure_http", fallback=False),
        client_id=section.get("client_id"),
        cert_file=section.get("cert_file"),
        key_file=section.get("key_file"),
    )


def all_profiles() -> list[Profile]:
    """Every profile, in the file's order."""
    return [load(name) for name in _read().sections()]


def save(profile: Profile) -> None:
    """Add ``profile``, or replace the one of that name. No password is written."""
    parser = _read()
    if parser.has_section(profile.name):
        parser.remove_section(profile.name)
    parser.add_section(profile.name)
    section = parser[profile.name]
    section["kind"] = profile.kind
    section["url"] = profile.url
    for key in SETTINGS:
        value = getattr(profile, key)
        if value not in (None, False):
            section[key] = "true" if value is True else str(value)
    _write(parser)


def _write(parser: ConfigParser) -> None:
    """Write the profiles: URLs and user names of the organization, the user's alone."""
    from gislicense._folders import open_private

    path = profiles_file()
    with open_private(path, make_folders=True) as file:
        parser.write(file)
    if os.name == "posix":
        os.chmod(path, 0o600)  # written 0644 by versions before 0.1


def remove(name: str) -> bool:
    """Remove the profile (and its password in the keyring); False if there was none."""
    parser = _read()
    if not parser.remove_section(name):
        return False
    _write(parser)
    for which in SECRETS:
        forget_secret(name, which)
    return True


# The keyring is optional: without the package, nothing is stored and nothing is read.


def _keyring() -> Any:
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return keyring


def has_keyring() -> bool:
    return _keyring() is not None


def keyring_password(name: str) -> str | None:
    return keyring_secret(name, "password")


def keyring_secret(name: str, which: str) -> str | None:
    keyring = _keyring()
    if keyring is None:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, _keyring_key(name, which))  # type: ignore[no-any-return]
    except Exception:  # a locked or missing backend: as if nothing were stored
        return None


def store_password(name: str, password: str) -> None:
    store_secret(name, "password", password)


def store_secret(name: str, which: str, value: str) -> None:
    keyring = _keyring()
    what = which.replace("_", " ")
    if keyring is None:
        raise InvalidInputError(
            f"storing a {what} needs the keyring package (pip install keyring); or keep it "
            f"in the environment variable {secret_variable(name, which)}"
        )
    try:
        keyring.set_password(KEYRING_SERVICE, _keyring_key(name, which), value)
    except Exception as err:
        # The backend's own error text: not the secret, which it never includes.
        raise InvalidInputError(f"the system keyring refused the {what}: {err}") from None


def forget_password(name: str) -> None:
    forget_secret(name, "password")


def forget_secret(name: str, which: str) -> None:
    keyring = _keyring()
    if keyring is None:
        return
    # Nothing stored, or no backend: nothing to forget.
    with contextlib.suppress(Exception):
        keyring.delete_password(KEYRING_SERVICE, _keyring_key(name, which))


def resolve(name: str, kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """The connection arguments of a client made with ``profile=name``: each argument the
    caller set (anything but the clients' default) wins, the profile fills in the rest, and
    the password is looked up (see the module) when the profile's user signs in."""
    from gislicense._http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT

    # What GIS(...) and OpenLM(...) take when an argument is not given.
    defaults = {
        "url": None,
        "username": None,
        "ca_bundle": None,
        "timeout": DEFAULT_TIMEOUT,
        "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
        "allow_insecure_http": False,
        "client_id": None,
        "cert_file": None,
        "key_file": None,
    }
    profile = load(name)
    if profile.kind != kind:
        server, client = {
            "portal": ("a portal", "GIS"),
            "openlm": ("an OpenLM server", "OpenLM"),
            "flexnet": ("a License Manager", "FlexNet"),
        }[profile.kind]
        raise InvalidInputError(f"the profile {name!r} is for {server}: use {client}(profile=)")
    merged = dict(given)
    unset = {key for key, value in given.items() if value == defaults.get(key)}
    if "url" in unset:
        merged["url"] = profile.url
    if "username" in unset:
        merged["username"] = profile.username
    for key, value in profile.options().items():
        # The profile's key belongs to the profile's certificate, not to one given here.
        if key == "key_file" and "cert_file" not in unset:
            continue
        if key in unset:
            merged[key] = value
    # The profile's own way in, unless the caller chose another (a user, a token, an app).
    chose = any(merged.get(k) is not None for k in ("username", "token")) or merged.get(
        "client_id"
    ) not in (None, profile.client_id)
    if profile.client_id and not chose:
        merged["client_id"] = profile.client_id
        if merged.get("client_secret") is None:
            merged["client_secret"] = profile.secret("client_secret")
    signs_in_as_profile = (
        merged.get("username") == profile.username and merged.get("client_id") is None
    )
    if merged.get("password") is None and merged.get("token") is None and signs_in_as_profile:
        merged["password"] = profile.password()
    uses_profile_cert = profile.cert_file and merged.get("cert_file") == profile.cert_file
    if uses_profile_cert and merged.get("cert_password") is None:
        merged["cert_password"] = profile.secret("cert_password")
    return merged
