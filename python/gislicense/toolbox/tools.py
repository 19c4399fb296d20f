"""The tools of ``gislicense.pyt``, one class each (the class name is the tool's name).

Every tool that changes something plans first: with Apply unchecked it lists the plan as
messages and changes nothing; with Apply checked it applies that plan (see
:mod:`gislicense.toolbox.running`).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from gislicense.exceptions import GisLicenseError
from gislicense.toolbox import parameters, sources
from gislicense.toolbox.base import PortalTool, Problem, Tool, selection_problems
from gislicense.toolbox.parameters import Values, arcpy, choice_error, choices, fill
from gislicense.toolbox.running import run_plan, write_table
from gislicense.toolbox.usage import UsageReport

if TYPE_CHECKING:
    from gislicense.flexnet import FlexNet
    from gislicense.openlm import OpenLM
    from gislicense.portal import GIS

__all__ = [
    "AssignProLicenses",
    "ChangeRoles",
    "ChangeUserTypes",
    "CloseSessions",
    "LicenseReport",
    "ReleaseOfflineLicenses",
    "UndoJournal",
    "UsageReport",
]


def _say(message: str) -> None:
    arcpy().AddMessage(message)


def _users(label: str = "Members (user names)") -> Any:
    return parameters.text("users", label, multi=True)


def _idle_days() -> Any:
    return parameters.number("idle_days", "Not signed in for (days)")


def _no_idle_time() -> str:
    """FlexNet's own reason for refusing an idle-time filter (it keeps no idle time)."""
    from gislicense.flexnet import filter_sessions

    try:
        filter_sessions([], {"idle_time": lambda t: True})
    except GisLicenseError as err:
        return str(err)
    raise AssertionError("FlexNet filtered on idle time")  # pragma: no cover


class CloseSessions(Tool):
    label = "Close Sessions"
    description = (
        "Close the sessions holding concurrent licenses: through OpenLM (it closes the "
        "application; the sessions of the chosen features, idle for at least the hours "
        "given), or on an ArcGIS License Manager (port@host: lmremove takes the license "
        "back; the chosen features, or as many as leave Keep free licenses free). Lists the "
        "plan unless Apply is checked. Closes cannot be undone."
    )

    def parameters(self) -> list[Any]:
        return [
            parameters.text(
                "source",
                "Source (OpenLM URL, License Manager port@host, or a saved profile)",
                required=True,
            ),
            parameters.text("features", "Features", multi=True),
            parameters.number("idle_hours", "Idle for at least (hours; OpenLM)", whole=False),
            parameters.number("keep_free", "Keep this many licenses free (License Manager)"),
            parameters.text(
                "lmutil",
                "lmutil program (License Manager; empty: on PATH, or ArcGIS License Manager's)",
            ),
            parameters.apply(),
            parameters.journal(),
        ]

    def _source_problem(self, source: str) -> str | None:
        try:
            sources.check_source(source)
        except GisLicenseError as err:
            return str(err)
        return None

    @staticmethod
    def _key(values: Values) -> str:
        """What the features read are kept under: the source, and the lmutil reading it."""
        return " ".join(v for v in (values.text("source"), values.text("lmutil")) if v)

    def fill(self, values: Values) -> None:
        source = values.text("source")
        if source is None or self._source_problem(source):
            return
        lmutil = values.text("lmutil")

        def features() -> list[str]:
            found = sources.session_source(source, lmutil).get_active_products()
            return sorted({s.feature for s in found}, key=str.casefold)

        fill(values["features"], choices("features", self._key(values), features))

    def problems(self, values: Values) -> list[Problem]:
        found: list[Problem] = []
        source = values.text("source")
        problem = self._source_problem(source) if source else None
        if source and problem:
            found.append(("source", problem, "error"))
        elif source and choice_error("features", self._key(values)):
            error = choice_error("features", self._key(values))
            found.append(("source", f"could not list the sessions: {error}", "warning"))
        manager = bool(source and not problem and sources.is_license_manager(source))
        hours, keep = values.number("idle_hours"), values.number("keep_free")
        if hours is not None and manager:
            found.append(("idle_hours", _no_idle_time(), "error"))
        elif hours is not None and hours < 0:
            found.append(("idle_hours", "idle hours is 0 or more", "error"))
        if keep is not None and source and not problem and not manager:
            found.append(
                (
                    "keep_free",
                    "keeping licenses free needs each feature's issued total, which OpenLM "
                    "does not give: it is for an ArcGIS License Manager (port@host)",
                    "error",
                )
            )
        elif keep is not None and keep < 0:
            found.append(("keep_free", "licenses to keep free is 0 or more", "error"))
        if values.text("lmutil") and source and not problem and not manager:
            found.append(("lmutil", "lmutil is for an ArcGIS License Manager source", "error"))
        if not values.texts("features") and hours is None and keep is None:
            either = "keep free" if manager else "idle hours"
            found.append(
                (
                    "features",
                    f"choose features or {either}: without either every session would close",
                    "error",
                )
            )
        return found

    def run(self, values: Values) -> None:
        source = values.text("source") or ""
        client = sources.session_source(source, values.text("lmutil"))
        filters: dict[str, Any] = {}
        if values.texts("features"):
            filters["feature"] = values.texts("features")
        hours = values.number("idle_hours")
        if hours is not None:
            idle = _dt.timedelta(hours=hours)
            filters["idle_time"] = lambda t: t is not None and t >= idle
        plan = _close_plan(client, filters, values.number("keep_free"))
        if plan is None:
            _say("No session matches: nothing to close.")
            return
        run_plan(plan, apply=values.flag("apply"), journal=values.text("journal"))


