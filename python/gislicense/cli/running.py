"""Running a command against its servers: lists read from one server or several, plans
shown, saved and applied (with a journal), and their outcomes shown."""

from __future__ import annotations

import sys

from gislicense.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    failed,
    in_command_words,
)
from gislicense.exceptions import GisLicenseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable, Sequence
    from typing import Any

    from gislicense import BulkReport
    from gislicense.cli.context import Context
    from gislicense.plans import Plan


def run_read(
    context: Context,
    kind: str,
    read: Callable[[Context, Any], Coroutine[Any, Any, list[dict[str, Any]]]],
    columns: list[str],
    all_columns: list[str] | None,
    noun: str,
    *,
    also: str | None = None,
) -> int:
    """A list from one server, or from several at once (--profile a --profile b,
    --all-profiles) as one table with a ``target`` column; a server that fails is reported
    and the others listed. ``also``: a second kind of server --all-profiles reads too (the
    License Managers beside the portals); ``read`` is given either kind of client."""
    import asyncio

    every = all_columns or columns
    names = [] if context.args.sandbox else context.profile_names(kind, also=also)

    def kind_of(name: str) -> str:
        return context.kind_of(name, kind) if also else kind

    if len(names) <= 1:
        rows = asyncio.run(read(context, context.client(kind_of(names[0]) if names else kind)))
        context.rows(rows, columns, every)
        context.say(f"{len(rows)} {noun}")
        return EXIT_OK
    # Made one after another (a password may be asked for), then read all at once. A server
    # that cannot be reached, or set up (a CA file gone), is reported; the others are listed.
    status, down, rows = EXIT_OK, 0, []
    clients = []
    for name in names:
        try:
            clients.append((name, context.client(kind_of(name), profile=name)))
        except GisLicenseError as err:
            status, down = max(status, failed(err, name)), down + 1

    async def everywhere() -> list[list[dict[str, Any]] | BaseException]:
        reads = (read(context, client) for _, client in clients)
        return list(await asyncio.gather(*reads, return_exceptions=True))

    for (name, _), result in zip(clients, asyncio.run(everywhere())):
        if isinstance(result, GisLicenseError):
            status, down = max(status, failed(result, name)), down + 1
        elif isinstance(result, BaseException):
            raise result
        else:
            rows.extend({"target": name, **row} for row in result)
    context.rows(rows, ["target", *columns], ["target", *every])
    context.say(f"{len(rows)} {noun} from {len(names) - down} of {len(names)} servers")
    return status


def show_plan(context: Context, plan: Plan) -> None:
    show_rows(context, plan.to_rows())
    say_notes(context, plan.notes)
    context.say(f"Plan: {plan.summary()}")


def say_notes(context: Context, notes: Iterable[str]) -> None:
    """A plan's or a selection's notes, in this command's words."""
    for note in notes:
        context.say(f"note: {in_command_words(note)}")


def show_report(context: Context, report: BulkReport[Any], names: Sequence[str]) -> None:
    """The outcomes, each item named as its plan names it."""
    rows = report.to_rows()
    for row, name in zip(rows, names):
        row["item"] = name
    show_rows(context, rows)


def show_rows(context: Context, rows: list[dict[str, Any]]) -> None:
    """A plan's or a report's rows: a table of what a person reads (a close's session, else
    the item and its steps); JSON and CSV with every field, the steps a list in JSON."""
    from gislicense import _output, _rows

    for row in rows:
        row["reason"] = in_command_words(row["reason"]) if row.get("reason") else None
    shown = _rows.view_columns(rows)
    every = _rows.columns(rows) or shown
    _output.write(
        rows, shown, form=context.form, stream=context.stream, all_columns=every, flat=_rows.flat
    )


def run_plan(context: Context, plan: Plan, *, batch_size: int = 25, read_now: bool = True) -> int:
    """Show the plan; apply it with --apply, journaled. The exit status of both.

    ``read_now``: the plan was made by this command, from the state read moments ago, so
    applying it needs not read that again (a saved plan is re-checked first)."""
    from gislicense.plans import _journal_path

    args = context.args
    if args.save_plan:
        try:
            plan.save(args.save_plan)
        except OSError as err:
            raise UsageError(f"cannot write the plan to {args.save_plan}: {err.strerror}") from None
        context.say(f"Plan saved to {args.save_plan}.")
    if not args.apply:
        show_plan(context, plan)
        if plan.changes:
            context.say(
                "Nothing was changed: this is the plan. Run again with --apply to apply it."
            )
        return EXIT_FAILED if predicted_failures(plan) else EXIT_OK
    say_notes(context, plan.notes)
    journal = args.journal or _journal_path(None, plan.operation)
    display = _progress_display(context)
    plan._read_now = read_now
    try:
        report = plan.apply(
            journal=journal,
            batch_size=batch_size,
            concurrency=args.concurrency,
            progress=display or False,
        )
    except KeyboardInterrupt:
        context.say(
            f"\nInterrupted. The journal {journal} says what was done; "
            f"`gislicense journal resume {journal} --apply` finishes the rest."
        )
        context.interrupted_said = True
        raise
    show_report(context, report, [i.item for i in plan.items])
    context.say(f"Applied: {report.summary()}. Journal: {journal}")
    return EXIT_FAILED if any(not o.ok for o in report) else EXIT_OK


def _progress_display(context: Context) -> Callable[[int, int], None] | None:
    """A line on a terminal's stderr that counts the items applied; none in a pipe, a log
    or with --quiet."""
    if context.args.quiet or not sys.stderr.isatty():
        return None
    from gislicense._progress import line

    return line(sys.stderr)


def predicted_failures(plan: Plan) -> bool:
    return any(i.status == "failed" for i in plan.items)
