"""The tools' parameters: made as ``arcpy.Parameter`` objects, read back by name, and their
choice lists filled from the server once per portal or source.

Pro calls a tool's ``updateParameters`` each time a parameter changes, so what is read from
a server (user types, roles, entitlements, features) is read once per portal or source and
kept: :func:`choices` remembers it, and the error that stopped it, for ``updateMessages`` to
say. No parameter ever holds a password: portals sign in through ArcGIS Pro or a saved
profile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gislicense.exceptions import GisLicenseError

__all__ = ["Values", "arcpy", "choices", "forget_choices"]


def arcpy() -> Any:
    """ArcGIS Pro's arcpy, imported when a tool is used (the package imports without it)."""
    import arcpy as module  # type: ignore[import-not-found,unused-ignore]

    return module


def _parameter(
    name: str,
    label: str,
    datatype: str,
    *,
    required: bool = False,
    direction: str = "Input",
    multi: bool = False,
    default: Any = None,
    category: str | None = None,
) -> Any:
    parameter = arcpy().Parameter(
        name=name,
        displayName=label,
        direction=direction,
        datatype=datatype,
        parameterType="Required" if required else "Optional",
        category=category,
        multiValue=multi,
    )
    if default is not None:
        parameter.value = default
    return parameter


def text(
    name: str,
    label: str,
    *,
    required: bool = False,
    multi: bool = False,
    default: str | None = None,
    category: str | None = None,
) -> Any:
    """A string (a value list once :func:`fill` gives it choices)."""
    return _parameter(
        name, label, "GPString", required=required, multi=multi, default=default, category=category
    )


def flag(name: str, label: str, *, default: bool = False, category: str | None = None) -> Any:
    """A check box."""
    return _parameter(name, label, "GPBoolean", required=False, default=default, category=category)


def number(name: str, label: str, *, whole: bool = True, required: bool = False) -> Any:
    """A number: ``GPLong`` (days) or ``GPDouble`` (hours)."""
    return _parameter(name, label, "GPLong" if whole else "GPDouble", required=required)


def file(name: str, label: str, extension: str, *, output: bool, required: bool = False) -> Any:
    """A file of one extension: a journal (``jsonl``) or a table (``csv``)."""
    parameter = _parameter(
        name,
        label,
        "DEFile",
        required=required,
        direction="Output" if output else "Input",
    )
    parameter.filter.list = [extension]
    return parameter


def table(name: str, label: str) -> Any:
    """An output table in a geodatabase (optional): the report, for the map to open."""
    return _parameter(name, label, "DETable", direction="Output")


def journal(category: str | None = None) -> Any:
    """Where an applied run's journal goes; empty for a new file in the journal folder."""
    parameter = file("journal", "Journal (empty: the journal folder)", "jsonl", output=True)
    parameter.category = category
    return parameter


def apply() -> Any:
    """Unchecked (the default), the tool lists its plan and changes nothing."""
    return flag("apply", "Apply the plan (unchecked: only list it)")


class Values:
    """The values of a tool's parameters, by name, as Python values."""

    def __init__(self, parameters: Sequence[Any]) -> None:
        self.parameters = {p.name: p for p in parameters}

    def __getitem__(self, name: str) -> Any:
        return self.parameters[name]

    def text(self, name: str) -> str | None:
        """The parameter's text, stripped; None when empty."""
        value = self.parameters[name].valueAsText
        return value.strip() or None if value is not None else None

    def texts(self, name: str) -> list[str]:
        """A multi-value parameter's values (empty values dropped)."""
        values = self.parameters[name].values or []
        return [str(v).strip() for v in values if v is not None and str(v).strip()]

    def flag(self, name: str) -> bool:
        return bool(self.parameters[name].value)

    def number(self, name: str) -> float | None:
        value = self.parameters[name].value
        return None if value is None else float(value)


#: What was read for each (what, source): the choices, or the error that stopped them
#: and when (an error is tried again after :data:`RETRY_AFTER` seconds).
_CHOICES: dict[tuple[str, str], list[str] | tuple[GisLicenseError, float]] = {}
RETRY_AFTER = 60.0


def choices(what: str, source: str, read: Callable[[], list[str]]) -> list[str] | None:
    """``read()`` once for ``(what, source)`` (user types of a portal, say): the choices,
    or None when reading failed (:func:`choice_error` says why)."""
    import time

    key = (what, source)
    found = _CHOICES.get(key)
    if found is None or (isinstance(found, tuple) and time.monotonic() > found[1]):
        try:
            found = read()
        except GisLicenseError as err:
            found = (err, time.monotonic() + RETRY_AFTER)
        _CHOICES[key] = found
    return None if isinstance(found, tuple) else found


def choice_error(what: str, source: str) -> GisLicenseError | None:
    """Why the choices of ``(what, source)`` could not be read; None if they were (or were
    not tried)."""
    found = _CHOICES.get((what, source))
    return found[0] if isinstance(found, tuple) else None


def forget_choices() -> None:
    """Read the choices again next time (a tool run changed them, or a test starts)."""
    _CHOICES.clear()


def fill(parameter: Any, found: list[str] | None, *, keep: Sequence[str] = ()) -> None:
    """Give a string parameter its choices (``keep`` first: "auto", "pro"); none when they
    could not be read, so any value may be typed and the tool says what is wrong."""
    if found is None:
        return
    listed = [*keep, *(c for c in found if c not in keep)]
    if list(parameter.filter.list or []) != listed:
        parameter.filter.type = "ValueList"
        parameter.filter.list = listed
