"""Change plans: what a change will do, item by item, before anything is sent.

Every change runs as a plan. Planning reads the state the change needs (members, user
types and their seats, roles, offline check-outs, open sessions, who is signed in) and
predicts each item: ``would_change`` (with the steps it needs), ``unchanged``, ``skipped``
or ``failed`` with the reason the server would give. Nothing is sent until
:meth:`Plan.apply`, which runs the steps in a safe order (reversible ones first; a release
or a close only where every other step will go through) and writes a journal of every step
as it goes. An interrupted run can be resumed (:meth:`Plan.resume`) and a finished one
undone (:meth:`Plan.undo`) from its journal.
"""

from __future__ import annotations

import os

from gislicense import _core
from gislicense._calls import Chain, Done, Pending, Then, Ticking, awaiting, blocking
from gislicense._generic import partial
from gislicense._progress import check_progress, hook_for
from gislicense.bulk import BulkReport, Outcome
from gislicense.exceptions import InvalidInputError

# typing's names for type checkers only (see _generic.py). pathlib, datetime and json are
# imported where used: each costs more than importing this module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from pathlib import Path
    from typing import Any, Union

    from gislicense._progress import ProgressArg
    from gislicense.flexnet import FlexNet
    from gislicense.openlm import OpenLM
    from gislicense.portal import GIS

    #: What a journal argument takes: a path, None for a new file in the journal folder, or
    #: False for none.
    JournalArg = Union[str, "os.PathLike[str]", None, bool]
else:

    def __getattr__(name: str) -> object:
        # JournalArg for code that reads it at run time, made on first use.
        if name == "JournalArg":
            from typing import Union

            return Union[str, "os.PathLike[str]", None, bool]
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Journal", "Plan", "PlanItem", "default_journal_dir"]


#: Requests in flight when applying, by operation: the defaults of the calls that plan and
#: apply at once (``close_applications``, ``release_many``); 8 for the others.
DEFAULT_CONCURRENCY = {"close_applications": 32, "release": 16}


def default_journal_dir() -> Path:
    """Where journals go unless a path is given: ``$GISLICENSE_JOURNAL_DIR``, else the
    user's data folder (``%LOCALAPPDATA%\\gislicense\\journals`` on Windows,
    ``~/Library/Application Support/gislicense/journals`` on macOS,
    ``$XDG_DATA_HOME/gislicense/journals`` or ``~/.local/share/gislicense/journals``)."""
    from pathlib import Path

    from gislicense._folders import user_folder

    chosen = os.environ.get("GISLICENSE_JOURNAL_DIR")
    return Path(chosen) if chosen else user_folder("data") / "journals"


def _journal_path(journal: JournalArg, operation: str) -> str | None:
    if journal is False:
        return None
    if journal is None or journal is True:
        import time

        # Local time to the microsecond, as datetime's "%Y%m%d-%H%M%S-%f" writes it: its
        # import (1.6 ms) would come between a plan's last read and its first change.
        now = time.time_ns()
        seconds, micro = divmod(now // 1000, 1_000_000)
        stamp = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(seconds))}-{micro:06d}"
        return str(default_journal_dir() / f"{stamp}-{operation}.jsonl")
    return os.fspath(journal)


