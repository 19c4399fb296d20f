"""``gislicense plan`` and ``gislicense journal``: saved plans shown and applied, and the
journals of applied changes shown, undone and resumed."""

from __future__ import annotations

from gislicense.cli.common import EXIT_FAILED, EXIT_OK, UsageError
from gislicense.cli.members import add_item_options, selected
from gislicense.cli.options import command
from gislicense.cli.running import predicted_failures, run_plan, show_plan, show_rows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gislicense.cli.context import Context
    from gislicense.cli.options import Parents


def add_plan_commands(verbs: Any, p: Parents) -> None:
    show = command(verbs, "show", "show a saved plan", run_plan_show, p.out)
    show.add_argument("file", metavar="FILE")
    apply = command(verbs, "apply", "apply a saved plan", run_plan_apply, p.out, p.conn, p.change)
    apply.add_argument("file", metavar="FILE")
    add_item_options(apply, "plan")


def add_journal_commands(verbs: Any, p: Parents) -> None:
    # The connection options are taken (people repeat them from `journal undo`), not needed.
    show = command(verbs, "show", "what a run did, item by item", run_journal_show, p.out, p.conn)
    show.add_argument("file", metavar="FILE")
    undo = command(
        verbs,
        "undo",
        "plan undoing what a run did (--apply to undo)",
        run_journal_undo,
        p.out,
        p.conn,
        p.change,
    )
    undo.add_argument("file", metavar="FILE")
    add_item_options(undo, "run")
    resume = command(
        verbs,
        "resume",
        "plan finishing an interrupted run (--apply to finish)",
        run_journal_resume,
        p.out,
        p.conn,
        p.change,
    )
    resume.add_argument("file", metavar="FILE")
    add_item_options(resume, "run")


def _load_plan_data(path: str) -> dict[str, Any]:
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    except ValueError:
        raise UsageError(f"{path} is not a gislicense plan (not JSON)") from None
    if not isinstance(data, dict) or "items" not in data or "service" not in data:
        raise UsageError(f"{path} is not a gislicense plan")
    return data


def _client_for(context: Context, operation: str, service: str) -> Any:
    """The client for a plan's or a journal's server: as the command line says, else the
    saved profile of that server, else the server itself (with --username)."""
    from gislicense import profiles

    kind = "openlm" if operation == "close_applications" else "portal"
    args = context.args
    if not (args.sandbox or args.url or args.profile or args.all_profiles):
        same = service.rstrip("/").lower()
        for saved in profiles.all_profiles():
            if saved.kind == kind and saved.url.rstrip("/").lower() == same:
                return context.client(kind, profile=saved.name)
    return context.openlm(service) if kind == "openlm" else context.portal(service)


def run_plan_show(context: Context) -> int:
    from gislicense.plans import Plan

    data = _load_plan_data(context.args.file)
    plan = Plan.load(context.args.file, None)
    context.say(f"{data.get('operation')} on {data.get('service')}")
    show_plan(context, plan)
    return EXIT_FAILED if predicted_failures(plan) else EXIT_OK


def run_plan_apply(context: Context) -> int:
    from gislicense.plans import Plan

    data = _load_plan_data(context.args.file)
    client = _client_for(context, str(data.get("operation")), str(data["service"]))
    plan = selected(context, Plan.load(context.args.file, client))
    if not context.args.apply:
        context.say(
            f"The plan as saved ({plan.created:%Y-%m-%d %H:%M}); --apply re-checks each item "
            "against the server first and sends only what still holds."
        )
    return run_plan(context, plan, read_now=False)


def _journal(path: str) -> Any:
    from pathlib import Path

    from gislicense.plans import Journal

    if not Path(path).is_file():
        raise UsageError(f"there is no journal {path}")
    return Journal(path)


def run_journal_show(context: Context) -> int:
    args = context.args
    if args.url or args.username or args.profile or args.sandbox:
        context.say("(journal show reads only the journal: no server or sign-in is needed)")
    journal = _journal(args.file)
    plan = journal.plan
    context.say(f"{plan.get('operation')} on {plan.get('service')}")
    show_rows(context, journal.report.to_rows())
    resume = f"`gislicense journal resume {context.args.file} --apply` finishes it"
    if journal.finished:
        state = "finished"
    elif journal.ended:
        state = f"{len(journal.unfinished)} left unfinished: {resume}"
    else:
        state = f"interrupted: {resume}"
    context.say(f"{journal.report.summary()} ({state})")
    left = not journal.finished or any(not o.ok for o in journal.report)
    return EXIT_FAILED if left else EXIT_OK


def run_journal_undo(context: Context) -> int:
    from gislicense.plans import Plan

    journal = _journal(context.args.file)
    operation = str(journal.plan.get("operation"))
    if operation == "close_applications":
        # Nothing to send: a closed application cannot be reopened. Say who it was.
        rows = [
            {**row, "status": "skipped", "reason": "a closed session cannot be reopened"}
            for row in journal.report.to_rows()
            if row["status"] in ("closed", "unknown")
        ]
        show_rows(context, rows)
        context.say(f"Nothing to undo: {len(rows)} sessions were closed by this run.")
        return EXIT_OK
    gis = _client_for(context, operation, str(journal.plan.get("service") or ""))
    # Undoing for some members is a run of its own, journaled like any.
    return run_plan(context, selected(context, Plan.undo(context.args.file, gis)))


def run_journal_resume(context: Context) -> int:
    from gislicense.plans import Plan

    journal = _journal(context.args.file)
    plan_data = journal.plan
    client = _client_for(context, str(plan_data.get("operation")), str(plan_data["service"]))
    plan = selected(context, Plan.resume(context.args.file, client))
    if context.args.journal is None:
        # A resume appends to the run's own journal.
        context.args.journal = context.args.file
    return run_plan(context, plan)
