"""The OpenLM client against the sandbox: listing, filters, closing, login, faults, bad input."""

from __future__ import annotations

import asyncio
import datetime
import gc
import threading
import time
from typing import Any

import pytest

import gislicense
from gislicense import (
    ActiveProduct,
    AuthenticationError,
    InvalidInputError,
    OpenLM,
    Sandbox,
    ServerError,
    TransportError,
    UnreadableReplyError,
)
from gislicense.plans import Journal, Plan

HOSTILE = [
    'a<b&"c',
    "]]>",
    "x]]><![CDATA[y",
    "</PARAM><PARAM name='username'>jsmith",
    "Ünïcødé 名前 🙂",
    "tab\tand\r\nnewline",
    "  padded  ",
    "L" * 10_000,
    "' OR '1'='1",
    "*",
]


def close_requests(sb: Sandbox) -> int:
    return len(sb.requests(operation="CloseApplication"))


# --- listing ------------------------------------------------------------------------------


def test_lists_every_license_in_use_with_typed_fields(sandbox: Sandbox, openlm: OpenLM) -> None:
    products = openlm.get_active_products()
    assert len(products) == sandbox.openlm_session_count() == 300
    seeded = {s["handle"]: s for s in sandbox.openlm_sessions()}
    for p in products:
        assert isinstance(p, ActiveProduct)
        assert p.handle is not None
        expected = seeded[int(p.handle)]
        assert (p.product, p.username, p.workstation) == (
            expected["product"],
            expected["username"],
            expected["workstation"],
        )
        assert (p.server, p.vendor, p.feature) == (
            expected["server"],
            expected["vendor"],
            expected["feature"],
        )
        assert p.start_time is not None and p.start_time.tzinfo == datetime.timezone.utc
        start_ms = int(p.start_time.timestamp() * 1000)
        assert abs(start_ms - expected["start_ms"]) <= 1
        assert isinstance(p.duration, datetime.timedelta)
        assert p.licenses == expected["licenses"]
        assert p.borrowed == expected["borrowed"]
        assert p.full_name == expected["full_name"]
    vendors = {p.vendor for p in products}
    assert {"ARCGIS", "adskflex", "MLM"} <= vendors


def test_attributes_keep_everything_as_received(openlm: OpenLM) -> None:
    product = openlm.get_active_products()[0]
    attrs = product.attributes
    assert attrs["product"] == product.product
    assert attrs["server_name"] == product.server
    assert attrs["start_time"].isdigit()
    assert list(attrs)[:3] == ["product", "username", "workstation"]
    assert product.to_dict()["username"] == product.username
    assert product == openlm.get_active_products(handle=product.handle)[0]


def test_filters_on_fields_values_lists_functions_and_attributes(openlm: OpenLM) -> None:
    everything = openlm.get_active_products()
    editors = openlm.get_active_products(product="editor")
    assert editors and all(p.product == "Editor" for p in editors)
    assert len(editors) == sum(p.product == "Editor" for p in everything)

    two = openlm.get_active_products(feature=["Viewer", "ARC/INFO"], vendor="ARCGIS")
    assert {p.feature for p in two} == {"Viewer", "ARC/INFO"}

    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=5)
    old = openlm.get_active_products(start_time=lambda t: t is not None and t < cutoff)
    assert old and all(p.start_time and p.start_time < cutoff for p in old)

    planners = openlm.get_active_products(attributes={"group_name": "planning"})
    assert planners and all(p.group == "Planning" for p in planners)

    singles = openlm.get_active_products(licenses=1, borrowed=False)
    assert all(p.licenses == 1 and not p.borrowed for p in singles)


@pytest.mark.parametrize(
    "filters",
    [
        {"usernme": "jsmith"},
        {"usernme": lambda u: True},
        {"start_time": 5},
        {"borrowed": "yes"},
        {"licenses": "two"},
        {"product": []},
        {"product": 1.5},
    ],
)
def test_bad_filters_fail_before_anything_is_sent(
    sandbox: Sandbox, openlm: OpenLM, filters: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError):
        openlm.get_active_products(**filters)
    assert sandbox.requests() == []


