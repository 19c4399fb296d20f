"""gislicense: see and manage who holds your GIS licenses.

OpenLM sessions (which licenses are in use, closing the applications that hold them), the
ArcGIS License Manager (FlexNet: lmstat, lmremove, its debug log),
ArcGIS Portal / Enterprise members, user types, roles and named-user licenses (ArcGIS Pro
entitlements, offline check-outs), and a built-in sandbox that
emulates the servers for scripts and tests.
"""

from __future__ import annotations

# The exceptions are loaded at once: they are small, and what `except` clauses name.
from gislicense.exceptions import (
    AuthenticationError,
    BulkOperationError,
    GisLicenseError,
    InvalidInputError,
    JournalError,
    ListingCutOffError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    TLSError,
    TokenExpiredError,
    TransportError,
    UnreadableReplyError,
)

# Not `from typing import ...`: importing typing costs more than the package's own start
# (type checkers read the name TYPE_CHECKING as true wherever it comes from).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gislicense import bulk as bulk
    from gislicense import flexnet as flexnet
    from gislicense import history as history
    from gislicense import licenses as licenses
    from gislicense import openlm as openlm
    from gislicense import plans as plans
    from gislicense import portal as portal
    from gislicense import profiles as profiles
    from gislicense import tables as tables
    from gislicense import toolbox as toolbox
    from gislicense import users as users
    from gislicense._core import (
        ActiveProduct,
        SandboxRequest,
        __version__,
        parse_active_products,
    )
    from gislicense.bulk import BulkReport, Outcome
    from gislicense.flexnet import (
        FlexNet,
        FlexNetFeature,
        FlexNetSession,
        LicenseEvent,
        LicenseStatus,
        parse_lmgrd_log,
        parse_lmstat,
    )
    from gislicense.history import History
    from gislicense.licenses import EntitlementCount, License, UserEntitlement
    from gislicense.openlm import OpenLM, OpenLMServer, OpenLMVendor
    from gislicense.portal import GIS
    from gislicense.sandbox import Sandbox
    from gislicense.tables import to_dataframe
    from gislicense.toolbox import toolbox_path
    from gislicense.users import Role, User, UserType

# Everything else loads on first use (PEP 562): importing the package (an ArcGIS Pro
# toolbox being loaded, `gislicense --help`) does not load the native core.
_WHERE = {
    "ActiveProduct": "_core",
    "Sandbox": "sandbox",
    "SandboxRequest": "_core",
    "__version__": "_core",
    "parse_active_products": "_core",
    "BulkReport": "bulk",
    "FlexNet": "flexnet",
    "FlexNetFeature": "flexnet",
    "FlexNetSession": "flexnet",
    "LicenseEvent": "flexnet",
    "LicenseStatus": "flexnet",
    "parse_lmgrd_log": "flexnet",
    "parse_lmstat": "flexnet",
    "Outcome": "bulk",
    "EntitlementCount": "licenses",
    "License": "licenses",
    "UserEntitlement": "licenses",
    "OpenLM": "openlm",
    "OpenLMServer": "openlm",
    "OpenLMVendor": "openlm",
    "GIS": "portal",
    "Role": "users",
    "User": "users",
    "UserType": "users",
    "to_dataframe": "tables",
    "toolbox_path": "toolbox",
    "History": "history",
}
_MODULES = {
    *("bulk", "cli", "flexnet", "history", "licenses", "openlm", "plans", "portal"),
    *("profiles", "tables", "toolbox", "users"),
}


def _load(module: str) -> Any:
    # __import__ rather than importlib.import_module: importing importlib (and the warnings
    # module it imports) would cost more than the rest of this module. With a fromlist it
    # returns the submodule itself.
    return __import__(f"gislicense.{module}", fromlist=["__name__"])


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return _load(name)
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'gislicense' has no attribute {name!r}")
    value = getattr(_load(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_MODULES})


__all__ = [
    "GIS",
    "ActiveProduct",
    "AuthenticationError",
    "BulkOperationError",
    "BulkReport",
    "EntitlementCount",
    "FlexNet",
    "FlexNetFeature",
    "FlexNetSession",
    "GisLicenseError",
    "History",
    "InvalidInputError",
    "JournalError",
    "License",
    "LicenseEvent",
    "LicenseStatus",
    "ListingCutOffError",
    "NotFoundError",
    "OpenLM",
    "OpenLMServer",
    "OpenLMVendor",
    "Outcome",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RequestTimeoutError",
    "Role",
    "Sandbox",
    "SandboxRequest",
    "ServerError",
    "TLSError",
    "TokenExpiredError",
    "TransportError",
    "UnreadableReplyError",
    "User",
    "UserEntitlement",
    "UserType",
    "__version__",
    "parse_active_products",
    "parse_lmgrd_log",
    "parse_lmstat",
    "to_dataframe",
    "toolbox_path",
]
