"""Where the tools read and change licenses, named as a tool parameter holds them, and
signed in to without a password ever being a parameter.

- A portal is ``"pro"`` (the portal ArcGIS Pro is signed in to: ``GIS("pro")``, with
  Pro's own token, renewed by Pro) or the name of a saved portal profile.
- A session source is an OpenLM server's URL (``http://host:7014/OpenLMServer``: OpenLM
  without permissions needs no login), a saved OpenLM profile, or an ArcGIS License
  Manager as ``port@host`` (:data:`LICENSE_MANAGER`), which gislicense does not read yet.

A profile's secrets come from the system keyring or the environment, never from the tool:
:func:`check_portal` and :func:`check_source` say so before anything runs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gislicense.exceptions import InvalidInputError

if TYPE_CHECKING:
    from gislicense.openlm import OpenLM
    from gislicense.portal import GIS

__all__ = [
    "LICENSE_MANAGER",
    "OPENLM_URL",
    "PRO",
    "PROFILE",
    "check_portal",
    "check_source",
    "portal",
    "portal_profiles",
    "session_source",
    "source_kind",
]

PRO = "pro"
#: The kinds of session source: an OpenLM server's URL, a saved profile, ``port@host``.
OPENLM_URL, PROFILE, LICENSE_MANAGER = "openlm_url", "profile", "license_manager"
_PORT_AT_HOST = re.compile(r"\d{1,5}@[A-Za-z0-9][A-Za-z0-9.-]*")


def portal_profiles() -> list[str]:
    """The saved portal profiles' names (an unreadable file gives none)."""
    from gislicense import profiles

    try:
        return [p.name for p in profiles.all_profiles() if p.kind == "portal"]
    except InvalidInputError:
        return []


def _profile(name: str, kind: str) -> None:
    """Refuse a profile that is missing, of the other kind, or whose password (or client
    secret) is nowhere a tool can read it: Pro has no terminal to ask in."""
    from gislicense import profiles

    found = profiles.load(name)
    if found.kind != kind:
        other = "an OpenLM server" if found.kind == "openlm" else "a portal"
        raise InvalidInputError(f"the profile {name!r} is for {other}")
    if found.username and found.password() is None:
        raise InvalidInputError(
            f"the profile {name!r} signs in as {found.username!r}, and its password is not "
            f"stored: store it in the system keyring (`gislicense profile add {name} ... "
            f"--store-password`) or set {profiles.password_variable(name)}; a tool never "
            "asks for a password"
        )


def check_portal(name: str) -> None:
    """Refuse a portal that is neither ``"pro"`` nor a usable portal profile (no network)."""
    if name.strip().lower() == PRO:
        return
    if "://" in name:
        raise InvalidInputError(
            f'{name!r}: a tool signs in through ArcGIS Pro ("pro") or a saved profile, not '
            "a URL (which would need a password): save it with `gislicense profile add`"
        )
    _profile(name.strip(), "portal")


def portal(name: str) -> GIS:
    """The portal ``name`` means, signed in when first used."""
    from gislicense.portal import GIS

    check_portal(name)
    if name.strip().lower() == PRO:
        return GIS(PRO)
    return GIS(profile=name.strip())


def source_kind(source: str) -> str:
    """:data:`OPENLM_URL`, :data:`LICENSE_MANAGER` or :data:`PROFILE`."""
    source = source.strip()
    if "://" in source:
        return OPENLM_URL
    if _PORT_AT_HOST.fullmatch(source):
        return LICENSE_MANAGER
    return PROFILE


def check_source(source: str) -> None:
    """Refuse a session source gislicense cannot read (no network)."""
    kind = source_kind(source)
    if kind == LICENSE_MANAGER:
        raise InvalidInputError(
            f"{source.strip()!r} is an ArcGIS License Manager (port@host), which gislicense "
            "does not read yet: give the OpenLM server that watches it, or its saved profile"
        )
    if kind == PROFILE:
        _profile(source.strip(), "openlm")


def session_source(source: str) -> OpenLM:
    """The client of the sessions ``source`` names."""
    from gislicense.openlm import OpenLM

    check_source(source)
    if source_kind(source) == OPENLM_URL:
        return OpenLM(source.strip())
    return OpenLM(profile=source.strip())
