"""The exceptions gislicense raises, all under :class:`GisLicenseError`.

The Rust core raises these classes (it looks them up here). Every message says what failed
and where, and never contains a password or a token.
"""

from __future__ import annotations

from gislicense._hints import Hint, hints_in

# Not `from typing import ...`: importing typing costs more than this module (type checkers
# read the name TYPE_CHECKING as true wherever it comes from).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gislicense.bulk import BulkReport

__all__ = [
    "AuthenticationError",
    "BulkOperationError",
    "GisLicenseError",
    "InvalidInputError",
    "JournalError",
    "ListingCutOffError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RequestTimeoutError",
    "ServerError",
    "TLSError",
    "TokenExpiredError",
    "TransportError",
    "UnreadableReplyError",
]


class GisLicenseError(Exception):
    """Base class of every gislicense error.

    Attributes:
        message: The full message, as ``str(error)`` gives it.
        url: The URL the failure happened at (redacted), or None for bad input.
        hints: Where the message advises in the library's own names (``pass
            allow_all=True``): each :class:`~gislicense._hints.Hint` names the parameter or
            method and the value, so that a front end can give the advice in its own names.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        hints: tuple[Hint, ...] | None = None,
        **_: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.hints = hints_in(message) if hints is None else hints


class InvalidInputError(GisLicenseError, ValueError):
    """Bad input, found before anything was sent."""


class TransportError(GisLicenseError):
    """The server could not be reached, or the connection broke."""


class RequestTimeoutError(TransportError):
    """The server did not answer in time (``timeout=`` / ``connect_timeout=``)."""


class TLSError(TransportError):
    """The TLS handshake failed: an untrusted or expired certificate, a wrong host name.

    For a portal whose certificate comes from your organization's CA, pass ``ca_bundle=``.
    """


class AuthenticationError(GisLicenseError):
    """Sign-in failed, or the server wants a sign-in it did not get."""


class TokenExpiredError(AuthenticationError):
    """A token given with ``token=`` expired or was revoked; gislicense cannot renew it."""


class PermissionDeniedError(GisLicenseError):
    """Signed in, but not allowed to do this (often: the operation needs an administrator)."""


class NotFoundError(GisLicenseError, LookupError):
    """What was asked for does not exist: a user, a listing, an endpoint."""


class ServerError(GisLicenseError):
    """The server refused the request with its own message.

    Attributes:
        status: The HTTP status, if known.
        code: The server's error code, if it gave one.
        server_message: The server's message as it gave it.
        details: The server's details.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        code: int | None = None,
        server_message: str | None = None,
        details: list[str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message, url=url, **extra)
        self.status = status
        self.code = code
        self.server_message = server_message if server_message is not None else message
        self.details = list(details or [])


class UnreadableReplyError(GisLicenseError):
    """The reply is not what the protocol promises (HTML, garbage, truncated data).

    A listing whose pages hold members without a user name, or the same member twice, is
    refused with it too: the message names the page.

    Attributes:
        status: The HTTP status of the reply.
        body_start: The first characters of the reply, to see what came instead.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        body_start: str = "",
        **extra: Any,
    ) -> None:
        super().__init__(message, url=url, **extra)
        self.status = status
        self.body_start = body_start


class OutcomeUnknownError(GisLicenseError):
    """A change was sent, and whether the server made it is not known.

    Its answer was lost (a timeout or a broken connection after the request went out), could
    not be read, or said neither done nor refused. The change may have happened: look at the
    current state before repeating it. Bulk operations do that themselves and report
    ``"unknown"`` only for the items a re-read could not settle.
    """


class ListingCutOffError(GisLicenseError):
    """The server will not serve this listing whole, and gislicense could not work around it.

    A portal pages through only the first 10,000 results of a search ("Only the first
    10,000 results can be paginated"). gislicense splits a member search that matches more
    into parts by user name, each within that window; this error says what could not be
    reached that way (a license's holders cannot be split: the listing takes no query).
    A listing whose paging stalls (a ``nextStart`` that does not advance, a page that comes
    back empty while the total counts more) raises it too. It is raised instead of
    returning a list that is silently short.
    """


class JournalError(GisLicenseError):
    """The journal of a run could not be written (a full disk, a folder made read-only).

    The run stopped sending at once. Every change sent was journaled as sent before it went,
    so the journal shows each one that may have happened; the message says how many answers
    could not be written and how to finish (``Plan.resume``, ``gislicense journal resume``),
    which reads each item's state again.

    Attributes:
        path: The journal.
    """

    def __init__(self, message: str, *, path: str | None = None, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.path = path


class BulkOperationError(GisLicenseError):
    """Raised by :meth:`BulkReport.raise_for_failures` when items failed.

    Attributes:
        report: The whole report, every item with its outcome.
    """

    def __init__(self, message: str, *, report: BulkReport[Any]) -> None:
        super().__init__(message)
        self.report = report
