"""Pictures of the history (matplotlib, the optional extra ``gislicense[plot]``) and the
one-page HTML report with them inline.

The figures are made without pyplot (no global state, no window): each method returns a
``matplotlib.figure.Figure``, which a notebook shows as it is and ``fig.savefig`` writes.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from gislicense.exceptions import InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _figure(width: float = 9.0, height: float = 3.6) -> Any:
    try:
        from matplotlib.figure import Figure  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise InvalidInputError(
            "pictures need matplotlib: pip install 'gislicense[plot]' (ArcGIS Pro's Python has it)"
        ) from None
    return Figure(figsize=(width, height), layout="constrained")


def _licenses(rows: list[dict[str, Any]], feature: str | None) -> list[dict[str, Any]]:
    """The samples of license features (not a portal's seats per user type), unless one
    feature was asked for."""
    if feature is not None:
        return rows
    return [r for r in rows if not r["feature"].startswith("user type ")]


def _dates(axes: Any) -> None:
    """Local dates and times on the x axis, as short as they can be."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # type: ignore[import-not-found,unused-ignore]

    locator = AutoDateLocator()  # type: ignore[no-untyped-call,unused-ignore]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call,unused-ignore]


class PlotMixin:
    """The pictures of a :class:`History` (made from its own report rows)."""

    if TYPE_CHECKING:  # made by History
        _usage: Callable[..., list[dict[str, Any]]]
        _denials: Callable[..., list[dict[str, Any]]]

    def plot_use(self, feature: str | None = None, **options: Any) -> Any:
        """Licenses in use over time, one line per feature (and source), each against a
        dashed line of its issued count. ``start``/``end`` narrow the time."""
        rows = _licenses(self._usage(feature=feature, **options), feature)
        figure = _figure()
        axes = figure.add_subplot()
        _dates(axes)
        series: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            series[(row["source"], row["feature"])].append(row)
        several = len({s for s, _ in series}) > 1
        for (source, name), points in sorted(series.items()):
            label = f"{name} ({source})" if several else name
            times = [p["time"].astimezone().replace(tzinfo=None) for p in points]
            line = axes.step(times, [p["in_use"] for p in points], where="post", label=label)
            issued = [p["issued"] for p in points]
            if any(i is not None for i in issued):
                axes.step(
                    times,
                    [float("nan") if i is None else i for i in issued],
                    where="post",
                    linestyle="--",
                    color=line[0].get_color(),
                    label=f"{label} issued",
                )
        axes.set_title(f"{feature or 'Licenses'} in use")
        axes.set_ylabel("in use")
        axes.set_ylim(bottom=0)
        if series:
            axes.legend(loc="upper left", fontsize="small")
        return figure

    def plot_heatmap(self, feature: str | None = None, **options: Any) -> Any:
        """Mean licenses in use by weekday and hour of day (local time)."""
        rows = _licenses(self._usage(feature=feature, **options), feature)
        sums = [[0.0] * 24 for _ in range(7)]
        counts = [[0] * 24 for _ in range(7)]
        by_time: dict[_dt.datetime, int] = defaultdict(int)
        for row in rows:
            by_time[row["time"]] += row["in_use"]
        for time, in_use in by_time.items():
            local = time.astimezone()
            sums[local.weekday()][local.hour] += in_use
            counts[local.weekday()][local.hour] += 1
        grid = [
            [s / n if n else float("nan") for s, n in zip(day_sums, day_counts)]
            for day_sums, day_counts in zip(sums, counts)
        ]
        figure = _figure(9.0, 3.2)
        axes = figure.add_subplot()
        image = axes.imshow(grid, aspect="auto", cmap="viridis")
        axes.set_yticks(range(7), _DAYS)
        axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        axes.set_xlabel("hour of day")
        axes.set_title(f"{feature or 'Licenses'} in use, mean by weekday and hour")
        figure.colorbar(image, ax=axes, label="in use")
        return figure

    def plot_denials(self, by: str = "day", **options: Any) -> Any:
        """Denials per period (``by``: hour, day, week, month), stacked by feature."""
        rows = self._denials(by, **options)
        periods = sorted({r["period"] for r in rows})
        features = sorted({r["feature"] or "" for r in rows})
        figure = _figure()
        axes = figure.add_subplot()
        bottom = [0] * len(periods)
        for name in features:
            counts = {r["period"]: r["denials"] for r in rows if (r["feature"] or "") == name}
            heights = [counts.get(p, 0) for p in periods]
            axes.bar(range(len(periods)), heights, bottom=bottom, label=name)
            bottom = [b + h for b, h in zip(bottom, heights)]
        step = max(1, len(periods) // 12)
        axes.set_xticks(range(0, len(periods), step), periods[::step], rotation=30, ha="right")
        axes.set_title("Denials")
        axes.set_ylabel("denials")
        if features:
            axes.legend(loc="upper left", fontsize="small")
        return figure

    def report_html(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write one self-contained HTML page (charts inline, nothing fetched from the
        network; created readable by its owner only) to mail: the right-size summary,
        monthly peaks, gaps, idle members, and the charts (use against the issued count,
        the weekday-by-hour heat map, denials) when matplotlib is installed.

        Options: ``feature`` (the charts of one feature), ``idle_days`` (90), ``at`` (the
        time idleness is counted to; now), ``start`` and ``end``."""
        from gislicense.history._page import page

        target = Path(path)
        from gislicense._folders import open_private

        text = page(self, **options)
        with open_private(target) as file:
            file.write(text)
        return target