def test_unknown_filter_names_the_valid_fields(openlm: OpenLM) -> None:
    with pytest.raises(InvalidInputError, match="workstation"):
        openlm.get_active_products(usernme="x")


def test_ten_thousand_sessions_paged_and_unpaged() -> None:
    with Sandbox(sessions=10_000) as sb:
        openlm = OpenLM(sb.openlm_url)
        paged = openlm.get_active_products(page_size=1_000)
        assert len(paged) == 10_000
        assert len({p.handle for p in paged}) == 10_000
        assert len(sb.requests(operation="GetActiveProducts2")) == 10
        unpaged = openlm.get_active_products(page_size=0)
        assert sorted(p.handle or "" for p in unpaged) == sorted(p.handle or "" for p in paged)


def test_old_servers_without_paging_get_the_unpaged_request() -> None:
    with Sandbox(sessions=120, paging=False) as sb:
        openlm = OpenLM(sb.openlm_url)
        assert len(openlm.get_active_products(page_size=50)) == 120
        assert len(openlm.get_active_products(page_size=50)) == 120
        ops = [r.operation for r in sb.requests() if r.operation.startswith("GetActive")]
        assert ops == ["GetActiveProducts2", "GetActiveProducts", "GetActiveProducts"]


def test_parse_active_products_reads_saved_replies(sandbox: Sandbox) -> None:
    import urllib.request

    request = urllib.request.Request(
        sandbox.openlm_url,
        data=b'<ULM><MESSAGE type="GetActiveProducts" /><SESSION sessionid="0" /></ULM>',
        headers={"Content-Type": "application/xml"},
    )
    with urllib.request.urlopen(request) as reply:
        data = reply.read()
    products = gislicense.parse_active_products(data)
    assert len(products) == 300
    # The records hold strings only: left out of the cycle collector's watch, and whole
    # when kept alone.
    kept = products[7]
    assert not gc.is_tracked(kept)
    fields = (kept.product, kept.username, kept.workstation, kept.attributes)
    del products
    gc.collect()
    assert (kept.product, kept.username, kept.workstation, kept.attributes) == fields
    with pytest.raises(UnreadableReplyError) as caught:
        gislicense.parse_active_products(b"<html><body>Bad gateway</body></html>")
    assert caught.value.body_start.startswith("<html>")


def test_the_sandbox_refuses_what_openlm_cannot_read_with_an_openlm_error(
    sandbox: Sandbox,
) -> None:
    """A GET or broken XML gets an Error reply, as OpenLM answers, with no parser internals."""
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(sandbox.openlm_url)) as reply:
        assert reply.status == 200
        got = reply.read().decode()
    assert '<MESSAGE type="Error">' in got and "takes POST" in got and "GET" in got
    broken = urllib.request.Request(sandbox.openlm_url, data=b"<ULM><MESSAGE type=")
    with urllib.request.urlopen(broken) as reply:
        got = reply.read().decode()
    assert '<MESSAGE type="Error">' in got and "not well-formed XML (at byte" in got
    assert "Syntax" not in got and "Error(" not in got


# --- closing ------------------------------------------------------------------------------


def closable_editor(openlm: OpenLM) -> ActiveProduct:
    return next(p for p in openlm.get_active_products(product="Editor") if p.closable)


def test_close_application_removes_the_session(sandbox: Sandbox, openlm: OpenLM) -> None:
    product = closable_editor(openlm)
    assert product.server and product.vendor
    openlm.close_application(
        username=product.username,
        workstation=product.workstation,
        server=product.server,
        vendor=product.vendor,
        feature=product.feature,
    )
    assert product not in openlm.get_active_products()
    assert sandbox.openlm_session_count() == 299
    sent = sandbox.requests(operation="CloseApplication")[0]
    assert dict(sent.params) == {
        "username": product.username,
        "workstation": product.workstation,
        "server": product.server,
        "vendor": product.vendor,
        "feature": product.feature,
    }
    with pytest.raises(ServerError, match="No ARCGIS Editor license"):
        openlm.close_application(
            username=product.username,
            workstation=product.workstation,
            server=product.server,
            vendor=product.vendor,
            feature=product.feature,
        )