def _close_plan(client: OpenLM | FlexNet, filters: dict[str, Any], keep: float | None) -> Any:
    """The plan closing the sessions ``filters`` choose; None when none is open."""
    from gislicense.flexnet import FlexNet

    if isinstance(client, FlexNet):
        found = client.get_active_products(**filters)
        # Keep free alone chooses among every session: it leaves most of them open.
        keep_free = None if keep is None else int(keep)
        return (
            client.plan_close(found, allow_all=keep is not None, keep_free=keep_free)
            if found
            else None
        )
    sessions = client.get_active_products(**filters)
    return client.plan_close(sessions) if sessions else None


class ChangeUserTypes(PortalTool):
    label = "Change User Types"
    description = (
        "Change the user type of members: named, or selected by their user type and how "
        "long they have not signed in (administrators are left out of a selection). Role "
        "auto gives each member the role the new type needs. Lists the plan unless Apply "
        "is checked; the UndoJournal tool undoes an applied run."
    )
    LISTS = (
        ("user types", ("to_type", "from_type"), "user_types", ()),
        ("roles", ("role",), "roles", ("auto",)),
    )

    def parameters(self) -> list[Any]:
        return [
            self.portal_parameter(),
            _users(),
            parameters.text("from_type", "From user type"),
            _idle_days(),
            parameters.text("to_type", "To user type", required=True),
            parameters.text("role", "Role (auto: the one the new type needs)", default="auto"),
            parameters.apply(),
            parameters.journal(),
        ]

    def problems(self, values: Values) -> list[Problem]:
        found = super().problems(values)
        return found + selection_problems(values, ("from_type", "idle_days"))

    def run(self, values: Values) -> None:
        gis = sources.portal(values.text("portal") or "")
        members = _members(gis, values, user_type=values.text("from_type"))
        if not members:
            return
        plan = gis.users.plan_license_type(
            members, values.text("to_type") or "", roles=values.text("role")
        )
        run_plan(plan, apply=values.flag("apply"), journal=values.text("journal"))


