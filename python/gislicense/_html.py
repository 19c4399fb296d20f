"""HTML views for notebooks (``_repr_html_``): compact tables, every value escaped, nothing
secret (no password, token or key is ever part of a view). A plan or a report shows its
counts, then its changes, its failures, its skipped and unchanged items (each a section
showing its first rows, every other row under a ``<details>`` "show all" that needs no
script), then its notes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: Rows a section shows open; the others are under its "show all", so no row is lost.
MOST_ROWS = 25

#: The statuses of the failures and of the quiet items (skipped or unchanged), each shown in
#: a section of its own; every other status (would_change, changed, closed...) is a change.
_FAILURES = ("failed", "unknown")
_QUIET = ("skipped", "unchanged")


def _cell(value: Any) -> str:
    import html

    from gislicense._output import human_value

    return html.escape(human_value(value, cut=False))


def fields(title: str, pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of names and values, under a title."""
    import html

    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th><td style='text-align:left'>"
        f"{_cell(value)}</td></tr>"
        for name, value in pairs
        if value is not None
    )
    return f"<div><b>{html.escape(title)}</b><table>{rows}</table></div>"


def outcomes(
    title: str,
    counts: dict[str, int],
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    notes: Sequence[str] = (),
) -> str:
    """The counts by status, then a section each for the changes, the failures, and the
    skipped and unchanged items, then the notes."""
    import html

    summary = ", ".join(
        f"{n} {html.escape(status.replace('_', ' '))}" for status, n in counts.items()
    )
    changes = [r for r in rows if r.get("status") not in (*_FAILURES, *_QUIET)]
    sections = [
        _section("Changes", changes, columns),
        _section("Failures", [r for r in rows if r.get("status") in _FAILURES], columns),
        _section("Skipped and unchanged", [r for r in rows if r.get("status") in _QUIET], columns),
    ]
    notes_view = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (
        f"<div><b>{html.escape(title)}</b>: {len(rows)} items"
        f"{': ' + summary if summary else ''}"
        + "".join(sections)
        + (f"<div><b>Notes</b><ul>{notes_view}</ul></div>" if notes_view else "")
        + "</div>"
    )


def _section(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A titled table of the first MOST_ROWS rows, then the others under "show all"."""
    import html

    if not rows:
        return ""
    shown, rest = rows[:MOST_ROWS], rows[MOST_ROWS:]
    more = ""
    if rest:
        more = (
            f"<details><summary>show all {len(rows)} ({len(rest)} more)</summary>"
            f"{_table(rest, columns)}</details>"
        )
    return f"<div><b>{html.escape(title)}</b> ({len(rows)}){_table(shown, columns)}{more}</div>"


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    import html

    head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td style='text-align:left'>{_cell(r.get(c))}</td>" for c in columns)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