class PlanItem:
    """One item of a plan: what was named, the prediction, and the steps it needs.

    Attributes:
        index: The item's place among the items first given.
        item: The item as named (a user name, or a session).
        status: ``would_change`` (``would_release``, ``would_close``...), ``unchanged``,
            ``skipped`` or ``failed``.
        reason: Why it is unchanged, skipped or will fail; else None.
        steps: The steps applying sends, in order, each a dict with ``action`` (``role``,
            ``user_type``, ``level``, ``entitlements``, ``release``, ``close``) and its values
            (``from``, ``to``...).
    """

    __slots__ = (
        "_names",
        "_session",
        "_wanted",
        "_words",
        "index",
        "item",
        "reason",
        "status",
        "steps",
    )

    def __init__(
        self,
        data: dict[str, Any],
        status: str,
        names: dict[str, str] | None = None,
        words: Callable[[], list[str]] | None = None,
        session: bool = False,
    ) -> None:
        # ``status``: the core's word for the prediction. The plan's names of the ids in the
        # steps; the core's words for the steps (asked for when first shown); whether the
        # item is a session (a close).
        self._names = names or {}
        self._words = words
        self._session = session
        # What the item should end as: a close's session even when no step is planned.
        self._wanted: Any = data.get("wanted")
        self.index: int = data["index"]
        self.item: str = data["item"]
        self.status: str = status
        self.reason: str | None = data.get("reason")
        self.steps: list[dict[str, Any]] = data.get("steps", [])

    def descriptions(self) -> list[str]:
        """Each step for people, in the core's words: "role User → Viewer"."""
        return self._words() if self._words is not None and self.steps else []

    def describe_steps(self) -> str:
        """The steps for people: "role User → Viewer; user type Creator → Viewer"."""
        return "; ".join(self.descriptions())

    def to_row(self) -> dict[str, Any]:
        """The item as a row (see :meth:`Plan.to_rows`)."""
        from gislicense._rows import plan_row

        return plan_row(self)

    def __repr__(self) -> str:
        reason = f", reason={self.reason!r}" if self.reason else ""
        return f"PlanItem({self.item!r}, status={self.status!r}{reason})"


