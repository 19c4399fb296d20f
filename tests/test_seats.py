"""Where the seats of each user type come from, per deployment: `portaladmin/license` on a
classic portal, the organization's license in the Enterprise Administrator API
(`admin/orgs/<orgID>/license`) on Kubernetes, so plans predict seats on both alike; ArcGIS
Online has neither."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from helpers.sandbox import admin_of, member_of

import gislicense
from gislicense import GIS

ORG_LICENSE = "admin/orgs/0123456789ABCDEF/license"


@pytest.fixture
def k8s(new_sandbox: Callable[..., gislicense.Sandbox]) -> gislicense.Sandbox:
    return new_sandbox(sessions=10, portal_deployment="kubernetes")


def test_license_types_have_their_seats(k8s: gislicense.Sandbox) -> None:
    k8s.set_seats("creatorUT", 250)
    types = {t.id: t for t in admin_of(k8s).users.license_types}
    members = k8s.portal_users()
    for type_id in ("creatorUT", "viewerUT", "GISProfessionalAdvUT"):
        assert types[type_id].in_use == sum(u["userLicenseTypeId"] == type_id for u in members)
        assert types[type_id].maximum is not None
    assert types["creatorUT"].maximum == 250
    # Read where Kubernetes has them; there is no portaladmin to ask.
    paths = [r.path for r in k8s.requests(service="portal")]
    assert any(p.endswith(f"/{ORG_LICENSE}") for p in paths), paths
    assert not any("/portaladmin" in p for p in paths), paths


def test_a_plan_beyond_the_free_seats_predicts_no_seat_left(k8s: gislicense.Sandbox) -> None:
    creators = sum(u["userLicenseTypeId"] == "creatorUT" for u in k8s.portal_users())
    k8s.set_seats("creatorUT", creators + 2)
    # A Creator may hold any role: only the seats stand in the way.
    names = [
        u["username"]
        for u in k8s.portal_users()
        if u["userLicenseTypeId"] != "creatorUT" and not u["offlineApps"]
        and u["username"] != k8s.admin_username
    ][:5]  # fmt: skip
    # The two seats go to the two idle longest (never signed in first), then by name.
    last = {u["username"]: u["lastLogin"] for u in k8s.portal_users()}
    first = sorted(names, key=lambda n: (last[n] if last[n] > 0 else -1, n))[:2]
    plan = admin_of(k8s).users.plan_license_type(names, "creator")
    expected = ["would_change" if n in first else "failed" for n in names]
    assert [i.status for i in plan] == expected, plan
    assert all("no seat left" in (i.reason or "") for i in plan.items if i.item not in first)
    assert not any("seats of each user type" in note for note in plan.notes), plan.notes
    # Applied, as predicted: two change, and the rest are left for want of seats.
    report = plan.apply(journal=False)
    assert [o.status for o in report] == [s.replace("would_change", "changed") for s in expected]
    assert sum(u["userLicenseTypeId"] == "creatorUT" for u in k8s.portal_users()) == creators + 2


@pytest.mark.parametrize(
    ("deployment", "resource"),
    [("classic", "portaladmin/license"), ("kubernetes", ORG_LICENSE)],
)
def test_the_note_names_the_license_resource_tried(deployment: str, resource: str) -> None:
    with gislicense.Sandbox(sessions=10, portal_deployment=deployment) as sb:
        # An ordinary member may list the user types but not read the license's seats.
        member = member_of(sb)
        assert all(t.maximum is None for t in member.users.license_types)
        plan = member.users.plan_license_type([sb.user_username], "creator")
        [note] = [n for n in plan.notes if "seats of each user type" in n]
        assert f"({resource}: permission denied" in note, note


def test_arcgis_online_is_not_asked_for_a_license_resource_it_does_not_have(
    canned_server: Any,
) -> None:
    # One reply answers every read: portals/self says ArcGIS Online, and the user types.
    canned_server.content_type = "application/json"
    canned_server.body = json.dumps(
        {
            "id": "0123456789ABCDEF",
            "isPortal": False,
            "currentVersion": "2025.1",
            "userLicenseTypes": [{"id": "creatorUT", "name": "Creator"}],
            "total": 1,
            "nextStart": -1,
        }
    ).encode()
    base = canned_server.url.removesuffix("/OpenLMServer")
    gis = GIS(base, token="t0ken", allow_insecure_http=True, retries=0)
    [creator] = gis.users.license_types
    assert (creator.id, creator.maximum) == ("creatorUT", None)
    assert not any("/portaladmin" in line or "/admin/" in line for line in canned_server.seen)
