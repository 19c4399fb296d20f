"""The official ArcGIS API for Python works against the sandbox portal unchanged.

It runs in its own environment (``arcgis`` is large and slow to import): set
``GISLICENSE_ARCGIS_PYTHON`` to a Python that has ``arcgis`` installed; ``.ci/run`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from typing import Any

import pytest

import gislicense

ARCGIS_PYTHON = os.environ.get("GISLICENSE_ARCGIS_PYTHON")

pytestmark = [
    pytest.mark.skipif(
        not ARCGIS_PYTHON, reason="GISLICENSE_ARCGIS_PYTHON (a Python with arcgis) is not set"
    ),
    pytest.mark.sandbox(sessions=10, portal_members=250),
]

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from arcgis.gis import GIS

    url, username, password, change = sys.argv[1:5]
    # The official client signs in with generateToken when asked to (its default is an
    # OAuth sign-in page flow that the sandbox does not emulate).
    gis = GIS(url, username, password, use_gen_token=True)
    user = gis.users.get(change)
    before = user.userLicenseTypeId
    changed = user.update_license_type("editorUT")
    role = gis.users.get(change).update_role("iBBBBBBBBBBBBBBB")
    print(json.dumps({
        "me": gis.users.me.username,
        "org": gis.properties.id,
        "members": len(gis.users.search(max_users=10000)),
        # Searches as the official client sends them: scoped with its own accountid term,
        # and the organization's own search (portals/self/users/search).
        "a_members": [u.username for u in gis.users.search("username:a*", max_users=1000)],
        "org_search": [u.username for u in gis.users.org_search("username:a*")],
        "either": len(gis.users.search(
            "userlicensetype:viewerUT OR userlicensetype:creatorUT", max_users=1000
        )),
        "a_count": gis.users.advanced_search("username:a*", return_count=True),
        "groups": [g.id for g in gis.users.get(change).groups],
        "quota": gis.users.me.storageQuota,
        "types": sorted(t["id"] for t in gis.users.license_types),
        "before": before,
        "changed": changed,
        "role": role,
        "after": gis.users.get(change).userLicenseTypeId,
    }))
    """
)


