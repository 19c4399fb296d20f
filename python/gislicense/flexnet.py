"""The ArcGIS License Manager (FlexNet Publisher) through ``lmutil``: who holds which
concurrent license, taking licenses back with ``lmremove``, and the debug log's history."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Union

from gislicense import _core
from gislicense._calls import Pending, Then, awaiting, blocking
from gislicense._core import FlexNetFeature, FlexNetSession, LicenseEvent, LicenseStatus
from gislicense._http import DEFAULT_TIMEOUT
from gislicense.bulk import BulkReport
from gislicense.exceptions import InvalidInputError
from gislicense.plans import DEFAULT_CONCURRENCY, Plan, change

if TYPE_CHECKING:
    from gislicense._progress import ProgressArg
    from gislicense.plans import JournalArg

__all__ = [
    "FlexNet",
    "FlexNetFeature",
    "FlexNetSession",
    "LicenseEvent",
    "LicenseStatus",
    "parse_lmgrd_log",
    "parse_lmstat",
]

Scalar = Union[str, int, bool]
#: A filter: a value, several values (any matches), or a function of the field's value.
FilterValue = Union[Scalar, Iterable[Scalar], Callable[[Any], bool]]
#: What :meth:`FlexNet.close_applications` takes: sessions, or mappings with ``feature``,
#: ``server``, ``port`` and ``handle``.
CloseItem = Union[FlexNetSession, Mapping[str, Any]]

#: The fields a session can be filtered on.
FIELDS = (
    "feature",
    "product",
    "vendor",
    "username",
    "workstation",
    "display",
    "version",
    "server",
    "port",
    "handle",
    "start_time",
    "licenses",
    "borrowed",
    "pid",
)
_NO_IDLE = (
    "the ArcGIS License Manager (FlexNet) keeps no idle time: lmstat shows when a license "
    "was checked out, not whether it is used. Filter on start_time instead, or use OpenLM, "
    "which measures idle time"
)
DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024


def _same(value: Any, wanted: Scalar) -> bool:
    if isinstance(value, str) and isinstance(wanted, str):
        return value.casefold() == wanted.casefold()
    if isinstance(value, str) and isinstance(wanted, int) and not isinstance(wanted, bool):
        return value == str(wanted)
    return bool(value == wanted)


def _predicate(name: str, value: FilterValue) -> Callable[[Any], bool]:
    if name in ("idle_time", "idle", "duration_idle"):
        raise InvalidInputError(_NO_IDLE)
    if name not in FIELDS:
        raise InvalidInputError(
            f"cannot filter on {name!r}: not a field of a FlexNet session. "
            f"Fields: {', '.join(FIELDS)}"
        )
    if callable(value):
        return value
    if isinstance(value, (str, int, bool)):
        one: Scalar = value
        return lambda v: _same(v, one)
    if isinstance(value, Iterable):
        several = list(value)
        return lambda v: any(_same(v, w) for w in several)
    raise InvalidInputError(
        f"the filter on {name} must be a value, a list of values or a function, "
        f"not {type(value).__name__}"
    )


def filter_sessions(
    sessions: Iterable[FlexNetSession], filters: Mapping[str, FilterValue]
) -> list[FlexNetSession]:
    """The sessions every filter matches (text without regard to case)."""
    checks = [(name, _predicate(name, value)) for name, value in filters.items()]
    return [s for s in sessions if all(check(getattr(s, name)) for name, check in checks)]


class FlexNet:
    """A client for the ArcGIS License Manager (FlexNet Publisher's ``lmgrd`` with the
    ``ARCGIS`` vendor daemon), through FlexNet's ``lmutil``.

    Args:
        server: The license server as ``lmutil -c`` takes it: ``27000@licsrv`` (the
            ArcGIS License Manager's default port), ``@licsrv``, or a license file.
        lmutil: The ``lmutil`` program. By default the first on ``PATH``, then (on
            Windows) the ArcGIS License Manager's ``bin`` folder under Program Files.
        profile: A saved connection of kind ``flexnet`` (``gislicense profile add
            --kind flexnet``). Arguments given here win.
        timeout: Seconds each ``lmutil`` run may take before it is stopped.
        max_output: The most ``lmutil`` may print, in bytes; more is an
            :class:`UnreadableReplyError`, never a silently cut listing.

    ``lmutil`` runs without a shell: nothing in the arguments is interpreted. Every
    method has an ``_async`` twin for asyncio.
    """

    def __init__(
        self,
        server: str | None = None,
        lmutil: str | os.PathLike[str] | None = None,
        *,
        profile: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        if profile is not None:
            from gislicense import profiles

            chosen = profiles.resolve(profile, "flexnet", {"url": server, "timeout": timeout})
            server, timeout = chosen["url"], chosen["timeout"]
        if server is None:
            raise InvalidInputError("give the license server as 27000@host, or profile=")
        path = os.fspath(lmutil) if lmutil is not None else None
        self._client = _core.FlexNetClient(server, path, float(timeout), int(max_output))

    @property
    def server(self) -> str:
        """The license server, as given to ``lmutil -c``."""
        return self._client.server

    @property
    def url(self) -> str:
        """The license server (the name plans and journals know it by)."""
        return self._client.server

    @property
    def lmutil(self) -> str:
        """The ``lmutil`` in use."""
        return os.fspath(self._client.lmutil)

    def __repr__(self) -> str:
        return f"FlexNet({self.server!r})"

    def _repr_html_(self) -> str:
        from gislicense import _html

        return _html.fields("ArcGIS License Manager", [("server", self.server)])

    def _status(self) -> Pending[LicenseStatus]:
        """One ``lmstat -a``, read: ``.features`` and ``.sessions``.

        Raises:
            TransportError: ``lmutil`` could not be run, or the server did not answer.
            RequestTimeoutError: ``lmutil`` ran longer than ``timeout``.
        """
        return self._client.status()

    status = blocking(_status)
    status_async = awaiting(_status)

    def _get_features(self) -> Pending[list[FlexNetFeature]]:
        """Each feature the License Manager serves: ``name``, ``issued``, ``in_use``,
        ``free``, and ``error`` where the server gives one instead of totals."""
        return Then(self._client.status(), lambda status: status.features)

    get_features = blocking(_get_features)
    get_features_async = awaiting(_get_features)

    def _get_active_products(self, /, **filters: FilterValue) -> Pending[list[FlexNetSession]]:
        """The licenses checked out now, as sessions.

        Args:
            **filters: Filters on fields, as for :meth:`gislicense.OpenLM.get_active_products`:
                a value (``feature="Editor"``; text is compared without regard to case),
                several values (``feature=["ARC/INFO", "Editor"]``), or a function of the
                field's value (``start_time=lambda t: t < cutoff``, with ``cutoff`` a naive
                datetime on the license server's clock).

        Raises:
            InvalidInputError: An unknown field, or ``idle_time`` (FlexNet keeps none).
        """
        checks = dict(filters)
        for name, value in checks.items():
            _predicate(name, value)
        return Then(self._client.status(), lambda s: filter_sessions(s.sessions, checks))

    get_active_products = blocking(_get_active_products)
    get_active_products_async = awaiting(_get_active_products)

    def _plan_close(
        self,
        sessions: Iterable[CloseItem],
        *,
        allow_all: bool = False,
        keep_free: int | None = None,
    ) -> Pending[Plan]:
        """Plan taking back the licenses of many sessions with ``lmremove``; nothing is sent.

        One ``lmstat`` is read: a session no longer listed is ``unchanged``, a borrowed one
        is predicted to fail (lmremove cannot return it before its borrow period ends), the
        same session named twice is ``skipped``, the rest ``would_close``.

        Args:
            sessions: FlexNetSessions (from :meth:`get_active_products`), or mappings with
                ``feature``, ``server``, ``port`` and ``handle``.
            allow_all: Let the plan close every open session.
            keep_free: Close only as many sessions of each feature, longest-running first,
                as it takes to leave this many of its licenses free; the rest are
                ``skipped``, saying so.
        """
        if keep_free is not None and (isinstance(keep_free, bool) or keep_free < 0):
            raise InvalidInputError(f"keep_free must be a whole number from 0, not {keep_free!r}")
        items = list(sessions)
        call = self._client.plan_close(items, allow_all, keep_free)
        return Then(call, lambda made: Plan._of(self, made, items, "close_applications"))

    plan_close = blocking(_plan_close)
    plan_close_async = awaiting(_plan_close)

    def _close_applications(
        self,
        sessions: Iterable[CloseItem],
        *,
        dry_run: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY["close_applications"],
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_all: bool = False,
        keep_free: int | None = None,
    ) -> Pending[BulkReport[CloseItem]]:
        """Take back the licenses of many sessions: plan (:meth:`plan_close`), then run
        ``lmutil lmremove -h feature server port handle`` for each, journaled.

        Returns:
            One outcome per session, in order: ``closed`` only when a fresh ``lmstat`` no
            longer shows the handle (``would_close`` in a dry run), ``unchanged`` (no
            longer open), ``skipped`` (named twice, or not needed under ``keep_free``),
            ``failed`` with lmutil's words (a server started to refuse lmremove says so;
            a borrowed license), or ``unknown`` (lmremove was accepted and the handle is
            still listed). A running application may check the license out again at once,
            under a new handle: closing the application itself is OpenLM's job.
        """
        plan = self._plan_close(sessions, allow_all=allow_all, keep_free=keep_free)
        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            progress=progress,
        )

    close_applications = blocking(_close_applications)
    close_applications_async = awaiting(_close_applications)


def parse_lmstat(text: str, *, date: _dt.date | None = None) -> LicenseStatus:
    """Read saved ``lmutil lmstat -a`` output.

    Args:
        text: The output, whole.
        date: The day to date start times by when the output has no status line
            (``Flexible License Manager status on ...``); start times carry no year.

    Returns:
        A :class:`LicenseStatus`: ``.features`` and ``.sessions``, as :class:`FlexNet` gives.
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"text must be str, not {type(text).__name__}")
    day = (date.year, date.month, date.day) if date is not None else None
    return _core.parse_lmstat(text, day)


