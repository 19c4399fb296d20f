"""The toolbox's tools run against the sandbox, as ArcGIS Pro runs them (the stand-in
``arcpy`` of tests/helpers/arcpy_standin.py): plan first, applied with Apply checked,
progress, Cancel, failures failing the tool, and undo from the toolbox."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path
from types import ModuleType

import pytest
from helpers import arcpy_standin
from helpers.sandbox import admin_of
from test_toolbox import arcpy, fresh_arcpy, members_of, run, said

import gislicense
from gislicense import profiles
from gislicense.plans import Journal
from gislicense.toolbox import tools

__all__ = ["arcpy", "fresh_arcpy"]  # fixtures, used by name

pytestmark = pytest.mark.sandbox(sessions=120, portal_members=150)
ExecuteError = arcpy_standin.ExecuteError


def user_types(sb: gislicense.Sandbox, names: list[str]) -> list[str | None]:
    gis = admin_of(sb)
    return [gis.users.get(n).user_type for n in names]  # type: ignore[union-attr]


def test_change_user_types_lists_its_plan_and_changes_nothing(
    arcpy: ModuleType, sb: gislicense.Sandbox
) -> None:
    names = members_of(sb, "creatorUT", 2)
    before = user_types(sb, names)
    run(tools.ChangeUserTypes(), users=names, to_type="Viewer")
    assert user_types(sb, names) == before
    lines = said("message")
    assert any(line.startswith(f"would_change: {names[0]}: ") for line in lines)
    assert any("Nothing was changed" in line and "check Apply" in line for line in lines)
    assert arcpy_standin.progress == []


def test_change_user_types_applied_moves_the_progressor_and_is_undone_from_the_toolbox(
    fresh_arcpy: ModuleType, fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    names = members_of(fresh_sb, "creatorUT", 3)
    journal = tmp_path / "down.jsonl"
    run(tools.ChangeUserTypes(), users=names, to_type="Viewer", apply=True, journal=str(journal))
    assert user_types(fresh_sb, names) == ["viewerUT"] * 3
    assert Journal(journal).finished
    positions = [p[1] for p in arcpy_standin.progress if p[0] == "position"]
    assert positions and positions[-1] == 3
    assert ("set", "step", "Applying the plan", 0, 3, 1) in arcpy_standin.progress
    assert arcpy_standin.progress[-1] == ("reset",)
    assert fresh_arcpy.env.autoCancelling is True  # put back
    assert any(f"Journal: {journal}" in line for line in said("message"))

    # Undo, from the toolbox: plan, then applied, for one member only.
    run(tools.UndoJournal(), undo=str(journal), users=[names[0]])
    assert user_types(fresh_sb, names) == ["viewerUT"] * 3
    run(tools.UndoJournal(), undo=str(journal), users=[names[0]], apply=True)
    assert user_types(fresh_sb, names) == ["creatorUT", "viewerUT", "viewerUT"]


def test_change_user_types_selects_idle_members_and_says_who_it_left_out(
    arcpy: ModuleType, sb: gislicense.Sandbox
) -> None:
    gis = admin_of(sb)
    chosen = gis.users.select(user_type="creatorUT", idle_days=30)
    expected = gis.users.plan_license_type(chosen, "viewerUT", roles="auto")
    assert expected.failed  # members with Pro checked out cannot change
    with pytest.raises(ExecuteError, match=f"{len(expected.failed)} item"):
        run(tools.ChangeUserTypes(), from_type="Creator", idle_days=30, to_type="Viewer")
    items = [line for line in said() if line.startswith(("would_change:", "failed:"))]
    assert len(items) == len(chosen) > 0
    assert len(said("warning")) == len(expected.failed)
    assert [line.startswith("note:") for line in said()].count(True) == len(chosen.notes)


def test_a_predicted_failure_fails_the_tool_and_nothing_is_sent(
    arcpy: ModuleType, sb: gislicense.Sandbox
) -> None:
    offline = admin_of(sb).admin.license.get("pro").offline[0].username
    with pytest.raises(ExecuteError, match="would fail"):
        run(tools.AssignProLicenses(), users=[offline], entitlements=["desktopAdvN"])
    assert any(line.startswith(f"failed: {offline}") for line in said("warning"))
    assert said("error")


def test_applying_a_plan_whose_only_items_fail_fails_the_tool(
    arcpy: ModuleType, sb: gislicense.Sandbox
) -> None:
    offline = admin_of(sb).admin.license.get("pro").offline[0].username
    with pytest.raises(ExecuteError, match="1 item"):
        run(
            tools.AssignProLicenses(),
            users=[offline],
            entitlements=["desktopAdvN"],
            apply=True,
        )
    assert not any(line.startswith("Applied") for line in said())


def test_assign_and_revoke_pro_licenses_applied_then_undone(
    fresh_arcpy: ModuleType, fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    pro = admin_of(fresh_sb).admin.license.get("pro")
    holder = next(h for h in pro.users() if h.entitlements and not h.disconnected)
    journal = tmp_path / "revoke.jsonl"
    run(
        tools.AssignProLicenses(),
        users=[holder.username],
        action="revoke",
        apply=True,
        journal=str(journal),
    )
    assert pro.user_entitlement(holder.username) is None
    run(tools.UndoJournal(), undo=str(journal), apply=True)
    after = pro.user_entitlement(holder.username)
    assert after is not None and sorted(after.entitlements) == sorted(holder.entitlements)


def test_change_roles_through_a_saved_profile(
    fresh_arcpy: ModuleType,
    fresh_sb: gislicense.Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("GISLICENSE_PASSWORD_PROD", fresh_sb.admin_password)
    profiles.save(
        profiles.Profile(
            "prod",
            "portal",
            fresh_sb.portal_url,
            username=fresh_sb.admin_username,
            ca_bundle=str(fresh_sb.ca_file),
        )
    )
    names = members_of(fresh_sb, "creatorUT", 2)
    run(tools.ChangeRoles(), portal="prod", users=names, to_role="Viewer", apply=True)
    # A Creator may hold the Viewer role: both change.
    gis = admin_of(fresh_sb)
    viewer = gis.users.role("Viewer").id
    assert [gis.users.get(n).role_id for n in names] == [viewer] * 2  # type: ignore[union-attr]


def test_release_offline_licenses_of_everyone_who_has_pro_checked_out(
    fresh_arcpy: ModuleType, fresh_sb: gislicense.Sandbox
) -> None:
    pro = admin_of(fresh_sb).admin.license.get("pro")
    offline = sorted(h.username for h in pro.offline)
    run(tools.ReleaseOfflineLicenses())
    listed = sorted(line.split(": ")[1] for line in said() if line.startswith("would_release"))
    assert listed == offline and pro.offline
    run(tools.ReleaseOfflineLicenses(), apply=True)
    assert pro.offline == []
    assert any("Applied: " in line and "released" in line for line in said("message"))


def test_close_sessions_plan_then_applied_fails_the_tool_for_sessions_it_could_not_close(
    fresh_arcpy: ModuleType, fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    openlm = gislicense.OpenLM(fresh_sb.openlm_url)
    tool = tools.CloseSessions()
    found = {p.name: p for p in tool.getParameterInfo()}
    found["source"].value = fresh_sb.openlm_url
    tool.updateParameters(list(found.values()))
    every = {s.feature for s in openlm.get_active_products()}
    assert set(found["features"].filter.list) == every

    two_hours = 2 * 3600
    idle = [
        s
        for s in openlm.get_active_products()
        if s.idle_time and s.idle_time.total_seconds() >= two_hours
    ]
    stuck = [s for s in idle if s.closable is False]
    assert stuck, "the sandbox seeds sessions no Agent can close"
    journal = tmp_path / "close.jsonl"
    before = len(openlm.get_active_products())
    with pytest.raises(ExecuteError, match="would fail"):
        run(tools.CloseSessions(), source=fresh_sb.openlm_url, idle_hours=2)
    assert len(openlm.get_active_products()) == before
    with pytest.raises(ExecuteError, match="did not succeed"):
        run(
            tools.CloseSessions(),
            source=fresh_sb.openlm_url,
            idle_hours=2,
            apply=True,
            journal=str(journal),
        )
    left = openlm.get_active_products()
    assert {(s.username, s.workstation, s.feature) for s in stuck} <= {
        (s.username, s.workstation, s.feature) for s in left
    }
    assert Journal(journal).ended


@pytest.mark.sandbox(portal_members=150, latency=0.05)
def test_cancel_stops_applying_and_the_journal_says_what_was_done_and_undoes_it(
    fresh_arcpy: ModuleType, fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    # One request per member (eight at a time, each 50 ms): Cancel lands part way.
    gis = admin_of(fresh_sb)
    names = members_of(fresh_sb, "creatorUT", 40)
    before = {n: gis.users.get(n).role_id for n in names}  # type: ignore[union-attr]
    journal = tmp_path / "cancelled.jsonl"
    arcpy_standin.press_cancel_at(5)
    with pytest.raises(ExecuteError, match="Cancelled"):
        run(tools.ChangeRoles(), users=names, to_role="Viewer", apply=True, journal=str(journal))
    read = Journal(journal)
    assert not read.ended and not read.finished
    changed = [o.item for o in read.report if o.status == "changed"]
    assert 0 < len(changed) < len(names)
    assert any(o.status == "skipped" for o in read.report)  # not reached
    assert any(str(journal) in line and "UndoJournal" in line for line in said("error"))
    assert fresh_arcpy.env.autoCancelling is True

    # What the cancelled run did is undone from the toolbox.
    arcpy_standin.press_cancel_at(10**6)
    run(tools.UndoJournal(), undo=str(journal), apply=True)
    assert [gis.users.get(n).role_id for n in changed] == [before[n] for n in changed]  # type: ignore[union-attr]


def test_cancel_once_every_item_is_done_is_no_cancel(
    fresh_arcpy: ModuleType, fresh_sb: gislicense.Sandbox
) -> None:
    names = members_of(fresh_sb, "creatorUT", 2)
    arcpy_standin.press_cancel_at(2)
    run(tools.ChangeRoles(), users=names, to_role="Viewer", apply=True)
    assert any(line.startswith("Applied: ") for line in said("message"))


def test_license_report_as_csv_and_geodatabase_table(
    arcpy: ModuleType, sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "licenses.csv"
    table = str(tmp_path / "report.gdb" / "licenses")
    run(tools.LicenseReport(), csv=str(out), table=table)
    gis = admin_of(sb)
    with out.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(gis.users.search())
    offline = {h.username for h in gis.admin.license.get("pro").offline}
    assert {r["username"] for r in rows if r["pro_offline"] == "True"} == offline
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    made = arcpy_standin.tables[table]
    assert [f[0] for f in made["fields"]] == list(tools.REPORT_COLUMNS)
    assert [r["username"] for r in made["rows"]] == [r["username"] for r in rows]
    assert any(line.startswith("Creator: ") for line in said("message"))
