"""Rows out of the command line: a table for people, JSON or CSV for pipes and Excel."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
from collections.abc import Callable, Sequence
from typing import Any, TextIO

#: Widest a table cell gets before it is cut (the whole value is in --json and --csv).
MAX_CELL = 60


def machine_value(value: Any) -> Any:
    """A value for JSON and CSV: times in ISO 8601 (UTC), durations in whole seconds."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc)
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, _dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, (list, tuple)):
        return [machine_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): machine_value(v) for k, v in value.items()}
    return value


def human_value(value: Any, cut: bool = True) -> str:
    """A value for a table: local times to the minute, durations as 2h 05m; long text cut
    unless ``cut`` is False."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone()
        return str(value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, _dt.timedelta):
        minutes = int(value.total_seconds()) // 60
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            return f"{days}d {hours:02d}h"
        return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    if isinstance(value, (list, tuple)):
        return ", ".join(human_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={human_value(v)}" for k, v in value.items())
    text = str(value).replace("\n", " ")
    return text if not cut or len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Aligned columns under a header; the last column (a reason, say) is neither padded
    nor cut."""
    last = len(columns) - 1
    cells = [[human_value(row.get(c), i < last) for i, c in enumerate(columns)] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = []
    for values in [list(columns), *cells]:
        padded = [v.ljust(w) for v, w in zip(values[:-1], widths[:-1])]
        lines.append("  ".join([*padded, values[-1]]).rstrip())
    return "\n".join(lines)


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps([machine_value(r) for r in rows], indent=1, ensure_ascii=False)


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        values = {}
        for column in columns:
            value = machine_value(row.get(column))
            if isinstance(value, list):
                value = ";".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False)
            values[column] = value
        writer.writerow(values)
    return out.getvalue()


def write(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    form: str,
    stream: TextIO,
    all_columns: Sequence[str] | None = None,
    flat: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Write ``rows`` as ``form`` ("table", "json" or "csv"). A table shows ``columns``; JSON
    and CSV carry ``all_columns`` (every field) when given. JSON keeps nested values (a
    plan's steps, a list of objects); a table and CSV show each row as ``flat`` makes it
    (those steps as one line of text)."""
    wide = list(all_columns) if all_columns is not None else list(columns)
    if form == "json":
        stream.write(to_json([{c: r.get(c) for c in wide} for r in rows]) + "\n")
        return
    if flat is not None:
        rows = [flat(r) for r in rows]
    if form == "csv":
        stream.write(to_csv(rows, wide))
    elif rows:
        stream.write(table(rows, columns) + "\n")
