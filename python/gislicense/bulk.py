"""Outcomes of bulk operations: every item ends succeeded, unchanged, skipped, failed with its
reason, or unknown (the change was sent and its answer lost)."""

from __future__ import annotations

from gislicense._calls import Pending, Then
from gislicense.exceptions import BulkOperationError, GisLicenseError

# typing's names for type checkers only (see _generic.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from typing import Any, Generic, TypeVar

    from gislicense.plans import PlanItem
else:
    from gislicense._generic import Generic, TypeVar

T = TypeVar("T")

__all__ = ["BulkReport", "Outcome"]

#: Statuses that mean the item was not done.
FAILED = "failed"
SKIPPED = "skipped"
#: The change was sent, its answer was lost, and a second look could not confirm it.
UNKNOWN = "unknown"


class Outcome(Generic[T]):
    """What happened to one item of a bulk operation.

    Attributes:
        item: The item as it was given.
        status: What happened: an action (``"closed"``, ``"changed"``...), its dry-run form
            (``"would_close"``...), ``"unchanged"``, ``"skipped"``, ``"failed"``, or
            ``"unknown"``: the change was sent, its answer was lost (a timeout, a broken
            connection, a reply that said neither yes nor no) and re-reading the state could
            not confirm it. It may have happened; look before repeating it.
        reason: Why it was skipped, unchanged, failed or unknown; for an action confirmed by
            re-reading after its answer was lost, how it was confirmed; else None.
        error: The exception for a failed item (:class:`OutcomeUnknownError` for an unknown
            one), else None.
        steps: For operations of several steps, each step's outcome (its ``item`` is the
            step's name, such as ``"release"``); empty otherwise.
    """

    __slots__ = ("_planned", "_steps", "error", "item", "reason", "status")

    def __init__(
        self,
        item: T,
        status: str,
        reason: str | None = None,
        error: GisLicenseError | None = None,
        steps: list[Outcome[str]] | None = None,
    ) -> None:
        self.item = item
        self.status = status
        self.reason = reason
        self.error = error
        self._steps: list[Outcome[str]] | list[tuple[Any, ...]] | None = steps
        # The plan's item it is the outcome of, when a plan made it (its fields and steps),
        # looked up when asked for.
        self._planned: Callable[[], PlanItem] | None = None

    @property
    def steps(self) -> list[Outcome[str]]:
        # Made on first look from the core's tuples: a report of 5,000 items is built in a
        # fraction of the time when nobody asks for every step.
        steps = self._steps
        if steps is None:
            steps = self._steps = []
        elif steps and not isinstance(steps[0], Outcome):
            steps = self._steps = [Outcome(*step) for step in steps]
        return steps  # type: ignore[return-value]

    @steps.setter
    def steps(self, steps: list[Outcome[str]]) -> None:
        self._steps = steps

    @property
    def ok(self) -> bool:
        """True unless the item failed or its outcome is unknown."""
        return self.status not in (FAILED, UNKNOWN)

    def __repr__(self) -> str:
        reason = f", reason={self.reason!r}" if self.reason else ""
        return f"Outcome(status={self.status!r}, item={self.item!r}{reason})"


class BulkReport(list[Outcome[T]]):
    """One :class:`Outcome` per item, in the order the items were given.

    ``journal`` is the path of the journal the run wrote (None for a dry run or none).
    """

    journal: Path | None = None

    @classmethod
    def from_results(cls, items: Iterable[T], results: Iterable[tuple[Any, ...]]) -> BulkReport[T]:
        """Pair items with the core's ``(status, reason, error)`` tuples, which may carry a
        fourth element: ``(step, status, reason, error)`` tuples of each step."""
        report: BulkReport[T] = cls()
        append = report.append
        for item, (status, reason, error, *steps) in zip(items, results):
            # Steps stay the core's tuples until someone looks (see Outcome.steps).
            append(Outcome(item, status, reason, error, steps[0] if steps else None))
        return report

    @property
    def failed(self) -> list[Outcome[T]]:
        return [o for o in self if o.status == FAILED]

    @property
    def skipped(self) -> list[Outcome[T]]:
        return [o for o in self if o.status == SKIPPED]

    @property
    def unknown(self) -> list[Outcome[T]]:
        """Items sent whose outcome is not known (see :attr:`Outcome.status`)."""
        return [o for o in self if o.status == UNKNOWN]

    @property
    def succeeded(self) -> list[Outcome[T]]:
        """Items done, would be done (dry run), or already as asked."""
        return [o for o in self if o.status not in (FAILED, SKIPPED, UNKNOWN)]

    def counts(self) -> dict[str, int]:
        """How many items ended in each status, in order of first appearance."""
        counts: dict[str, int] = {}
        for outcome in self:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    def summary(self) -> str:
        parts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in self.counts().items())
        noun = "item" if len(self) == 1 else "items"
        return f"{len(self)} {noun}" + (f": {parts}" if parts else "")

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per item, for scripts, JSON and tables: the plan's rows
        (:meth:`Plan.to_rows`: ``item``, the item's own fields such as ``username``,
        ``workstation``, ``user_type_from``/``_to``), with each item's ``status`` and
        ``reason`` as it ended and ``steps`` as sent, each step with its ``status`` and
        ``reason``."""
        from gislicense._rows import report_row

        return [report_row(o) for o in self]

    def to_dataframe(self) -> Any:
        """A pandas DataFrame: one row per item, the columns of :meth:`to_rows` with
        ``steps`` as text."""
        from gislicense.tables import to_dataframe

        return to_dataframe(self)

    def raise_for_failures(self) -> None:
        """Raise :class:`BulkOperationError` if any item failed or its outcome is unknown."""
        failed = [o for o in self if not o.ok]
        if failed:
            first = failed[0].reason or "no reason given"
            raise BulkOperationError(
                f"{len(failed)} of {len(self)} items failed or are unknown; the first: {first}",
                report=self,
            )

    def __repr__(self) -> str:
        return f"<BulkReport {self.summary()}>"

    def _repr_html_(self) -> str:
        from gislicense import _html, _rows

        rows = [_rows.flat(row) for row in self.to_rows()]
        return _html.outcomes("Report", self.counts(), rows, _rows.view_columns(rows))

    def __str__(self) -> str:
        lines = [self.summary()]
        for outcome in self:
            if outcome.status in (FAILED, SKIPPED, UNKNOWN):
                lines.append(f"  {outcome.status}: {outcome.item!r}: {outcome.reason}")
                lines.extend(
                    f"    {step.item}: {step.status}" + (f" ({step.reason})" if step.reason else "")
                    for step in outcome.steps
                )
        return "\n".join(lines)


def report_of(items: list[T], call: Pending[list[tuple[Any, ...]]]) -> Then[Any, BulkReport[T]]:
    """A bulk call whose outcomes come back paired with the items given."""
    return Then(call, lambda results: BulkReport.from_results(items, results))