class Plan:
    """A change, planned: nothing has been sent. :meth:`apply` does it.

    Make one with the ``plan_*`` methods (``gis.users.plan_license_type``,
    ``gis.admin.license.plan_release``, ``openlm.plan_close``...), or :meth:`load` a saved
    one, or :meth:`resume` / :meth:`undo` a journal.

    Attributes:
        operation: What it changes (``update_license_type``, ``close_applications``...).
        service: The portal, OpenLM server or License Manager (``27000@host``) it is for.
        notes: What planning could not read or check, and what it assumed.
        items: One :class:`PlanItem` per item, in the order given.
        journal: The journal of the last :meth:`apply`, once applied.
    """

    def __init__(
        self,
        client: GIS | OpenLM | FlexNet | None,
        data: dict[str, Any] | None = None,
        given: Sequence[Any] | None = None,
        *,
        core: _core.CorePlan | None = None,
        operation: str | None = None,
    ) -> None:
        if data is None and core is None:
            raise InvalidInputError("a plan needs its data")
        self._client = client
        # The core's own plan, sent back as it is when applied: a change made and applied
        # at once (update_license_type...) is never written as JSON nor read into Python.
        self._core_plan = core
        self._parsed = data
        self._items: list[PlanItem] | None = None
        self._words: list[list[str]] | None = None
        # The caller's own items (User objects...), one per item, for the report to hand back.
        self._given = list(given) if given is not None else None
        self._operation = operation
        self.journal: Path | None = None
        # Whether its planning read the state moments ago, in the same call or command that
        # applies it: then applying needs not read it again. Once.
        self._read_now = False

    @classmethod
    def _of(
        cls,
        client: GIS | OpenLM | FlexNet,
        core: _core.CorePlan,
        given: Sequence[Any] | None = None,
        operation: str | None = None,
    ) -> Plan:
        """A plan the core made (``operation``: its operation, when known)."""
        return cls(client, given=given, core=core, operation=operation)

    @property
    def _data(self) -> dict[str, Any]:
        if self._parsed is None:
            import json

            assert self._core_plan is not None  # one of the two is always there
            self._parsed = json.loads(self._core_plan.json())
        return self._parsed

    def _for_core(self) -> _core.CorePlan | str:
        """What the core applies: its own plan, else the plan's JSON text."""
        if self._core_plan is not None:
            return self._core_plan
        import json

        return json.dumps(self._data)

    @property
    def items(self) -> list[PlanItem]:
        """One :class:`PlanItem` per item, in the order given."""
        if self._items is None:
            names = self._data.get("names") or {}
            session = self.operation == "close_applications"
            # Each item's status in the core's words, as a dry run and applying say them.
            statuses = _core.item_statuses(self._for_core())
            self._items = [
                PlanItem(data, status, names, partial(self._words_of, n), session)
                for n, (data, status) in enumerate(zip(self._data["items"], statuses))
            ]
            if self._given is not None and len(self._given) != len(self._items):
                self._given = None
        return self._items

    def _words_of(self, position: int) -> list[str]:
        """The core's words for the steps of the item at ``position``: made for every item
        at once, the first time one is shown."""
        if self._words is None:
            self._words = _core.step_descriptions(self._for_core())
        return self._words[position]

    @property
    def operation(self) -> str:
        return self._operation or str(self._data["operation"])

    @property
    def service(self) -> str:
        return str(self._data["service"])

    @property
    def notes(self) -> list[str]:
        return list(self._data.get("notes", []))

    @property
    def created(self) -> _dt.datetime:
        import datetime as _dt

        return _dt.datetime.fromtimestamp(self._data["created_ms"] / 1000, tz=_dt.timezone.utc)

    def __iter__(self) -> Iterator[PlanItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def counts(self) -> dict[str, int]:
        """How many items have each predicted status."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.status] = counts.get(item.status, 0) + 1
        return counts

    def summary(self) -> str:
        parts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in self.counts().items())
        noun = "item" if len(self.items) == 1 else "items"
        return f"{self.operation} on {self.service}: {len(self.items)} {noun}" + (
            f": {parts}" if parts else ""
        )

    @property
    def failed(self) -> list[PlanItem]:
        """Items predicted to fail: they will not be sent."""
        return [i for i in self.items if i.status == "failed"]

    @property
    def changes(self) -> list[PlanItem]:
        """Items applying will send."""
        return [i for i in self.items if i.steps]

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per item, the same keys in each: ``item``, ``status``, the item's own
        fields (a close's ``username``, ``workstation``, ``feature``, ``server``, ``vendor``;
        a member's ``username``, ``user_type_from``, ``role_to``, ``role_to_id``...),
        ``steps`` (dicts: ``action``, ``from``, ``to``, ``description``...), ``reason``."""
        return [i.to_row() for i in self.items]

    def to_dataframe(self) -> Any:
        """A pandas DataFrame: one row per item, the columns of :meth:`to_rows` with
        ``steps`` as text."""
        from gislicense.tables import to_dataframe

        return to_dataframe(self.items)

    def to_dict(self) -> dict[str, Any]:
        """The plan as saved: a copy of its JSON object."""
        import json

        return json.loads(json.dumps(self._data))  # type: ignore[no-any-return]

    def report(self) -> BulkReport[Any]:
        """The predictions as a report, as a dry run returns them."""
        items = self._given if self._given is not None else [i.item for i in self.items]
        return _report(self, items, _core.plan_predictions(self._for_core()))

    def select(self, users: Iterable[str] | None = None, *, exclude: Iterable[str] = ()) -> Plan:
        """The same plan with only some of its items: those ``users`` names (all when None),
        less those ``exclude`` names. Items are named by user name (a session also by its
        user or workstation), in any letter case. Applying it is a run like any other,
        journaled: undo for one person is ``Plan.undo(journal, gis).select(["ataylor"])``.

        Raises:
            InvalidInputError: A name in ``users`` names no item of the plan (a typo must
                not shrink a change silently).
        """
        keep = _names(users) if users is not None else None
        made = _core.select_items(self._for_core(), keep, _names(exclude))
        chosen = Plan(self._client, core=made, operation=self._operation)
        if self._given is not None:
            kept = {i.index for i in chosen.items}
            chosen._given = [g for g, i in zip(self._given, self.items) if i.index in kept]
        return chosen

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the plan to ``path`` (JSON) and return the path. A new file is readable by
        its owner only (0600 on Linux and macOS): it names members and their roles."""
        import json
        from pathlib import Path

        from gislicense._folders import open_private

        target = Path(path)
        with open_private(target) as file:
            file.write(json.dumps(self._data, indent=1))
        return target

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], client: GIS | OpenLM | FlexNet | None = None
    ) -> Plan:
        """A saved plan, to apply with ``client`` (a GIS or an OpenLM of the plan's server);
        without one it can be read and shown, not applied.

        Applying it re-checks it first, as every apply of a plan held for a while does
        (see :meth:`apply`): what changed on the server since it was made is found before
        anything is sent.
        """
        import json

        with open(path, encoding="utf-8") as file:
            text = file.read()
        try:
            data = json.loads(text)
        except ValueError as err:
            raise InvalidInputError(f"{path} is not a gislicense plan: {err}") from None
        if not isinstance(data, dict) or "items" not in data or "service" not in data:
            raise InvalidInputError(f"{path} is not a gislicense plan")
        return cls(client, data)

    def _core_client(self) -> Any:
        if self._client is None:
            raise InvalidInputError(
                "this plan was loaded without a client: load it with the GIS or OpenLM of "
                "its server to apply it"
            )
        return _core_of(self._client)

    def _apply(
        self,
        *,
        journal: JournalArg = None,
        concurrency: int | None = None,
        batch_size: int = 25,
        progress: ProgressArg = None,
    ) -> Pending[BulkReport[Any]]:
        """Apply the plan: send each item's steps, in waves, journaled as they go.

        It is re-checked first: the items that would change are planned again from the
        state now. An item still as planned (or part way, a step done meanwhile) sends the
        steps it still needs, and the journal records what was read then as each step's
        "before"; one already as wanted is ``unchanged``; one the server would now refuse
        (no seat left, a check-out since) is the predicted failure; one that moved elsewhere
        (planned Creator to Contributor, a Viewer now) is ``skipped``, saying what it is
        now, and nothing is sent for it. Closes are re-checked by listing the open sessions
        before they go. (A call that plans and applies at once, such as
        ``update_license_type``, reads the state once: just before its changes.)

        Args:
            journal: Where to write the journal: a path (appended to when it exists), None
                for a new file in :func:`default_journal_dir`, or False for none.
            concurrency: Requests in flight at once (1 to 256); by default what the
                operation's own call uses (32 for closes, 16 for releases, else 8).
            batch_size: Members per user-type request (1 to 100; entitlements take 25).
            progress: True for a progress bar (tqdm's when installed), False for none,
                None for a bar only when someone is watching (a notebook, an interactive
                session), or a function called as ``progress(done, total)`` (items
                finished, of all) each time the count moves, the last time with all done,
                in the thread that waits (or on the event loop): ArcGIS Pro's
                ``arcpy.SetProgressorPosition``, say. An exception it raises stops the
                apply, as Ctrl-C does; the journal says what was done.

        Returns:
            One outcome per item, in order, with each item's steps. Items predicted to
            fail, unchanged or skipped end so without anything sent. The journal's path is
            :attr:`journal`.
        """
        from pathlib import Path

        if concurrency is None:
            concurrency = DEFAULT_CONCURRENCY.get(self.operation, 8)
        path = _journal_path(journal, self.operation)
        self.journal = Path(path) if path else None
        plan = self._for_core()
        core = self._core_client()
        hook = hook_for(progress)
        counter = _core.ApplyProgress() if hook is not None else None
        # Told apart by the core client: importing the OpenLM facade to ask would cost a
        # portal change the module's load.
        call: Pending[Any]
        # A plan this same call made a moment ago was read just now: its read is the
        # re-read before the change (once: applying it again reads afresh).
        recheck, self._read_now = not self._read_now, False
        if isinstance(core, _core.FlexNetClient):
            # Removes re-check in the core: lmstat is read again before they go, always.
            call = core.apply_plan(plan, path, concurrency, counter)
        elif isinstance(core, _core.OpenLMClient):
            # Closes re-check in the core: the open sessions are listed before they go.
            call = core.apply_plan(plan, path, concurrency, counter, recheck)
        else:
            call = core.apply_plan(plan, path, batch_size, concurrency, counter, recheck)
        if hook is not None and counter is not None:
            call = Ticking(call, _on_change(counter, hook))
        items = self._given if self._given is not None else [i.item for i in self.items]
        return Then(call, lambda results: _report(self, items, results))

    apply = blocking(_apply)
    apply_async = awaiting(_apply)

    @classmethod
    def resume(cls, journal: str | os.PathLike[str], client: GIS | OpenLM | FlexNet) -> Plan:
        """Plan again, from the state now, what the journal's run left unfinished: items
        sent without a journaled answer, unknown, or not reached. Apply it with the same
        ``journal`` to append to it."""
        return _resumed(cls, journal, client).wait()

    @classmethod
    async def resume_async(
        cls, journal: str | os.PathLike[str], client: GIS | OpenLM | FlexNet
    ) -> Plan:
        """Plan again, from the state now, what the journal's run left unfinished: items
        sent without a journaled answer, unknown, or not reached. Apply it with the same
        ``journal`` to append to it."""
        return await _resumed(cls, journal, client)

    @classmethod
    def undo(cls, journal: str | os.PathLike[str], gis: GIS) -> Plan:
        """Plan undoing what the journal shows done: user types, roles and entitlements go
        back to what the journal found, for members still as the run left them (others are
        skipped, saying what they are now). What cannot be undone (a released check-out) is
        listed as skipped items, with who it was."""
        return _undone(cls, journal, gis).wait()

    @classmethod
    async def undo_async(cls, journal: str | os.PathLike[str], gis: GIS) -> Plan:
        """Plan undoing what the journal shows done: user types, roles and entitlements go
        back to what the journal found, for members still as the run left them (others are
        skipped, saying what they are now). What cannot be undone (a released check-out) is
        listed as skipped items, with who it was."""
        return await _undone(cls, journal, gis)

    def __repr__(self) -> str:
        return f"<Plan {self.summary()}>"

    def _repr_html_(self) -> str:
        from gislicense import _html, _rows

        rows = [_rows.flat(item.to_row()) for item in self.items]
        title = f"Plan: {self.operation} on {self.service}"
        columns = _rows.view_columns(rows)
        return _html.outcomes(title, self.counts(), rows, columns, self.notes)

    def __str__(self) -> str:
        lines = [self.summary()]
        lines.extend(f"  note: {n}" for n in self.notes)
        for item in self.items:
            if item.steps:
                continue
            if item.status in ("failed", "skipped"):
                lines.append(f"  {item.status}: {item.item}: {item.reason}")
        shown = [i for i in self.items if i.steps][:20]
        for item in shown:
            lines.append(f"  {item.status}: {item.item}: {item.describe_steps()}")
        more = len(self.changes) - len(shown)
        if more > 0:
            lines.append(f"  ... and {more} more to change")
        return "\n".join(lines)


def _names(names: Iterable[str]) -> list[str]:
    if isinstance(names, str):
        raise InvalidInputError("pass a list of names, not one string")
    return [str(n) for n in names]


def _resumed(
    cls: type[Plan], journal: str | os.PathLike[str], client: GIS | OpenLM | FlexNet
) -> Pending[Plan]:
    call = _core_of(client).plan_resume(os.fspath(journal))
    return Then(call, lambda made: cls._of(client, made))


def _undone(cls: type[Plan], journal: str | os.PathLike[str], gis: GIS) -> Pending[Plan]:
    return Then(gis._core.plan_undo(os.fspath(journal)), lambda made: cls._of(gis, made))


def _core_of(client: GIS | OpenLM | FlexNet) -> Any:
    """The core client behind a GIS, an OpenLM or a FlexNet."""
    core = getattr(client, "_client", None)
    return core if core is not None else getattr(client, "_core")  # noqa: B009


def _report(plan: Plan, items: list[Any], results: list[tuple[Any, ...]]) -> BulkReport[Any]:
    """The outcomes, each knowing its item of ``plan`` (its fields and steps, for rows)."""
    # 5,000 outcomes are some 10,000 new objects that hold no cycles: left on, the cycle
    # collector starts a collection every 700 of them (twice the time of making them).
    # The core's pause, so that it nests with the pauses of listings in other threads.
    with _core.collector_paused():
        report: BulkReport[Any] = BulkReport.from_results(items, results)
        report.journal = plan.journal
        for position, outcome in enumerate(report):
            # Looked up when a row is made: a plan made and applied at once is never read
            # into Python unless someone asks for its rows.
            outcome._planned = partial(_item_at, plan, position)
    return report


def _item_at(plan: Plan, position: int) -> PlanItem:
    return plan.items[position]


class Journal:
    """A journal read back: each item's outcome as the run left it.

    Attributes:
        path: The file.
        finished: Whether nothing is left to do: the last run it records went to its end,
            and every item has its outcome (none unknown, none whose state could not be
            read). Otherwise :meth:`Plan.resume` plans what is left.
        ended: Whether the last run it records went to its end (it was not interrupted).
        report: One :class:`~gislicense.Outcome` per item first planned; items the run did not
            finish say so in their reason.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import json
        from pathlib import Path

        self.path = Path(path)
        rows, plan, finished, ended = _core.read_journal(os.fspath(self.path))
        self.finished: bool = finished
        self.ended: bool = ended
        self.plan: dict[str, Any] = json.loads(plan)
        report: BulkReport[str] = BulkReport()
        # Each outcome knows its item in the first plan, for its fields in rows.
        first = Plan(None, self.plan)
        positions = {data["index"]: n for n, data in enumerate(self.plan["items"])}
        for index, item, status, reason, _done in rows:
            outcome = Outcome(item, status, reason)
            if index in positions:
                outcome._planned = partial(_item_at, first, positions[index])
            report.append(outcome)
        self.report = report
        #: Items whose outcome the run did not learn (a resume plans them again).
        self.unfinished = [item for _i, item, _s, _r, done in rows if not done]

    def __repr__(self) -> str:
        if self.finished:
            state = "finished"
        elif self.ended:
            state = f"{len(self.unfinished)} left unfinished"
        else:
            state = "interrupted"
        return f"<Journal {self.path} ({state}): {self.report.summary()}>"


def _on_change(
    counter: _core.ApplyProgress, progress: Callable[[int, int], object]
) -> Callable[[], None]:
    """A tick that calls ``progress`` when the count has moved since it last did."""
    last: list[tuple[int, int]] = []

    def tick() -> None:
        now = counter.get()
        # (0, 0): applying has not started counting yet.
        if now[1] and (not last or last[0] != now):
            last[:] = [now]
            progress(*now)

    return tick


def plan_members(gis: GIS, users: Iterable[Any], request: dict[str, Any]) -> Pending[Plan]:
    """Plan a change of members: ``users`` are user names or User objects; ``request``
    names the ``operation`` and gives what it takes (``user_type``, ``roles``, ``role``,
    ``level``, ``license``, ``mode``, ``entitlements``, ``app``, ``allow_admin_demotion``,
    ``allow_all``), which the core reads strictly: an unknown operation, mode or field is
    refused."""
    from gislicense.users import _member

    if isinstance(users, str):
        raise InvalidInputError("pass a list of user names, not one string")
    items = list(users)
    members = [_member(u) for u in items]
    # What a selection left out (administrators) goes into the plan's notes.
    notes = getattr(users, "notes", None)
    if notes:
        request = {**request, "notes": list(notes)}
    operation = str(request["operation"])
    call = gis._core.plan(request, members)
    return Then(call, lambda made: Plan._of(gis, made, items, operation))


def change(
    plan: Pending[Plan],
    *,
    dry_run: bool,
    journal: JournalArg,
    concurrency: int,
    batch_size: int = 25,
    progress: ProgressArg = None,
) -> Pending[BulkReport[Any]]:
    """A plan, then its report: predicted (dry run) or applied, journaled. The settings
    are checked here, before anything is read: the plan is read only when waited for."""
    _core.check_concurrency(concurrency)
    check_progress(progress)

    def then(made: Plan) -> Pending[BulkReport[Any]]:
        if dry_run:
            return Done(made.report())
        # Planned by this same call: its read is the one just before the change.
        made._read_now = True
        return made._apply(
            journal=journal, concurrency=concurrency, batch_size=batch_size, progress=progress
        )

    return Chain(plan, then)
