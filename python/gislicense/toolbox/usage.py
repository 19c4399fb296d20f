"""The ``UsageReport`` tool: a report of the usage history (``gislicense.History``) as tool
messages, a CSV file, a geodatabase table and one HTML page with charts.

Which options a report takes is read from the history's own report method, so the tool
and the library cannot disagree: an option the report does not take is an error before
anything runs (it would otherwise be ignored without a word).
"""

from __future__ import annotations

import inspect
import os
import time
from typing import Any

from gislicense.toolbox import parameters
from gislicense.toolbox.base import Problem, Tool
from gislicense.toolbox.parameters import Values, arcpy
from gislicense.toolbox.running import write_table

__all__ = ["REPORTS", "UsageReport"]

#: The reports the tool offers: every report of the history but ``usage`` (every sample:
#: millions of rows in a year; ``History.export`` writes it).
REPORTS = (
    "right_size",
    "peaks",
    "denials",
    "hours",
    "holders",
    "idle_members",
    "downgrade",
    "gaps",
    "sources",
)

#: Tool parameter -> the history method's keyword it fills.
_KEYWORDS = {
    "by": "by",
    "feature": "feature",
    "since_days": "start",
    "entitlement": "entitlement",
    "user_type": "user_type",
}

#: At most this many rows are said as messages (the files hold them all).
SHOWN = 50


def _takes(report: str) -> set[str]:
    """The keywords the history's report method takes."""
    from gislicense.history import History

    method = getattr(History, f"_{report}")
    return set(inspect.signature(method).parameters) - {"self"}


def _idle_keyword(report: str) -> str | None:
    takes = _takes(report)
    return next((k for k in ("idle_days", "days") if k in takes), None)


class UsageReport(Tool):
    label = "Usage Report"
    description = (
        "A report of the usage history that `gislicense usage record` keeps: the right-size "
        "summary, peaks against the licenses bought, denials, hours, holders and idle "
        "members. Said as messages and written as a CSV file, a geodatabase table and an "
        "HTML page with charts, where given. Changes nothing."
    )

    def parameters(self) -> list[Any]:
        report = parameters.text("report", "Report", required=True, default="right_size")
        report.filter.type = "ValueList"
        report.filter.list = list(REPORTS)
        history = parameters.file(
            "history", "History file (empty: the default)", "sqlite", output=False
        )
        return [
            history,
            report,
            parameters.text("by", "By (peaks, denials: day, week, month; hours: user, ...)"),
            parameters.text("feature", "Feature"),
            parameters.number("since_days", "Only the last (days)"),
            parameters.number("idle_days", "Idle for (days)"),
            parameters.text("entitlement", "Entitlement (holders)"),
            parameters.text("user_type", "User type (idle members)"),
            parameters.file("csv", "CSV file", "csv", output=True),
            parameters.table("table", "Geodatabase table"),
            parameters.file("html", "HTML page with charts", "html", output=True),
        ]

    def problems(self, values: Values) -> list[Problem]:
        found: list[Problem] = []
        path = values.text("history")
        if path and not os.path.isfile(path):
            found.append(("history", f"{path} is not a file", "error"))
        report = values.text("report")
        if report not in REPORTS:
            return [*found, ("report", f"choose one of: {', '.join(REPORTS)}", "error")]
        takes = _takes(report)
        for name, keyword in _KEYWORDS.items():
            if values.parameters[name].value not in (None, "") and keyword not in takes:
                found.append((name, f"the {report} report does not take this", "error"))
        if values.number("idle_days") is not None and _idle_keyword(report) is None:
            found.append(("idle_days", f"the {report} report does not take this", "error"))
        for name in ("since_days", "idle_days"):
            number = values.number(name)
            if number is not None and number < 0:
                found.append((name, "0 or more", "error"))
        return found

    def _options(self, values: Values, report: str) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for name, keyword in _KEYWORDS.items():
            if name != "since_days" and values.text(name) is not None:
                options[keyword] = values.text(name)
        days = values.number("since_days")
        if days is not None:
            options["start"] = time.time() - days * 86400
        idle = values.number("idle_days")
        idle_keyword = _idle_keyword(report)
        if idle is not None and idle_keyword is not None:
            options[idle_keyword] = int(idle)
        return options

    def run(self, values: Values) -> None:
        from gislicense.history import History

        report = values.text("report") or ""
        options = self._options(values, report)
        with History(values.text("history")) as history:
            rows = history.rows(report, **options)
            _say_rows(report, rows)
            columns = [c for c in (rows[0] if rows else []) if c != "usernames"]
            write_table(rows, columns, csv_path=values.text("csv"), table_path=values.text("table"))
            html = values.text("html")
            if html:
                when = {"start": options["start"]} if "start" in options else {}
                idle = values.number("idle_days")
                history.report_html(
                    html,
                    feature=values.text("feature"),
                    idle_days=90 if idle is None else int(idle),
                    **when,
                )
                arcpy().AddMessage(f"Wrote {html}")


def _say_rows(report: str, rows: list[dict[str, Any]]) -> None:
    from gislicense._output import human_value

    say = arcpy().AddMessage
    say(f"{report}: {len(rows)} rows")
    for row in rows[:SHOWN]:
        say(", ".join(f"{k}={human_value(v)}" for k, v in row.items() if k != "usernames"))
    if len(rows) > SHOWN:
        say(f"... {len(rows) - SHOWN} more rows (in the CSV file or table)")
