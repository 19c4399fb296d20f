"""Rows of plans and reports: one per item, with the item's own fields and its steps.

A close's row carries the session's five fields (``username``, ``workstation``, ``feature``,
``server``, ``vendor``); a member change's row the ``username`` and, for each kind of change
the item has once, its ``from`` and ``to``: ``user_type_from``, ``role_to``... by the names
the plan knows (``Creator``, ``Viewer``), their ids beside them (``user_type_from_id``).
Every row of a kind has every field of its kind (None where it has no such change), so a
script or a spreadsheet finds the same columns whatever the items are.

``steps`` is a list of objects: ``action``, ``from``, ``to`` (and ids, license, app...),
``description`` in the core's words (``_core.step_descriptions``: steps are worded there
only), and in a report each step's ``status`` and ``reason``. A terminal table, a CSV file,
a notebook view and a DataFrame show them as one text column (:func:`flat`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gislicense.bulk import Outcome
    from gislicense.plans import PlanItem

#: A close's fields: what names an OpenLM session.
SESSION_FIELDS = ("username", "workstation", "feature", "server", "vendor")

#: A member change's fields: the member, and each kind of change's from and to.
MEMBER_FIELDS = (
    "username",
    "user_type_from",
    "user_type_to",
    "user_type_from_id",
    "user_type_to_id",
    "role_from",
    "role_to",
    "role_from_id",
    "role_to_id",
    "level_from",
    "level_to",
    "license",
    "license_id",
    "entitlements_from",
    "entitlements_to",
    "release_app",
)

#: What a terminal table or a notebook view shows of each kind of row; JSON and CSV carry
#: every field.
SESSION_VIEW = ("username", "workstation", "feature", "server", "status", "reason")
MEMBER_VIEW = ("item", "status", "steps", "reason")

#: Step kinds whose from and to are ids that the plan's ``names`` give names to.
_NAMED = ("user_type", "role")


def plan_row(item: PlanItem) -> dict[str, Any]:
    """A plan's item: what it is, its predicted status, its steps, the reason."""
    return {
        "item": item.item,
        "status": item.status,
        **_fields(item),
        "steps": _planned_steps(item),
        "reason": item.reason,
    }


def report_row(outcome: Outcome[Any]) -> dict[str, Any]:
    """A report's item: its fields as planned, its status, the steps sent with each one's
    outcome (a step not sent, because one before it failed or the item was already as
    wanted, is not listed), the reason."""
    if outcome._planned is None:
        return _bare_row(outcome)
    planned = outcome._planned()
    left = _planned_steps(planned)
    steps = []
    for sent in outcome.steps:
        step = next((s for s in left if s["action"] == sent.item), None)
        if step is not None:
            left.remove(step)
        steps.append(
            {**(step or {"action": sent.item}), "status": sent.status, "reason": sent.reason}
        )
    return {
        "item": planned.item,
        "status": outcome.status,
        **_fields(planned),
        "steps": steps,
        "reason": outcome.reason,
    }


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its steps as one line of text, for a table, CSV or a DataFrame."""
    steps = row.get("steps")
    if not isinstance(steps, list):
        return row
    return {**row, "steps": steps_text(steps, row.get("status"))}


def steps_text(steps: Sequence[dict[str, Any]], status: str | None = None) -> str:
    """Steps as one line: "role User → Viewer; user type Creator → Viewer". Each says its
    outcome ("...: changed") unless every step ended as the item did (``status``)."""
    same = all(s.get("status") in (None, status) for s in steps)
    parts = []
    for step in steps:
        words = step.get("description") or str(step.get("action", "")).replace("_", " ")
        parts.append(words if same else f"{words}: {step.get('status')}")
    return "; ".join(parts)


def columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every field the rows have, in the order they first appear (JSON and CSV carry all)."""
    return list(dict.fromkeys(key for row in rows for key in row))


def view_columns(rows: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """What a table or a notebook view shows: a close's session, else the item and steps."""
    return SESSION_VIEW if rows and "workstation" in rows[0] else MEMBER_VIEW


def _planned_steps(item: PlanItem) -> list[dict[str, Any]]:
    """The item's steps as objects: the plan's values, ids named, the core's description."""
    names = item._names
    steps = []
    for step, words in zip(item.steps, item.descriptions()):
        fields = {k: v for k, v in step.items() if k not in ("username", "session")}
        action = fields.get("action")
        if action in _NAMED:
            before, after = fields.pop("from", None), fields.pop("to", None)
            fields = {
                "action": action,
                "from": names.get(str(before), before),
                "to": names.get(str(after), after),
                "from_id": before,
                "to_id": after,
            }
        elif action == "entitlements":
            # As in the row: the license by its title, its item id beside it.
            fields = {
                "action": action,
                "from": fields.get("from"),
                "to": fields.get("to"),
                "license": fields.get("title"),
                "license_id": fields.get("license"),
            }
        steps.append({**fields, "description": words})
    return steps


def _fields(item: PlanItem) -> dict[str, Any]:
    """The item's own fields: a session's five, or a member's name and changes."""
    if item._session:
        session = next((s["session"] for s in item.steps if s.get("action") == "close"), None)
        if not isinstance(session, dict):
            session = item._wanted if isinstance(item._wanted, dict) else {}
        return {f: session.get(f) for f in SESSION_FIELDS}
    fields: dict[str, Any] = dict.fromkeys(MEMBER_FIELDS)
    fields["username"] = next((s["username"] for s in item.steps if "username" in s), item.item)
    kinds = Counter(s.get("action") for s in item.steps)
    for step in item.steps:
        action = step.get("action")
        if kinds[action] == 1:
            fields.update(_change(step, item._names))
    return fields


def _change(step: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """One step's flat fields: ``role_from``, ``role_to``...; a kind's only step."""
    action = step.get("action")
    before, after = step.get("from"), step.get("to")
    if action in _NAMED:
        return {
            f"{action}_from": names.get(str(before), before),
            f"{action}_to": names.get(str(after), after),
            f"{action}_from_id": before,
            f"{action}_to_id": after,
        }
    if action == "level":
        return {"level_from": before, "level_to": after}
    if action == "entitlements":
        return {
            "license": step.get("title"),
            "license_id": step.get("license"),
            "entitlements_from": before,
            "entitlements_to": after,
        }
    if action == "release":
        return {"release_app": step.get("app")}
    return {}


def _bare_row(outcome: Outcome[Any]) -> dict[str, Any]:
    """An outcome that no plan made (built by hand): what its item and steps say."""
    from gislicense import _core
    from gislicense.users import User

    item = outcome.item
    fields: dict[str, Any] = {}
    if isinstance(item, User):
        name: Any = item.username
        fields = {"username": item.username}
    elif isinstance(item, _core.ActiveProduct):
        # As the core names a session in a plan ("Editor of ann on WS-1 (LM, ARCGIS)").
        name = f"{item.feature} of {item.username} on {item.workstation}"
        name += f" ({item.server}, {item.vendor})"
        fields = {f: getattr(item, f) for f in SESSION_FIELDS}
    else:
        name = item
    steps = [{"action": s.item, "status": s.status, "reason": s.reason} for s in outcome.steps]
    return {
        "item": name,
        "status": outcome.status,
        **fields,
        "steps": steps,
        "reason": outcome.reason,
    }