class ChangeRoles(PortalTool):
    label = "Change Roles"
    description = (
        "Change the role of members: named, or selected by their role and how long they "
        "have not signed in (administrators are left out of a selection). Lists the plan "
        "unless Apply is checked; the UndoJournal tool undoes an applied run."
    )
    LISTS = (("roles", ("to_role", "from_role"), "roles", ()),)

    def parameters(self) -> list[Any]:
        return [
            self.portal_parameter(),
            _users(),
            parameters.text("from_role", "From role"),
            _idle_days(),
            parameters.text("to_role", "To role", required=True),
            parameters.apply(),
            parameters.journal(),
        ]

    def problems(self, values: Values) -> list[Problem]:
        found = super().problems(values)
        return found + selection_problems(values, ("from_role", "idle_days"))

    def run(self, values: Values) -> None:
        gis = sources.portal(values.text("portal") or "")
        members = _members(gis, values, role=values.text("from_role"))
        if not members:
            return
        plan = gis.users.plan_role(members, values.text("to_role") or "")
        run_plan(plan, apply=values.flag("apply"), journal=values.text("journal"))


def _members(
    gis: GIS, values: Values, *, user_type: str | None = None, role: str | None = None
) -> list[Any]:
    """The members named, else those selected (administrators left out, said as a note of
    the plan); says so when none matches."""
    named = values.texts("users")
    if named:
        return named
    days = values.number("idle_days")
    chosen = gis.users.select(
        user_type=user_type, role=role, idle_days=None if days is None else int(days)
    )
    if not chosen:
        for note in chosen.notes:
            _say(f"note: {note}")
        _say("No member matches: nothing to change.")
    return chosen


class AssignProLicenses(PortalTool):
    label = "Assign Pro Licenses"
    description = (
        "Assign ArcGIS Pro licenses (entitlements) to members, or revoke them. Members with "
        "Pro checked out for offline use, and members beyond the licenses left, are "
        "predicted to fail. Lists the plan unless Apply is checked; the UndoJournal tool "
        "undoes an applied run."
    )
    LISTS = (("ArcGIS Pro entitlements", ("entitlements",), "pro_entitlements", ()),)

    def parameters(self) -> list[Any]:
        action = parameters.text("action", "Assign or revoke", required=True, default="assign")
        action.filter.type = "ValueList"
        action.filter.list = ["assign", "revoke"]
        return [
            self.portal_parameter(),
            _users(),
            action,
            parameters.text("entitlements", "Entitlements (revoke: empty for all)", multi=True),
            parameters.flag("add", "Keep what each member holds (assign adds to it)"),
            parameters.apply(),
            parameters.journal(),
        ]

    def problems(self, values: Values) -> list[Problem]:
        found = super().problems(values)
        if not values.texts("users"):
            found.append(("users", "name the members", "error"))
        if values.text("action") == "assign" and not values.texts("entitlements"):
            found.append(("entitlements", "name the entitlements to assign", "error"))
        return found

    def run(self, values: Values) -> None:
        gis = sources.portal(values.text("portal") or "")
        pro = gis.admin.license.get("pro")
        users, wanted = values.texts("users"), values.texts("entitlements")
        if values.text("action") == "revoke":
            plan = pro.plan_revoke(users, wanted or "*")
        else:
            plan = pro.plan_assign(users, wanted, overwrite=not values.flag("add"))
        run_plan(plan, apply=values.flag("apply"), journal=values.text("journal"))


class ReleaseOfflineLicenses(PortalTool):
    label = "Release Offline Licenses"
    description = (
        "Release ArcGIS Pro licenses checked out for offline use: of the members named, "
        "or, with none named, of everyone who has Pro checked out. Lists the plan unless "
        "Apply is checked. A release cannot be undone: the member's offline Pro stops "
        "working."
    )

    def parameters(self) -> list[Any]:
        return [
            self.portal_parameter(),
            _users("Members (empty: everyone with Pro checked out)"),
            parameters.apply(),
            parameters.journal(),
        ]

    def run(self, values: Values) -> None:
        gis = sources.portal(values.text("portal") or "")
        users = values.texts("users")
        if not users:
            users = [held.username for held in gis.admin.license.get("pro").offline]
        if not users:
            _say("No one has ArcGIS Pro checked out: nothing to release.")
            return
        plan = gis.admin.license.plan_release(users)
        run_plan(plan, apply=values.flag("apply"), journal=values.text("journal"))


