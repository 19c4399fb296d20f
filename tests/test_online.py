"""gislicense on an ArcGIS Online organization (the sandbox's ``portal_deployment="online"``):
what Online says of itself, its seats read where Online states them, everything Enterprise
has that Online has working the same, and what Online lacks refused before sending."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.sandbox import admin_of, member_of

import gislicense
from gislicense.exceptions import InvalidInputError
from gislicense.plans import Plan

pytestmark = pytest.mark.sandbox(sessions=10, portal_members=200, portal_deployment="online")


@pytest.fixture
def online(new_sandbox: Callable[..., gislicense.Sandbox]) -> gislicense.Sandbox:
    """An Online organization of the test's own (for tests that change seats or members)."""
    return new_sandbox(sessions=10, portal_members=200, portal_deployment="online")


def _admin_requests(sb: gislicense.Sandbox) -> list[str]:
    return [
        r.path
        for r in sb.requests(service="portal")
        if r.path.startswith(("/portaladmin", "/admin", "/portal/"))
    ]


def test_the_organization_says_it_is_arcgis_online(sb: gislicense.Sandbox) -> None:
    assert not sb.portal_url.endswith("/portal"), sb.portal_url
    properties = admin_of(sb).properties
    assert properties["isPortal"] is False
    assert (properties["portalName"], properties["portalMode"]) == (
        "ArcGIS Online",
        "multitenant",
    )
    assert properties["urlKey"] == "sandboxcounty"
    assert properties["customBaseUrl"] == "maps.arcgis.com"
    subscription = properties["subscriptionInfo"]
    assert subscription["type"] == "In House"
    assert set(subscription["userLicenseTypes"]) == {
        "viewerUT",
        "editorUT",
        "fieldWorkerUT",
        "creatorUT",
        "GISProfessionalStdUT",
        "GISProfessionalAdvUT",
    }
    assert properties["availableCredits"] == subscription["availableCredits"] > 0


def test_members_have_their_credits(sb: gislicense.Sandbox) -> None:
    gis = admin_of(sb)
    member = gis.users.get(sb.user_username)
    assert member["assignedCredits"] == 500
    assert 0 <= member["availableCredits"] <= 500
    assert gis.users.get(sb.admin_username)["assignedCredits"] == -1


def test_seats_are_read_from_the_subscription(online: gislicense.Sandbox) -> None:
    online.set_seats("creatorUT", 180)
    types = {t.id: t for t in admin_of(online).users.license_types}
    members = online.portal_users()
    for type_id in ("viewerUT", "editorUT", "creatorUT", "GISProfessionalAdvUT"):
        assert types[type_id].in_use == sum(u["userLicenseTypeId"] == type_id for u in members)
        assert types[type_id].maximum is not None
    assert types["creatorUT"].maximum == 180
    paths = [r.path for r in online.requests(service="portal")]
    assert "/sharing/rest/portals/self/subscriptionInfo" in paths, paths
    assert not _admin_requests(online)


def test_a_plan_on_online_predicts_no_seat_left(online: gislicense.Sandbox) -> None:
    creators = sum(u["userLicenseTypeId"] == "creatorUT" for u in online.portal_users())
    online.set_seats("creatorUT", creators + 2)
    names = [
        u["username"]
        for u in online.portal_users()
        if u["userLicenseTypeId"] == "editorUT" and not u["offlineApps"]
    ][:4]
    plan = admin_of(online).users.plan_license_type(names, "creator")
    statuses = [i.status for i in plan]
    assert statuses.count("would_change") == 2, plan
    assert all("no seat left" in (i.reason or "") for i in plan.items if i.status == "failed")
    assert not any("seats of each user type" in n for n in plan.notes), plan.notes
    report = plan.apply(journal=False)
    assert [o.status for o in report] == [s.replace("would_change", "changed") for s in statuses]
    assert sum(u["userLicenseTypeId"] == "creatorUT" for u in online.portal_users()) == (
        creators + 2
    )
    assert not _admin_requests(online)


def test_seats_that_cannot_be_read_are_said_naming_online(sb: gislicense.Sandbox) -> None:
    # An ordinary member may list the user types but not count the members of each.
    member = member_of(sb)
    assert all(t.maximum is None for t in member.users.license_types)
    plan = member.users.plan_license_type([sb.user_username], "creator")
    [note] = [n for n in plan.notes if "seats of each user type" in n]
    assert "ArcGIS Online" in note, note
    assert "portaladmin" not in note, note


