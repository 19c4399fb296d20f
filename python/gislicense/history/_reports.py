"""Reading the history: peaks against the issued count, time at the limit, denials, hours,
idle time, named-user holders and idle members, and the right-size summary.

Each report is a list of rows (dicts). Periods are in local time. Use over time is read
from the in-use samples (one per poll, or per log line that changed a count), each weighted
by the time until the next one of its source; a stretch longer than the source's gap (no
poll ran) weighs nothing, so it counts neither as use nor as idleness.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from gislicense.exceptions import InvalidInputError
from gislicense.history import _rollup

#: strftime patterns of the periods a report groups by.
PERIODS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-W%W", "month": "%Y-%m"}
#: Share of the time at the limit above which a feature is called short.
SHORT_SHARE = 0.05
_FOREVER = _rollup.FOREVER


def _period(by: str) -> str:
    pattern = PERIODS.get(by)
    if pattern is None:
        raise InvalidInputError(f"by is one of {', '.join(PERIODS)}, not {by!r}")
    return pattern


def _bounds(start: int | None, end: int | None) -> tuple[int, int]:
    return (start if start is not None else 0, end if end is not None else _FOREVER)


def _utc(at: int | None) -> _dt.datetime | None:
    return None if at is None else _dt.datetime.fromtimestamp(at, _dt.timezone.utc)


def _issued_at(db: sqlite3.Connection) -> dict[tuple[int, str], list[tuple[int, int]]]:
    """Per source and feature, the issued counts with the time each began."""
    found: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for source, feature, since, count in db.execute(
        "SELECT source_id, feature, since, count FROM issued ORDER BY since"
    ):
        found[(source, feature)].append((since, count))
    return found


def _issued(changes: list[tuple[int, int]], at: int) -> int | None:
    count = None
    for since, n in changes:
        if since > at:
            break
        count = n
    return count if count is not None else (changes[0][1] if changes else None)


def _histograms(
    db: sqlite3.Connection, by: str, start: int, end: int, feature: str | None
) -> list[tuple[str, int, str, int, int, int, int]]:
    """Per period, source, feature and count in use: the seconds, the samples, the
    latest sample's time. Days, weeks and months are made of whole days, from the daily
    roll-up; hours from the samples."""
    pattern = _period(by)
    if by != "hour":
        return _rollup.day_histograms(db, start, end, feature, pattern)
    where = "u.at >= ? AND u.at < ?" + (" AND u.feature = ?" if feature else "")
    return db.execute(
        _rollup.histogram_query(where), [start, end, *([feature] if feature else []), pattern]
    ).fetchall()


def _percentile(histogram: list[tuple[int, int]], share: float, total: int) -> int | None:
    """The smallest count in use that the time at or below reaches ``share`` of (the
    histogram sorted by count)."""
    if total <= 0:
        return None
    reached = 0
    for count, weight in histogram:
        reached += weight
        if reached >= share * total:
            return count
    return histogram[-1][0]


def peaks(
    db: sqlite3.Connection,
    by: str = "day",
    start: int | None = None,
    end: int | None = None,
    feature: str | None = None,
) -> list[dict[str, Any]]:
    """Per period and feature: issued, peak, 95th percentile (time-weighted), the share of
    the known time at or above the issued count, and the hours the samples cover. Days,
    weeks and months are whole local days from ``start``'s to ``end``'s."""
    from itertools import groupby
    from operator import itemgetter

    names = dict(db.execute("SELECT id, name FROM sources").fetchall())
    issued = _issued_at(db)
    found = _histograms(db, by, *_bounds(start, end), feature)
    if by != "day":  # a day's histogram comes whole and sorted; see day_histograms
        found.sort()
    rows = []
    for (period, source, name), group in groupby(found, key=itemgetter(0, 1, 2)):
        made = list(group)
        histogram = [(r[3], r[4]) for r in made]
        covered = sum(w for _, w in histogram)
        count = _issued(issued.get((source, name), []), max(r[6] for r in made))
        at_limit = None
        if count is not None and covered:
            at_limit = sum(w for n, w in histogram if n >= count) / covered
        rows.append(
            {
                "period": period,
                "source": names[source],
                "feature": name,
                "issued": count,
                "peak": histogram[-1][0],
                "p95": _percentile(histogram, 0.95, covered),
                "at_limit_share": at_limit,
                "hours_at_limit": None if at_limit is None else round(at_limit * covered / 3600, 2),
                "covered_hours": round(covered / 3600, 2),
            }
        )
    rows.sort(key=itemgetter("period", "source", "feature"))
    return rows


def iter_usage(
    db: sqlite3.Connection,
    feature: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every in-use sample, one at a time (a year is millions): time (UTC), source,
    feature, in use, issued."""
    issued = _issued_at(db)
    low, high = _bounds(start, end)
    where = "AND u.feature = ?" if feature else ""
    for at, source, name, in_use, source_name in db.execute(
        "SELECT u.at, u.source_id, u.feature, u.in_use, s.name FROM usage u "
        f"JOIN sources s ON s.id = u.source_id WHERE u.at >= ? AND u.at < ? {where} "
        "ORDER BY u.source_id, u.feature, u.at",
        [low, high, *([feature] if feature else [])],
    ):
        yield {
            "time": _utc(at),
            "source": source_name,
            "feature": name,
            "in_use": in_use,
            "issued": _issued(issued.get((source, name), []), at),
        }


