"""gislicense: see and manage who holds your GIS licenses.

OpenLM sessions (which licenses are in use, closing the applications that hold them),
ArcGIS Portal / Enterprise members, user types, roles and named-user licenses (ArcGIS Pro
entitlements, offline check-outs), and a built-in sandbox that
emulates the servers for scripts and tests.
"""

from gislicense._core import (
    ActiveProduct,
    Sandbox,
    SandboxRequest,
    __version__,
    parse_active_products,
)
from gislicense.bulk import BulkReport, Outcome
from gislicense.exceptions import (
    AuthenticationError,
    BulkOperationError,
    GisLicenseError,
    InvalidInputError,
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
from gislicense.licenses import EntitlementCount, License, UserEntitlement
from gislicense.openlm import OpenLM
from gislicense.portal import GIS, Role, User, UserType

__all__ = [
    "GIS",
    "ActiveProduct",
    "AuthenticationError",
    "BulkOperationError",
    "BulkReport",
    "EntitlementCount",
    "GisLicenseError",
    "InvalidInputError",
    "License",
    "NotFoundError",
    "OpenLM",
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
]