def test_closing_without_the_agent_fails_with_the_servers_message(
    sandbox: Sandbox, openlm: OpenLM
) -> None:
    blocked = sandbox.workstations_without_agent()[0]
    product = openlm.get_active_products(workstation=blocked)[0]
    assert product.closable is False
    assert product.server and product.vendor
    with pytest.raises(ServerError) as caught:
        openlm.close_application(
            username=product.username,
            workstation=product.workstation,
            server=product.server,
            vendor=product.vendor,
            feature=product.feature,
        )
    assert "OpenLM Agent is not installed" in caught.value.server_message
    assert caught.value.url == sandbox.openlm_url


@pytest.mark.parametrize("field", ["username", "workstation", "server", "vendor", "feature"])
@pytest.mark.parametrize("bad", ["", "   ", "bell\x07"])
def test_close_application_refuses_bad_values_before_sending(
    sandbox: Sandbox, openlm: OpenLM, field: str, bad: str
) -> None:
    values = {
        "username": "jsmith",
        "workstation": "WS-1",
        "server": "GIS License Server",
        "vendor": "ARCGIS",
        "feature": "Editor",
    }
    values[field] = bad
    with pytest.raises(InvalidInputError, match=field):
        openlm.close_application(**values)
    assert sandbox.requests() == []


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_close_only_their_own_session(
    sandbox: Sandbox, openlm: OpenLM, name: str
) -> None:
    # The real jsmith and a session under the hostile name on the same workstation.
    sandbox.add_openlm_session(product="Editor", username="jsmith", workstation="GIS-WS-900")
    sandbox.add_openlm_session(product="Editor", username=name, workstation="GIS-WS-900")
    before = sandbox.openlm_session_count()
    mine = openlm.get_active_products(workstation="GIS-WS-900", username=name)
    assert [p.username for p in mine] == [name], "the name did not survive the round trip"
    report = openlm.close_applications(mine)
    assert [o.status for o in report] == ["closed"]
    remaining = sandbox.openlm_sessions()
    assert len(remaining) == before - 1
    assert any(s["username"] == "jsmith" and s["workstation"] == "GIS-WS-900" for s in remaining)
    assert not any(s["username"] == name for s in remaining)


def test_bulk_close_reports_every_item_and_never_stops(sandbox: Sandbox, openlm: OpenLM) -> None:
    products = openlm.get_active_products(vendor="ARCGIS")
    blocked = set(sandbox.workstations_without_agent())
    items: list[Any] = [*products, products[0], {"username": "x"}, "not a product"]
    report = openlm.close_applications(items)
    assert len(report) == len(items)
    assert [o.item for o in report] == items
    expected_failed = sum(p.workstation in blocked for p in products) + 2
    assert expected_failed > 2
    assert len(report.failed) == expected_failed
    assert [o.status for o in report.skipped] == ["skipped"]
    assert "item 0" in (report.skipped[0].reason or "")
    for outcome in report.failed:
        assert outcome.reason and outcome.error is not None
        assert isinstance(outcome.error, gislicense.GisLicenseError)
    assert report[-2].reason == f"item {len(items) - 2} has no workstation"
    assert "not an ActiveProduct" in (report[-1].reason or "")
    closed = [o for o in report if o.status == "closed"]
    assert len(closed) == len(products) - (expected_failed - 2)
    left = openlm.get_active_products(vendor="ARCGIS")
    assert all(p.workstation in blocked for p in left)
    with pytest.raises(gislicense.BulkOperationError) as caught:
        report.raise_for_failures()
    assert caught.value.report is report


def test_dry_run_sends_nothing(sandbox: Sandbox, openlm: OpenLM) -> None:
    products = openlm.get_active_products(product="Editor")
    report = openlm.close_applications(products, dry_run=True)
    # Workstations without an OpenLM Agent are predicted to fail, as the server would refuse.
    assert {o.status for o in report} <= {"would_close", "failed"}
    assert all("no OpenLM Agent" in (o.reason or "") for o in report.failed)
    assert close_requests(sandbox) == 0
    assert sandbox.openlm_session_count() == 300
    assert "would close" in report.summary()


