"""The usage history (issue 31), each measured path beside its floor.

- Recording one poll of N open sessions (1% ended and 1% new since the last poll) through
  ``History.record`` of a client whose ``get_active_products()`` gives the listing, against
  the floor: the same rows (sessions ended, idle time added, sessions begun, one in-use
  sample per feature, the poll) written by bare ``sqlite3`` in one transaction to a file
  of the same schema and indexes, after reading the open sessions' keys (what any recorder
  run by a scheduler must read to know which ended). The floor's rows come ready-made: its
  keys and per-feature counts are made before it is timed.
- Over a year of a site (written as recording writes it, see :func:`make_year`): the
  daily-peak report (``History.rows("peaks", by="day")``) against one bare SQL statement
  computing the same rows (peak, time-weighted 95th percentile, issued, time at the limit,
  from the daily histograms and the samples not yet rolled up), checked equal, and against
  the histograms it reads, read alone as tuples (the limit is the faster); and hours
  per user (``History.rows("hours", by="user")``) against the same SQL statement's tuples.
- The file's size for the year.

Recording runs in this process, gislicense and the floor in turn at each poll; the reports
in turn, ``repeats`` times; best against best.
"""

from __future__ import annotations

import datetime as _dt
import math
import random
import sqlite3
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from gislicense.history import History, _record, _rollup, _schema
from suite.common import DATA, Load

FEATURES = 20
POLL = 300  # seconds between polls
DAY = 86_400