def usage_series(
    db: sqlite3.Connection,
    feature: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[dict[str, Any]]:
    """Every in-use sample, as a list (see :func:`iter_usage`)."""
    return list(iter_usage(db, feature, start, end))


def gaps(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Stretches longer than a polled source's gap with no successful poll."""
    rows = []
    for name, gap, at, previous in db.execute(
        """
        SELECT s.name, s.gap, p.at,
               LAG(p.at) OVER (PARTITION BY p.source_id ORDER BY p.at)
        FROM polls p JOIN sources s ON s.id = p.source_id
        WHERE p.error IS NULL AND s.gap IS NOT NULL
        """
    ):
        if previous is not None and at - previous > gap:
            rows.append(
                {
                    "source": name,
                    "from": _utc(previous),
                    "to": _utc(at),
                    "hours": round((at - previous) / 3600, 2),
                }
            )
    return rows


def denials(
    db: sqlite3.Connection, by: str = "day", start: int | None = None, end: int | None = None
) -> list[dict[str, Any]]:
    """Per period and feature: denials, and how many people were denied."""
    return [
        {"period": period, "source": source, "feature": feature, "denials": n, "users": users}
        for period, source, feature, n, users in db.execute(
            """
            SELECT strftime(?, e.at, 'unixepoch', 'localtime') AS period, s.name, e.feature,
                   COUNT(*), COUNT(DISTINCT e.username)
            FROM events e JOIN sources s ON s.id = e.source_id
            WHERE e.kind = 'DENIED' AND e.at >= ? AND e.at < ?
            GROUP BY period, s.name, e.feature ORDER BY period, s.name, e.feature
            """,
            (_period(by), *_bounds(start, end)),
        )
    ]


def hours(
    db: sqlite3.Connection, by: str = "user", start: int | None = None, end: int | None = None
) -> list[dict[str, Any]]:
    """Per user (or workstation, or feature) and feature: sessions, hours held, and the
    idle hours and share where the source reports idle time."""
    column = {"user": "username", "workstation": "workstation", "feature": "feature"}.get(by)
    if column is None:
        raise InvalidInputError(f"by is user, workstation or feature, not {by!r}")
    low, high = _bounds(start, end)
    group = "feature" if column == "feature" else f"{column}, feature"
    rows = []
    for row in db.execute(
        f"""
        SELECT {group}, COUNT(*),
               SUM(MIN(last_seen, ?) - MAX(first_seen, ?)),
               SUM(CASE WHEN idle_seconds IS NULL THEN NULL ELSE last_seen - first_seen END),
               SUM(idle_seconds)
        FROM intervals WHERE last_seen >= ? AND first_seen < ?
        GROUP BY {group} ORDER BY {group}
        """,
        (high, low, low, high),
    ):
        *keys, n, held, known, idle = row
        named = dict(zip([by] if column == "feature" else [by, "feature"], keys))
        share = idle / known if idle is not None and known else None
        rows.append(
            {
                **named,
                "sessions": n,
                "hours": round((held or 0) / 3600, 2),
                "idle_hours": None if idle is None else round(idle / 3600, 2),
                "idle_share": None if share is None else round(share, 4),
            }
        )
    return rows


def member_state(db: sqlite3.Connection) -> dict[str, dict[str, str | None]]:
    """Each member's latest named-user state, field by field (members gone left out)."""
    state: dict[str, dict[str, str | None]] = defaultdict(dict)
    for user, field, value in db.execute("SELECT username, field, value FROM member_state"):
        state[user][field] = value
    return {u: f for u, f in state.items() if f.get("user_type") is not None}


def _days_since(at: int | None, now: int) -> int | None:
    return None if at is None else max(0, (now - at) // 86400)


def holders(db: sqlite3.Connection, entitlement: str | None, now: int) -> list[dict[str, Any]]:
    """Holders of an entitlement (or of any, None), each with its last use as the portal
    reported it and the days since."""
    rows = []
    for user, fields in sorted(member_state(db).items()):
        held = [e for e in (fields.get("entitlements") or "").split(",") if e]
        for name in held:
            if entitlement is not None and name.casefold() != entitlement.casefold():
                continue
            used = fields.get(f"last_use:{name}")
            last = int(used) if used else None
            rows.append(
                {
                    "username": user,
                    "user_type": fields.get("user_type"),
                    "entitlement": name,
                    "last_use": _utc(last),
                    "days_since_use": _days_since(last, now),
                }
            )
    return rows


def idle_members(
    db: sqlite3.Connection, days: int, now: int, user_type: str | None = None
) -> list[dict[str, Any]]:
    """Members who have not signed in for ``days`` (or ever), with their user type."""
    rows = []
    for user, fields in sorted(member_state(db).items()):
        if (
            user_type is not None
            and (fields.get("user_type") or "").casefold() != user_type.casefold()
        ):
            continue
        stamp = fields.get("last_login")
        login = int(stamp) if stamp else None
        idle = _days_since(login, now)
        if idle is None or idle >= days:
            rows.append(
                {
                    "username": user,
                    "user_type": fields.get("user_type"),
                    "role": fields.get("role"),
                    "last_login": _utc(login),
                    "days_idle": idle,
                    "entitlements": fields.get("entitlements") or "",
                }
            )
    return rows


def downgrade(
    db: sqlite3.Connection, days: int, now: int, to: str, from_types: list[str] | None = None
) -> list[dict[str, Any]]:
    """What moving the members idle ``days`` to the user type ``to`` would free, per user
    type: members, idle members, and the seats and entitlements freed."""
    every = member_state(db)
    idle = idle_members(db, days, now)
    rows = []
    for kind in sorted({f.get("user_type") or "" for f in every.values()}):
        if kind.casefold() == to.casefold():
            continue
        if from_types and kind.casefold() not in {t.casefold() for t in from_types}:
            continue
        chosen = [m for m in idle if (m["user_type"] or "") == kind]
        freed = sum(len([e for e in m["entitlements"].split(",") if e]) for m in chosen)
        rows.append(
            {
                "user_type": kind,
                "members": sum(1 for f in every.values() if f.get("user_type") == kind),
                "idle": len(chosen),
                "frees_seats": len(chosen),
                "frees_entitlements": freed,
                "usernames": [m["username"] for m in chosen],
            }
        )
    return rows


_SEATS = "user type "


def right_size(
    db: sqlite3.Connection, start: int | None, end: int | None, idle_days: int, now: int
) -> list[dict[str, Any]]:
    """For each feature and user type: bought, peak, 95th percentile, the time at the
    limit, denials, idle members, and the change the numbers support."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in peaks(db, by="month", start=start, end=end):
        key = (row["source"], row["feature"])
        known = merged.setdefault(key, {**row, "covered": 0.0, "limit": 0.0, "p95s": []})
        known["peak"] = max(known["peak"], row["peak"])
        known["issued"] = row["issued"]
        if row["p95"] is not None:
            known["p95s"].append(row["p95"])
        known["covered"] += row["covered_hours"]
        known["limit"] += row["hours_at_limit"] or 0
    # By feature whatever the source: denials come from the license server's log, use
    # often from OpenLM polling the same server.
    denied: dict[str, int] = defaultdict(int)
    for row in denials(db, by="month", start=start, end=end):
        denied[row["feature"]] += row["denials"]
    rows, seats = [], {}
    for key, row in sorted(merged.items()):
        if key[1].startswith(_SEATS):  # a portal's seats of a user type: with its members
            seats[key[1][len(_SEATS) :]] = (key[0], row["issued"])
            continue
        share = row["limit"] / row["covered"] if row["covered"] else None
        p95 = max(row["p95s"]) if row["p95s"] else None
        rows.append(_advice(key, row["issued"], row["peak"], p95, share, denied[key[1]]))
    for row in downgrade(db, idle_days, now, to=""):
        source, bought = seats.get(row["user_type"], ("members", None))
        rows.append(_seat_advice(source, row, bought, idle_days))
    return rows


def _seat_advice(
    source: str, row: dict[str, Any], bought: int | None, idle_days: int
) -> dict[str, Any]:
    """A user type's seats: bought, held, idle; the seats not needed by the members who
    sign in."""
    held, idle = row["members"], row["idle"]
    said = [f"{idle} of {held} idle {idle_days}+ days" if idle else "every member active"]
    if bought is not None and bought > held:
        said.append(f"{bought - held} seats not assigned")
    return {
        "kind": "user type",
        "source": source,
        "feature": row["user_type"],
        "issued": bought,
        "peak": held,
        "p95": None,
        "at_limit_share": None,
        "denials": 0,
        "idle": idle,
        "change": (held - idle - bought) if bought is not None else -idle,
        "advice": ", ".join(said),
    }


def _advice(
    key: tuple[str, str],
    issued: int | None,
    peak: int,
    p95: int | None,
    share: float | None,
    denied: int,
) -> dict[str, Any]:
    change: int | None
    if denied or (share is not None and share > SHORT_SHARE):
        change = None
        said = [f"denied {denied} times"] if denied else []
        if share:
            said.append(f"at the limit {share:.0%} of the time")
        advice = "short: " + ", ".join(said)
    elif issued is None:
        change, advice = None, "issued count not known (History.set_issued)"
    elif peak < issued:
        change = peak - issued
        advice = f"{issued - peak} never used at once"
    else:
        change, advice = 0, "used up to the limit"
    return {
        "kind": "feature",
        "source": key[0],
        "feature": key[1],
        "issued": issued,
        "peak": peak,
        "p95": p95,
        "at_limit_share": None if share is None else round(share, 4),
        "denials": denied,
        "idle": None,
        "change": change,
        "advice": advice,
    }
