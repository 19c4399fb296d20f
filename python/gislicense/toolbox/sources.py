"""Where the tools read and change licenses, named as a tool parameter holds them, and
signed in to without a password ever being a parameter.

- A portal is ``"pro"`` (the portal ArcGIS Pro is signed in to: ``GIS("pro")``, with
  Pro's own token, renewed by Pro) or the name of a saved portal profile.
- A session source is an OpenLM server's URL (``http://host:7014/OpenLMServer``: OpenLM
  without permissions needs no login), an ArcGIS License Manager as ``port@host``
  (:data:`LICENSE_MANAGER`, read with FlexNet's ``lmutil``), or a saved profile of either.

A profile's secrets come from the system keyring or the environment, never from the tool:
:func:`check_portal` and :func:`check_source` say so before anything runs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gislicense.exceptions import InvalidInputError

if TYPE_CHECKING:
    from gislicense.flexnet import FlexNet
    from gislicense.openlm import OpenLM
    from gislicense.portal import GIS

__all__ = [
    "LICENSE_MANAGER",
    "OPENLM_URL",
    "PRO",
    "PROFILE",
    "check_portal",
    "check_source",
    "is_license_manager",
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


_SERVERS = {
    "openlm": "an OpenLM server",
    "flexnet": "an ArcGIS License Manager",
    "portal": "a portal",
}


def _profile(name: str, *kinds: str) -> str:
    """The kind of profile ``name``; refused when it is missing, of another kind, or its
    password (or client secret) is nowhere a tool can read it: Pro has no terminal to ask
    in."""
    from gislicense import profiles

    found = profiles.load(name)
    if found.kind not in kinds:
        raise InvalidInputError(f"the profile {name!r} is for {_SERVERS[found.kind]}")
    if found.username and found.password() is None:
        raise InvalidInputError(
            f"the profile {name!r} signs in as {found.username!r}, and its password is not "
            f"stored: store it in the system keyring (`gislicense profile add {name} ... "
            f"--store-password`) or set {profiles.password_variable(name)}; a tool never "
            "asks for a password"
        )
    return found.kind


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
    if source_kind(source) == PROFILE:
        _profile(source.strip(), "openlm", "flexnet")


def is_license_manager(source: str) -> bool:
    """Whether ``source`` is an ArcGIS License Manager: ``port@host`` or a saved profile of
    kind flexnet (checked first with :func:`check_source`)."""
    kind = source_kind(source)
    if kind == PROFILE:
        return _profile(source.strip(), "openlm", "flexnet") == "flexnet"
    return kind == LICENSE_MANAGER


def session_source(source: str, lmutil: str | None = None) -> OpenLM | FlexNet:
    """The client of the sessions ``source`` names: OpenLM, or a License Manager read with
    ``lmutil`` (by default FlexNet's: on ``PATH``, then the ArcGIS License Manager's)."""
    from gislicense.flexnet import FlexNet
    from gislicense.openlm import OpenLM

    check_source(source)
    name = source.strip()
    if is_license_manager(source):
        if source_kind(source) == LICENSE_MANAGER:
            return FlexNet(name, lmutil=lmutil)
        return FlexNet(profile=name, lmutil=lmutil)
    if source_kind(source) == OPENLM_URL:
        return OpenLM(name)
    return OpenLM(profile=name)
