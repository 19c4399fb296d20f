"""A stand-in for ArcGIS Pro's ``arcpy``: the little the toolbox uses, as Esri documents it.

- ``Parameter(name, displayName, direction, datatype, parameterType, enabled, category,
  symbology, multiValue)`` with ``value``, ``valueAsText`` (multiple values joined with
  ``;``), ``values`` (a list, for a multi-value parameter), ``filter`` (``type``, ``list``),
  ``setErrorMessage`` / ``setWarningMessage`` / ``clearMessage`` / ``hasError`` /
  ``hasWarning``.
- ``AddMessage``, ``AddWarning``, ``AddError``; ``SetProgressor(type, message, min_range,
  max_range, step_value)``, ``SetProgressorPosition``, ``SetProgressorLabel``,
  ``ResetProgressor``; ``env.autoCancelling`` (True by default) and ``env.isCancelled``
  (read-only: set when Cancel is pressed); ``ExecuteError``.
- ``GetActivePortalURL()`` and ``GetSigninToken()`` (``token``, ``referer``, ``expires``
  in seconds since the epoch), here of the sandbox's administrator.
- ``management.CreateTable``, ``management.AddField``, ``da.InsertCursor``, kept in
  :data:`tables`.

What a test reads: :data:`messages` (``(kind, text)``), :data:`progress` (each progressor
call) and :data:`tables`; :func:`press_cancel_at` presses Cancel once the progressor
reaches a position. Install it with :func:`install` (the ``arcpy`` fixture of the toolbox
tests does).
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import types
import urllib.parse
import urllib.request
from typing import Any

messages: list[tuple[str, str]] = []
progress: list[tuple[Any, ...]] = []
tables: dict[str, dict[str, Any]] = {}
_portal: dict[str, Any] = {}
_cancel_at: list[int] = []


class ExecuteError(Exception):
    """arcpy's error of a failed tool."""


class Filter:
    def __init__(self, datatype: str) -> None:
        self.type = {"DEFile": "File", "DETable": None}.get(datatype, "ValueList")
        self.list: list[Any] = []


class Parameter:
    def __init__(
        self,
        name: str | None = None,
        displayName: str | None = None,
        direction: str | None = None,
        datatype: str | None = None,
        parameterType: str | None = None,
        enabled: bool | None = None,
        category: str | None = None,
        symbology: str | None = None,
        multiValue: bool | None = None,
    ) -> None:
        self.name = name
        self.displayName = displayName
        self.direction = direction or "Input"
        self.datatype = datatype or "GPString"
        self.parameterType = parameterType or "Required"
        self.enabled = True if enabled is None else enabled
        self.category = category
        self.symbology = symbology
        self.multiValue = bool(multiValue)
        self.filter = Filter(self.datatype)
        self.value: Any = None
        self.message = ""
        self._level = ""

    @property
    def values(self) -> list[Any] | None:
        if not self.multiValue or self.value is None:
            return None
        return list(self.value) if isinstance(self.value, (list, tuple)) else [self.value]

    @values.setter
    def values(self, values: list[Any] | None) -> None:
        self.value = values

    @property
    def valueAsText(self) -> str | None:
        if self.value is None:
            return None
        if self.multiValue:
            return ";".join(str(v) for v in self.values or [])
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    def setErrorMessage(self, message: str) -> None:
        self.message, self._level = message, "error"

    def setWarningMessage(self, message: str) -> None:
        self.message, self._level = message, "warning"

    def clearMessage(self) -> None:
        self.message, self._level = "", ""

    def hasError(self) -> bool:
        return self._level == "error"

    def hasWarning(self) -> bool:
        return self._level == "warning"


class _Env:
    def __init__(self) -> None:
        self.autoCancelling = True

    @property
    def isCancelled(self) -> bool:
        # Esri: "When autoCancelling is set to False and the tool has been cancelled".
        positions = [p[1] for p in progress if p[0] == "position"]
        pressed = bool(_cancel_at) and any(p >= _cancel_at[0] for p in positions)
        return pressed and not self.autoCancelling


env = _Env()


def AddMessage(message: str) -> None:
    messages.append(("message", str(message)))


def AddWarning(message: str) -> None:
    messages.append(("warning", str(message)))


def AddError(message: str) -> None:
    messages.append(("error", str(message)))


def SetProgressor(
    type: str = "default",
    message: str = "",
    min_range: int = 0,
    max_range: int = 100,
    step_value: int = 1,
) -> None:
    progress.append(("set", type, message, min_range, max_range, step_value))


def SetProgressorPosition(position: int | None = None) -> None:
    progress.append(("position", position))


def SetProgressorLabel(label: str) -> None:
    progress.append(("label", label))


def ResetProgressor() -> None:
    progress.append(("reset",))


def GetActivePortalURL() -> str:
    return str(_portal.get("url", ""))


def GetSigninToken() -> dict[str, Any] | None:
    """A token of the signed-in user, made as Pro's own sign-in would (generateToken)."""
    if not _portal:
        return None
    context = ssl.create_default_context(cafile=_portal["ca_file"])
    form = urllib.parse.urlencode(
        {"username": _portal["username"], "password": _portal["password"], "f": "json",
         "client": "referer", "referer": "pro"}
    ).encode()  # fmt: skip
    request = urllib.request.Request(
        f"{_portal['url']}/sharing/rest/generateToken", data=form, headers={"Referer": "pro"}
    )
    with urllib.request.urlopen(request, context=context) as answer:
        reply = json.loads(answer.read())
    return {"token": reply["token"], "referer": "pro", "expires": reply["expires"] / 1000}


def _create_table(out_path: str, out_name: str, *args: Any) -> None:
    path = os.path.join(out_path, out_name)
    if path in tables:
        raise ExecuteError(f"ERROR 000725: Output Table: Dataset {path} already exists.")
    tables[path] = {"fields": [], "rows": []}


def _add_field(in_table: str, field_name: str, field_type: str, *args: Any, **kw: Any) -> None:
    tables[in_table]["fields"].append((field_name, field_type, kw.get("field_length")))


class _InsertCursor:
    def __init__(self, in_table: str, field_names: list[str]) -> None:
        known = [f[0] for f in tables[in_table]["fields"]]
        missing = [f for f in field_names if f not in known]
        if missing:
            raise RuntimeError(f"Cannot find field '{missing[0]}'")
        self._table, self._fields = in_table, list(field_names)

    def insertRow(self, row: list[Any]) -> int:
        tables[self._table]["rows"].append(dict(zip(self._fields, row)))
        return len(tables[self._table]["rows"])

    def __enter__(self) -> _InsertCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


management = types.SimpleNamespace(CreateTable=_create_table, AddField=_add_field)
da = types.SimpleNamespace(InsertCursor=_InsertCursor)


def signed_in(url: str, username: str, password: str, ca_file: str) -> None:
    """ArcGIS Pro signed in to ``url`` as ``username``."""
    _portal.clear()
    _portal.update(url=url, username=username, password=password, ca_file=ca_file)


def press_cancel_at(position: int) -> None:
    """Cancel is pressed once the progressor has reached ``position``."""
    _cancel_at[:] = [position]


def install() -> types.ModuleType:
    """This module, fresh, as ``arcpy`` (signed in to nothing)."""
    messages.clear()
    progress.clear()
    tables.clear()
    _portal.clear()
    _cancel_at.clear()
    env.autoCancelling = True
    module = sys.modules[__name__]
    sys.modules["arcpy"] = module
    return module
