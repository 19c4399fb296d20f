"""Rows of plans and reports that a script can use: each item's own fields (a session's,
a member's and each change's from and to), the steps as objects in the core's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS, OpenLM
from gislicense.plans import Journal

pytestmark = pytest.mark.sandbox(sessions=60, portal_members=80)


def creators_with_the_user_role(sb: gislicense.Sandbox, count: int) -> list[str]:
    users = sb.portal_users()
    chosen = [
        u["username"]
        for u in users
        if u["userLicenseTypeId"] == "creatorUT" and u["role"] == "org_user" and not u["proOffline"]
    ]
    return chosen[:count]


def test_a_member_change_row_has_the_member_and_each_change(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(fresh_sb)
    names = creators_with_the_user_role(fresh_sb, 2)
    plan = gis.users.plan_license_type([*names, "nobody-here"], "viewer", roles="auto")
    row = plan.to_rows()[0]
    assert row["item"] == row["username"] == names[0]
    assert (row["user_type_from"], row["user_type_to"]) == ("Creator", "Viewer")
    assert (row["user_type_from_id"], row["user_type_to_id"]) == ("creatorUT", "viewerUT")
    assert (row["role_from"], row["role_to"]) == ("User", "Viewer")
    assert row["role_from_id"] == "org_user" and row["role_to_id"] == "iAAAAAAAAAAAAAAA"
    assert row["level_to"] is None and row["entitlements_to"] is None
    assert row["steps"] == [
        {
            "action": "role",
            "from": "User",
            "to": "Viewer",
            "from_id": "org_user",
            "to_id": "iAAAAAAAAAAAAAAA",
            "description": "role User → Viewer",
        },
        {
            "action": "user_type",
            "from": "Creator",
            "to": "Viewer",
            "from_id": "creatorUT",
            "to_id": "viewerUT",
            "description": "user type Creator → Viewer",
        },
    ]
    # A failure has the same fields, empty where it has no change.
    failed = plan.to_rows()[-1]
    assert failed.keys() == row.keys()
    assert failed["username"] == "nobody-here" and failed["steps"] == []
    assert "not a member" in failed["reason"]

    report = plan.apply(journal=tmp_path / "run.jsonl")
    done = report.to_rows()[0]
    assert done["status"] == "changed" and done["user_type_to"] == "Viewer"
    assert [(s["action"], s["to"], s["status"]) for s in done["steps"]] == [
        ("role", "Viewer", "changed"),
        ("user_type", "Viewer", "changed"),
    ]
    assert report.to_rows()[-1]["status"] == "failed"
    # A journal read back knows its items too.
    read = Journal(tmp_path / "run.jsonl").report.to_rows()
    assert read[0]["username"] == names[0] and read[0]["role_to"] == "Viewer"


def test_a_close_row_has_the_session(sb: gislicense.Sandbox) -> None:
    openlm = OpenLM(sb.openlm_url)
    sessions = openlm.get_active_products(feature="Editor")
    plan = openlm.plan_close(sessions)
    rows = plan.to_rows()
    fields = ("username", "workstation", "feature", "server", "vendor")
    assert [tuple(r[f] for f in fields) for r in rows] == [
        (s.username, s.workstation, s.feature, s.server, s.vendor) for s in sessions
    ]
    closing = next(r for r in rows if r["status"] == "would_close")
    # The core's words for the step, as the item is named.
    assert closing["steps"] == [{"action": "close", "description": f"close {closing['item']}"}]
    # A session predicted to fail (no Agent) has its fields as well.
    failing = [r for r in rows if r["status"] == "failed"]
    assert all(r["workstation"] and r["steps"] == [] for r in failing)
    dry = plan.report().to_rows()
    assert [r["workstation"] for r in dry] == [s.workstation for s in sessions]


def test_entitlement_rows_name_the_license(sb: gislicense.Sandbox, gis: GIS) -> None:
    names = creators_with_the_user_role(sb, 2)
    pro = gis.admin.license.get("pro")
    plan = pro.plan_assign(names, ["desktopAdvN"])
    row = next(r for r in plan.to_rows() if r["steps"])
    assert row["license"] == "ArcGIS Pro" and row["license_id"] == pro.item_id
    assert row["entitlements_to"] == ["desktopAdvN"]
    (step,) = row["steps"]
    assert step["license"] == "ArcGIS Pro" and step["to"] == ["desktopAdvN"]
    # The core's words, not a second wording of them.
    assert step["description"].startswith("ArcGIS Pro entitlements [")


def test_steps_read_as_text_with_their_outcomes() -> None:
    from gislicense._rows import steps_text

    steps = [
        {"action": "role", "description": "role User → Viewer", "status": "changed"},
        {"action": "user_type", "description": "user type Creator → Viewer", "status": "failed"},
    ]
    assert steps_text(steps, "failed") == (
        "role User → Viewer: changed; user type Creator → Viewer: failed"
    )
    same = [{**s, "status": "changed"} for s in steps]
    assert steps_text(same, "changed") == "role User → Viewer; user type Creator → Viewer"