def test_a_plan_applied_later_finds_the_sessions_closed_meanwhile(
    sandbox: Sandbox, openlm: OpenLM, tmp_path: Any
) -> None:
    # A saved plan reported the sessions that ended since as failed closes ("No ... license
    # is in use"): a scheduled job failing for nothing.
    targets = [p for p in openlm.get_active_products() if p.closable][:10]
    openlm.plan_close(targets).save(tmp_path / "close.json")
    assert openlm.close_applications(targets[:3]).counts() == {"closed": 3}
    sandbox.clear_requests()
    plan = Plan.load(tmp_path / "close.json", openlm)
    assert plan.counts() == {"would_close": 10}
    report = plan.apply(journal=tmp_path / "close.jsonl")
    assert [o.status for o in report] == ["unchanged"] * 3 + ["closed"] * 7
    assert all(o.reason == "the session was closed since planning" for o in report[:3])
    assert len(sandbox.requests(operation="CloseApplication")) == 7
    journal = Journal(tmp_path / "close.jsonl")
    assert journal.finished and journal.report.counts() == {"unchanged": 3, "closed": 7}


def test_a_call_that_plans_its_closes_lists_once_before_them_a_saved_plan_twice(
    sandbox: Sandbox, openlm: OpenLM
) -> None:
    # The listing a call plans from, moments before its closes, is the re-read before them
    # (issue 33: a second listing there cost a round trip and a parse of every session); a
    # plan made earlier is listed again before its closes go.
    targets = [p for p in openlm.get_active_products() if p.closable][:4]

    def listings_before_the_first_close() -> int:
        sent = [r.operation for r in sandbox.requests(service="openlm")]
        return sent[: sent.index("CloseApplication")].count("GetActiveProducts2")

    sandbox.clear_requests()
    assert openlm.close_applications(targets[:2]).counts() == {"closed": 2}
    assert listings_before_the_first_close() == 1
    plan = openlm.plan_close(targets[2:])
    sandbox.clear_requests()
    assert plan.apply().counts() == {"closed": 2}
    assert listings_before_the_first_close() == 1


def look_alike_pairs(openlm: OpenLM) -> list[tuple[ActiveProduct, ActiveProduct]]:
    """Sessions of one user, workstation, vendor and feature on two license servers (a
    primary and its DR server): the sandbox makes such pairs."""
    by_holder: dict[tuple[str, str, str | None, str], list[ActiveProduct]] = {}
    for p in openlm.get_active_products(closable=True):
        by_holder.setdefault((p.username, p.workstation, p.vendor, p.feature), []).append(p)
    return [
        (found[0], found[1])
        for found in by_holder.values()
        if len(found) == 2 and found[0].server != found[1].server
    ]


def test_a_look_alike_on_another_license_server_does_not_keep_a_close_open(
    sandbox: Sandbox, tmp_path: Any
) -> None:
    # Closes were matched to sessions by user, workstation and feature only: the session
    # left on the DR server kept the closed one "open" (unknown after close_wait), a new
    # plan predicted closing it again and applying that reported it failed.
    openlm = OpenLM(sandbox.openlm_url, backoff=0.01, close_wait=20)
    pairs = look_alike_pairs(openlm)
    assert len(pairs) >= 2
    (closed, kept), (single, single_kept) = pairs[:2]
    openlm.plan_close([closed]).save(tmp_path / "close.json")
    started = time.monotonic()
    report = openlm.close_applications([closed])
    assert [o.status for o in report] == ["closed"], report[0].reason
    openlm.close_application(
        username=single.username,
        workstation=single.workstation,
        server=single.server,
        vendor=single.vendor,
        feature=single.feature,
    )
    assert time.monotonic() - started < 10, "watched until the session ended, not close_wait"
    listed = {p.handle for p in openlm.get_active_products()}
    assert closed.handle not in listed and single.handle not in listed
    assert kept.handle in listed and single_kept.handle in listed
    again = openlm.close_applications([closed, single], dry_run=True)
    assert [o.status for o in again] == ["unchanged"] * 2, [o.reason for o in again]
    sandbox.clear_requests()
    report = Plan.load(tmp_path / "close.json", openlm).apply(journal=False)
    assert [(o.status, o.reason) for o in report] == [
        ("unchanged", "the session was closed since planning")
    ]
    assert close_requests(sandbox) == 0
    assert kept.handle in {p.handle for p in openlm.get_active_products()}


