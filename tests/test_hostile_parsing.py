"""Broken and hostile servers, and badly typed input: nothing crashes, hangs or misleads.

Quadratic parsing, out-of-range times, one bad item in a bulk call, lone surrogates in user
input, a non-ASCII referer, and whitespace-only credentials in the OpenLM sandbox.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, cast

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS, InvalidInputError, OpenLM, Sandbox, parse_active_products
from gislicense.licenses import UserEntitlement

# --- helpers ---------------------------------------------------------------------------------


pytestmark = pytest.mark.sandbox(sessions=20)


def products_reply(rows: list[dict[str, str]]) -> bytes:
    body = "".join(
        "<PRODUCT " + " ".join(f'{k}="{v}"' for k, v in row.items()) + "/>" for row in rows
    )
    return f'<ULM><MESSAGE type="GetActiveProducts"/>{body}</ULM>'.encode()


LONE = "\udc80"


# --- defect 6: parsing is linear whatever the attribute names ----------------------------------


def _parse_time(reply: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        products = parse_active_products(reply)
        best = min(best, time.perf_counter() - started)
        assert len(products) == 40_000
    return best


def test_rows_with_their_own_attribute_names_parse_in_linear_time() -> None:
    def reply(distinct: bool) -> bytes:
        rows = []
        for i in range(40_000):
            s = str(i) if distinct else ""
            rows.append(
                {f"product{s}": "Editor", f"username{s}": f"u{i}", f"workstation{s}": f"ws{i}"}
            )
        return products_reply(rows)

    same, distinct = reply(False), reply(True)
    same_time = _parse_time(same)
    distinct_time = _parse_time(distinct)
    # The quadratic reader took about 1000x longer with distinct names.
    assert distinct_time <= 20 * same_time + 0.05, (same_time, distinct_time)
    # Unknown attributes are all kept.
    last = parse_active_products(distinct)[-1]
    assert last.attributes == {"product39999": "Editor", "username39999": "u39999",
                               "workstation39999": "ws39999"}  # fmt: skip


# --- defect 8: times that do not fit Python's datetime read as None -----------------------------

GOOD_MS = "1700000000000"
BAD_TIMES = ["1e300", "-1e300", "99999999999999999999", "-99999999999999999", "9223372036854775807",
             "-9223372036854775808", "NaN", "inf", "-inf", "253402300800000"]  # fmt: skip
BAD_SECONDS = ["1e300", "99999999999999999999", "1e16", "inf", "NaN", "-5", "9999999999999:00:00"]


def _rows() -> list[dict[str, str]]:
    rows = [
        {"product": "Editor", "username": "good", "workstation": "ws", "start_time": GOOD_MS,
         "duration": "60", "idle_time": "00:01:00"},
    ]  # fmt: skip
    for i, value in enumerate(BAD_TIMES):
        rows.append(
            {"product": "Editor", "username": f"bad-time-{i}", "workstation": "ws",
             "start_time": value, "duration": "60", "idle_time": "1"}
        )  # fmt: skip
    for i, value in enumerate(BAD_SECONDS):
        rows.append(
            {"product": "Editor", "username": f"bad-seconds-{i}", "workstation": "ws",
             "start_time": GOOD_MS, "duration": value, "idle_time": value}
        )  # fmt: skip
    return rows


def test_out_of_range_times_read_as_none_with_the_raw_value_kept() -> None:
    products = parse_active_products(products_reply(_rows()))
    good, bad_times, bad_seconds = (
        products[0],
        products[1 : 1 + len(BAD_TIMES)],
        products[1 + len(BAD_TIMES) :],
    )
    assert good.start_time == dt.datetime.fromtimestamp(1_700_000_000, dt.timezone.utc)
    assert good.duration == dt.timedelta(seconds=60)
    for product, raw in zip(bad_times, BAD_TIMES):
        assert product.start_time is None, raw
        assert product.to_dict()["start_time"] is None
        assert product.attributes["start_time"] == raw
    for product, raw in zip(bad_seconds, BAD_SECONDS):
        assert product.duration is None, raw
        assert product.idle_time is None, raw
        assert product.to_dict()["duration"] is None
        assert product.attributes["duration"] == raw
    # The first and last instants Python can hold still read.
    rows = [
        {"product": "E", "username": "a", "workstation": "w", "start_time": "253402300799999"},
        {"product": "E", "username": "b", "workstation": "w", "start_time": "-62135596800000"},
    ]
    first, last = parse_active_products(products_reply(rows))
    assert first.start_time is not None and first.start_time.year == 9999
    assert last.start_time is not None and last.start_time.year == 1


def test_a_filtered_listing_with_bad_rows_returns_the_others(canned_server: Any) -> None:
    canned_server.content_type = "application/xml"
    canned_server.body = products_reply(_rows())
    openlm = OpenLM(canned_server.url, retries=0)
    cutoff = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    recent = openlm.get_active_products(start_time=lambda t: t is not None and t < cutoff)
    assert [p.username for p in recent] == ["good"] + [
        f"bad-seconds-{i}" for i in range(len(BAD_SECONDS))
    ]
    idle = openlm.get_active_products(idle_time=lambda t: t is not None)
    assert len(idle) == 1 + len(BAD_TIMES)
    assert all(isinstance(p.to_dict(), dict) for p in openlm.get_active_products())


@pytest.mark.parametrize("value", [1e300, 10**30, float("nan"), float("inf"), 2.6e14])
def test_portal_times_out_of_range_read_as_none(value: object) -> None:
    raw = {"username": "x", "lastLogin": value, "created": value, "modified": value}
    user = gislicense.User(cast(GIS, None), raw)
    assert user.last_login is None
    assert user.created is None
    assert user.modified is None
    assert user.raw["lastLogin"] is value
    entitlement = UserEntitlement(
        {"username": "x", "entitlements": [], "disconnected": False, "last_login": value, "raw": {}}
    )
    assert entitlement.last_login is None
    # One bad member does not break a filtered list.
    users = [user, gislicense.User(cast(GIS, None), {"username": "y", "lastLogin": 1.7e12})]
    assert [u.username for u in users if u.last_login is not None] == ["y"]


# --- defect 11: one badly typed item fails alone ------------------------------------------------


def test_badly_typed_items_fail_alone_in_user_type_and_role_changes(fresh_sb: Sandbox) -> None:
    gis = admin_of(fresh_sb)
    viewers = [
        u["username"] for u in fresh_sb.portal_users() if u["userLicenseTypeId"] == "viewerUT"
    ]
    items: list[Any] = [viewers[0], 3, f"bad{LONE}name", None, b"bytes", viewers[1]]
    report = gis.users.update_license_type(items, "contributor", dry_run=True)
    assert [o.status for o in report] == ["would_change", "failed", "failed", "failed", "failed",
                                          "would_change"]  # fmt: skip
    assert report[1].reason == (
        "item 1 is not a user: expected a user name (str) or a User, got int"
    )
    assert isinstance(report[1].error, InvalidInputError)
    assert "lone surrogate U+DC80 at position 3" in (report[2].reason or "")
    assert "item 2" in (report[2].reason or "")
    assert "got NoneType" in (report[3].reason or "")
    assert "got bytes" in (report[4].reason or "")

    report = gis.users.update_license_type(items, "contributor")
    assert report.counts() == {"changed": 2, "failed": 4}

    creators = [
        u["username"] for u in fresh_sb.portal_users() if u["userLicenseTypeId"] == "creatorUT"
    ]
    report = gis.users.update_role([creators[0], 7.5, f"{LONE}"], "publisher")
    assert [o.status for o in report] == ["changed", "failed", "failed"]
    assert "got float" in (report[1].reason or "")


def test_a_user_whose_current_type_is_badly_typed_is_still_changed(fresh_sb: Sandbox) -> None:
    gis = admin_of(fresh_sb)
    viewer = next(u for u in fresh_sb.portal_users() if u["userLicenseTypeId"] == "viewerUT")
    user = gis.users.get(viewer["username"])
    user.raw["userLicenseTypeId"] = 12  # a server's odd value: unknown, not an error
    report = gis.users.update_license_type([user], "contributor")
    assert report.counts() == {"changed": 1}


def test_badly_typed_items_fail_alone_in_license_operations(sb: Sandbox) -> None:
    gis = admin_of(sb)
    pro = gis.admin.license.get("pro")
    # Members whose user type can hold Pro (Creators and up), none checked out.
    members = [
        u["username"]
        for u in sb.portal_users()
        if not u["proOffline"] and u["userLicenseTypeId"] in ("creatorUT", "GISProfessionalAdvUT")
    ][:2]
    report = pro.assign([members[0], 5, f"x{LONE}", members[1]], "desktopAdvN", dry_run=True)
    assert [o.status for o in report][1:3] == ["failed", "failed"]
    assert {o.status for o in (report[0], report[3])} <= {"would_assign", "unchanged"}
    report = pro.revoke([5, members[0]], "desktopAdvN", dry_run=True)
    assert report[0].status == "failed"
    assert report[1].status != "failed"
    offline = [u["username"] for u in sb.portal_users() if u["proOffline"]]
    report = gis.admin.license.release_many([offline[0], {"user": 1}, f"{LONE}"], dry_run=True)
    assert [o.status for o in report][1:] == ["failed", "failed"]
    assert report[0].status != "failed"


def test_badly_typed_close_items_fail_alone(sandbox: Sandbox, openlm: OpenLM) -> None:
    product = next(p for p in openlm.get_active_products() if p.closable)
    good = {
        "username": product.username,
        "workstation": product.workstation,
        "server": product.server,
        "vendor": product.vendor,
        "feature": product.feature,
    }
    items: list[Any] = [
        {**good, "workstation": 12},
        {**good, "username": f"joe{LONE}"},
        {**good, "feature": ["Editor"]},
        good,
    ]
    report = openlm.close_applications(items, dry_run=True)
    assert [o.status for o in report] == ["failed", "failed", "failed", "would_close"]
    assert report[0].reason == "item 0: workstation: expected text (str), got int"
    assert "item 1: username contains a lone surrogate U+DC80 at position 3" in (
        report[1].reason or ""
    )
    assert isinstance(report[1].error, InvalidInputError)


def test_lone_surrogates_in_arguments_are_invalid_input(
    sb: Sandbox, sandbox: Sandbox, openlm: OpenLM
) -> None:
    def refused(call: Any, name: str) -> None:
        with pytest.raises(InvalidInputError, match=f"{name} contains a lone surrogate"):
            call()

    refused(lambda: GIS(sb.portal_url + LONE, "a", "b"), "url")
    refused(lambda: GIS(sb.portal_url, f"ad{LONE}", "b"), "username")
    refused(lambda: GIS(sb.portal_url, "admin", f"pw{LONE}"), "password")
    refused(lambda: GIS(sb.portal_url, token=f"t{LONE}"), "token")
    refused(lambda: GIS(sb.portal_url, token="t", referer=f"r{LONE}"), "referer")
    refused(lambda: OpenLM(sb.openlm_url + LONE), "url")
    refused(lambda: OpenLM(sb.openlm_url, "admin", f"{LONE}"), "password")
    gis = admin_of(sb)
    refused(lambda: gis.users.get(f"joe{LONE}"), "username")
    refused(lambda: gis.users.update_license_type(["joe"], f"viewer{LONE}"), "user_type")
    refused(lambda: gis.users.update_role(["joe"], f"{LONE}"), "role")
    refused(lambda: gis.users.search(f"joe{LONE}"), "query")
    refused(lambda: gis.users.license_type(f"viewer{LONE}"), "user_type")
    refused(lambda: gis.admin.license.get(f"pro{LONE}"), "name")
    refused(lambda: gis.admin.license.release(f"joe{LONE}"), "username")
    refused(lambda: gis.admin.license.release("joe", f"app{LONE}"), "app")
    pro = gis.admin.license.get("pro")
    refused(lambda: pro.assign(["joe"], [f"desktopAdvN{LONE}"]), "entitlement 0")
    refused(lambda: pro.revoke(["joe"], f"desktopAdvN{LONE}"), "entitlements")
    fields = {"username": "u", "workstation": "w", "server": "s", "vendor": "v", "feature": "f"}
    refused(lambda: openlm.close_application(**{**fields, "feature": f"f{LONE}"}), "feature")
    refused(lambda: openlm.close_applications([], server=f"s{LONE}"), "server")
    with pytest.raises(InvalidInputError, match="a filter value contains a lone surrogate"):
        openlm.get_active_products(username=f"joe{LONE}")
    # The OpenLM client's own sandbox (the `openlm` fixture's), not the portal's `sb`.
    assert openlm.url == sandbox.openlm_url
    assert sandbox.requests(operation="CloseApplication") == []


def test_a_referer_a_header_cannot_carry_is_refused(sb: Sandbox) -> None:
    for referer in ["café-app", "https://hôte.example/app", "tab\there", "名前"]:
        with pytest.raises(InvalidInputError, match="referer"):
            GIS(sb.portal_url, token="t", referer=referer, ca_bundle=sb.ca_file)
    # Its ASCII form (punycode host, percent-encoded path) is what to give instead.
    gis = admin_of(sb, referer="https://xn--hte-9la.example/caf%C3%A9")
    assert gis.users.get(sb.admin_username).username == sb.admin_username


# --- defect 13c: the OpenLM sandbox checks credentials exactly as sent --------------------------


@pytest.mark.parametrize("password", ["   ", " ", "\t"])
def test_whitespace_only_passwords_are_checked_as_sent(password: str) -> None:
    with Sandbox(sessions=3, permissions=True, openlm_password=password) as sandbox:
        products = OpenLM(sandbox.openlm_url, sandbox.openlm_username, password)
        assert len(products.get_active_products()) == 3
        wrong = password + " "
        with pytest.raises(gislicense.AuthenticationError):
            OpenLM(sandbox.openlm_url, sandbox.openlm_username, wrong).get_active_products()
