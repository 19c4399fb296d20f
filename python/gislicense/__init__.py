"""gislicense: see and manage who holds your GIS licenses.

OpenLM sessions (which licenses are in use, closing the applications that hold them),
with a built-in sandbox that emulates the servers for scripts and tests.
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
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    TLSError,
    TokenExpiredError,
    TransportError,
    UnreadableReplyError,
)
from gislicense.openlm import OpenLM

__all__ = [
    "ActiveProduct",
    "AuthenticationError",
    "BulkOperationError",
    "BulkReport",
    "GisLicenseError",
    "InvalidInputError",
    "NotFoundError",
    "OpenLM",
    "Outcome",
    "PermissionDeniedError",
    "RequestTimeoutError",
    "Sandbox",
    "SandboxRequest",
    "ServerError",
    "TLSError",
    "TokenExpiredError",
    "TransportError",
    "UnreadableReplyError",
    "__version__",
    "parse_active_products",
]