def test_release_is_refused_before_sending(sb: gislicense.Sandbox) -> None:
    sb.clear_requests()
    offline = next(u["username"] for u in sb.portal_users() if u["proOffline"])
    gis = admin_of(sb)
    with pytest.raises(InvalidInputError, match="ArcGIS Online"):
        gis.admin.license.release(offline, "pro")
    with pytest.raises(InvalidInputError, match="ArcGIS Online"):
        gis.admin.license.plan_release([offline])
    assert not _admin_requests(sb)
    assert sb.portal_user(offline)["proOffline"]


def test_members_roles_entitlements_journals_and_undo_work(
    online: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(online)
    assert len(gis.users.search(max_users=1000)) == 200
    a_members = [u.username for u in gis.users.search("username:a*", max_users=1000)]
    assert a_members == [u["username"] for u in online.portal_users() if u["username"][0] == "a"]
    assert "iBBBBBBBBBBBBBBB" in {r.role_id for r in gis.users.roles.all()}
    # Pro entitlements: assign and revoke through provisionUserEntitlements.
    pro = gis.admin.license.get("pro")
    holders = {u.username for u in pro.users()}
    creator = next(
        u.username for u in gis.users.search(user_type="creatorUT") if u.username not in holders
    )
    pro.assign([creator], ["desktopBasicN"])
    assert online.portal_user(creator)["entitlements"]["ArcGIS Pro"] == ["desktopBasicN"]
    pro.revoke([creator], "*")
    assert online.portal_user(creator)["entitlements"]["ArcGIS Pro"] == []
    # A journaled change of user type and role, and its undo.
    viewers = [u["username"] for u in online.portal_users() if u["userLicenseTypeId"] == "viewerUT"]
    before = {n: online.portal_user(n)["userLicenseTypeId"] for n in viewers[:3]}
    journal = tmp_path / "online.jsonl"
    report = gis.users.plan_license_type(viewers[:3], "contributor").apply(journal=journal)
    assert [o.status for o in report] == ["changed"] * 3, report
    assert {online.portal_user(n)["userLicenseTypeId"] for n in before} == {"editorUT"}
    undone = Plan.undo(report.journal, gis).apply(journal=False)
    assert [o.status for o in undone] == ["changed"] * 3, undone
    assert {n: online.portal_user(n)["userLicenseTypeId"] for n in before} == before
    assert not _admin_requests(online)


def test_the_command_line_works_on_online(online: gislicense.Sandbox) -> None:
    args = [
        "--url",
        online.portal_url,
        "--username",
        online.admin_username,
        "--ca-bundle",
        str(online.ca_file),
    ]
    env = {"GISLICENSE_PASSWORD": online.admin_password}
    listed = _command("users", "list", "--json", *args, env=env)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 200
    released = _command("licenses", "release", "--all", "--json", *args, env=env)
    assert released.returncode == 2, released
    assert "this is ArcGIS Online: releaseLicense" in released.stderr, released.stderr
    assert not _admin_requests(online)


def _command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gislicense", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
        timeout=120,
    )


def test_the_sandbox_command_takes_online() -> None:
    from gislicense.cli import build_parser

    args = build_parser().parse_args(["sandbox", "--online"])
    assert args.online and not args.kubernetes
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "--online", "--kubernetes"])


def test_an_unknown_deployment_names_online() -> None:
    with pytest.raises(InvalidInputError, match='"online"'):
        gislicense.Sandbox(portal_deployment="cloud")


def test_notebook_views_work_on_online(sb: gislicense.Sandbox) -> None:
    gis = admin_of(sb)
    member = gis.users.get(sb.user_username)
    plan = gis.users.plan_license_type([sb.user_username], "creator")
    pro = gis.admin.license.get("pro")
    views = [gis._repr_html_(), member._repr_html_(), plan._repr_html_(), pro._repr_html_()]
    assert all(view.startswith("<") for view in views), views
    assert sb.portal_url in views[0]
    assert sb.user_username in views[1] and sb.user_username in views[2]
    assert "ArcGIS Pro" in views[3]


def test_a_search_past_10000_members_returns_every_match_on_online(
    new_sandbox: Callable[..., gislicense.Sandbox],
) -> None:
    big = new_sandbox(
        sessions=10, portal_members=10_500, portal_offline=0, portal_deployment="online"
    )
    gis = admin_of(big)
    everyone = [u["username"] for u in big.portal_users()]
    found = gis.users.search("*", max_users=None)
    assert [u.username for u in found] == everyone