def parse_lmgrd_log(
    path_or_lines: str | os.PathLike[str] | Iterable[str],
) -> Iterator[LicenseEvent]:
    """Read the License Manager's debug log (``lmgrd9.log``), one event per line, streaming.

    Args:
        path_or_lines: The log's path, or its lines (a file opened as text, a list...).

    Yields:
        :class:`LicenseEvent`: ``time`` (a naive datetime on the server's clock, None
        before the log gives a date), ``kind`` (``"OUT"``, ``"IN"``, ``"DENIED"``,
        ``"UNSUPPORTED"``, ``"QUEUED"``, ``"DEQUEUED"``, or ``"RAW"`` for any other line),
        ``feature``, ``user``, ``workstation``, ``reason``, ``licenses``, ``raw``.
    """
    if isinstance(path_or_lines, (str, os.PathLike)):
        return iter(_core.LmgrdLogFile(os.fspath(path_or_lines)))
    if isinstance(path_or_lines, (bytes, bytearray)):
        raise InvalidInputError("give the log's path or its lines as text, not bytes")
    return _fed(path_or_lines)


def _fed(lines: Iterable[str]) -> Iterator[LicenseEvent]:
    parser = _core.LmgrdLogParser()
    for line in lines:
        if line.strip():
            yield parser.feed(line)


def _titled(title: Callable[[Any], str]) -> Callable[[Any], str]:
    """A notebook's view of a record: its fields as a two-column table, escaped, under
    ``title(record)`` (the view OpenLM's sessions have)."""

    def view(self: Any) -> str:
        from gislicense import _html

        return _html.fields(title(self), self.to_dict().items())

    return view


# The records are the core's; their notebook view is the facade's (as OpenLM's sessions'
# is: the same two-column table).
FlexNetSession._repr_html_ = _titled(  # type: ignore[method-assign,assignment]
    lambda s: f"Session of {s.username} on {s.workstation}"
)
FlexNetFeature._repr_html_ = _titled(lambda f: f"Feature {f.name}")  # type: ignore[method-assign,assignment]
LicenseEvent._repr_html_ = _titled(lambda e: f"{e.kind} {e.feature or ''}".strip())  # type: ignore[method-assign,assignment]
