"""The Portal client (gislicense.GIS) against the sandbox portal."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import ssl
import threading
import urllib.parse
import urllib.request
from typing import Any

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import (
    GIS,
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TokenExpiredError,
    UnreadableReplyError,
    User,
)

pytestmark = pytest.mark.sandbox(sessions=10)


def raw_request(
    sb: gislicense.Sandbox, path: str, data: dict[str, str] | None = None, **headers: str
) -> dict[str, Any]:
    """A request made by hand, as a script using urllib would."""
    context = ssl.create_default_context(cafile=os.fspath(sb.ca_file))
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(sb.portal_url + path, data=body, headers=headers)
    with urllib.request.urlopen(request, context=context) as reply:
        result: dict[str, Any] = json.loads(reply.read())
        return result


def token_for(sb: gislicense.Sandbox, referer: str = "my-script") -> str:
    reply = raw_request(
        sb,
        "/sharing/rest/generateToken",
        {
            "username": sb.admin_username,
            "password": sb.admin_password,
            "client": "referer",
            "referer": referer,
            "f": "json",
        },
    )
    return str(reply["token"])


def portal_user(sb: gislicense.Sandbox, **wanted: Any) -> dict[str, Any]:
    """A sandbox member matching every field in ``wanted``."""
    for user in sb.portal_users():
        if all(user.get(k) == v for k, v in wanted.items()):
            return user
    raise AssertionError(f"no sandbox member with {wanted}")


# Signing in ---------------------------------------------------------------------------------


def test_signs_in_once_and_sends_the_token_only_in_body_and_header(
    fresh_sb: gislicense.Sandbox,
) -> None:
    gis = admin_of(fresh_sb)
    assert gis.org_id == "0123456789ABCDEF"
    assert gis.version == "2024.1"
    assert gis.properties["user"]["username"] == fresh_sb.admin_username
    assert gis.url == fresh_sb.portal_url
    assert gis.users.me.username == fresh_sb.admin_username
    requests = fresh_sb.requests(service="portal")
    assert [r.operation for r in requests].count("generateToken") == 1
    for r in requests:
        assert "token" not in r.query.lower()
        assert r.referer == "gislicense"
        if r.operation != "generateToken":
            assert r.token_in == "body"
    sign_in = next(r for r in requests if r.operation == "generateToken")
    assert ("password", "***") in sign_in.params


def test_repr_and_errors_never_show_secrets(sb: gislicense.Sandbox) -> None:
    gis = admin_of(sb)
    assert sb.admin_password not in repr(gis)
    assert repr(gis) == f"GIS({sb.portal_url!r}, username={sb.admin_username!r})"
    wrong = GIS(sb.portal_url, sb.admin_username, "hunter2-wrong", ca_bundle=sb.ca_file)
    with pytest.raises(AuthenticationError, match="Invalid username or password") as caught:
        wrong.sign_in()
    assert "hunter2" not in str(caught.value)


def test_plain_http_is_refused_unless_allowed() -> None:
    with pytest.raises(InvalidInputError, match="allow_insecure_http"):
        GIS("http://gis.example.com/portal", "admin", "pw")
    with gislicense.Sandbox(sessions=10, portal_tls=False) as sb:
        assert sb.portal_url.startswith("http://")
        gis = GIS(sb.portal_url, sb.admin_username, sb.admin_password, allow_insecure_http=True)
        assert gis.users.me.username == sb.admin_username


def test_bad_arguments_are_refused_before_sending(fresh_sb: gislicense.Sandbox) -> None:
    with pytest.raises(InvalidInputError, match="password"):
        GIS(fresh_sb.portal_url, "admin")  # no terminal under pytest to ask on
    with pytest.raises(InvalidInputError, match="not both"):
        GIS(fresh_sb.portal_url, "admin", "pw", token="t")
    with pytest.raises(InvalidInputError, match="expiration"):
        GIS(fresh_sb.portal_url, "admin", "pw", expiration=0)
    with pytest.raises(InvalidInputError, match=r"arcpy|ArcGIS Pro"):
        GIS("pro")
    assert fresh_sb.requests(service="portal") == []


def test_a_given_token_is_used_and_its_expiry_is_a_clear_error(
    fresh_sb: gislicense.Sandbox,
) -> None:
    token = token_for(fresh_sb, referer="my-script")
    gis = GIS(fresh_sb.portal_url, token=token, referer="my-script", ca_bundle=fresh_sb.ca_file)
    assert gis.users.me.username == fresh_sb.admin_username
    fresh_sb.expire_portal_tokens()
    with pytest.raises(TokenExpiredError, match="token="):
        gis.users.me  # noqa: B018


def test_a_revoked_token_is_renewed_and_the_request_repeated(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    gis.sign_in()
    fresh_sb.expire_portal_tokens()
    assert gis.users.me.username == fresh_sb.admin_username
    assert len(fresh_sb.requests(operation="generateToken")) == 2


def test_the_portal_accepts_a_token_in_either_header_and_sloppy_paths(
    sb: gislicense.Sandbox,
) -> None:
    token = token_for(sb, referer="r")
    for header in ("X-Esri-Authorization", "Authorization"):
        me = raw_request(
            sb, "/sharing/rest//COMMUNITY/self?f=json", Referer="r", **{header: f"Bearer {token}"}
        )
        assert me["username"] == sb.admin_username
    wrong_referer = raw_request(
        sb, "/sharing/rest/community/self?f=json", Referer="other", Authorization=f"Bearer {token}"
    )
    assert wrong_referer["error"]["code"] == 498
    info = raw_request(sb, "/sharing/rest/info?f=json")
    assert info["authInfo"]["isTokenBasedSecurity"] is True


def test_a_token_that_expires_mid_run_loses_no_member() -> None:
    """2,000 members change while tokens last 2 s and are also revoked once mid-run."""
    with gislicense.Sandbox(
        sessions=10, portal_members=3000, portal_offline=0, token_lifetime=2.0, latency=0.05
    ) as sb:
        sb.set_seats("creatorUT", 10_000)
        names = [u["username"] for u in sb.portal_users() if u["userLicenseTypeId"] != "creatorUT"]
        names = names[:2000]
        assert len(names) == 2000
        gis = admin_of(sb, expiration=1)
        gis.sign_in()
        revoke = threading.Timer(1.0, sb.expire_portal_tokens)
        revoke.start()
        try:
            report = gis.users.update_license_type(names, "creator", batch_size=25, concurrency=2)
        finally:
            revoke.cancel()
        assert report.counts() == {"changed": 2000}, str(report)
        assert all(sb.portal_user(n)["userLicenseTypeId"] == "creatorUT" for n in names)
        assert len(sb.requests(operation="generateToken")) >= 3


# Users --------------------------------------------------------------------------------------


def test_lists_every_member_in_order(sb: gislicense.Sandbox) -> None:
    users = admin_of(sb).users.search()
    assert len(users) == 300
    names = [u.username.lower() for u in users]
    assert names == sorted(set(names))
    assert {u.username for u in users} == {u["username"] for u in sb.portal_users()}


def test_search_filters(sb: gislicense.Sandbox) -> None:
    users = admin_of(sb).users
    viewers = users.search(user_type="viewer")
    assert viewers and all(u.user_type == "viewerUT" for u in viewers)
    assert len(viewers) == sum(u["userLicenseTypeId"] == "viewerUT" for u in sb.portal_users())
    data_editors = users.search(role="data editor")
    assert data_editors and all(u.role_id == "iBBBBBBBBBBBBBBB" for u in data_editors)
    assert len(users.search(max_users=150)) == 150
    assert users.search(max_users=0) == []
    j_users = users.search("username:j*")
    assert j_users and all(u.username.startswith("j") for u in j_users)
    with pytest.raises(InvalidInputError, match="unknown user type"):
        users.search(user_type="gold")
    with pytest.raises(InvalidInputError):
        users.search(max_users=-1)


def test_user_fields(sb: gislicense.Sandbox) -> None:
    never = portal_user(sb, lastLogin=-1)
    user = admin_of(sb).users.get(never["username"])
    assert user.last_login is None
    assert isinstance(user.created, dt.datetime) and user.created.tzinfo is not None
    assert user.full_name == never["fullName"] == user.fullName == user["fullName"]
    assert user.user_type == never["userLicenseTypeId"]
    assert user.level in (1, 2)
    assert user.disabled is never["disabled"]
    assert user.raw["id"] == never["id"]
    with pytest.raises(AttributeError):
        user.no_such_field  # noqa: B018
    seen = admin_of(sb).users.get(sb.user_username)
    assert isinstance(seen.last_login, dt.datetime)
    # By id, and in any case.
    assert admin_of(sb).users.get(never["id"]).username == never["username"]
    assert admin_of(sb).users.get(never["username"].upper()).username == never["username"]


def test_a_missing_user_is_none_as_in_the_official_client(sb: gislicense.Sandbox) -> None:
    gis = admin_of(sb)
    assert gis.users.get("nobody-at-all") is None
    assert asyncio.run(gis.users.get_async("nobody-at-all")) is None
    # A member read again who is not there (any more) is an error: there is nothing to show.
    gone = User(gis, {"username": "nobody-at-all"})
    with pytest.raises(NotFoundError, match="does not exist"):
        gone.refresh()
    with pytest.raises(LookupError):
        gone.refresh()


def test_license_types_and_roles(sb: gislicense.Sandbox, gis: GIS, member_gis: GIS) -> None:
    users = gis.users
    types = {t.id: t for t in users.license_types}
    assert {"viewerUT", "editorUT", "fieldWorkerUT", "creatorUT"} <= set(types)
    creator = types["creatorUT"]
    assert creator.name == "Creator"
    assert creator.in_use == sum(u["userLicenseTypeId"] == "creatorUT" for u in sb.portal_users())
    assert creator.maximum is not None and creator.available == creator.maximum - creator.in_use
    assert users.license_type("Mobile Worker").id == "fieldWorkerUT"
    assert users.license_type("contributor").id == "editorUT"
    assert users.license_type("professional plus").id == "GISProfessionalAdvUT"
    with pytest.raises(InvalidInputError, match=r"editorUT \(Contributor\)"):
        users.license_type("contributorUT")
    roles = {r.name: r.id for r in users.roles}
    assert roles["Viewer"] == "iAAAAAAAAAAAAAAA" and roles["Administrator"] == "org_admin"
    assert users.role("analyst").name == "Analyst"
    # An ordinary member sees the types, without seats.
    assert all(t.maximum is None for t in member_gis.users.license_types)


# Changes ------------------------------------------------------------------------------------


def test_change_one_member(fresh_sb: gislicense.Sandbox) -> None:
    target = portal_user(
        fresh_sb, userLicenseTypeId="creatorUT", roleId="org_user", proOffline=False
    )
    user = admin_of(fresh_sb).users.get(target["username"])
    user.update_license_type("contributor")
    assert user.user_type == "editorUT"
    assert fresh_sb.portal_user(user.username)["userLicenseTypeId"] == "editorUT"
    user.update_role("viewer")
    assert user.role_id == "iAAAAAAAAAAAAAAA"
    user.update_license_type("viewerUT")
    assert user.user_type == "viewerUT" and user.level == 1
    user.update_level(1)
    with pytest.raises(ServerError, match="user type"):
        user.update_level(2)


def test_the_portal_rules_come_back_as_errors(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    publisher = portal_user(fresh_sb, roleId="org_publisher", proOffline=False)
    with pytest.raises(ServerError, match="not compatible"):
        gis.users.get(publisher["username"]).update_license_type("viewer")
    offline = portal_user(fresh_sb, proOffline=True)
    with pytest.raises(ServerError, match="offline") as caught:
        gis.users.get(offline["username"]).update_license_type("creator")
    assert caught.value.code == 400
    fresh_sb.set_pro_offline(offline["username"], False)
    gis.users.get(offline["username"]).update_license_type("creator")


def test_an_unknown_user_type_is_refused_before_sending(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    with pytest.raises(InvalidInputError, match="viewerUT"):
        gis.users.update_license_type(["a", "b"], "gold")
    with pytest.raises(InvalidInputError, match="unknown role"):
        gis.users.update_role(["a"], "boss")
    with pytest.raises(InvalidInputError, match="batch_size"):
        gis.users.update_license_type(["a"], "viewer", batch_size=500)
    assert fresh_sb.requests(operation="updateUserLicenseType") == []
    assert fresh_sb.requests(operation="updateUserRole") == []


def test_an_ordinary_member_gets_permission_denied(sb: gislicense.Sandbox, member_gis: GIS) -> None:
    gis = member_gis
    other = portal_user(sb, userLicenseTypeId="viewerUT")
    with pytest.raises(PermissionDeniedError, match="administrator"):
        gis.users.get(other["username"]).update_license_type("creator")
    # Planning may not read the members: the change fails as the portal would refuse it,
    # naming why, and nothing is sent (never "skipped" with success).
    sent = len(sb.requests(operation="updateUserLicenseType"))
    report = gis.users.update_license_type([other["username"]], "creator")
    assert report.counts() == {"failed": 1}
    assert isinstance(report[0].error, PermissionDeniedError)
    assert "administrator" in (report[0].reason or "")
    assert len(sb.requests(operation="updateUserLicenseType")) == sent
    with pytest.raises(PermissionDeniedError):
        gis.users.search()
    # Searching within the organization is open to members.
    assert gis.users.search(f"username:{other['username']}")[0].username == other["username"]


def test_bulk_change_reports_every_member(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    fresh_sb.set_seats("GISProfessionalStdUT", 1000)
    creators = [
        u["username"]
        for u in fresh_sb.portal_users()
        if u["userLicenseTypeId"] == "creatorUT" and not u["proOffline"]
    ][:40]
    already = portal_user(fresh_sb, userLicenseTypeId="GISProfessionalStdUT", proOffline=False)
    offline = portal_user(fresh_sb, proOffline=True)["username"]
    user_object = gis.users.get(creators[0])
    items: list[Any] = [
        user_object,
        *creators[1:],
        already["username"],
        offline,
        creators[1].upper(),
        "nobody-here",
        42,
    ]

    plan = gis.users.update_license_type(items, "professional", dry_run=True)
    # The offline member and the non-member are predicted to fail, as the portal would.
    assert plan.counts() == {"would_change": 40, "unchanged": 1, "failed": 3, "skipped": 1}
    assert fresh_sb.requests(operation="updateUserLicenseType") == []

    report = gis.users.update_license_type(items, "professional", batch_size=7, concurrency=3)
    statuses = [o.status for o in report]
    assert statuses[:40] == ["changed"] * 40
    assert statuses[40:] == ["unchanged", "failed", "skipped", "failed", "failed"]
    assert "offline" in (report[41].reason or "")
    assert "not a member" in (report[43].reason or "")
    # The dry run predicted every item's outcome.
    assert [o.status.replace("would_change", "changed") for o in plan] == statuses
    assert "not a user" in (report[44].reason or "")
    assert report[0].item is user_object
    with pytest.raises(gislicense.BulkOperationError) as caught:
        report.raise_for_failures()
    assert caught.value.report is report
    assert all(
        fresh_sb.portal_user(n)["userLicenseTypeId"] == "GISProfessionalStdUT" for n in creators
    )
    # 40 members in batches of 7: 6 requests.
    assert len(fresh_sb.requests(operation="updateUserLicenseType")) == 6


def test_bulk_role_change(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    creators = gis.users.search(user_type="creator", role="user", max_users=10)
    report = gis.users.update_role([*creators, creators[0].username], "publisher")
    assert report.counts() == {"changed": 10, "skipped": 1}
    assert all(fresh_sb.portal_user(u.username)["role"] == "org_publisher" for u in creators)
    again = gis.users.update_role([u.username for u in creators], "publisher")
    assert again.counts() == {"unchanged": 10}
    viewers = gis.users.search(user_type="viewer", max_users=3)
    sent = len(fresh_sb.requests(operation="updateUserRole"))
    refused = gis.users.update_role(viewers, "publisher")
    assert refused.counts() == {"failed": 3}
    assert "cannot be held by" in (refused[0].reason or "")
    assert len(fresh_sb.requests(operation="updateUserRole")) == sent, "predicted, not sent"


# Faults -------------------------------------------------------------------------------------


def test_reads_and_idempotent_changes_are_retried(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    gis.sign_in()
    fresh_sb.fail_next("http503", 2, operation="users")
    assert len(gis.users.search()) == 300
    viewers = [
        u["username"] for u in fresh_sb.portal_users() if u["userLicenseTypeId"] == "viewerUT"
    ]
    fresh_sb.fail_next("drop", 1, operation="updateUserLicenseType")
    report = gis.users.update_license_type(viewers[:5], "contributor")
    assert report.counts() == {"changed": 5}
    faulted = [r for r in fresh_sb.requests(operation="updateUserLicenseType") if r.fault]
    assert [r.fault for r in faulted] == ["drop"]


def test_a_failed_batch_fails_only_its_members(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    gis.users.license_types  # noqa: B018  (fetch before the fault is queued)
    fresh_sb.set_seats("editorUT", 10_000)  # seats enough: only the fault fails members
    viewers = [
        u["username"] for u in fresh_sb.portal_users() if u["userLicenseTypeId"] == "viewerUT"
    ]
    # An error reply with code 500 is sent again, as an HTTP 500 is; one that persists
    # (three in a row) leaves its batch unknown, the portal having broken while handling it.
    fresh_sb.fail_next("error", 1, operation="updateUserLicenseType")
    report = gis.users.update_license_type(viewers[:5], "contributor", batch_size=5)
    assert report.counts() == {"changed": 5}
    fresh_sb.fail_next("error", 3, operation="updateUserLicenseType")
    report = gis.users.update_license_type(
        viewers[5:15], "contributor", batch_size=5, concurrency=1
    )
    assert [o.status for o in report] == ["unknown"] * 5 + ["changed"] * 5
    assert "internal error" in (report[0].reason or "")
    assert "re-reading the state showed" in (report[0].reason or "")


def test_html_and_login_pages_are_clear_errors(canned_server: Any) -> None:
    canned_server.body = (
        b"<html><body><form action='/adfs/ls/'>SAML sign in "
        b"<input type='password' name='password'></form></body></html>"
    )
    url = canned_server.url.replace("/OpenLMServer", "/portal")
    gis = GIS(url, allow_insecure_http=True, retries=0)
    with pytest.raises(UnreadableReplyError, match="login page") as caught:
        gis.properties  # noqa: B018
    assert "<html>" in (caught.value.body_start or "")
    canned_server.body = b"<!DOCTYPE html><html><body>IIS Welcome</body></html>"
    with pytest.raises(UnreadableReplyError, match="HTML came instead of JSON"):
        GIS(url, allow_insecure_http=True, retries=0).version  # noqa: B018


# Async --------------------------------------------------------------------------------------


def test_async_twins(fresh_sb: gislicense.Sandbox) -> None:
    async def run() -> None:
        gis = admin_of(fresh_sb)
        await gis.sign_in_async()
        assert await gis.org_id_async() == "0123456789ABCDEF"
        assert await gis.version_async() == "2024.1"
        assert (await gis.properties_async())["isPortal"] is True
        me = await gis.users.me_async()
        assert me.username == fresh_sb.admin_username
        viewers, editors = await asyncio.gather(
            gis.users.search_async(user_type="viewer"), gis.users.search_async(user_type="editorUT")
        )
        assert viewers and editors
        assert (await gis.users.license_type_async("creator")).name == "Creator"
        assert (await gis.users.role_async("viewer")).id == "iAAAAAAAAAAAAAAA"
        assert len(await gis.users.license_types_async()) >= 4
        assert len(await gis.users.roles_async()) >= 5
        user = await gis.users.get_async(viewers[0].username)
        await user.update_license_type_async("contributor")
        assert user.user_type == "editorUT"
        await user.update_role_async("data editor")
        assert user.role_id == "iBBBBBBBBBBBBBBB"
        await user.update_level_async(2)
        report = await gis.users.update_license_type_async(viewers[1:6], "contributor")
        assert report.counts() == {"changed": 5}
        roles = await gis.users.update_role_async(viewers[1:6], "data editor")
        assert roles.counts() == {"changed": 5}

    asyncio.run(run())


def test_the_password_is_asked_for_in_a_notebook(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Jupyter stdin is no terminal, but the kernel's getpass asks in the notebook."""
    import getpass
    import sys
    import types

    asked: list[str] = []

    def notebook_getpass(prompt: str = "Password: ") -> str:
        asked.append(prompt)
        return sb.admin_password

    # A kernel runs this code: IPython's shell has a kernel.
    ipython = types.ModuleType("IPython")
    shell = types.SimpleNamespace(kernel=object())
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setattr(getpass, "getpass", notebook_getpass)
    gis = GIS(sb.portal_url, sb.admin_username, ca_bundle=sb.ca_file)
    assert gis.users.me.username == sb.admin_username
    # The prompt says who and where.
    assert asked == [f"Password for {sb.admin_username} at {sb.portal_url}: "]
