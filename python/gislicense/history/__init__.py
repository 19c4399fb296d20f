"""Usage history: who used which license over time, recorded by polling (or read from
logs and saved outputs) into one SQLite file, and the reports and pictures made from it.

``History()`` opens (creating on first use, readable by its owner only) the file in the
user's data folder; ``History(path)`` another. ``record(client)`` takes one poll of an
OpenLM server (anything with ``get_active_products()``, a FlexNet client too) or one reading
of a portal's members (a :class:`~gislicense.GIS`). The schema is documented in the
reference ("History file").
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Union

from gislicense.exceptions import InvalidInputError
from gislicense.history import _record, _reports, _rollup, _schema
from gislicense.history._plots import PlotMixin

__all__ = ["DEFAULT_GAP", "History", "default_path"]

#: After this long without a poll, a source's sessions are not assumed to have continued.
DEFAULT_GAP = _dt.timedelta(minutes=30)
default_path = _schema.default_path
#: A time: a datetime (naive is local time) or seconds since 1970.
When = Union[_dt.datetime, float, None]


def _at(at: When) -> int:
    return int(time.time()) if at is None else _record.seconds(at)


def _maybe(at: When) -> int | None:
    return None if at is None else _record.seconds(at)


def table(rows: list[dict[str, Any]]) -> Any:
    """A pandas DataFrame of ``rows`` when pandas is installed, else the rows."""
    try:
        import pandas  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def _served(read: Any) -> list[Any]:
    """What ``read()`` returns; nothing where the portal does not serve it (a portal from
    before user types has neither user types nor named-user licenses). Any other failure
    stops the reading: a half-read state would record changes that did not happen."""
    from gislicense.exceptions import NotFoundError

    try:
        return list(read())
    except NotFoundError:
        return []


def _kind(client: Any) -> str:
    """What a source of sessions is: ``openlm``, ``flexnet``, or ``sessions`` (another
    client with ``get_active_products()``)."""
    from gislicense.flexnet import FlexNet
    from gislicense.openlm import OpenLM

    if isinstance(client, (FlexNet, OpenLM)):
        return "flexnet" if isinstance(client, FlexNet) else "openlm"
    name = type(client).__name__.lower()
    return next((k for k in ("openlm", "flexnet") if k in name), "sessions")


def _stamp(value: Any) -> str | None:
    """A time as the text the member state keeps (seconds since 1970)."""
    if value is None:
        return None
    return str(_record.seconds(value))


def member_state(gis: Any) -> dict[str, dict[str, str | None]]:
    """What a portal reports of each member now: user type, role, last sign-in,
    disabled, entitlements, and each entitlement's last use (the portal reports the last
    use of the license that grants it)."""
    state: dict[str, dict[str, str | None]] = {}
    for member in gis.users.search():
        state[member.username] = {
            "user_type": member.user_type,
            "role": member.role,
            "last_login": _stamp(member.last_login),
            "disabled": "true" if member.disabled else "false",
        }
    for license in _served(lambda: gis.admin.license.all()):
        for held in license.users():
            fields = state.setdefault(held.username, {})
            names = sorted(held.entitlements)
            known = [e for e in (fields.get("entitlements") or "").split(",") if e]
            fields["entitlements"] = ",".join(sorted({*known, *names}))
            for name in names:
                fields[f"last_use:{name}"] = _stamp(held.last_login)
    return state


class History(PlotMixin):
    """A usage history file.

    Args:
        path: The SQLite file; by default ``history.sqlite`` in the user's data folder
            (``$GISLICENSE_HISTORY`` chooses another). Made on first use, readable by its
            owner only.
        gap: After this long without a poll, a source's open sessions are ended where
            they were last seen, and the stretch is a gap in every report (never "nothing in
            use"). Set it to a few times the polling interval.

    Safe to use from two processes at once (each write is one transaction; a writer waits
    up to 30 s for another); recording the same poll or log line twice changes nothing.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, gap: _dt.timedelta = DEFAULT_GAP
    ) -> None:
        self.path = Path(path) if path is not None else _schema.default_path()
        self.gap = int(gap.total_seconds())
        if self.gap <= 0:
            raise InvalidInputError("gap must be longer than 0 seconds")
        self._db = _schema.connect(self.path)

    def __repr__(self) -> str:
        return f"History({str(self.path)!r})"

    def _repr_html_(self) -> str:
        """A notebook's view: the file and what it holds (the charts are the ``plot_*``
        figures, which a notebook shows as they are)."""
        from gislicense import _html

        sources = self._sources()
        first = min((s["first"] for s in sources if s["first"]), default=None)
        last = max((s["last"] for s in sources if s["last"]), default=None)
        return _html.fields(
            "Usage history",
            [
                ("file", str(self.path)),
                ("schema version", self.schema_version),
                ("sources", ", ".join(f"{s['source']} ({s['kind']})" for s in sources) or "none"),
                ("polls", sum(s["polls"] for s in sources)),
                ("from", first),
                ("to", last),
            ],
        )

    def close(self) -> None:
        """Close the file (a ``with`` block does it)."""
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return _schema.version(self._db)

    # Recording

    def record(self, client: Any, *, at: When = None, source: str | None = None) -> dict[str, Any]:
        """One poll of ``client``: the sessions open on an OpenLM server, or on an ArcGIS
        License Manager (a :class:`~gislicense.FlexNet`: its sessions and each feature's
        issued count, from one ``lmstat``; its naive server-clock times are read as local
        time), or a portal's members (a GIS). ``at`` is the poll's time (now by default);
        ``source`` names the source (by default the client's URL, a License Manager's
        ``port@host``). A poll that fails is recorded as one (a gap) and its error raised.

        Returns:
            ``{"source", "kind", "at", "sessions"}`` (``sessions`` None when the poll was
            not written: one at or before the source's latest, as when another recorder's
            later poll came first) or, for a portal, ``"members"`` and ``"changes"``.
        """
        when = _at(at)
        name = source or str(getattr(client, "url", None) or repr(client))
        if hasattr(client, "get_active_products"):
            kind = _kind(client)
            sid = _record.source_id(self._db, kind, name, self.gap)
            try:
                # A License Manager's one lmstat gives the sessions and each feature's
                # issued count (OpenLM does not know the count).
                status = (
                    client.status() if kind == "flexnet" and hasattr(client, "status") else None
                )
                sessions = status.sessions if status else client.get_active_products()
            except Exception as err:
                _record.record_failure(self._db, sid, when, f"{type(err).__name__}: {err}")
                raise
            n = self._poll(sid, when, sessions, status)
            return {"source": name, "kind": kind, "at": when, "sessions": n}
        if hasattr(client, "users") and hasattr(client, "admin"):
            return self._record_portal(client, name, when)
        raise InvalidInputError(
            f"a {type(client).__name__} cannot be recorded: give an OpenLM or FlexNet client "
            "(anything with get_active_products()) or a GIS"
        )

    def _record_portal(self, gis: Any, name: str, when: int) -> dict[str, Any]:
        sid = _record.source_id(self._db, "portal", name)
        state = member_state(gis)
        changes = _record.record_members(self._db, sid, when, state)
        if changes is not None:
            # Seats per user type: bought and in use, as the portal states them.
            held: dict[str, int] = {}
            for fields in state.values():
                kind = fields.get("user_type")
                if kind:
                    held[kind] = held.get(kind, 0) + 1
            seats = {}
            for user_type in _served(lambda: gis.users.license_types):
                in_use = (
                    user_type.in_use if user_type.in_use is not None else held.get(user_type.id, 0)
                )
                seats[f"user type {user_type.id}"] = (in_use, user_type.maximum)
            _record.record_counts(self._db, sid, when, seats)
        return {
            "source": name,
            "kind": "portal",
            "at": when,
            "members": len(state),
            "changes": changes,
        }

    def record_sessions(
        self,
        sessions: Iterable[Any],
        *,
        source: str,
        kind: str = "openlm",
        at: When = None,
    ) -> int | None:
        """Record sessions read elsewhere (a saved ``GetActiveProducts`` reply, an
        ``lmstat`` output) as one poll of ``source`` at ``at``. Each session needs
        ``feature``, and may have ``username``, ``workstation``, ``server``, ``handle``,
        ``start_time``, ``licenses`` and ``idle_time``. How many were open; None when not
        written: a poll at or before the source's latest (a history is recorded in time
        order; the same listing imported twice is written once)."""
        sid = _record.source_id(self._db, kind, source, self.gap)
        return _record.record_poll(self._db, sid, _at(at), sessions, self.gap)

    def import_active_products(
        self,
        reply: bytes | str | os.PathLike[str],
        *,
        source: str,
        at: When = None,
    ) -> int | None:
        """Record a saved OpenLM ``GetActiveProducts`` reply (its XML bytes, or a file; the
        file's modification time when ``at`` is not given) as one poll of ``source``."""
        from gislicense._core import parse_active_products

        if not isinstance(reply, bytes):
            file = Path(reply)
            if at is None:
                at = file.stat().st_mtime
            reply = file.read_bytes()
        return self.record_sessions(parse_active_products(reply), source=source, at=at)

    def import_log(self, events: Iterable[Any], *, source: str) -> dict[str, int]:
        """Record license server log events (from ``gislicense.parse_lmgrd_log``: objects
        with ``time`` (naive, local), ``kind`` (``OUT``, ``IN``, ``DENIED``...),
        ``feature``, ``user``, ``workstation``, ``reason``, ``licenses``, ``raw``), in
        bounded memory. Check-outs and check-ins make sessions and the in-use counts;
        every event is kept. An event imported before is skipped. Returns the new events
        by kind."""
        sid = _record.source_id(self._db, "flexnet-log", source)
        return _record.import_events(self._db, sid, events)

    def import_lmstat(self, status: Any, *, source: str, at: When = None) -> int | None:
        """Record a saved ``lmstat -a`` output (from ``gislicense.parse_lmstat``: its
        ``features`` with ``name`` and ``issued``, its ``sessions``) as one poll of
        ``source`` at ``at``, with the issued counts it states."""
        when = _at(at)
        sid = _record.source_id(self._db, "flexnet", source, self.gap)
        return self._poll(sid, when, status.sessions, status)

    def _poll(self, sid: int, when: int, sessions: Any, status: Any) -> int | None:
        """Record one poll; with a License Manager's ``status``, first the issued counts
        it states (a feature that gives an error instead of totals has none). Nothing is
        written for a poll at or before the source's latest."""
        row = self._db.execute(
            "SELECT MAX(at) FROM polls WHERE source_id = ? AND error IS NULL", (sid,)
        ).fetchone()
        if row[0] is not None and when <= row[0]:
            return None
        for feature in getattr(status, "features", None) or ():
            if getattr(feature, "issued", None) is not None:
                _record.set_issued(self._db, sid, feature.name, int(feature.issued), when)
        return _record.record_poll(self._db, sid, when, sessions, self.gap)

    def set_issued(
        self,
        feature: str,
        count: int,
        *,
        source: str | None = None,
        since: When = None,
    ) -> None:
        """How many licenses of ``feature`` were bought, from ``since`` on (always, by
        default), for ``source`` (every source that has the feature, by default): the
        line reports and plots compare use against. OpenLM does not report it."""
        if count < 0:
            raise InvalidInputError("an issued count is 0 or more")
        rows = self._db.execute(
            "SELECT DISTINCT s.id FROM sources s JOIN features f ON f.source_id = s.id "
            "WHERE f.feature = ? AND (? IS NULL OR s.name = ?)",
            (feature, source, source),
        ).fetchall()
        if not rows:
            raise InvalidInputError(f"no source has recorded the feature {feature!r} yet")
        for (sid,) in rows:
            _record.set_issued(self._db, sid, feature, count, _maybe(since) or 0)

    # Reports: each public one is a table (pandas when installed) of its private twin's rows.

    def _sources(self) -> list[dict[str, Any]]:
        rows = [
            {"source": name, "kind": kind, "polls": n, "failed": bad, "first": first, "last": last}
            for name, kind, n, bad, first, last in self._db.execute(
                "SELECT s.name, s.kind, COUNT(p.id), COUNT(p.error), MIN(p.at), MAX(p.at) "
                "FROM sources s LEFT JOIN polls p ON p.source_id = s.id GROUP BY s.id"
            )
        ]
        for row in rows:
            row["first"], row["last"] = _reports._utc(row["first"]), _reports._utc(row["last"])
        return rows

    def sources(self) -> Any:
        """The sources recorded: kind, polls, failed polls, the first and the last."""
        return table(self._sources())

    def _gaps(self) -> list[dict[str, Any]]:
        return _reports.gaps(self._db)

    def gaps(self) -> Any:
        """Stretches longer than the gap with no successful poll, per source."""
        return table(self._gaps())

    def _roll_up(self) -> None:
        """Roll up the days that are over (a recorder does as it goes; this catches up a
        file written otherwise). A history open read-only is read as it is."""
        import sqlite3

        try:
            with _record.writing(self._db):
                _rollup.roll_up(self._db)
        except sqlite3.OperationalError:
            pass

    def _peaks(
        self, by: str = "day", *, feature: str | None = None, start: When = None, end: When = None
    ) -> list[dict[str, Any]]:
        self._roll_up()
        return _reports.peaks(self._db, by, _maybe(start), _maybe(end), feature)

    def peaks(
        self, by: str = "day", *, feature: str | None = None, start: When = None, end: When = None
    ) -> Any:
        """Per ``by`` (hour, day, week, month; local time) and feature: ``issued``,
        ``peak``, ``p95`` (95th percentile over the time), ``at_limit_share`` and
        ``hours_at_limit`` (time at or above the issued count), ``covered_hours`` (time
        the polls cover: less than the period's means a gap)."""
        return table(self._peaks(by, feature=feature, start=start, end=end))

    def _usage(
        self, *, feature: str | None = None, start: When = None, end: When = None
    ) -> list[dict[str, Any]]:
        return _reports.usage_series(self._db, feature, _maybe(start), _maybe(end))

    def usage(self, *, feature: str | None = None, start: When = None, end: When = None) -> Any:
        """Every in-use sample: ``time`` (UTC), ``source``, ``feature``, ``in_use``,
        ``issued``."""
        return table(self._usage(feature=feature, start=start, end=end))

    def _denials(
        self, by: str = "day", *, start: When = None, end: When = None
    ) -> list[dict[str, Any]]:
        return _reports.denials(self._db, by, _maybe(start), _maybe(end))

    def denials(self, by: str = "day", *, start: When = None, end: When = None) -> Any:
        """Per period and feature: ``denials`` and how many ``users`` were denied."""
        return table(self._denials(by, start=start, end=end))

    def _hours(
        self, by: str = "user", *, start: When = None, end: When = None
    ) -> list[dict[str, Any]]:
        return _reports.hours(self._db, by, _maybe(start), _maybe(end))

    def hours(self, by: str = "user", *, start: When = None, end: When = None) -> Any:
        """Per user (``by="workstation"``, ``"feature"``) and feature: sessions, hours,
        and ``idle_hours``/``idle_share`` where the source reports idle time."""
        return table(self._hours(by, start=start, end=end))

    def _holders(
        self, entitlement: str | None = "desktopAdvN", *, at: When = None
    ) -> list[dict[str, Any]]:
        return _reports.holders(self._db, entitlement, _at(at))

    def holders(self, entitlement: str | None = "desktopAdvN", *, at: When = None) -> Any:
        """Holders of an entitlement (``None`` for every one) with the last use the portal
        reported and ``days_since_use`` (counted to ``at``, now by default)."""
        return table(self._holders(entitlement, at=at))

    def _idle_members(
        self, days: int = 90, *, user_type: str | None = None, at: When = None
    ) -> list[dict[str, Any]]:
        return _reports.idle_members(self._db, days, _at(at), user_type)

    def idle_members(self, days: int = 90, *, user_type: str | None = None, at: When = None) -> Any:
        """Members who have not signed in for ``days`` (or ever), with their user type."""
        return table(self._idle_members(days, user_type=user_type, at=at))

    def _downgrade(
        self,
        days: int = 90,
        *,
        to: str = "viewer",
        from_types: Sequence[str] | None = None,
        at: When = None,
    ) -> list[dict[str, Any]]:
        chosen = list(from_types) if from_types else None
        return _reports.downgrade(self._db, days, _at(at), to, chosen)

    def downgrade(
        self,
        days: int = 90,
        *,
        to: str = "viewer",
        from_types: Sequence[str] | None = None,
        at: When = None,
    ) -> Any:
        """What moving the members idle ``days`` to user type ``to`` would free, per user
        type (``usernames`` lists them: hand them to ``gis.users.plan_license_type``)."""
        return table(self._downgrade(days, to=to, from_types=from_types, at=at))

    def _right_size(
        self, *, idle_days: int = 90, start: When = None, end: When = None, at: When = None
    ) -> list[dict[str, Any]]:
        return _reports.right_size(self._db, _maybe(start), _maybe(end), idle_days, _at(at))

    def right_size(
        self, *, idle_days: int = 90, start: When = None, end: When = None, at: When = None
    ) -> Any:
        """For each feature and user type: issued, peak, p95 (of the busiest month), the
        time at the limit, denials and the ``change`` the numbers support (negative:
        licenses never in use at once; None with "short" advice: too few)."""
        return table(self._right_size(idle_days=idle_days, start=start, end=end, at=at))

    def rows(self, report: str, **options: Any) -> list[dict[str, Any]]:
        """A report by name as a list of rows (what the command line prints)."""
        if report not in REPORTS:
            raise InvalidInputError(f"no report {report!r}; reports: {', '.join(REPORTS)}")
        made: list[dict[str, Any]] = getattr(self, f"_{report}")(**options)
        return made

    def export(self, path: str | os.PathLike[str], report: str = "usage", **options: Any) -> Path:
        """Write a report (``usage``: every sample, by default; ``feature``, ``start`` and
        ``end`` choose) to ``path``, created readable by its owner only: CSV, or Parquet
        when the name ends in ``.parquet`` (needs ``pyarrow``: ``gislicense[parquet]``). For
        a site that outgrows one file: load it into your own warehouse."""
        from gislicense.history._export import write

        if report == "usage":  # millions of rows in a year: written as they are read
            unknown = set(options) - {"feature", "start", "end"}
            if unknown:
                raise InvalidInputError(
                    f"the usage report takes feature, start and end, not {unknown}"
                )
            rows = _reports.iter_usage(
                self._db,
                options.get("feature"),
                _maybe(options.get("start")),
                _maybe(options.get("end")),
            )
            return write(Path(path), rows)
        return write(Path(path), self.rows(report, **options))


#: The reports by name, as the command line's ``usage report`` takes them.
REPORTS = (
    "peaks",
    "usage",
    "denials",
    "hours",
    "holders",
    "idle_members",
    "downgrade",
    "right_size",
    "gaps",
    "sources",
)
