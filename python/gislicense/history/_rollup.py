"""Daily histograms of use: what makes reports over a year quick.

For each source, feature, local day and count in use, ``daily`` keeps the seconds spent at
that count and the samples that showed it. A day is rolled up once it is over (a sample of
a later day exists); reports read the rolled-up days and compute only the days after from
the samples. A sample written into a day already rolled up (an older log imported later)
sends the source's roll-up back to that day.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3

#: Beyond any real time: "no upper bound" in seconds since 1970.
FOREVER = 1 << 62


def midnight(at: int) -> int:
    """The local midnight that begins the day of ``at``."""
    day = _dt.datetime.fromtimestamp(at).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp())


def histogram_query(where: str) -> str:
    """Per local day, source, feature and count in use: the seconds (each sample weighs
    the time to the next of its series; nothing across a gap), the samples, the latest
    sample's time. ``where`` filters the samples (parameters bound by the caller)."""
    return f"""
        WITH s AS (
            SELECT u.source_id, u.feature, u.at, u.in_use,
                   LEAD(u.at) OVER (PARTITION BY u.source_id, u.feature ORDER BY u.at) AS next
            FROM usage u WHERE {where}
        )
        SELECT strftime(?, s.at, 'unixepoch', 'localtime') AS period, s.source_id, s.feature,
               s.in_use,
               SUM(CASE WHEN s.next IS NULL OR s.next - s.at > COALESCE(src.gap, {FOREVER})
                        THEN 0 ELSE s.next - s.at END),
               COUNT(*), MAX(s.at)
        FROM s JOIN sources src ON src.id = s.source_id
        GROUP BY period, s.source_id, s.feature, s.in_use
    """


def sampled(db: sqlite3.Connection, source: int, earliest: int, latest: int) -> None:
    """Note samples written between ``earliest`` and ``latest`` (inside the caller's
    write transaction): the source's latest sample, and a roll-up to redo from
    ``earliest``'s day when that day was rolled up already."""
    db.execute(
        "UPDATE sources SET last_sample = MAX(COALESCE(last_sample, 0), ?) WHERE id = ?",
        (latest, source),
    )
    row = db.execute("SELECT rolled_until FROM sources WHERE id = ?", (source,)).fetchone()
    if row and row[0] is not None and earliest < row[0]:
        back = midnight(earliest)
        db.execute(
            "DELETE FROM daily WHERE source_id = ? AND day >= ?",
            (source, _dt.datetime.fromtimestamp(back).strftime("%Y-%m-%d")),
        )
        db.execute("UPDATE sources SET rolled_until = ? WHERE id = ?", (back, source))


def _series(
    db: sqlite3.Connection, source: int, since: int, feature: str | None = None
) -> list[tuple[str, int, str, int, int, int, int]]:
    """The day histograms of a source's samples from ``since`` on, one feature at a time
    (each a range of the usage table's key, never a scan of the whole source)."""
    features = (
        [feature]
        if feature
        else [
            f for (f,) in db.execute("SELECT feature FROM features WHERE source_id = ?", (source,))
        ]
    )
    query = histogram_query("u.source_id = ? AND u.feature = ? AND u.at >= ?")
    found: list[tuple[str, int, str, int, int, int, int]] = []
    for name in features:
        found += db.execute(query, (source, name, since, "%Y-%m-%d")).fetchall()
    return found


def roll_up(db: sqlite3.Connection, source: int | None = None) -> None:
    """Roll up every day that is over, of ``source`` (every source by default), inside the
    caller's write transaction."""
    rows = db.execute(
        "SELECT id, COALESCE(rolled_until, 0), last_sample FROM sources "
        "WHERE last_sample IS NOT NULL AND (? IS NULL OR id = ?)",
        (source, source),
    ).fetchall()
    for sid, rolled, last in rows:
        until = midnight(last)
        if rolled >= until:
            continue
        day = _dt.datetime.fromtimestamp(until).strftime("%Y-%m-%d")
        db.executemany(
            "INSERT OR REPLACE INTO daily (source_id, feature, day, in_use, seconds, samples, "
            "last_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(s, f, d, n, w, c, a) for d, s, f, n, w, c, a in _series(db, sid, rolled) if d < day],
        )
        db.execute("UPDATE sources SET rolled_until = ? WHERE id = ?", (until, sid))


def day_histograms(
    db: sqlite3.Connection, start: int, end: int, feature: str | None, pattern: str = "%Y-%m-%d"
) -> list[tuple[str, int, str, int, int, int, int]]:
    """Per period (``pattern``: days, weeks or months) of whole local days from ``start``'s
    to ``end``'s, source, feature and count: the seconds, samples and latest sample's time;
    rolled-up days read, the rest computed from the samples. Each period's histogram of a
    feature is together and sorted by count, but for weeks and months, whose last may come
    in two parts (rolled up, and not yet)."""
    first = _dt.datetime.fromtimestamp(midnight(start)).strftime("%Y-%m-%d") if start else ""
    last = "9999" if end >= FOREVER else _dt.datetime.fromtimestamp(end).strftime("%Y-%m-%d")
    only = "AND feature = ?" if feature else ""
    chosen = [first, last, *([feature] if feature else [])]
    if pattern == "%Y-%m-%d":
        # In the table's own order: each day's histogram of a feature is together, sorted.
        rows = db.execute(
            "SELECT day, source_id, feature, in_use, seconds, samples, last_at FROM daily "
            f"WHERE day >= ? AND day <= ? {only} ORDER BY source_id, feature, day, in_use",
            chosen,
        ).fetchall()
    else:
        rows = db.execute(
            "SELECT strftime(?, day) AS period, source_id, feature, in_use, SUM(seconds), "
            f"SUM(samples), MAX(last_at) FROM daily WHERE day >= ? AND day <= ? {only} "
            "GROUP BY period, source_id, feature, in_use "
            "ORDER BY period, source_id, feature, in_use",
            [pattern, *chosen],
        ).fetchall()
    for sid, rolled in db.execute("SELECT id, COALESCE(rolled_until, 0) FROM sources"):
        rows += [
            (_dt.date.fromisoformat(r[0]).strftime(pattern), *r[1:])
            for r in _series(db, sid, rolled, feature)
            if first <= r[0] <= last
        ]
    return rows
