"""Writing the history: polls of open sessions (kept as intervals), log events, issued
counts and named-user state (kept as changes).

Every write is one ``BEGIN IMMEDIATE`` transaction: two recorders running at once take
turns (the busy timeout makes the second wait), and writing the same poll or the same log
line twice changes nothing.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from gislicense.history import _rollup

#: What separates the parts of a session's key (a character no name holds).
_SEP = "\x1f"
#: Event kinds that open and close a log session; the others are kept as events only.
_OUT, _IN = "OUT", "IN"
#: The kind of a log line that is not a license event.
_RAW = "RAW"


@contextmanager
def writing(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken before reading (so two writers never interleave)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def seconds(value: _dt.datetime | float | int) -> int:
    """Seconds since 1970 (UTC); a naive datetime is local time."""
    if isinstance(value, _dt.datetime):
        return int(value.timestamp())
    return int(value)


def source_id(db: sqlite3.Connection, kind: str, name: str, gap: int | None = None) -> int:
    """The id of a source (made on first use); a polled source keeps its latest ``gap``."""
    db.execute("INSERT OR IGNORE INTO sources (kind, name) VALUES (?, ?)", (kind, name))
    if gap is not None:
        db.execute("UPDATE sources SET gap = ? WHERE kind = ? AND name = ?", (gap, kind, name))
    row = db.execute("SELECT id FROM sources WHERE kind = ? AND name = ?", (kind, name)).fetchone()
    return int(row[0])


def session_key(session: Any) -> str:
    """What tells one session from another across polls: where, what, who, and the
    license handle (or check-out time) that tells two check-outs of one person apart."""
    start = getattr(session, "start_time", None)
    tell = getattr(session, "handle", None) or (seconds(start) if start is not None else "")
    parts = (
        getattr(session, "server", None) or "",
        session.feature or "",
        getattr(session, "username", None) or "",
        getattr(session, "workstation", None) or "",
        str(tell),
    )
    return _SEP.join(parts)


def _idle(session: Any) -> int | None:
    idle = getattr(session, "idle_time", None)
    return int(idle.total_seconds()) if idle is not None else None


def record_poll(
    db: sqlite3.Connection, source: int, at: int, sessions: Iterable[Any], gap: int
) -> int | None:
    """Record one poll's open sessions at ``at``; how many were open. None, with nothing
    written, for a poll at or before the source's latest: the same poll twice, or two
    recorders at once where the other's later poll was written first.

    A session seen again extends its interval; one no longer listed ends at the poll that
    last saw it. After more than ``gap`` seconds without a poll, every interval ends where
    it was last seen: what happened in between is not known, and is not read as use.
    """
    listed = list(sessions)
    with writing(db):
        row = db.execute(
            "SELECT MAX(at) FROM polls WHERE source_id = ? AND error IS NULL", (source,)
        ).fetchone()
        latest = row[0]
        if latest is not None and at <= latest:
            return None
        if latest is not None and at - latest > gap:
            db.execute(
                "UPDATE sessions SET open = 0, last_seen = ?, key = '' "
                "WHERE source_id = ? AND open = 1",
                (latest, source),
            )
        if latest is None or at - latest > gap:
            latest = at
        _merge(db, source, at, listed, latest)
        db.execute("UPDATE sources SET last_poll = ? WHERE id = ?", (at, source))
        _usage(db, source, at, listed)
        db.execute(
            "INSERT INTO polls (source_id, at, sessions) VALUES (?, ?, ?)",
            (source, at, len(listed)),
        )
        _rollup.sampled(db, source, at, at)
        _rollup.roll_up(db, source)
    return len(listed)


def _merge(db: sqlite3.Connection, source: int, at: int, listed: list[Any], since: int) -> None:
    """End the open intervals not listed again (at the source's previous poll, ``since``),
    start the new ones. An open interval's ``last_seen`` is its source's ``last_poll`` (the
    ``intervals`` view says so): a poll writes nothing for the sessions still open but
    their idle time."""
    open_now = dict(
        db.execute("SELECT key, id FROM sessions WHERE source_id = ? AND open = 1", (source,))
    )
    idle, start = [], []
    for session in listed:
        key = session_key(session)
        idle_now = _idle(session)
        rowid = open_now.pop(key, None)
        if rowid is not None:
            if idle_now:
                # Idle for the part of the time since the last poll the server says it was.
                idle.append((min(idle_now, at - since), rowid))
            continue
        begun = getattr(session, "start_time", None)
        start.append(
            (
                source,
                getattr(session, "server", None),
                session.feature,
                getattr(session, "username", None),
                getattr(session, "workstation", None),
                key,
                getattr(session, "licenses", None) or 1,
                seconds(begun) if begun is not None else None,
                at,
                at,
                0 if idle_now is not None else None,
            )
        )
    db.executemany(
        "UPDATE sessions SET open = 0, last_seen = ?, key = '' WHERE id = ?",
        [(since, r) for r in open_now.values()],
    )
    db.executemany(
        "UPDATE sessions SET idle_seconds = COALESCE(idle_seconds, 0) + ? WHERE id = ?", idle
    )
    db.executemany(
        "INSERT INTO sessions (source_id, server, feature, username, workstation, key, "
        "licenses, start_time, first_seen, last_seen, open, idle_seconds) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
        start,
    )


def _usage(db: sqlite3.Connection, source: int, at: int, listed: list[Any]) -> None:
    """Licenses in use per feature at ``at``: every feature the source ever had, 0 for
    those not in use (a missing row would read as "not known")."""
    counts: dict[str, int] = defaultdict(int)
    for session in listed:
        counts[session.feature] += getattr(session, "licenses", None) or 1
    db.executemany(
        "INSERT OR IGNORE INTO features (source_id, feature) VALUES (?, ?)",
        [(source, f) for f in counts],
    )
    every = [
        f for (f,) in db.execute("SELECT feature FROM features WHERE source_id = ?", (source,))
    ]
    db.executemany(
        "INSERT OR REPLACE INTO usage (source_id, feature, at, in_use) VALUES (?, ?, ?, ?)",
        [(source, f, at, counts.get(f, 0)) for f in every],
    )


def record_counts(
    db: sqlite3.Connection, source: int, at: int, counts: dict[str, tuple[int, int | None]]
) -> None:
    """In use (and issued, when known) per feature at ``at``: a portal's seats per user
    type."""
    with writing(db):
        for feature, (in_use, issued) in counts.items():
            if issued is not None:
                _issued(db, source, feature, issued, at)
            db.execute(
                "INSERT OR IGNORE INTO features (source_id, feature) VALUES (?, ?)",
                (source, feature),
            )
            db.execute(
                "INSERT OR REPLACE INTO usage (source_id, feature, at, in_use) VALUES (?, ?, ?, ?)",
                (source, feature, at, in_use),
            )
        _rollup.sampled(db, source, at, at)
        _rollup.roll_up(db, source)


def record_failure(db: sqlite3.Connection, source: int, at: int, error: str) -> None:
    """A poll that could not read its source: a gap, never "nothing in use"."""
    with writing(db):
        db.execute(
            "INSERT OR IGNORE INTO polls (source_id, at, error) VALUES (?, ?, ?)",
            (source, at, error),
        )


def set_issued(db: sqlite3.Connection, source: int, feature: str, count: int, since: int) -> None:
    """How many of ``feature`` the source offers from ``since`` on."""
    with writing(db):
        _issued(db, source, feature, count, since)


def _issued(db: sqlite3.Connection, source: int, feature: str, count: int, since: int) -> None:
    current = db.execute(
        "SELECT count FROM issued WHERE source_id = ? AND feature = ? AND since <= ? "
        "ORDER BY since DESC LIMIT 1",
        (source, feature, since),
    ).fetchone()
    if current is None or current[0] != count:
        db.execute(
            "INSERT OR REPLACE INTO issued (source_id, feature, since, count) VALUES (?, ?, ?, ?)",
            (source, feature, since, count),
        )
    db.execute(
        "INSERT OR IGNORE INTO features (source_id, feature) VALUES (?, ?)", (source, feature)
    )


class _LogState:
    """The open log sessions and the counts in use, while a log is read."""

    def __init__(self, db: sqlite3.Connection, source: int) -> None:
        self.open: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
        self.in_use: dict[str, int] = defaultdict(int)
        #: The first and last sample a chunk wrote.
        self.earliest: int | None = None
        self.latest: int | None = None
        for rowid, feature, user, host, licenses in db.execute(
            "SELECT id, feature, username, workstation, licenses FROM sessions "
            "WHERE source_id = ? AND open = 1 ORDER BY first_seen",
            (source,),
        ):
            self.open[(feature, user or "", host or "")].append((rowid, licenses))
            self.in_use[feature] += licenses


def import_events(
    db: sqlite3.Connection, source: int, events: Iterable[Any], batch: int = 20_000
) -> dict[str, int]:
    """Record log events (objects with ``time``, ``kind``, ``feature``, ``user``,
    ``workstation``, ``reason``, ``licenses``, ``raw``), ``batch`` to a transaction so a
    log of any size is read in bounded memory. An event already recorded (the same line
    imported twice) is skipped. Checked-out and checked-in events also make session
    intervals and the in-use counts. Returns the counts of new events by kind, and
    ``UNDATED``: license events before the log gives a date, which are not recorded.
    Lines that are not license events (``RAW``) are not kept."""
    state = _LogState(db, source)
    counts: dict[str, int] = defaultdict(int)
    chunk: list[Any] = []
    for event in events:
        chunk.append(event)
        if len(chunk) >= batch:
            _import_chunk(db, source, chunk, state, counts)
            chunk = []
    if chunk:
        _import_chunk(db, source, chunk, state, counts)
    return dict(counts)


def _import_chunk(
    db: sqlite3.Connection,
    source: int,
    chunk: list[Any],
    state: _LogState,
    counts: dict[str, int],
) -> None:
    with writing(db):
        state.earliest, state.latest = None, None
        for event in chunk:
            kind = str(event.kind).upper()
            if event.time is None or kind == _RAW:
                # A line before the log gives a date cannot be placed in time; a line
                # that is not a license event (start-up, TIMESTAMP) is not one to keep.
                if event.time is None and kind != _RAW:
                    counts["UNDATED"] += 1
                continue
            at = seconds(event.time)
            user = getattr(event, "user", None)
            host = getattr(event, "workstation", None)
            licenses = getattr(event, "licenses", None) or 1
            added = db.execute(
                "INSERT OR IGNORE INTO events (source_id, at, kind, feature, username, "
                "workstation, reason, licenses, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    at,
                    kind,
                    event.feature,
                    user,
                    host,
                    getattr(event, "reason", None),
                    licenses,
                    getattr(event, "raw", None) or "",
                ),
            ).rowcount
            if not added:
                continue
            counts[kind] += 1
            if kind in (_OUT, _IN) and event.feature:
                _log_session(db, source, at, kind, event.feature, user, host, licenses, state)
                state.earliest = at if state.earliest is None else min(state.earliest, at)
                state.latest = at if state.latest is None else max(state.latest, at)
        if state.earliest is not None and state.latest is not None:
            _rollup.sampled(db, source, state.earliest, state.latest)
            _rollup.roll_up(db, source)


def _log_session(
    db: sqlite3.Connection,
    source: int,
    at: int,
    kind: str,
    feature: str,
    user: str | None,
    host: str | None,
    licenses: int,
    state: _LogState,
) -> None:
    """Open an interval on a check-out; close the oldest matching one on a check-in."""
    who = (feature, user or "", host or "")
    if kind == _OUT:
        key = _SEP.join(("", feature, user or "", host or "", str(at), str(len(state.open[who]))))
        cursor = db.execute(
            "INSERT INTO sessions (source_id, feature, username, workstation, key, licenses, "
            "start_time, first_seen, last_seen, open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (source, feature, user, host, key, licenses, at, at, at),
        )
        state.open[who].append((int(cursor.lastrowid or 0), licenses))
        state.in_use[feature] += licenses
    else:
        if not state.open[who]:
            return  # checked out before the log begins: its start is not known
        rowid, held = state.open[who].pop(0)
        db.execute(
            "UPDATE sessions SET last_seen = ?, open = 0, key = '' WHERE id = ?", (at, rowid)
        )
        state.in_use[feature] = max(0, state.in_use[feature] - held)
    db.execute(
        "INSERT OR IGNORE INTO features (source_id, feature) VALUES (?, ?)", (source, feature)
    )
    db.execute(
        "INSERT OR REPLACE INTO usage (source_id, feature, at, in_use) VALUES (?, ?, ?, ?)",
        (source, feature, at, state.in_use[feature]),
    )


def record_members(
    db: sqlite3.Connection, source: int, at: int, state: dict[str, dict[str, str | None]]
) -> int | None:
    """Record named-user state (per member, field to value) as changes since the last
    reading; a field or member no longer reported changes to None. How many changes; None
    for a reading at or before the source's latest (not written)."""
    with writing(db):
        latest = db.execute("SELECT MAX(at) FROM polls WHERE source_id = ?", (source,)).fetchone()
        if latest[0] is not None and at <= latest[0]:
            return None
        before: dict[tuple[str, str], str | None] = {
            (user, field): value
            for user, field, value in db.execute(
                "SELECT username, field, value FROM member_state WHERE source_id = ?", (source,)
            )
        }
        now = {
            (user, field): value
            for user, fields in state.items()
            for field, value in fields.items()
        }
        changes = [(k, v) for k, v in now.items() if k not in before or before[k] != v]
        changes += [(k, None) for k, v in before.items() if k not in now and v is not None]
        db.executemany(
            "INSERT OR REPLACE INTO member_changes (source_id, username, field, at, value) "
            "VALUES (?, ?, ?, ?, ?)",
            [(source, user, field, at, value) for (user, field), value in changes],
        )
        db.executemany(
            "INSERT OR REPLACE INTO member_state (source_id, username, field, value, since) "
            "VALUES (?, ?, ?, ?, ?)",
            [(source, user, field, value, at) for (user, field), value in changes],
        )
        db.execute(
            "INSERT OR IGNORE INTO polls (source_id, at, sessions) VALUES (?, ?, ?)",
            (source, at, len(state)),
        )
    return len(changes)
