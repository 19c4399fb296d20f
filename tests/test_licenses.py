"""Named-user licenses (gis.admin.license) against the sandbox portal, on every deployment."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from helpers.sandbox import admin_of, sb_post

import gislicense
from gislicense import (
    GIS,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
)

pytestmark = pytest.mark.sandbox(sessions=10)


def pro_of(sb: gislicense.Sandbox, username: str) -> list[str]:
    return list(sb.portal_user(username)["entitlements"]["ArcGIS Pro"])


def offline_members(sb: gislicense.Sandbox) -> list[str]:
    return [u["username"] for u in sb.portal_users() if u["proOffline"]]


def sent(sb: gislicense.Sandbox, operation: str) -> list[Any]:
    return [r for r in sb.requests(service="portal") if r.operation == operation]


# Licenses and entitlements -------------------------------------------------------------------


def test_licenses_by_title_friendly_name_or_item_id(sb: gislicense.Sandbox) -> None:
    licenses = admin_of(sb).admin.license
    titles = [lic.title for lic in licenses.all()]
    assert titles == ["ArcGIS Pro", "ArcGIS Drone2Map"]
    pro = licenses.get("pro")
    assert pro.title == "ArcGIS Pro"
    assert licenses.get(pro.item_id).title == "ArcGIS Pro"
    assert licenses.get("arcgis drone2map").title == "ArcGIS Drone2Map"
    assert pro.entitlements["desktopAdvN"] > 0
    with pytest.raises(NotFoundError, match="ArcGIS Pro, ArcGIS Drone2Map"):
        licenses.get("ArcMap")


def test_members_entitlements_report_and_offline(sb: gislicense.Sandbox) -> None:
    pro = admin_of(sb).admin.license.get("ArcGIS Pro")
    users = pro.users()
    holders = {u["username"]: u for u in sb.portal_users() if u["entitlements"]["ArcGIS Pro"]}
    assert {u.username for u in users} == set(holders)
    first = users[0]
    assert first.entitlements == holders[first.username]["entitlements"]["ArcGIS Pro"]
    assert first.last_login is None or first.last_login.tzinfo is not None

    report = {row.entitlement: row for row in pro.report}
    assert set(report) == set(pro.entitlements)
    adv = report["desktopAdvN"]
    assert adv.total == pro.entitlements["desktopAdvN"]
    assert adv.assigned == sum("desktopAdvN" in u.entitlements for u in users)
    assert adv.remaining == adv.total - adv.assigned

    offline = pro.offline
    assert sorted(u.username for u in offline) == sorted(offline_members(sb))
    assert all(u.disconnected for u in offline)
    one = pro.user_entitlement(offline[0].username)
    assert one is not None and one.disconnected
    assert pro.user_entitlement(sb.user_username) is None  # the member holds no Pro license


def test_assign_and_revoke(fresh_sb: gislicense.Sandbox) -> None:
    pro = admin_of(fresh_sb).admin.license.get("pro")
    creators = [
        u["username"]
        for u in fresh_sb.portal_users()
        if u["userLicenseTypeId"] == "creatorUT" and not u["entitlements"]["ArcGIS Pro"]
    ][:3]
    plan = pro.assign(creators, ["desktopstdn", "3DAnalystN"], dry_run=True)
    assert plan.counts() == {"would_assign": 3}
    assert sent(fresh_sb, "provisionUserEntitlements") == []

    report = pro.assign([*creators, creators[0]], "desktopStdN,3DAnalystN")
    assert [o.status for o in report] == ["assigned"] * 3 + ["skipped"]
    assert sorted(pro_of(fresh_sb, creators[0])) == ["3DAnalystN", "desktopStdN"]
    [request] = sent(fresh_sb, "provisionUserEntitlements")
    body = json.loads(dict(request.params)["userEntitlements"])
    assert sorted(body["users"]) == sorted(creators)

    again = pro.assign(creators, ["desktopStdN", "3DAnalystN"])
    assert again.counts() == {"unchanged": 3}

    added = pro.assign(creators[:1], ["spatialAnalystN"], overwrite=False)
    assert added.counts() == {"assigned": 1}
    assert sorted(pro_of(fresh_sb, creators[0])) == ["3DAnalystN", "desktopStdN", "spatialAnalystN"]

    some = pro.revoke(creators[:1], ["3DAnalystN"])
    assert some.counts() == {"revoked": 1}
    assert sorted(pro_of(fresh_sb, creators[0])) == ["desktopStdN", "spatialAnalystN"]
    everything = pro.revoke(creators)
    assert everything.counts() == {"revoked": 3}
    assert all(pro_of(fresh_sb, name) == [] for name in creators)
    assert pro.revoke(creators).counts() == {"unchanged": 3}


def test_bad_entitlements_are_refused_before_sending(fresh_sb: gislicense.Sandbox) -> None:
    pro = admin_of(fresh_sb).admin.license.get("pro")
    with pytest.raises(InvalidInputError, match="desktopAdvN"):
        pro.assign([fresh_sb.user_username], ["desktopUltimateN"])
    with pytest.raises(InvalidInputError, match="at least one"):
        pro.assign([fresh_sb.user_username], [])
    with pytest.raises(InvalidInputError, match="batch_size"):
        pro.assign([fresh_sb.user_username], ["desktopAdvN"], batch_size=26)
    with pytest.raises(InvalidInputError, match="not one string"):
        pro.revoke(fresh_sb.user_username)
    assert sent(fresh_sb, "provisionUserEntitlements") == []


@pytest.mark.sandbox(sessions=10, portal_members=600)
def test_batches_of_25_seats_offline_members_and_unknown_users(
    fresh_sb: gislicense.Sandbox,
) -> None:
    pro = admin_of(fresh_sb).admin.license.get("pro")
    # Creators without Pro: only user types that can hold Pro are given it.
    creators = [
        u["username"]
        for u in fresh_sb.portal_users()
        if u["userLicenseTypeId"] == "creatorUT" and not u["entitlements"]["ArcGIS Pro"]
    ]
    fresh_sb.set_entitlement_seats("desktopBasicN", 1000)
    report = pro.assign(creators[:60], ["desktopBasicN"])
    assert report.counts() == {"assigned": 60}
    sizes = [
        len(json.loads(dict(r.params)["userEntitlements"])["users"])
        for r in sent(fresh_sb, "provisionUserEntitlements")
    ]
    assert sorted(sizes) == [10, 25, 25]

    # Seats: only what is left is given, longest idle first (never signed in first, then
    # by user name); the rest fail before sending.
    left = next(row.remaining for row in pro.report if row.entitlement == "workflowMgrN")
    asked = creators[60 : 60 + left + 2]
    last = {u["username"]: u["lastLogin"] for u in fresh_sb.portal_users()}
    first = set(sorted(asked, key=lambda n: (last[n] if last[n] > 0 else -1, n))[:left])
    report = pro.assign(asked, ["workflowMgrN"])
    assert [o.status for o in report] == ["assigned" if n in first else "failed" for n in asked]
    refused = next(o for o, n in zip(report, asked) if n not in first)
    assert "no workflowMgrN license left" in (refused.reason or "")

    # A member with Pro checked out cannot be changed; one the portal does not know fails
    # alone, not with the rest of their request.
    offline = offline_members(fresh_sb)[0]
    report = pro.assign([creators[70], offline, "nobody-here", creators[71]], ["desktopBasicN"])
    assert [o.status for o in report] == ["assigned", "failed", "failed", "assigned"]
    assert "checked out for offline use" in (report[1].reason or "")
    assert "not a member" in (report[2].reason or "")


# Releasing ------------------------------------------------------------------------------------


def test_release_on_classic_enterprise(fresh_sb: gislicense.Sandbox) -> None:
    licenses = admin_of(fresh_sb).admin.license
    name = offline_members(fresh_sb)[0]
    licenses.release(name)
    assert not fresh_sb.portal_user(name)["proOffline"]
    [request] = sent(fresh_sb, "releaseLicense")
    assert request.path.endswith("/portaladmin/license/releaseLicense")
    assert request.method == "POST"
    assert ("username", name) in request.params and ("appId", "arcgisprodesktop") in request.params

    fresh_sb.set_offline(name, "drone2map")
    licenses.release(name, app="Drone2Map")
    assert fresh_sb.portal_user(name)["offlineApps"] == []


def test_release_license_takes_get_as_documented_and_needs_an_app_id(
    fresh_sb: gislicense.Sandbox,
) -> None:
    name = offline_members(fresh_sb)[1]
    path = "/portaladmin/license/releaseLicense"
    # From 10.7 a missing appId is an error, not ArcGIS Pro.
    reply = sb_post(fresh_sb, path, {"username": name})
    assert "appId" in json.dumps(reply) and reply.get("status") == "error", reply
    assert fresh_sb.portal_user(name)["proOffline"]
    # Documented with GET; the official client posts: both work.
    reply = sb_post(fresh_sb, path, {"username": name, "appId": "arcgisprodesktop"}, method="GET")
    assert reply == {"status": "success"}
    assert not fresh_sb.portal_user(name)["proOffline"]


def test_release_before_10_7_uses_the_old_endpoint_for_pro_only() -> None:
    with gislicense.Sandbox(sessions=10, portal_version="6.4") as sb:
        licenses = admin_of(sb).admin.license
        name = offline_members(sb)[0]
        licenses.release(name, app="pro")
        assert not sb.portal_user(name)["proOffline"]
        [request] = sent(sb, "releaseLicense")
        assert request.path.endswith("/portaladmin/system/licenses/releaseLicense")
        assert ("appId", "arcgisprodesktop") not in request.params
        with pytest.raises(InvalidInputError, match=r"Drone2Map.*10\.7"):
            licenses.release(name, app="drone2map")
        assert len(sent(sb, "releaseLicense")) == 1


def test_release_on_kubernetes_finds_the_org_id() -> None:
    with gislicense.Sandbox(sessions=10, portal_deployment="kubernetes") as sb:
        licenses = admin_of(sb).admin.license
        name = offline_members(sb)[0]
        licenses.release(name)
        assert not sb.portal_user(name)["proOffline"]
        [request] = sent(sb, "releaseLicense")
        assert request.path.endswith("/admin/orgs/0123456789ABCDEF/license/releaseLicense")
    with gislicense.Sandbox(
        sessions=10, portal_deployment="kubernetes", portal_version="10.3"
    ) as sb:
        with pytest.raises(InvalidInputError, match=r"11\.3"):
            admin_of(sb).admin.license.release(offline_members(sb)[0])
        assert sent(sb, "releaseLicense") == []


def test_app_ids_are_checked_before_sending(fresh_sb: gislicense.Sandbox) -> None:
    licenses = admin_of(fresh_sb).admin.license
    name = offline_members(fresh_sb)[0]
    with pytest.raises(InvalidInputError, match="arcgisprodesktop"):
        licenses.release(name, app="arcmap")
    with pytest.raises(InvalidInputError, match=r"AllSource.*11\.5"):
        licenses.release(name, app="allsource")
    with pytest.raises(InvalidInputError, match="user name is empty"):
        licenses.release(" ")
    assert sent(fresh_sb, "releaseLicense") == []
    with gislicense.Sandbox(sessions=10, portal_version="2025.1") as newer:
        newer.set_offline(newer.user_username, "arcgisallsource")
        admin_of(newer).admin.license.release(newer.user_username, app="allsource")
        assert newer.portal_user(newer.user_username)["offlineApps"] == []


def test_server_refusals_raise_with_the_servers_messages(sb: gislicense.Sandbox) -> None:
    licenses = admin_of(sb).admin.license
    with pytest.raises(NotFoundError, match="'nobody-here' does not exist"):
        licenses.release("nobody-here")
    # The official client's classic release sends no username: the portal refuses it.
    reply = sb_post(sb, "/portaladmin/license/releaseLicense", {})
    assert reply["status"] == "error" and "'username' must be specified." in reply["messages"]


def test_an_ordinary_member_is_denied(sb: gislicense.Sandbox, member_gis: GIS) -> None:
    licenses = member_gis.admin.license
    with pytest.raises(PermissionDeniedError, match="administrator"):
        licenses.release(offline_members(sb)[0])
    with pytest.raises(PermissionDeniedError):
        licenses.all()
    assert offline_members(sb)


def test_bulk_release(fresh_sb: gislicense.Sandbox) -> None:
    licenses = admin_of(fresh_sb).admin.license
    offline = offline_members(fresh_sb)
    names = [*offline, fresh_sb.user_username, offline[0]]
    plan = licenses.release_many(names, dry_run=True)
    assert [o.status for o in plan] == ["would_release"] * len(offline) + ["unchanged", "skipped"]
    assert plan[-2].reason == "no ArcGIS Pro license checked out"
    assert sent(fresh_sb, "releaseLicense") == []
    report = licenses.release_many(names, concurrency=2)
    assert report.counts() == {"released": len(offline), "unchanged": 1, "skipped": 1}
    assert offline_members(fresh_sb) == []
    assert len(sent(fresh_sb, "releaseLicense")) == len(offline)


def test_release_unblocks_a_user_type_change(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    name = offline_members(fresh_sb)[0]
    user = gis.users.get(name)
    with pytest.raises(ServerError, match="checked out for offline use"):
        user.update_license_type("creator")
    gis.admin.license.release(user)
    user.update_license_type("creator")
    assert user.user_type == "creatorUT"


def test_release_then_update_reports_each_step(fresh_sb: gislicense.Sandbox) -> None:
    licenses = admin_of(fresh_sb).admin.license
    offline = offline_members(fresh_sb)[:2]
    plan = licenses.release_and_update(
        offline, user_type="creator", entitlements=["desktopBasicN"], dry_run=True
    )
    assert plan.counts() == {"would_change": 2}
    assert [s.item for s in plan[0].steps] == ["release", "user_type", "entitlements"]
    assert [s.status for s in plan[0].steps] == ["would_release", "would_change", "would_assign"]
    assert offline_members(fresh_sb)[:2] == offline

    report = licenses.release_and_update(
        [*offline, "nobody-here"], user_type="creator", entitlements="*"
    )
    assert [o.status for o in report] == ["changed", "changed", "failed"]
    assert [s.status for s in report[0].steps] == ["released", "changed", "revoked"]
    for name in offline:
        user = fresh_sb.portal_user(name)
        assert not user["proOffline"]
        assert user["userLicenseTypeId"] == "creatorUT"
        assert user["entitlements"]["ArcGIS Pro"] == []
    failed = report[2]
    # Predicted before anything was sent: no step of it ran.
    assert failed.steps == []
    assert "not a member" in (failed.reason or "")
    assert "not a member" in str(report)
    with pytest.raises(InvalidInputError, match="user_type="):
        licenses.release_and_update(offline)


def test_async_twins(fresh_sb: gislicense.Sandbox) -> None:
    async def run() -> None:
        licenses = admin_of(fresh_sb).admin.license
        titles = [lic.title for lic in await licenses.all_async()]
        assert "ArcGIS Pro" in titles
        pro = await licenses.get_async("pro")
        users = await pro.users_async()
        assert users
        assert (await pro.report_async())[0].total > 0
        offline = [u.username for u in await pro.offline_async()]
        one = await pro.user_entitlement_async(offline[0])
        assert one is not None and one.disconnected
        await licenses.release_async(offline[0])
        many = await licenses.release_many_async(offline[1:3])
        assert many.counts() == {"released": 2}
        both = await licenses.release_and_update_async(offline[3:4], user_type="creator")
        assert both.counts() == {"changed": 1}
        creators = [
            u["username"]
            for u in fresh_sb.portal_users()
            if u["userLicenseTypeId"] == "creatorUT" and not u["entitlements"]["ArcGIS Pro"]
        ]
        assigned = await pro.assign_async(creators[:2], ["desktopBasicN"])
        assert assigned.counts() == {"assigned": 2}
        revoked = await pro.revoke_async(creators[:2])
        assert revoked.counts() == {"revoked": 2}

    asyncio.run(run())


# Pro only for user types that can hold it ------------------------------------------------------


def test_pro_goes_only_to_user_types_that_hold_it_predicted_before_sending(
    fresh_sb: gislicense.Sandbox,
) -> None:
    gis = admin_of(fresh_sb)
    licenses = gis.admin.license
    pro = licenses.get("pro")
    users = fresh_sb.portal_users()
    viewer = next(u["username"] for u in users if u["userLicenseTypeId"] == "viewerUT")
    creator, holder = (
        next(
            u["username"]
            for u in users
            if u["userLicenseTypeId"] == "creatorUT"
            and u["role"] == "org_user"
            and bool(u["entitlements"]["ArcGIS Pro"]) is has
        )
        for has in (False, True)
    )
    fresh_sb.set_entitlement_seats("desktopBasicN", 1000)
    # A dry run says what the real run does, item by item.
    plan = pro.assign([viewer, creator], ["desktopBasicN"], dry_run=True)
    report = pro.assign([viewer, creator], ["desktopBasicN"])
    assert [o.status for o in report] == ["failed", "assigned"]
    assert [o.reason for o in plan] == [o.reason for o in report]
    assert "cannot hold ArcGIS Pro" in (report[0].reason or "")
    sent_users = [
        json.loads(dict(r.params)["userEntitlements"])["users"]
        for r in sent(fresh_sb, "provisionUserEntitlements")
    ]
    assert sent_users == [[creator]]
    assert pro_of(fresh_sb, viewer) == []

    # A plan that moves a Pro holder to a type without Pro and revokes Pro revokes first.
    both = licenses.plan_release_and_update([holder], user_type="contributor", entitlements="*")
    assert [s["action"] for s in both.items[0].steps] == ["entitlements", "user_type"]
    assert both.apply().counts() == {"changed": 1}
    assert fresh_sb.portal_user(holder)["userLicenseTypeId"] == "editorUT"
    assert pro_of(fresh_sb, holder) == []
