"""The one-page HTML usage report: tables and charts (inline PNG) in one file an
administrator can mail; nothing in it is fetched from the network."""

from __future__ import annotations

import html
from typing import Any

from gislicense.exceptions import InvalidInputError

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
    "th{background:#f3f3f3}img{max-width:100%}"
)


def _image(figure: Any) -> str:
    """A figure as an inline PNG."""
    import base64
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt='chart' src='data:image/png;base64,{data}'>"


def _table(rows: list[dict[str, Any]], limit: int = 60) -> str:
    from gislicense._output import human_value

    if not rows:
        return "<p>Nothing recorded.</p>"
    columns = [c for c in rows[0] if c != "usernames"]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(human_value(r.get(c), cut=False))}</td>" for c in columns)
        + "</tr>"
        for r in rows[:limit]
    )
    more = f"<p>{len(rows) - limit} more rows not shown.</p>" if len(rows) > limit else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def page(
    history: Any,
    *,
    feature: str | None = None,
    idle_days: int = 90,
    at: Any = None,
    **when: Any,
) -> str:
    """The page's HTML for ``history`` (a :class:`History`): ``feature`` alone in the
    charts, members idle ``idle_days`` counted to ``at`` (now), ``start``/``end``."""
    try:
        charts = [
            ("Use against the issued count", history.plot_use(feature, **when)),
            ("When licenses are used", history.plot_heatmap(feature, **when)),
            ("Denials", history.plot_denials("day", **when)),
        ]
        pictures = "".join(f"<h2>{t}</h2>{_image(f)}" for t, f in charts)
    except InvalidInputError as err:
        pictures = f"<p>No charts: {html.escape(str(err))}</p>"
    sections = [
        ("Right-size summary", history._right_size(idle_days=idle_days, at=at, **when)),
        ("Peaks per month", history._peaks("month", feature=feature, **when)),
        ("Gaps in the recording", history._gaps()),
        (f"Members idle {idle_days} days or more", history._idle_members(idle_days, at=at)),
    ]
    tables = "".join(f"<h2>{html.escape(t)}</h2>{_table(rows)}" for t, rows in sections)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>License usage</title><style>{_STYLE}</style></head><body>"
        f"<h1>License usage</h1><p>From {html.escape(str(history.path.name))}.</p>"
        f"{tables}{pictures}</body></html>\n"
    )