def test_closes_go_as_planned_when_the_check_before_cannot_list(
    sandbox: Sandbox, openlm: OpenLM
) -> None:
    targets = [p for p in openlm.get_active_products() if p.closable][:4]
    plan = openlm.plan_close(targets)
    sandbox.fail_next("http503", 50, operation="GetActiveProducts2")
    report = plan.apply(journal=False)
    sandbox.clear_faults()
    # Sent as planned; with no listing to watch the sessions end, none is called closed.
    assert report.counts() == {"unknown": 4}
    assert all("re-reading the state failed too" in (o.reason or "") for o in report)
    time.sleep(1)  # the Agents close them 0.2 s after the close is queued
    assert not any(p.closable and p in targets for p in openlm.get_active_products())


def test_mappings_and_overrides(sandbox: Sandbox, openlm: OpenLM) -> None:
    product = closable_editor(openlm)
    item = {"username": product.username, "workstation": product.workstation, "feature": "Editor"}
    report = openlm.close_applications([item], server=product.server, vendor="ARCGIS")
    assert report[0].status == "closed", report[0].reason
    with pytest.raises(InvalidInputError):
        openlm.close_applications([item], server="  ")
    with pytest.raises(InvalidInputError, match="concurrency"):
        openlm.close_applications([item], server="s", vendor="v", concurrency=0)


# --- login, sessions ---------------------------------------------------------------------------


def test_permissions_mode_logs_in_and_renews_expired_sessions() -> None:
    with Sandbox(sessions=40, permissions=True) as sb:
        with pytest.raises(AuthenticationError, match="requires a login"):
            OpenLM(sb.openlm_url).get_active_products()
        with pytest.raises(AuthenticationError) as caught:
            OpenLM(sb.openlm_url, "admin", "wrong-password").get_active_products()
        assert "wrong-password" not in str(caught.value)

        openlm = OpenLM(sb.openlm_url, sb.openlm_username, sb.openlm_password)
        assert "sandbox-password" not in repr(openlm)
        assert len(openlm.get_active_products()) == 40
        sb.expire_openlm_logins()
        editors = openlm.get_active_products(product="Editor")
        sb.expire_openlm_logins()
        report = openlm.close_applications([p for p in editors if p.closable])
        assert report.failed == []
        logins = sb.requests(operation="UserAuthentication")
        assert len(logins) == 4  # the wrong one, the first, and one after each expiry
        assert all(dict(r.params).get("PWD") == "***" for r in logins)


def test_a_username_without_a_password_needs_a_terminal(sandbox: Sandbox) -> None:
    with pytest.raises(InvalidInputError, match="password"):
        OpenLM(sandbox.openlm_url, "admin")


# --- faults, transport -----------------------------------------------------------------------


def test_reads_are_retried_through_faults(sandbox: Sandbox, openlm: OpenLM) -> None:
    sandbox.fail_next("http503", 1, operation="GetActiveProducts2")
    sandbox.fail_next("drop", 1, operation="GetActiveProducts2")
    assert len(openlm.get_active_products()) == 300
    faults = [r.fault for r in sandbox.requests(operation="GetActiveProducts2")]
    assert faults == ["http503", "drop", None]


def test_when_retries_run_out_the_error_says_what_happened(sandbox: Sandbox) -> None:
    openlm = OpenLM(sandbox.openlm_url, retries=0)
    sandbox.fail_next("http503", 1)
    with pytest.raises(ServerError) as caught:
        openlm.get_active_products()
    assert caught.value.status == 503
    assert "503" in str(caught.value) and sandbox.openlm_url in str(caught.value)
    sandbox.fail_next("drop", 1)
    with pytest.raises(TransportError):
        openlm.get_active_products()
    # Once the server is known to page, an Error reply is an error (the first one would be
    # taken as an old server without GetActiveProducts2).
    assert len(openlm.get_active_products()) == 300
    sandbox.fail_next("error", 1, operation="GetActiveProducts2")
    with pytest.raises(ServerError, match="Server Error"):
        openlm.get_active_products()


