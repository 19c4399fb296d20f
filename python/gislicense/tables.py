"""Tables: what the library returns, as a pandas DataFrame with one call.

``gislicense.to_dataframe(x)`` takes a list of members, sessions, user types, roles,
licenses, entitlements or entitlement counts, a report (``BulkReport``) or a plan, and makes
one row per item with typed columns, never objects:

- times (``last_login``, ``start_time``...): timezone-aware UTC ``datetime64`` (a License
  Manager's naive times are read as this machine's local time);
- durations (``duration``, ``idle_time``): ``timedelta64``;
- counts (``level``, ``maximum``, ``in_use``, ``licenses``...): nullable ``Int64``, ``<NA>``
  when unknown (a user type without a limit, a level a portal does not report);
- flags (``disabled``, ``closable``...): nullable ``boolean``;
- lists of entitlement ids (``entitlements``, and a plan's ``entitlements_from``/``_to``):
  one text each, the ids joined by commas (``"desktopAdvN,3DAnalystN"``, ``""`` for none):
  it works in every pandas, with or without pyarrow, in ``groupby``, ``value_counts`` and
  Excel; ``.str.contains("desktopAdvN")`` filters, ``.str.split(",").explode()`` gives one
  row per entitlement;
- text (names, ids, statuses, reasons, a plan's ``steps``): pandas' ``string``, ``<NA>``
  when missing.

Reports and plans have it as a method too (``report.to_dataframe()``). pandas stays
optional: it is imported only here, when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gislicense.exceptions import InvalidInputError

#: Columns whose values are times, counts or flags, by name: typed when the table is made.
_TIMES = {"last_login", "created", "modified", "start_time"}
_COUNTS = {
    *("level", "in_use", "maximum", "total", "assigned", "remaining", "licenses"),
    *("level_from", "level_to"),
    # A License Manager's: its features' totals, a session's port and process id.
    *("issued", "free", "reserved", "port", "pid"),
}
_FLAGS = {"disabled", "disconnected", "borrowed", "closable"}
_SECONDS = {"duration", "idle_time"}
#: Columns of entitlement ids: one text each, the ids joined by commas.
_LISTS = {"entitlements", "entitlements_from", "entitlements_to"}


def row(item: Any) -> dict[str, Any]:
    """One item as a table row: its typed fields by name."""
    from gislicense import _core
    from gislicense._rows import flat, plan_row, report_row
    from gislicense.bulk import Outcome
    from gislicense.licenses import License
    from gislicense.plans import PlanItem
    from gislicense.users import User

    if isinstance(item, User):
        return {
            "username": item.username,
            "full_name": item.full_name,
            "email": item.email,
            "user_type": item.user_type,
            "role": item.role,
            "role_id": item.role_id,
            "level": item.level,
            "last_login": item.last_login,
            "created": item.created,
            "modified": item.modified,
            "disabled": item.disabled,
        }
    if isinstance(
        item,
        (_core.ActiveProduct, _core.FlexNetSession, _core.FlexNetFeature, _core.LicenseEvent),
    ):
        return item.to_dict()
    if isinstance(item, _core.UserType):
        return {"id": item.id, "name": item.name, "in_use": item.in_use, "maximum": item.maximum}
    if isinstance(item, _core.Role):
        return {"id": item.id, "name": item.name, "description": item.description}
    if isinstance(item, _core.UserEntitlement):
        return {
            "username": item.username,
            "entitlements": list(item.entitlements),
            "disconnected": item.disconnected,
            "last_login": item.last_login,
        }
    if isinstance(item, _core.EntitlementCount):
        return item.as_dict()
    if isinstance(item, License):
        # The ids bought; how many of each is the license's report.
        entitlements = list(item.entitlements)
        return {"license": item.title, "item_id": item.item_id, "entitlements": entitlements}
    if isinstance(item, Outcome):
        return flat(report_row(item))
    if isinstance(item, PlanItem):
        return flat(plan_row(item))
    if isinstance(item, Mapping):
        return dict(item)
    raise InvalidInputError(f"a {type(item).__name__} does not make a table row")


def to_dataframe(items: Iterable[Any]) -> Any:
    """A pandas DataFrame of ``items``: one row each, typed columns (see the module).

    Raises:
        InvalidInputError: pandas is not installed (``pip install pandas``), or an item is
            of a kind that makes no row.
    """
    try:
        import pandas  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise InvalidInputError("tables need pandas: pip install pandas") from None
    from gislicense.plans import Plan

    if isinstance(items, Plan):
        items = items.items
    rows = [row(item) for item in items]
    table = pandas.DataFrame(rows)
    for column in table.columns:
        table[column] = _typed(pandas, column, table[column])
    return table


def _typed(pandas: Any, name: str, column: Any) -> Any:
    """The column in its type, by its name; text as text."""
    if name in _TIMES:
        # A naive time (a License Manager's clock) is this machine's local time, as the
        # usage history reads it; aware times are kept as they are.
        local = [_local(v) for v in column]
        return pandas.to_datetime(pandas.Series(local, index=column.index, dtype=object), utc=True)
    if name in _COUNTS:
        return column.astype("Int64")
    if name in _FLAGS:
        return column.astype("boolean")
    if name in _SECONDS:
        return pandas.to_timedelta(column)
    if name in _LISTS:
        joined = [",".join(v) if isinstance(v, (list, tuple)) else v for v in column]
        return pandas.Series(joined, index=column.index, dtype="string")
    if all(_text_or_missing(v) for v in column):
        return column.astype("string")
    return column


def _local(value: Any) -> Any:
    """A naive time (a datetime or pandas' Timestamp, not NaT) as an aware local time."""
    import datetime as _dt

    if not isinstance(value, _dt.datetime) or value.tzinfo is not None or value != value:
        return value
    plain = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return plain.astimezone()


def _text_or_missing(value: Any) -> bool:
    # pandas may hold a missing value as None or as NaN (which is not equal to itself).
    return isinstance(value, str) or value is None or (isinstance(value, float) and value != value)
