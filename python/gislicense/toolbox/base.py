"""What every tool of the toolbox shares: the methods ArcGIS Pro calls on a Python toolbox
tool, and the portal parameter with its choices.

A tool says its parameters (:meth:`Tool.parameters`), what is wrong with their values
before it runs (:meth:`Tool.problems`: no network), fills its choice lists
(:meth:`Tool.fill`: from the server, once per portal or source) and runs
(:meth:`Tool.run`). A gislicense error ends the tool failed, with the error's message.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from gislicense.exceptions import GisLicenseError
from gislicense.toolbox import parameters, sources
from gislicense.toolbox.parameters import Values, choice_error, choices, fill, forget_choices
from gislicense.toolbox.running import fail

if TYPE_CHECKING:
    from gislicense.portal import GIS

__all__ = ["PortalTool", "Problem", "Tool"]

#: A problem with a parameter's value: (parameter name, message, "error" or "warning").
Problem = tuple[str, str, str]


class Tool:
    """A tool of the gislicense toolbox (Pro reads ``label``, ``description`` and
    ``canRunInBackground`` from the instance, and calls the camel-case methods)."""

    label = ""
    description = ""

    def __init__(self) -> None:
        self.label = type(self).label
        self.description = type(self).description
        self.canRunInBackground = True

    # What Pro calls.

    def getParameterInfo(self) -> list[Any]:
        return self.parameters()

    def isLicensed(self) -> bool:
        return True

    def updateParameters(self, parameters: list[Any]) -> None:
        self.fill(Values(parameters))

    def updateMessages(self, parameters: list[Any]) -> None:
        values = Values(parameters)
        for name, message, level in self.problems(values):
            if level == "error":
                values[name].setErrorMessage(message)
            elif not values[name].hasError():
                values[name].setWarningMessage(message)

    def execute(self, parameters: list[Any], messages: Any) -> None:
        values = Values(parameters)
        # Checked again: a script (arcpy.gislicense.CloseSessions(...)) skips validation.
        errors = [message for _, message, level in self.problems(values) if level == "error"]
        if errors:
            fail("; ".join(errors))
        try:
            self.run(values)
        except GisLicenseError as err:
            fail(str(err))
        finally:
            # What the run changed (seats, sessions) shows in the next choice lists.
            forget_choices()

    def postExecute(self, parameters: list[Any]) -> None:
        return

    # What each tool says.

    def parameters(self) -> list[Any]:
        raise NotImplementedError

    def fill(self, values: Values) -> None:
        """Fill choice lists from the server (once per portal or source)."""

    def problems(self, values: Values) -> list[Problem]:
        """What is wrong with the values, found without the network."""
        return []

    def run(self, values: Values) -> None:
        raise NotImplementedError


class PortalTool(Tool):
    """A tool on a portal: ``"pro"`` (the portal Pro is signed in to) or a saved profile,
    its choice lists read from it."""

    #: (what, parameter names, how to read it, choices kept first) for each choice list.
    LISTS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = ()

    @staticmethod
    def portal_parameter() -> Any:
        return parameters.text(
            "portal",
            "Portal (pro: the one ArcGIS Pro is signed in to; or a saved profile)",
            required=True,
            default=sources.PRO,
        )

    def fill(self, values: Values) -> None:
        fill(values["portal"], sources.portal_profiles(), keep=[sources.PRO])
        name = values.text("portal")
        if name is None or self._portal_problem(name):
            return
        for what, names, reader, keep in self.LISTS:
            read = functools.partial(self._read, reader, name)
            found = choices(what, name, read)
            for parameter in names:
                fill(values[parameter], found, keep=keep)

    def _read(self, reader: str, name: str) -> list[str]:
        return getattr(self, reader)(sources.portal(name))  # type: ignore[no-any-return]

    def _portal_problem(self, name: str) -> str | None:
        try:
            sources.check_portal(name)
        except GisLicenseError as err:
            return str(err)
        return None

    def problems(self, values: Values) -> list[Problem]:
        name = values.text("portal")
        if name is None:
            return []
        problem = self._portal_problem(name)
        if problem:
            return [("portal", problem, "error")]
        found: list[Problem] = []
        for what, names, _, _ in self.LISTS:
            error = choice_error(what, name)
            if error is not None:
                found.append((names[0], f"could not read the {what}: {error}", "warning"))
        return found

    # Readers of the choice lists (named in LISTS).

    @staticmethod
    def user_types(gis: GIS) -> list[str]:
        return [t.name for t in gis.users.license_types]

    @staticmethod
    def roles(gis: GIS) -> list[str]:
        return [r.name for r in gis.users.roles]

    @staticmethod
    def pro_entitlements(gis: GIS) -> list[str]:
        return list(gis.admin.license.get("pro").entitlements)


def selection_problems(values: Values, selectors: tuple[str, ...]) -> list[Problem]:
    """Members are named (``users``) or selected (``selectors``), not both, and not none."""
    named = bool(values.texts("users"))
    selects = any(values.parameters[s].value not in (None, "") for s in selectors)
    days = values.number("idle_days") if "idle_days" in values.parameters else None
    found: list[Problem] = []
    if days is not None and days < 0:
        found.append(("idle_days", "idle days is 0 or more", "error"))
    if named and selects:
        found.append(("users", "name the members or select them, not both", "error"))
    if not named and not selects:
        what = " or ".join(values[s].displayName for s in selectors)
        found.append(("users", f"name the members, or select them by {what}", "error"))
    return found