def run_official(sb: gislicense.Sandbox, script: str, *args: str) -> Any:
    """Run `script` with the official client, signed in to the sandbox's portal as its
    administrator, and read the JSON line it prints last."""
    assert ARCGIS_PYTHON is not None
    env = {
        **os.environ,
        "REQUESTS_CA_BUNDLE": os.fspath(sb.ca_file),
        "SSL_CERT_FILE": os.fspath(sb.ca_file),
    }
    result = subprocess.run(
        [ARCGIS_PYTHON, "-c", script, sb.portal_url, sb.admin_username, sb.admin_password, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_official_client_signs_in_lists_and_changes_a_user_type(
    fresh_sb: gislicense.Sandbox,
) -> None:
    assert ARCGIS_PYTHON is not None
    viewer = next(
        u["username"]
        for u in fresh_sb.portal_users()
        if u["userLicenseTypeId"] == "viewerUT" and not u["proOffline"]
    )
    seen = run_official(fresh_sb, SCRIPT, viewer)
    assert seen["me"] == fresh_sb.admin_username
    assert seen["org"] == "0123456789ABCDEF"
    assert seen["members"] == 250
    members = fresh_sb.portal_users()
    a_members = sorted(u["username"] for u in members if u["username"].startswith("a"))
    assert a_members
    assert seen["a_members"] == a_members
    assert sorted(seen["org_search"]) == a_members
    assert seen["a_count"] == len(a_members)
    assert (seen["groups"], seen["quota"]) == ([], 2_199_023_255_552)
    either = [u for u in members if u["userLicenseTypeId"] in ("viewerUT", "creatorUT")]
    assert seen["either"] == len(either)
    assert "creatorUT" in seen["types"]
    assert (seen["before"], seen["changed"], seen["role"], seen["after"]) == (
        "viewerUT",
        True,
        True,
        "editorUT",
    )
    assert fresh_sb.portal_user(viewer)["roleId"] == "iBBBBBBBBBBBBBBB"
    assert fresh_sb.requests(operation="generateToken")
    assert fresh_sb.requests(operation="updateUserLicenseType")


FIDELITY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from arcgis.gis import GIS

    url, username, password, member, offline, deployment = sys.argv[1:7]
    kubernetes = deployment == "kubernetes"
    gis = GIS(url, username, password, use_gen_token=True)
    version = gis.version
    seen = {"version": version}
    seen["me"] = gis.users.me.username
    seen["searched"] = [u.username for u in gis.users.search("username:a*", max_users=1000)]
    seen["org_searched"] = sorted(u.username for u in gis.users.org_search("username:b*"))
    seen["roles"] = sorted(r.role_id for r in gis.users.roles.all())
    if version >= [7, 1]:
        seen["types"] = sorted(t["id"] for t in gis.users.license_types)
        seen["type_changed"] = gis.users.get(member).update_license_type("GISProfessionalAdvUT")
    else:
        # A level 1 member cannot hold the Publisher role: level 2 first, as on a real 10.6.
        seen["level_changed"] = gis.users.get(member).update_level("2")
    seen["role_changed"] = gis.users.get(member).update_role("org_publisher")
    if version >= [6, 4]:
        seen["counts"] = {c["key"]: c["count"] for c in gis.users.counts("role", as_df=False)}
    if kubernetes:
        # gis.admin is the official client's KubernetesAdmin (the Enterprise Administrator API).
        admin = gis.admin
        seen["admin_version"] = admin.version
        seen["orgs"] = admin.organizations.properties["organizations"]
        license = admin.organizations.orgs[0].license.properties
        seen["licensed"] = license["currentRegisteredMembers"]
        seen["license_version"] = license["version"]
    else:
        if version >= [6, 4]:
            seen["bundles"] = len(gis.admin.license.bundles)
        licenses = gis.admin.system.licenses
        if version >= [7, 1]:
            pro = gis.admin.license.get("ArcGIS Pro")
            seen["pro_holders"] = sorted(e["username"] for e in pro.all())
            seen["entitlement"] = pro.user_entitlement(member).get("entitlements", [])
            # Assigning and revoking entitlements: provisionUserEntitlements.
            seen["assigned"] = pro.assign(username=member, entitlements=["desktopBasicN"])
            seen["held"] = pro.user_entitlement(member).get("entitlements", [])
            seen["revoked"] = pro.revoke(username=member, entitlements="*")
            seen["license_version"] = licenses.properties["version"]
        else:
            seen["licenses"] = licenses.properties["currentRegisteredMembers"]
        # Its release_license: before 10.7 a GET naming the member; from 10.7 a POST that
        # names no one, which a portal refuses (the client hands back the error reply).
        seen["released"] = licenses.release_license(offline)
    print(json.dumps(seen))
    """
)


@pytest.mark.parametrize(
    ("version", "deployment", "release"),
    [
        ("6.1", "classic", "10.6"),
        ("8.4", "classic", "10.8.1"),
        ("2023.1", "classic", "11.1"),
        ("2025.1", "classic", "11.5"),
        ("9.4", "kubernetes", "10.9.1"),
        ("2024.1", "kubernetes", "11.3"),
    ],
    ids=["10.6", "10.7-10.9", "11.1", "11.5", "kubernetes-10.9.1", "kubernetes-11.3"],
)
def test_the_official_client_works_at_each_version_the_sandbox_plays(
    version: str, deployment: str, release: str
) -> None:
    """The fidelity suite: the official client's operations for the seeds and the admin work
    around them, queries included, against each deployment and version."""
    assert ARCGIS_PYTHON is not None
    with gislicense.Sandbox(
        sessions=10, portal_members=200, portal_version=version, portal_deployment=deployment
    ) as sb:
        members = sb.portal_users()
        if version == "6.1":
            member = next(u["username"] for u in members if u["level"] == "1")
        else:
            # A Creator without ArcGIS Pro: the script assigns and revokes it.
            member = next(
                u["username"]
                for u in members
                if u["userLicenseTypeId"] == "creatorUT"
                and not u["proOffline"]
                and not u["entitlements"]["ArcGIS Pro"]
            )
        offline = next(u["username"] for u in members if u["proOffline"])
        seen = run_official(sb, FIDELITY_SCRIPT, member, offline, deployment)
        after = sb.portal_users()
        names = [u["username"] for u in after]
        assert seen["me"] == sb.admin_username
        assert seen["searched"] == [n for n in names if n.startswith("a")]
        assert seen["org_searched"] == sorted(n for n in names if n.startswith("b"))
        assert "iBBBBBBBBBBBBBBB" in seen["roles"]  # the Data Editor role
        assert seen["role_changed"] is True
        assert sb.portal_user(member)["roleId"] == "org_publisher"
        if deployment == "classic" and version != "6.1":
            assert seen["bundles"] == 0
        if version == "6.1":
            assert "counts" not in seen and "types" not in seen
            assert seen["level_changed"] is True
            assert sb.portal_user(member)["level"] == "2"
            assert seen["licenses"] == len(after)
            assert seen["released"] == {"status": "success"}, seen
            assert not sb.portal_user(offline)["proOffline"]
        else:
            roles: dict[str, int] = {}
            for u in after:
                roles[u["roleId"]] = roles.get(u["roleId"], 0) + 1
            assert seen["counts"] == roles
            assert "creatorUT" in seen["types"]
            assert seen["type_changed"] is True
            assert sb.portal_user(member)["userLicenseTypeId"] == "GISProfessionalAdvUT"
            assert seen["license_version"] == release
            if deployment == "classic":
                holders = sorted(
                    u["username"] for u in after if u["entitlements"].get("ArcGIS Pro")
                )
                assert seen["pro_holders"] == holders
                assert seen["entitlement"] == []
                assert (seen["assigned"], seen["held"], seen["revoked"]) == (
                    True,
                    ["desktopBasicN"],
                    True,
                )
                assert sb.portal_user(member)["entitlements"]["ArcGIS Pro"] == []
                # The official client's own bug (it sends no username) meets a real
                # portal's refusal; the member's license stays checked out.
                assert seen["released"]["messages"] == ["'username' must be specified."], seen
                assert sb.portal_user(offline)["proOffline"]
            else:
                assert seen["admin_version"] == [int(n) for n in f"{release}.0.0".split(".")[:3]]
                assert seen["orgs"] == ["0123456789ABCDEF"]
                assert seen["licensed"] == len(after)


DEFAULT_SIGN_IN = textwrap.dedent(
    """
    import json, sys
    from arcgis.gis import GIS

    url, username, password, wrong = sys.argv[1:5]
    # The official client's default: its OAuth sign-in page flow, not generateToken.
    gis = GIS(url, username, password)
    seen = {"me": gis.users.me.username, "members": len(gis.users.search(max_users=1000))}
    try:
        GIS(url, username, wrong)
        seen["refused"] = None
    except Exception as refused:
        seen["refused"] = str(refused)
    print(json.dumps(seen))
    """
)


def test_the_official_clients_default_sign_in_works_unmodified(
    fresh_sb: gislicense.Sandbox,
) -> None:
    seen = run_official(fresh_sb, DEFAULT_SIGN_IN, "not-the-password")
    assert seen["me"] == fresh_sb.admin_username
    assert seen["members"] == 250
    assert seen["refused"] and "Invalid username or password" in seen["refused"], seen
    assert fresh_sb.requests(operation="authorize") and fresh_sb.requests(operation="signin")
    assert not fresh_sb.requests(operation="generateToken")


ONLINE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from arcgis.gis import GIS

    url, username, password, member = sys.argv[1:5]
    gis = GIS(url, username, password, use_gen_token=True)
    seen = {
        # The official client's own test for ArcGIS Online, and its Online-only paths.
        "online": gis._is_arcgisonline,
        "portal_online": gis._portal.is_arcgisonline,
        "subscription": gis._portal.is_subscription,
        "admin": type(gis.admin).__name__,
        "credits": gis.admin.credits.credits,
        "budgeting": gis.admin.credits.is_enabled,
        "default_credits": gis.admin.credits.default_limit,
        "subscription_types": gis.subscription_information["userLicenseTypes"],
        "me": gis.users.me.username,
        "members": len(gis.users.search(max_users=10000)),
        "searched": [u.username for u in gis.users.search("username:a*", max_users=1000)],
        "org_searched": sorted(u.username for u in gis.users.org_search("username:b*")),
        "types": sorted(t["id"] for t in gis.users.license_types),
        "type_counts": {c["key"]: c["count"] for c in gis.users.counts("user_type", as_df=False)},
        "member_credits": [gis.users.get(member).assignedCredits,
                           gis.users.get(member).availableCredits],
    }
    pro = gis.admin.license.get("ArcGIS Pro")
    seen["pro_holders"] = sorted(e["username"] for e in pro.all())
    seen["assigned"] = pro.assign(username=member, entitlements=["desktopBasicN"])
    seen["held"] = pro.user_entitlement(member).get("entitlements", [])
    seen["revoked"] = pro.revoke(username=member, entitlements="*")
    seen["type_changed"] = gis.users.get(member).update_license_type("GISProfessionalAdvUT")
    seen["role_changed"] = gis.users.get(member).update_role("org_publisher")
    print(json.dumps(seen))
    """
)


def test_the_official_client_takes_its_online_paths_against_the_online_sandbox() -> None:
    """The fidelity suite's Online column: the official client tells the sandbox for ArcGIS
    Online and its Online code paths (AGOLAdminManager, credits, the subscription, searches,
    user types, counts, licenses) agree with the sandbox's state."""
    assert ARCGIS_PYTHON is not None
    with gislicense.Sandbox(sessions=10, portal_members=200, portal_deployment="online") as sb:
        sb.set_seats("creatorUT", 150)
        members = sb.portal_users()
        member = next(
            u["username"]
            for u in members
            if u["userLicenseTypeId"] == "creatorUT"
            and not u["proOffline"]
            and not u["entitlements"]["ArcGIS Pro"]
            and u["roleId"] != "org_admin"
        )
        seen = run_official(sb, ONLINE_SCRIPT, member)
        after = sb.portal_users()
        names = [u["username"] for u in after]
        assert (seen["online"], seen["portal_online"], seen["subscription"]) == (True,) * 3
        assert seen["admin"] == "AGOLAdminManager"
        properties = admin_of_online(sb)
        assert seen["credits"] == properties["availableCredits"]
        assert (seen["budgeting"], seen["default_credits"]) == (True, 500)
        assert seen["subscription_types"]["creatorUT"] == 150
        assert seen["subscription_types"] == properties["subscriptionInfo"]["userLicenseTypes"]
        assert seen["me"] == sb.admin_username
        assert seen["members"] == 200
        assert seen["searched"] == [n for n in names if n.startswith("a")]
        assert seen["org_searched"] == sorted(n for n in names if n.startswith("b"))
        assert "editorUT" in seen["types"] and "fieldWorkerUT" in seen["types"]
        counts: dict[str, int] = {}
        for u in members:
            counts[u["userLicenseTypeId"]] = counts.get(u["userLicenseTypeId"], 0) + 1
        assert seen["type_counts"] == counts
        by_name = {u["username"]: u for u in members}
        assert seen["member_credits"] == [
            by_name[member]["assignedCredits"],
            by_name[member]["availableCredits"],
        ]
        holders = sorted(u["username"] for u in members if u["entitlements"].get("ArcGIS Pro"))
        assert seen["pro_holders"] == holders
        assert (seen["assigned"], seen["held"], seen["revoked"]) == (True, ["desktopBasicN"], True)
        assert sb.portal_user(member)["entitlements"]["ArcGIS Pro"] == []
        assert (seen["type_changed"], seen["role_changed"]) == (True, True)
        assert sb.portal_user(member)["userLicenseTypeId"] == "GISProfessionalAdvUT"
        assert sb.portal_user(member)["roleId"] == "org_publisher"
        # Nothing was asked of an administrator API Online does not have.
        assert not [
            r.path
            for r in sb.requests(service="portal")
            if r.path.startswith(("/portaladmin", "/admin", "/portal/"))
        ]


def admin_of_online(sb: gislicense.Sandbox) -> dict[str, Any]:
    """The Online organization's ``portals/self`` as its administrator reads it."""
    return gislicense.GIS(
        sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file
    ).properties


LEAVERS = textwrap.dedent(
    """
    import json, sys
    from arcgis.gis import GIS

    url, username, password, name = sys.argv[1:5]
    gis = GIS(url, username, password, use_gen_token=True)
    user = gis.users.get(name)
    disabled = user.disable()
    after_disable = gis.users.get(name).disabled
    enabled = user.enable()
    print(json.dumps({
        "disabled": disabled,
        "after_disable": after_disable,
        "enabled": enabled,
        "after_enable": gis.users.get(name).disabled,
        "viewer_privileges": gis.users.roles.get_role("iAAAAAAAAAAAAAAA").privileges,
        "provisions": gis.admin.license.provisions(user),
        "user_type": user.user_types(),
    }))
    """
)


def test_the_official_client_disables_reads_privileges_provisions_and_user_types(
    fresh_sb: gislicense.Sandbox,
) -> None:
    users = fresh_sb.portal_users()
    holder = next(u for u in users if u["entitlements"]["ArcGIS Pro"] and not u["proOffline"])
    name = holder["username"]
    out = run_official(fresh_sb, LEAVERS, name)
    assert (out["disabled"], out["after_disable"]) == (True, True)
    assert (out["enabled"], out["after_enable"]) == (True, False)
    assert not fresh_sb.portal_user(name)["disabled"]
    assert "portal:user:viewOrgItems" in out["viewer_privileges"]
    # A member's add-on licenses are what the sandbox says they hold.
    held = {p["title"]: sorted(p["entitlements"]) for p in out["provisions"]}
    assert held["ArcGIS Pro"] == sorted(holder["entitlements"]["ArcGIS Pro"])
    # The documented userLicenseType shape: apps as objects.
    assert out["user_type"]["id"] == holder["userLicenseTypeId"]
    assert all(isinstance(app, dict) and "isAppBundle" in app for app in out["user_type"]["apps"])


DELETE = textwrap.dedent(
    """
    import json, sys
    from arcgis.gis import GIS

    url, username, password, name = sys.argv[1:5]
    gis = GIS(url, username, password, use_gen_token=True)
    print(json.dumps({"deleted": gis.users.get(name).delete()}))
    """
)


def test_the_official_clients_user_delete_revokes_then_deletes(
    fresh_sb: gislicense.Sandbox,
) -> None:
    users = fresh_sb.portal_users()
    holder = next(
        u
        for u in users
        if u["entitlements"]["ArcGIS Pro"] and not u["proOffline"] and u["role"] != "org_admin"
    )
    out = run_official(fresh_sb, DELETE, holder["username"])
    assert out == {"deleted": True}
    assert holder["username"] not in {u["username"] for u in fresh_sb.portal_users()}
    assert len(fresh_sb.portal_users()) == len(users) - 1


REMOVE_USERS = textwrap.dedent(
    """
    import json, sys
    from arcgis.gis import GIS

    url, username, password, *names = sys.argv[1:]
    gis = GIS(url, username, password, use_gen_token=True)
    users = [gis.users.get(name) for name in names]
    print(json.dumps({"not_removed": gis.users.delete_users(users)}))
    """
)


def test_the_official_clients_delete_users_removes_those_a_delete_would(
    fresh_sb: gislicense.Sandbox,
) -> None:
    users = fresh_sb.portal_users()
    others = [u for u in users if u["role"] != "org_admin"]
    plain = [u["username"] for u in others if not any(u["entitlements"].values())][:2]
    holder = next(u["username"] for u in others if u["entitlements"]["ArcGIS Pro"])
    out = run_official(fresh_sb, REMOVE_USERS, *plain, holder)
    # portals/self/removeUsers answers {"notRemoved": [...]}; the official client returns it.
    assert out == {"not_removed": [holder]}
    left = {u["username"] for u in fresh_sb.portal_users()}
    assert holder in left and not left & set(plain)
    assert len(left) == len(users) - 2


CREATE = textwrap.dedent(
    """
    import json, sys
    from arcgis.gis import GIS

    url, username, password = sys.argv[1:4]
    gis = GIS(url, username, password, use_gen_token=True)
    user = gis.users.create(
        "fieldtech01", "S3cret-pass!", "Field", "Technician", "fieldtech01@example.gov",
        role="org_user", user_type="creatorUT",
    )
    print(json.dumps({
        "type": type(user).__name__,
        "username": user.username,
        "user_type": user.userLicenseTypeId,
        "role": user.role,
    }))
    """
)


def test_the_official_clients_users_create_returns_the_new_member(
    fresh_sb: gislicense.Sandbox,
) -> None:
    before = len(fresh_sb.portal_users())
    out = run_official(fresh_sb, CREATE)
    # portaladmin/security/users/createUser, then users.get: a User, as the sandbox holds it.
    assert out["type"] == "User"
    made = fresh_sb.portal_user("fieldtech01")
    assert out == {
        "type": "User",
        "username": made["username"],
        "user_type": made["userLicenseTypeId"],
        "role": made["role"],
    }
    assert (made["userLicenseTypeId"], made["role"]) == ("creatorUT", "org_user")
    assert len(fresh_sb.portal_users()) == before + 1
