"""HTML views for notebooks (``_repr_html_``): compact tables, the failures first, every
value escaped, nothing secret (no password, token or key is ever part of a view)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: Rows a view shows before it says how many more there are.
MOST_ROWS = 20

#: Outcomes a person must see first.
_FIRST = ("failed", "unknown", "skipped")


def escape(text: str) -> str:
    import html

    return html.escape(text)


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
    title: str, counts: dict[str, int], rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> str:
    """A summary line of counts by status, then the rows, failures first, at most
    MOST_ROWS of them."""
    import html

    summary = ", ".join(
        f"{n} {html.escape(status.replace('_', ' '))}" for status, n in counts.items()
    )
    # Failures, then unknown outcomes, then skipped items, then the rest, each in order.
    ordered = sorted(
        rows, key=lambda r: _FIRST.index(r["status"]) if r.get("status") in _FIRST else len(_FIRST)
    )
    shown = ordered[:MOST_ROWS]
    head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td style='text-align:left'>{_cell(r.get(c))}</td>" for c in columns)
        + "</tr>"
        for r in shown
    )
    more = len(rows) - len(shown)
    tail = f"<div>… and {more} more</div>" if more > 0 else ""
    return (
        f"<div><b>{html.escape(title)}</b>: {len(rows)} items"
        f"{': ' + summary if summary else ''}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{tail}</div>"
    )