def test_bulk_close_under_random_faults_loses_nothing(sandbox: Sandbox, openlm: OpenLM) -> None:
    products = [p for p in openlm.get_active_products() if p.closable]
    sandbox.set_faults(error=0.15, http503=0.1, drop=0.05)
    report = openlm.close_applications(products, concurrency=24)
    sandbox.clear_faults()
    assert len(report) == len(products)
    assert report.failed, "faults at these rates should fail some items"
    # A dropped connection loses the answer to a close that was sent: its outcome is unknown
    # (never "failed"), unless a second look finds the session gone.
    assert all(o.status in ("closed", "failed", "unknown") for o in report)
    remaining = {p.handle for p in openlm.get_active_products()}
    for outcome in report:
        product = outcome.item
        assert isinstance(product, ActiveProduct)
        if outcome.status == "closed":
            assert product.handle not in remaining
        elif outcome.status == "failed":
            assert outcome.reason
            assert product.handle in remaining, "the sandbox's faults come before it acts"
        else:
            # Unknown: not seen gone while watched (still open, or no listing to tell);
            # an Agent may have closed it since.
            reason = outcome.reason or ""
            assert "result unknown" in reason
            assert "still open" in reason or "failed too" in reason, reason
            assert isinstance(outcome.error, gislicense.OutcomeUnknownError)
    # The failed and unknown ones can simply be tried again. An unknown one whose queued
    # close the Agent carried out meanwhile is unchanged: its session is gone, and a session
    # alike (same user, workstation and feature) on another license server is another
    # session, not it.
    retry = openlm.close_applications([o.item for o in report if not o.ok])
    assert retry.unknown == []
    assert retry.failed == [], [o.reason for o in retry.failed]
    assert {o.status for o in retry} <= {"closed", "unchanged"}


def test_slow_replies_time_out(sandbox: Sandbox) -> None:
    openlm = OpenLM(sandbox.openlm_url, timeout=0.3, retries=0)
    sandbox.set_faults(slow=1.0, slow_seconds=2.0)
    with pytest.raises(gislicense.RequestTimeoutError, match=r"0\.3"):
        openlm.get_active_products()


def test_refused_connections_name_the_cause() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    openlm = OpenLM(f"http://127.0.0.1:{port}/OpenLMServer", retries=1, backoff=0.01)
    with pytest.raises(TransportError, match=r"(?i)refused") as caught:
        openlm.get_active_products()
    assert str(port) in str(caught.value)


def test_html_instead_of_xml_is_a_clear_error(canned_server: Any) -> None:
    canned_server.body = b"<html><head><title>Proxy login</title></head></html>"
    with pytest.raises(UnreadableReplyError) as caught:
        OpenLM(canned_server.url).get_active_products()
    assert caught.value.status == 200
    assert "Proxy login" in caught.value.body_start
    assert "<ULM>" in str(caught.value)


def test_http_errors_with_an_xml_error_body_keep_the_servers_message(canned_server: Any) -> None:
    canned_server.status = 500
    canned_server.body = b'<ULM><MESSAGE type="Error">Database is down</MESSAGE></ULM>'
    with pytest.raises(ServerError, match="Database is down") as caught:
        OpenLM(canned_server.url, retries=0).get_active_products()
    assert caught.value.status == 500