def make_year(history: History, seats: int, days: int, seed: int = 1) -> int:
    """Write ``days`` of a site with ``seats`` people as recording would; the sessions.

    The same tables and rows as recording writes (one interval per session, one in-use
    sample per feature per poll, the daily histograms rolled up as each day ends),
    directly, in large transactions: a year of polls through ``History.record`` would take
    hours, and what is measured is the file and the reports, not the writing of a year."""
    rng = random.Random(seed)
    db = history._db
    source = _record.source_id(db, "openlm", "http://lm:7014/OpenLMServer", history.gap)
    start = int(_dt.datetime(2025, 1, 6).timestamp())
    features = [f"feature{n:02d}" for n in range(FEATURES)]
    sessions = 0
    for day in range(days):
        midnight = start + day * DAY
        weekday = (day % 7) < 5
        rows = []
        counts = [[0] * FEATURES for _ in range(DAY // POLL)]
        for person in range(seats if weekday else seats // 20):
            for _ in range(2 if rng.random() < 0.9 else 3):  # ~2.1 sessions a working day
                begin = midnight + rng.randrange(7 * 3600, 17 * 3600, POLL)
                end = min(begin + rng.randrange(1800, 5 * 3600, POLL), midnight + DAY - POLL)
                f = rng.randrange(FEATURES)
                rows.append(
                    (source, "lm", features[f], f"user{person:05d}", f"ws-{person:05d}", "", 1,
                     begin, begin, end, 0, rng.randrange(0, end - begin + 1))
                )  # fmt: skip
                for slot in range((begin - midnight) // POLL, (end - midnight) // POLL + 1):
                    counts[slot][f] += 1
        sessions += len(rows)
        with _record.writing(db):
            db.executemany(
                "INSERT INTO sessions (source_id, server, feature, username, workstation, key, "
                "licenses, start_time, first_seen, last_seen, open, idle_seconds) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany(
                "INSERT INTO polls (source_id, at, sessions) VALUES (?, ?, ?)",
                [(source, midnight + s * POLL, sum(c)) for s, c in enumerate(counts)],
            )
            db.executemany(
                "INSERT INTO usage (source_id, feature, at, in_use) VALUES (?, ?, ?, ?)",
                [
                    (source, features[f], midnight + s * POLL, c[f])
                    for s, c in enumerate(counts)
                    for f in range(FEATURES)
                ],
            )
            if day == 0:
                db.executemany(
                    "INSERT OR IGNORE INTO features (source_id, feature) VALUES (?, ?)",
                    [(source, f) for f in features],
                )
            # As a recorder does once a day is over: the day's histograms.
            _rollup.sampled(db, source, midnight, midnight + DAY - POLL)
            _rollup.roll_up(db, source)
    with _record.writing(db):
        for f in features:
            _record._issued(db, source, f, seats // 10, 0)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sessions


def open_session(n: int, start: _dt.datetime) -> Any:
    """A session as a client lists it (every third one idle for 400 s)."""
    return SimpleNamespace(
        feature=f"feature{n % FEATURES:02d}", username=f"u{n}", workstation=f"ws{n}",
        server="lm", handle=str(n), start_time=start, licenses=1,
        idle_time=_dt.timedelta(seconds=0 if n % 3 else 400),
    )  # fmt: skip


class Listing:
    """A client whose ``get_active_products()`` gives a listing already read."""

    url = "lm"

    def __init__(self) -> None:
        self.sessions: list[Any] = []

    def get_active_products(self) -> list[Any]:
        return self.sessions


def floor_rows(listed: list[Any]) -> tuple[list[tuple[Any, ...]], list[tuple[str, int]]]:
    """The rows a poll of ``listed`` writes, made before the floor is timed: each session's
    key, columns and idle seconds, and the licenses in use per feature."""
    rows = [
        (
            _record.session_key(s),
            s.server,
            s.feature,
            s.username,
            s.workstation,
            s.licenses,
            _record.seconds(s.start_time),
            int(s.idle_time.total_seconds()),
        )
        for s in listed
    ]
    counts: Counter[str] = Counter()
    for s in listed:
        counts[s.feature] += s.licenses
    return rows, sorted(counts.items())


def floor_poll(
    db: sqlite3.Connection,
    source: int,
    at: int,
    since: int,
    rows: list[tuple[Any, ...]],
    counts: list[tuple[str, int]],
) -> None:
    """One poll's writes with bare sqlite3, in one transaction: read the open sessions'
    keys, end those not listed, add idle time, begin the new ones, one sample per feature,
    the poll."""
    db.execute("BEGIN IMMEDIATE")
    open_now = dict(
        db.execute("SELECT key, id FROM sessions WHERE source_id = ? AND open = 1", (source,))
    )
    begun, idle = [], []
    for key, server, feature, user, host, licenses, start, idle_now in rows:
        rowid = open_now.pop(key, None)
        if rowid is None:
            begun.append((source, server, feature, user, host, key, licenses, start, at, at, 0))
        elif idle_now:
            idle.append((min(idle_now, at - since), rowid))
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
        begun,
    )
    db.executemany(
        "INSERT OR REPLACE INTO usage (source_id, feature, at, in_use) VALUES (?, ?, ?, ?)",
        [(source, f, at, n) for f, n in counts],
    )
    db.execute(
        "INSERT INTO polls (source_id, at, sessions) VALUES (?, ?, ?)", (source, at, len(rows))
    )
    db.execute("UPDATE sources SET last_poll = ?, last_sample = ? WHERE id = ?", (at, at, source))
    db.execute("COMMIT")


def _state(db: sqlite3.Connection) -> tuple[Any, ...]:
    """What two files that recorded the same polls must agree on."""
    return (
        db.execute(
            "SELECT COUNT(*), SUM(open), SUM(idle_seconds), SUM(last_seen) FROM sessions"
        ).fetchone(),
        db.execute("SELECT COUNT(*), SUM(in_use) FROM usage").fetchone(),
        db.execute("SELECT COUNT(*), SUM(sessions) FROM polls").fetchone(),
    )


def bench_poll(folder: Path, open_sessions: int, polls: int) -> dict[str, Any]:
    """``polls`` polls of ``open_sessions`` (1% ended and 1% new at each), recorded by
    ``History.record`` and by the floor in turn, into two files that began alike."""
    start = _dt.datetime(2025, 1, 1, tzinfo=_dt.timezone.utc)
    listed = [open_session(n, start) for n in range(open_sessions)]
    client = Listing()
    client.sessions = listed
    at = 1_750_000_000
    paths = [folder / "poll.sqlite", folder / "poll-floor.sqlite"]
    for path in paths:
        for made in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            made.unlink(missing_ok=True)
    ours, theirs = History(paths[0]), History(paths[1])
    times: dict[str, list[float]] = {"gislicense": [], "floor": []}
    try:
        for history in (ours, theirs):
            history.record(client, at=at, source="lm")
        source = _record.source_id(theirs._db, "sessions", "lm")
        bare = sqlite3.connect(paths[1], isolation_level=None)
        # As the history's own connection: WAL (kept in the file), synchronous NORMAL.
        bare.execute("PRAGMA busy_timeout = 5000")
        bare.execute("PRAGMA synchronous = NORMAL")
        for k in range(polls):
            churn = open_sessions // 100
            client.sessions = client.sessions[churn:] + [
                open_session(open_sessions * (k + 2) + n, start) for n in range(churn)
            ]
            rows, counts = floor_rows(client.sessions)
            began = time.perf_counter()
            ours.record(client, at=at + POLL, source="lm")
            times["gislicense"].append(time.perf_counter() - began)
            began = time.perf_counter()
            floor_poll(bare, source, at + POLL, at, rows, counts)
            times["floor"].append(time.perf_counter() - began)
            at += POLL
        bare.close()
        assert _state(ours._db) == _state(theirs._db), (_state(ours._db), _state(theirs._db))
    finally:
        ours.close()
        theirs.close()
    return {"open": open_sessions, "polls": polls, "results": times}


#: The samples not yet rolled up, each with the time of the next of its series.
_SAMPLES = """
WITH s AS (
    SELECT u.source_id, u.feature, u.at, u.in_use,
           LEAD(u.at) OVER (PARTITION BY u.source_id, u.feature ORDER BY u.at) AS next
    FROM sources src CROSS JOIN features f ON f.source_id = src.id
    CROSS JOIN usage u ON u.source_id = f.source_id AND u.feature = f.feature
                      AND u.at >= COALESCE(src.rolled_until, 0)
)
"""

#: The daily histograms: the rolled-up days, and those of the samples not yet rolled up
#: (each sample weighing the time to the next of its series, nothing across a gap).
_HISTOGRAMS = f"""
    SELECT source_id, feature, day, in_use, seconds, last_at FROM daily
    UNION ALL
    SELECT s.source_id, s.feature, strftime('%Y-%m-%d', s.at, 'unixepoch', 'localtime'),
           s.in_use,
           SUM(CASE WHEN s.next IS NULL OR s.next - s.at > COALESCE(src.gap, {_rollup.FOREVER})
                    THEN 0 ELSE s.next - s.at END),
           MAX(s.at)
    FROM s JOIN sources src ON src.id = s.source_id
    GROUP BY 1, 2, 3, 4
"""

#: The daily-peak report as one SQL statement: the daily histograms rolled up, and those of
#: the samples not yet rolled up (each weighing the time to the next of its series, nothing
#: across a gap); per day and feature the peak, the count the time at or below reaches 95%
#: of, the issued count at the day's latest sample and the time at or above it.
PEAKS_SQL = f"""
{_SAMPLES},
h AS MATERIALIZED (
{_HISTOGRAMS}),
g AS MATERIALIZED (
    SELECT source_id, feature, day, covered, latest,
           COALESCE(
               (SELECT count FROM issued i WHERE i.source_id = t.source_id
                AND i.feature = t.feature AND i.since <= t.latest ORDER BY since DESC LIMIT 1),
               (SELECT count FROM issued i WHERE i.source_id = t.source_id
                AND i.feature = t.feature ORDER BY since LIMIT 1)) AS issued
    FROM (SELECT source_id, feature, day, SUM(seconds) AS covered, MAX(last_at) AS latest
          FROM h GROUP BY source_id, feature, day) t
),
c AS (
    SELECT *,
           SUM(seconds) OVER (PARTITION BY source_id, feature, day ORDER BY in_use) AS below
    FROM h
)
SELECT c.day, src.name, c.feature, g.issued, MAX(c.in_use),
       CASE WHEN g.covered > 0 THEN MIN(CASE WHEN c.below >= 0.95 * g.covered
                                              THEN c.in_use END) END,
       CASE WHEN g.issued IS NOT NULL AND g.covered > 0
            THEN SUM(CASE WHEN c.in_use >= g.issued THEN c.seconds ELSE 0 END) * 1.0
                 / g.covered END,
       g.covered
FROM c JOIN g USING (source_id, feature, day) JOIN sources src ON src.id = c.source_id
GROUP BY c.source_id, c.feature, c.day
ORDER BY c.day, src.name, c.feature
"""

#: What the daily-peak report reads, and no more: the same histograms, the rolled-up days
#: in the table's own order (its key: source, feature, day, count, as the report reads
#: them) and those of the samples not yet rolled up, as tuples.
PEAKS_READ_SQL = _SAMPLES + _HISTOGRAMS

#: The hours-per-user report's own statement (``_reports.hours``), whole time range.
HOURS_SQL = f"""
SELECT username, feature, COUNT(*),
       SUM(MIN(last_seen, {_rollup.FOREVER}) - MAX(first_seen, 0)),
       SUM(CASE WHEN idle_seconds IS NULL THEN NULL ELSE last_seen - first_seen END),
       SUM(idle_seconds)
FROM intervals WHERE last_seen >= 0 AND first_seen < {_rollup.FOREVER}
GROUP BY username, feature ORDER BY username, feature
"""


def _same_peaks(rows: list[dict[str, Any]], bare: list[tuple[Any, ...]]) -> bool:
    """Whether the report's rows and the statement's say the same."""
    if len(rows) != len(bare):
        return False
    for row, (day, source, feature, issued, peak, p95, share, covered) in zip(rows, bare):
        if (row["period"], row["source"], row["feature"]) != (day, source, feature):
            return False
        if (row["issued"], row["peak"], row["p95"]) != (issued, peak, p95):
            return False
        if row["covered_hours"] != round(covered / 3600, 2):
            return False
        if (row["at_limit_share"] is None) != (share is None) or (
            share is not None and not math.isclose(row["at_limit_share"], share)
        ):
            return False
    return True


def _timed(run: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


def bench_reports(history: History, repeats: int) -> dict[str, Any]:
    """The daily peaks and hours per user, and their statements, in turn."""
    db = history._db
    results: dict[str, dict[str, list[float]]] = {
        name: {"gislicense": [], "floor": []} for name in ("peaks", "hours")
    }
    results["peaks"]["read"] = []
    calls = {
        "peaks": (lambda: history.rows("peaks", by="day"), PEAKS_SQL),
        "hours": (lambda: history.rows("hours", by="user"), HOURS_SQL),
    }
    rows: dict[str, int] = {}
    for _ in range(repeats):
        for name, (call, sql) in calls.items():
            took, made = _timed(call)
            results[name]["gislicense"].append(took)
            took, bare = _timed(lambda sql=sql: db.execute(sql).fetchall())
            results[name]["floor"].append(took)
            if name == "peaks":
                assert _same_peaks(made, bare), "the peaks statement differs from the report"
                took, _ = _timed(lambda: db.execute(PEAKS_READ_SQL).fetchall())
                results[name]["read"].append(took)
            assert len(made) == len(bare), (name, len(made), len(bare))
            rows[name] = len(made)
    return {"rows": rows, "results": results}


def bench_history(
    seats: int, days: int, open_sessions: int, polls: int, repeats: int
) -> dict[str, Any]:
    """A year (``days``) of ``seats`` people, kept in the data folder for the next run."""
    load = Load()
    DATA.mkdir(exist_ok=True)
    version = _schema.VERSION
    path = DATA / f"history_{seats}_{days}_v{version}.sqlite"
    result: dict[str, Any] = {"seats": seats, "days": days}
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        with History(partial) as history:
            began = time.perf_counter()
            result["sessions"] = make_year(history, seats, days)
            result["write_s"] = time.perf_counter() - began
        for companion in ("-wal", "-shm"):
            Path(f"{partial}{companion}").unlink(missing_ok=True)
        partial.rename(path)
    with History(path) as history:
        result["sessions"] = history._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        result["bytes"] = path.stat().st_size
        result["reports"] = bench_reports(history, repeats)
    result["poll"] = bench_poll(DATA, open_sessions, polls)
    return {**result, **load.end()}