class UndoJournal(PortalTool):
    label = "Undo Journal"
    description = (
        "Undo what an applied run did, from its journal: user types, roles and ArcGIS Pro "
        "licenses go back to what the run found, for members still as it left them. "
        "Releases and closes cannot be undone; they are listed. Lists the plan unless "
        "Apply is checked; the undo writes a journal of its own."
    )

    def parameters(self) -> list[Any]:
        return [
            parameters.file("undo", "Journal to undo", "jsonl", output=False, required=True),
            self.portal_parameter(),
            _users("Only these members (empty: all)"),
            parameters.apply(),
            parameters.journal(),
        ]

    def problems(self, values: Values) -> list[Problem]:
        import os

        found = super().problems(values)
        path = values.text("undo")
        if path and not os.path.isfile(path):
            found.append(("undo", f"{path} is not a file", "error"))
        return found

    def run(self, values: Values) -> None:
        from gislicense.plans import Plan

        gis = sources.portal(values.text("portal") or "")
        plan = Plan.undo(values.text("undo") or "", gis)
        if values.texts("users"):
            plan = plan.select(values.texts("users"))
        run_plan(plan, apply=values.flag("apply"), journal=values.text("journal"))


#: The report's columns, one row per member.
REPORT_COLUMNS = (
    "username",
    "full_name",
    "user_type",
    "role",
    "last_login",
    "pro_entitlements",
    "pro_offline",
)


class LicenseReport(PortalTool):
    label = "License Report"
    description = (
        "Who holds which user type and ArcGIS Pro license, and who has Pro checked out for "
        "offline use: one row per member, as a CSV file and as a geodatabase table the map "
        "can open. The seats of each user type and license are listed in the messages."
    )

    def parameters(self) -> list[Any]:
        return [
            self.portal_parameter(),
            parameters.file("csv", "CSV file", "csv", output=True),
            parameters.table("table", "Geodatabase table"),
        ]

    def problems(self, values: Values) -> list[Problem]:
        found = super().problems(values)
        if not values.text("csv") and not values.text("table"):
            found.append(("csv", "give a CSV file, a geodatabase table, or both", "error"))
        return found

    def run(self, values: Values) -> None:
        gis = sources.portal(values.text("portal") or "")
        for kind in gis.users.license_types:
            seats = f" of {kind.maximum}" if kind.maximum is not None else ""
            _say(f"{kind.name}: {kind.in_use if kind.in_use is not None else '?'}{seats} in use")
        held = _pro_holders(gis)
        rows = [
            {
                "username": m.username,
                "full_name": m.full_name,
                "user_type": m.user_type,
                "role": m.role,
                "last_login": m.last_login,
                "pro_entitlements": held[m.username].entitlements if m.username in held else [],
                "pro_offline": bool(m.username in held and held[m.username].disconnected),
            }
            for m in gis.users.search()
        ]
        offline = [r["username"] for r in rows if r["pro_offline"]]
        _say(f"ArcGIS Pro checked out for offline use: {', '.join(offline) or 'no one'}")
        write_table(
            rows, REPORT_COLUMNS, csv_path=values.text("csv"), table_path=values.text("table")
        )


def _pro_holders(gis: GIS) -> dict[str, Any]:
    """Each member's ArcGIS Pro entitlements, by user name; the licenses left are said. A
    portal without an ArcGIS Pro license gives none (and a warning)."""
    from gislicense.exceptions import NotFoundError

    try:
        pro = gis.admin.license.get("pro")
    except NotFoundError as err:
        arcpy().AddWarning(f"no ArcGIS Pro license: {err}")
        return {}
    for count in pro.report:
        _say(f"{count.entitlement}: {count.assigned} of {count.total} assigned")
    return {held.username: held for held in pro.users()}