def test_proxies_come_from_the_environment(
    canned_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    canned_server.body = b'<ULM><MESSAGE type="SkipLoginForm"/><PRODUCT product="Editor"/></ULM>'
    proxy = canned_server.url.rsplit("/", 1)[0]
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    products = OpenLM("http://openlm.example.invalid:7014/OpenLMServer").get_active_products()
    assert [p.product for p in products] == ["Editor"]
    assert canned_server.seen[0] == "POST http://openlm.example.invalid:7014/OpenLMServer"


def test_servers_on_this_machine_bypass_the_proxy(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert len(OpenLM(sandbox.openlm_url).get_active_products()) == 300


def test_bad_urls_and_options_fail_at_once() -> None:
    for url in ["", "ftp://host", "http://user:pw@host:7014"]:
        with pytest.raises(InvalidInputError):
            OpenLM(url)
    with pytest.raises(InvalidInputError, match="timeout"):
        OpenLM("host", timeout=0)
    with pytest.raises(InvalidInputError, match="ca_bundle"):
        OpenLM("host", ca_bundle="/no/such/ca.pem")
    assert OpenLM("openlm01").url == "http://openlm01:7014/OpenLMServer"


def test_tls_trust_and_its_errors() -> None:
    with Sandbox(sessions=7, openlm_tls=True) as sb:
        assert sb.openlm_url.startswith("https://")
        with pytest.raises(gislicense.TLSError, match="certificate not trusted") as caught:
            OpenLM(sb.openlm_url).get_active_products()
        assert "ca_bundle=" in str(caught.value)
        assert len(OpenLM(sb.openlm_url, ca_bundle=sb.ca_file).get_active_products()) == 7
        with pytest.warns(UserWarning, match="verify=False"):
            insecure = OpenLM(sb.openlm_url, verify=False)
        assert len(insecure.get_active_products()) == 7


# --- sync and async ---------------------------------------------------------------------------


def test_sync_calls_release_the_gil(sandbox: Sandbox, openlm: OpenLM) -> None:
    sandbox.latency = 0.4
    worker = threading.Thread(target=openlm.get_active_products)
    worker.start()
    ticks = 0
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        ticks += 1
    worker.join()
    assert ticks > 10_000, "the main thread was blocked while the request waited"


async def test_async_forms(sandbox: Sandbox, openlm: OpenLM) -> None:
    products, editors = await asyncio.gather(
        openlm.get_active_products_async(),
        openlm.get_active_products_async(product="Editor", vendor=["ARCGIS"]),
    )
    assert len(products) == 300
    closable = [p for p in editors if p.closable]
    first, rest = closable[0], closable[1:]
    assert first.server and first.vendor
    await openlm.close_application_async(
        username=first.username,
        workstation=first.workstation,
        server=first.server,
        vendor=first.vendor,
        feature=first.feature,
    )
    report = await openlm.close_applications_async(rest, concurrency=8)
    assert {o.status for o in report} == {"closed"}
    assert sandbox.openlm_session_count() == 300 - len(closable)
    with pytest.raises(InvalidInputError):
        await openlm.get_active_products_async(usernme="x")
    with pytest.raises(ServerError):
        await openlm.close_application_async(
            username=first.username,
            workstation=first.workstation,
            server=first.server,
            vendor=first.vendor,
            feature=first.feature,
        )


async def test_async_login_and_faults() -> None:
    with Sandbox(sessions=30, permissions=True) as sb:
        openlm = OpenLM(sb.openlm_url, sb.openlm_username, sb.openlm_password, backoff=0.01)
        sb.fail_next("http503", 1, operation="GetActiveProducts2")
        assert len(await openlm.get_active_products_async()) == 30
        sb.expire_openlm_logins()
        assert len(await openlm.get_active_products_async()) == 30


def test_log_lines_reach_python_logging(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="gislicense")
    openlm = OpenLM(sandbox.openlm_url, backoff=0.01)
    sandbox.fail_next("http503", 1, operation="GetActiveProducts2")
    openlm.get_active_products()
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert retries and retries[0].name == "gislicense.http"
    assert retries[0].levelno == logging.INFO
    assert "HTTP 503" in retries[0].getMessage()
    assert any(r.levelno == logging.DEBUG and "-> 200" in r.getMessage() for r in caplog.records)


def test_ctrl_c_interrupts_a_waiting_call(tmp_path: Any) -> None:
    import signal
    import subprocess
    import sys

    script = tmp_path / "wait.py"
    script.write_text(
        "import sys, gislicense\n"
        "sb = gislicense.Sandbox(sessions=1, latency=60)\n"
        "openlm = gislicense.OpenLM(sb.openlm_url)\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    openlm.get_active_products()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert process.stdout.read().strip() == "interrupted"
    assert time.monotonic() - started < 5
