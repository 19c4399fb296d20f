"""A plan run as a geoprocessing tool: listed as tool messages, applied with Pro's
progressor and Cancel, journaled, and failing the tool when items fail; and tables written
as CSV and geodatabase tables.

Cancel: while a plan is applied, ``arcpy.env.autoCancelling`` is turned off (Esri's way for
a tool to stop cleanly instead of at whatever line it is on) and ``arcpy.env.isCancelled``
is read each time the count of finished items moves. Once it is set, applying stops: the
requests in flight finish or are dropped, and the journal says what was done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from gislicense.exceptions import GisLicenseError
from gislicense.toolbox.parameters import arcpy

if TYPE_CHECKING:
    from gislicense.bulk import BulkReport
    from gislicense.plans import Plan, PlanItem

__all__ = ["Cancelled", "fail", "run_plan", "show_plan", "write_table"]

#: Items listed one message each; beyond this the rest are counted (Pro's message list
#: grows slow past some thousands).
MOST_SHOWN = 500


class Cancelled(Exception):
    """Pro's Cancel was pressed while the plan was applied."""


def fail(message: str) -> NoReturn:
    """End the tool failed: the message as its error."""
    module = arcpy()
    module.AddError(message)
    raise module.ExecuteError(message)


def _item_line(item: PlanItem) -> str:
    said = item.describe_steps() if item.steps else item.reason
    return f"{item.status}: {item.item}" + (f": {said}" if said else "")


def show_plan(plan: Plan) -> None:
    """The plan as messages: its notes, one line per item (predicted failures as warnings),
    and its summary."""
    module = arcpy()
    for note in plan.notes:
        module.AddMessage(f"note: {note}")
    for item in plan.items[:MOST_SHOWN]:
        if item.status == "failed":
            module.AddWarning(_item_line(item))
        else:
            module.AddMessage(_item_line(item))
    if len(plan.items) > MOST_SHOWN:
        module.AddMessage(f"... and {len(plan.items) - MOST_SHOWN} more items")
    module.AddMessage(f"Plan: {plan.summary()}")


def run_plan(plan: Plan, *, apply: bool, journal: str | None) -> BulkReport[Any] | None:
    """List the plan; with ``apply``, apply it. The tool fails (``arcpy.ExecuteError``) when
    an item is predicted to fail (listing) or did not succeed (applying), and when
    cancelled. Returns the applied report; None when only listed."""
    show_plan(plan)
    if not apply:
        if plan.failed:
            fail(f"{len(plan.failed)} item(s) would fail (the warnings above say why)")
        said = "check Apply to apply it" if plan.changes else "nothing to change"
        arcpy().AddMessage(f"Nothing was changed: this is the plan; {said}.")
        return None
    if not plan.changes:
        if plan.failed:
            fail(f"{len(plan.failed)} item(s) failed (the warnings above say why)")
        arcpy().AddMessage("Nothing to apply.")
        return None
    return _applied(plan, journal)


def _journal(plan: Plan, journal: str | None) -> str:
    from gislicense.plans import _journal_path

    return journal or str(_journal_path(None, plan.operation))


def _applied(plan: Plan, journal: str | None) -> BulkReport[Any]:
    from gislicense.plans import Journal

    module = arcpy()
    path = _journal(plan, journal)
    module.SetProgressor("default", f"Applying: {plan.summary()}")
    automatic = module.env.autoCancelling
    module.env.autoCancelling = False
    try:
        report = plan.apply(journal=path, progress=_progressor(module))
    except (Cancelled, KeyboardInterrupt):
        try:
            done = Journal(path).report.summary()
        except GisLicenseError:  # stopped before the journal's first line
            done = "nothing"
        fail(
            f"Cancelled. Done before it stopped: {done}. The journal {path} says what was "
            "done; the UndoJournal tool undoes it, `gislicense journal resume` finishes it."
        )
    finally:
        module.env.autoCancelling = automatic
        module.ResetProgressor()
    _show_outcomes(plan, report)
    module.AddMessage(f"Applied: {report.summary()}. Journal: {path}")
    if any(not outcome.ok for outcome in report):
        bad = sum(1 for outcome in report if not outcome.ok)
        fail(f"{bad} item(s) did not succeed (the warnings above say why). Journal: {path}")
    return report


def _progressor(module: Any) -> Any:
    """The progress hook: the step progressor set to the items' count, moved and labelled
    as they finish, and Cancel checked each time."""
    shown: list[int] = []

    def moved(done: int, total: int) -> None:
        if not shown:
            module.SetProgressor("step", "Applying the plan", 0, total, 1)
            shown.append(total)
        module.SetProgressorPosition(done)
        module.SetProgressorLabel(f"Applied {done:,} of {total:,} items")
        # Cancel once every item is done comes too late to stop anything.
        if done < total and module.env.isCancelled:
            raise Cancelled

    return moved


def _show_outcomes(plan: Plan, report: BulkReport[Any]) -> None:
    module = arcpy()
    for planned, outcome in list(zip(plan.items, report))[:MOST_SHOWN]:
        line = f"{outcome.status}: {planned.item}" + (
            f": {outcome.reason}" if outcome.reason else ""
        )
        (module.AddMessage if outcome.ok else module.AddWarning)(line)


def _csv_value(value: Any) -> Any:
    from gislicense._output import machine_value

    value = machine_value(value)
    return ";".join(str(v) for v in value) if isinstance(value, list) else value


def write_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    csv_path: str | None,
    table_path: str | None,
) -> None:
    """``rows`` as a CSV file (readable by its owner only: it names members) and as a
    geodatabase table, each where a path is given."""
    module = arcpy()
    if csv_path:
        from gislicense._folders import open_private
        from gislicense._output import to_csv

        with open_private(csv_path, newline="") as out:
            out.write(to_csv(rows, columns))
        module.AddMessage(f"Wrote {len(rows)} rows to {csv_path}")
    if table_path:
        _geodatabase_table(module, rows, columns, table_path)
        module.AddMessage(f"Wrote {len(rows)} rows to {table_path}")


def _geodatabase_table(
    module: Any, rows: Sequence[dict[str, Any]], columns: Sequence[str], path: str
) -> None:
    """A geodatabase table of text fields (times in ISO 8601, lists joined with ';'): made
    with CreateTable, AddField and an InsertCursor, which every Pro since 2.x has."""
    import os

    folder, name = os.path.split(path)
    module.management.CreateTable(folder, name)
    for column in columns:
        width = max([10, *(len(str(_csv_value(r.get(column)) or "")) for r in rows)])
        module.management.AddField(path, column, "TEXT", field_length=min(width, 2000))
    with module.da.InsertCursor(path, list(columns)) as cursor:
        for row in rows:
            values = [_csv_value(row.get(c)) for c in columns]
            cursor.insertRow([None if v is None else str(v)[:2000] for v in values])
