"""Broken and hostile servers: every reply below once crashed, exhausted, hung or misled
gislicense. Each test runs a small server of its own (or the sandbox with a fault) and checks
that the library answers with a typed error or an honest outcome, promptly."""

from __future__ import annotations

import asyncio
import gc
import http.server
import json
import re
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers.sandbox import admin_of
from helpers.servers import serving

import gislicense
from gislicense import (
    GIS,
    InvalidInputError,
    OpenLM,
    OutcomeUnknownError,
    RequestTimeoutError,
    Sandbox,
    ServerError,
    UnreadableReplyError,
    User,
)

# A tiny server: each test sets `answer(request) -> (status, content_type, body)` or, for a
# streamed reply, `stream(handler)`.


class Request:
    def __init__(self, path: str, body: bytes) -> None:
        self.path = path
        self.body = body
        self.text = body.decode("utf-8", "replace")
        self.form = {k: v[0] for k, v in urllib.parse.parse_qs(self.text).items()}

    @property
    def openlm_type(self) -> str:
        found = re.search(r'MESSAGE type="([^"]+)"', self.text)
        return found.group(1) if found else ""


Answer = Callable[[Request], "tuple[int, str, bytes]"]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answer: Answer
    stream: Callable[[_Handler], None] | None = None
    seen: list[Request]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        request = Request(self.path, self.rfile.read(length))
        self.seen.append(request)
        if self.stream is not None:
            type(self).stream(self)  # type: ignore[misc]
            return
        status, content_type, body = type(self).answer(request)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


class Server:
    def __init__(self, handler: type[_Handler], url: str) -> None:
        self.handler = handler
        self.url = url

    def answer(self, answer: Answer) -> None:
        self.handler.answer = staticmethod(answer)  # type: ignore[assignment]

    def stream(self, stream: Callable[[_Handler], None]) -> None:
        self.handler.stream = staticmethod(stream)  # type: ignore[assignment]

    @property
    def seen(self) -> list[Request]:
        return self.handler.seen


@pytest.fixture
def server() -> Iterator[Server]:
    class Handler(_Handler):
        seen: list[Request] = []  # noqa: RUF012

    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    with serving(httpd) as port:
        yield Server(Handler, f"http://127.0.0.1:{port}")


def xml(kind: str, inner: str = "", paging: str = "") -> tuple[int, str, bytes]:
    body = f'<ULM><MESSAGE type="{kind}" />{paging}{inner}</ULM>'
    return 200, "application/xml", body.encode()


def product(user: str, n: int = 0) -> str:
    return (
        f'<PRODUCT product="Editor" username="{user}" workstation="ws{n}" server="lic" '
        f'vendor="ARCGIS" feature="Editor" />'
    )


def openlm_server(server: Server, products: Callable[[Request], tuple[int, str, bytes]]) -> OpenLM:
    def answer(request: Request) -> tuple[int, str, bytes]:
        if request.openlm_type == "GetLoginFormSettings":
            return xml("SkipLoginForm")
        return products(request)

    server.answer(answer)
    return OpenLM(server.url + "/OpenLMServer", retries=0, close_wait=1)


def as_json(value: Any, status: int = 200) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(value).encode()


def member(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "username": name,
        "id": name + "-id",
        "role": "org_user",
        "roleId": "org_user",
        "userLicenseTypeId": "creatorUT",
        **fields,
    }


#: The members every test portal has.
MEMBERS = ("ann", "bob", "cy")


def portal_server(server: Server, route: Callable[[str, Request], Any]) -> GIS:
    """A portal whose replies come from `route(operation path, request)`; the few calls every
    operation makes first (version, user types, roles) are answered here."""

    def answer(request: Request) -> tuple[int, str, bytes]:
        path = request.path.split("/sharing/rest", 1)[-1].strip("/")
        reply = route(path, request)
        if reply is not None:
            return reply if isinstance(reply, tuple) else as_json(reply)
        if path == "portals/self/userLicenseTypes":
            types = [{"id": t, "name": t} for t in ("viewerUT", "creatorUT")]
            return as_json({"userLicenseTypes": types, "total": 2, "nextStart": -1})
        if path == "portals/self/roles":
            return as_json({"roles": [], "total": 0, "nextStart": -1})
        if path == "portals/self/users":
            # Planning lists the members first; the route may answer for any of them.
            users = [route(f"community/users/{n}", request) or member(n) for n in MEMBERS]
            return as_json({"users": users, "total": len(users), "nextStart": -1})
        if path == "portals/self/purchases":
            return as_json({"purchases": []})
        if path.startswith("community/users/"):
            return as_json(member(urllib.parse.unquote(path.rsplit("/", 1)[-1])))
        if path == "portals/self":
            return as_json({"id": "0123456789ABCDEF", "isPortal": True, "currentVersion": "2024.1"})
        return as_json({"error": {"code": 400, "message": f"no {path} here"}})

    server.answer(answer)
    return GIS(server.url + "/portal", token="t0ken", allow_insecure_http=True, retries=0)


# 1. Paging totals ------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [18446744073709551615, 9223372036854775807, 1_000_000_000])
def test_an_absurd_openlm_total_is_an_error_not_a_crash(server: Server, total: int) -> None:
    paging = f'<PAGING start_record="0" end_record="999" total_records="{total}" />'
    openlm = openlm_server(server, lambda r: xml("GetActiveProducts2", product("ann"), paging))
    with pytest.raises(UnreadableReplyError, match="not believable"):
        openlm.get_active_products()
    # Nothing was planned from the number: one listing request, no others.
    assert [r.openlm_type for r in server.seen] == ["GetLoginFormSettings", "GetActiveProducts2"]


@pytest.mark.parametrize("listing", ["portals/self/users", "portals/self/roles"])
def test_an_absurd_portal_total_is_an_error_not_a_crash(server: Server, listing: str) -> None:
    key = "users" if listing.endswith("users") else "roles"
    item = member("ann") if key == "users" else {"id": "r1", "name": "Analyst"}

    def route(path: str, request: Request) -> Any:
        if path == listing:
            return {"total": 9223372036854775807, key: [item], "nextStart": 101}
        return None

    gis = portal_server(server, route)
    with pytest.raises(UnreadableReplyError, match="not believable"):
        if key == "users":
            gis.users.search()
        else:
            gis.users.roles  # noqa: B018
    assert sum(1 for r in server.seen if r.path.endswith(listing)) == 1


# 2. Reply size and deadline ----------------------------------------------------------------------


def _endless(handler: _Handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/xml")
    handler.end_headers()  # no length: the reply ends when the connection does
    chunk = b"<ULM>" + b" " * 65536
    try:
        for _ in range(100_000):  # 6.5 GB at most; the client must stop long before
            handler.wfile.write(chunk)
    except OSError:
        pass


def test_an_endless_reply_stops_at_max_reply_bytes(server: Server) -> None:
    server.stream(_endless)
    openlm = OpenLM(server.url + "/OpenLMServer", retries=0, max_reply_bytes=4 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(UnreadableReplyError, match="max_reply_bytes"):
        openlm.get_active_products()
    assert time.monotonic() - started < 20


def test_an_announced_oversized_reply_is_refused_before_reading(server: Server) -> None:
    def announce(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(50 * 1024**3))
        handler.end_headers()
        handler.wfile.write(b"{")

    server.stream(announce)
    gis = GIS(server.url + "/portal", token="t", allow_insecure_http=True, retries=0)
    with pytest.raises(UnreadableReplyError, match=r"announces 53687091200 bytes"):
        gis.version  # noqa: B018


def test_a_trickling_reply_ends_at_the_timeout(server: Server) -> None:
    def trickle(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/xml")
        handler.end_headers()
        try:
            for _ in range(600):  # one byte every 50 ms: 30 s if nobody stops it
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    server.stream(trickle)
    openlm = OpenLM(server.url + "/OpenLMServer", retries=0, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        openlm.get_active_products()
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("value", [0, 1023, -1, True, 2**64, "1MB"])
def test_max_reply_bytes_is_checked(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="max_reply_bytes"):
        OpenLM("http://127.0.0.1:9/OpenLMServer", max_reply_bytes=value)


# 3. Paging that never ends ----------------------------------------------------------------------


def test_portal_pages_that_repeat_forever_end(server: Server) -> None:
    # They once ended quietly with the first page: a short list passed off as the whole.
    def route(path: str, request: Request) -> Any:
        if path == "portals/self/users":
            start = int(request.form.get("start", "1"))
            users = [member(f"user{i:03}") for i in range(100)]
            return {"start": start, "num": 100, "nextStart": start + 100, "users": users}
        return None

    gis = portal_server(server, route)
    with pytest.raises(UnreadableReplyError, match="repeated members"):
        gis.users.search()
    assert sum(1 for r in server.seen if r.path.endswith("portals/self/users")) == 2


@pytest.mark.parametrize("stalls", [1, 101], ids=["goes back", "stays"])
def test_portal_next_start_that_does_not_advance_ends(server: Server, stalls: int) -> None:
    # It once ended quietly with what had been read.
    def route(path: str, request: Request) -> Any:
        if path == "portals/self/users":
            start = int(request.form.get("start", "1"))
            users = [member(f"user{start}-{i}") for i in range(100)]
            return {"nextStart": 101 if start == 1 else stalls, "users": users}
        return None

    gis = portal_server(server, route)
    with pytest.raises(gislicense.ListingCutOffError, match=r"stopped advancing.*200 items read"):
        gis.users.search()
    assert sum(1 for r in server.seen if r.path.endswith("portals/self/users")) == 2


def test_openlm_full_pages_that_repeat_forever_end(server: Server) -> None:
    rows = "".join(product(f"u{i}", i) for i in range(100))
    openlm = openlm_server(server, lambda r: xml("GetActiveProducts2", rows))
    products = openlm.get_active_products(page_size=100)
    assert len(products) == 100
    assert sum(1 for r in server.seen if r.openlm_type == "GetActiveProducts2") == 2


# 4 and 5. Write outcomes -------------------------------------------------------------------------


def test_a_close_done_then_dropped_is_confirmed_by_a_second_look() -> None:
    with Sandbox(sessions=60) as sb:
        openlm = OpenLM(sb.openlm_url, retries=0)
        targets = [p for p in openlm.get_active_products() if p.closable][:5]
        sb.fail_next("drop_after", 1, operation="CloseApplication")
        report = openlm.close_applications(targets, concurrency=1)
        assert report.counts() == {"closed": 5}
        assert "re-reading the state showed it done" in (report[0].reason or "")
        assert report[1].reason is None


def test_lost_closes_are_settled_together_by_one_listing() -> None:
    # Each lost answer re-reading the whole listing on its own cost a listing per item, and
    # under an erratic server gave each item its own chance to find no listing at all.
    # The Agents act at once and the closes are looked at once: one listing settles all.
    with Sandbox(sessions=60, close_delay=0) as sb:
        openlm = OpenLM(sb.openlm_url, retries=0, close_wait=0)
        targets = [p for p in openlm.get_active_products() if p.closable][:12]
        sb.fail_next("drop_after", 3, operation="CloseApplication")
        sb.fail_next("drop", 3, operation="CloseApplication")
        sb.clear_requests()
        report = openlm.close_applications(targets, concurrency=4)
        assert report.counts() == {"closed": 9, "unknown": 3}
        settled = [o for o in report if "re-reading the state showed it done" in (o.reason or "")]
        assert len(settled) == 3
        assert all("still open" in (o.reason or "") for o in report.unknown)
        # One listing to plan (planned by this call, it is the check before closing too),
        # one to settle all twelve closes (the six acknowledged, and the six whose answers
        # were lost).
        assert len(sb.requests(operation="GetActiveProducts2")) == 2


def test_a_close_dropped_before_the_server_acted_is_unknown_not_failed() -> None:
    with Sandbox(sessions=60) as sb:
        openlm = OpenLM(sb.openlm_url, retries=0, close_wait=1)
        target = next(p for p in openlm.get_active_products() if p.closable)
        sb.fail_next("drop", 1, operation="CloseApplication")
        report = openlm.close_applications([target])
        assert [o.status for o in report] == ["unknown"]
        assert isinstance(report[0].error, OutcomeUnknownError)
        assert "still open" in (report[0].reason or "")
        assert "closed the connection before it answered" in (report[0].reason or "")
        assert not report[0].ok and report.unknown == [report[0]]
        with pytest.raises(gislicense.BulkOperationError, match="unknown"):
            report.raise_for_failures()
        # Single closes say the same, as an exception.
        sb.fail_next("drop", 1, operation="CloseApplication")
        with pytest.raises(OutcomeUnknownError, match="may or may not have done it"):
            openlm.close_application(
                username=target.username,
                workstation=target.workstation,
                server=target.server or "",
                vendor=target.vendor or "",
                feature=target.feature,
            )


def test_a_close_answered_503_is_sent_again() -> None:
    # A 503 says the server did not handle the request: a repeat is safe, even for a close.
    with Sandbox(sessions=60) as sb:
        openlm = OpenLM(sb.openlm_url, backoff=0.01)
        target = next(p for p in openlm.get_active_products() if p.closable)
        sb.fail_next("http503", 1, operation="CloseApplication")
        report = openlm.close_applications([target])
        assert [o.status for o in report] == ["closed"], report[0].reason
        closes = sb.requests(operation="CloseApplication")
        assert [r.fault for r in closes] == ["http503", None]


def test_a_close_answered_500_is_unknown_until_a_second_look() -> None:
    # A 500 is a server that broke while handling the request: it may have closed the
    # session. The close is not repeated; the listing settles what it can.
    with Sandbox(sessions=60) as sb:
        openlm = OpenLM(sb.openlm_url, backoff=0.01, close_wait=1)
        target = next(p for p in openlm.get_active_products() if p.closable)
        sb.fail_next("http500", 1, operation="CloseApplication")
        report = openlm.close_applications([target])
        assert [o.status for o in report] == ["unknown"], report[0].reason
        assert "HTTP 500" in (report[0].reason or "") and "still open" in (report[0].reason or "")
        assert len(sb.requests(operation="CloseApplication")) == 1


def test_a_retried_close_that_finds_the_session_gone_is_not_a_failure() -> None:
    # An Agent that acts at once: the repeat then finds no session (queued, it would be
    # acknowledged again).
    with Sandbox(sessions=60, close_delay=0) as sb:
        openlm = OpenLM(sb.openlm_url, retry_writes=True, backoff=0.01)
        target = next(p for p in openlm.get_active_products() if p.closable)
        # The close is done and its answer lost; the repeat is refused (no such session).
        sb.fail_next("drop_after", 1, operation="CloseApplication")
        report = openlm.close_applications([target])
        assert [o.status for o in report] == ["closed"], report[0].reason
        assert "repeat was refused" in (report[0].reason or "")
        closes = sb.requests(operation="CloseApplication")
        assert [r.fault for r in closes] == ["drop_after", None]


def test_a_close_answered_with_neither_yes_nor_no_is_unknown(server: Server) -> None:
    def answer(request: Request) -> tuple[int, str, bytes]:
        if request.openlm_type == "CloseApplication":
            return xml("Queued")
        return xml("GetActiveProducts2", product("ann"))

    openlm = openlm_server(server, answer)
    target = openlm.get_active_products()[0]
    report = openlm.close_applications([target])
    assert [o.status for o in report] == ["unknown"]
    assert "neither" in (report[0].reason or "")


@pytest.mark.parametrize("fault", ["drop_after", "drop"])
def test_portal_changes_whose_answer_was_lost_are_settled_by_a_second_look(fault: str) -> None:
    with Sandbox(portal_members=60) as sb:
        gis = GIS(
            sb.portal_url,
            sb.admin_username,
            sb.admin_password,
            ca_bundle=sb.ca_file,
            retries=0,
        )
        creators = [
            u["username"]
            for u in sb.portal_users()
            if u["userLicenseTypeId"] == "creatorUT" and u["role"] == "org_user"
        ][:6]
        gis.users.license_types  # noqa: B018  (fetched before the fault is queued)
        gis.users.roles  # noqa: B018
        sb.fail_next(fault, 1, operation="updateUserLicenseType")
        types = gis.users.update_license_type(creators[:3], "contributor", batch_size=3)
        sb.fail_next(fault, 1, operation="updateUserRole")
        roles = gis.users.update_role(creators[3:4], "publisher")
        if fault == "drop_after":
            assert types.counts() == {"changed": 3}
            assert roles.counts() == {"changed": 1}
            assert all("showed it done" in (o.reason or "") for o in [*types, *roles])
        else:
            assert types.counts() == {"unknown": 3}
            assert "user type is creatorUT" in (types[0].reason or "")
            assert roles.counts() == {"unknown": 1}
            assert "role is org_user" in (roles[0].reason or "")
        # A single change settles itself the same way (the three Contributor seats are
        # taken now: Professional has room).
        user = gis.users.get(creators[5])
        sb.fail_next(fault, 1, operation="updateUserLicenseType")
        if fault == "drop_after":
            user.update_license_type("professional")
            assert sb.portal_user(creators[5])["userLicenseTypeId"] == "GISProfessionalStdUT"
        else:
            with pytest.raises(OutcomeUnknownError, match="unchanged"):
                user.update_license_type("professional")


def test_a_release_whose_answer_was_lost_is_settled_by_a_second_look() -> None:
    with Sandbox(portal_members=60) as sb:
        gis = admin_of(sb)
        offline = [o.username for o in gis.admin.license.get("pro").offline][:2]
        assert len(offline) == 2
        gis = GIS(
            sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file, retries=0
        )
        sb.fail_next("drop_after", 1, operation="releaseLicense")
        sb.fail_next("drop", 1, operation="releaseLicense")
        report = gis.admin.license.release_many(offline, "pro", concurrency=1)
        assert [o.status for o in report] == ["released", "unknown"]
        assert "still checked out" in (report[1].reason or "")


def test_replies_without_evidence_are_unknown(server: Server) -> None:
    def route(path: str, request: Request) -> Any:
        if path in ("portals/self/updateUserRole", "portals/self/updateUserLicenseType"):
            return {}
        if path == "community/users/cy":
            return member("cy", userLicenseTypeId="viewerUT")
        return None

    gis = portal_server(server, route)
    roles = gis.users.update_role(["ann", "bob"], "org_publisher")
    assert roles.counts() == {"unknown": 2}
    assert "neither done nor refused" in (roles[0].reason or "")
    assert "role is org_user" in (roles[0].reason or "")
    types = gis.users.update_license_type(["cy"], "creatorUT")
    assert types.counts() == {"unknown": 1}
    assert "did not mention this user" in (types[0].reason or "")


# 7. One slow reply in a bulk run ---------------------------------------------------------------


def test_a_slow_close_does_not_hold_back_the_others(server: Server) -> None:
    others_arrived = threading.Event()
    closes: list[str] = []
    lock = threading.Lock()

    def answer(request: Request) -> tuple[int, str, bytes]:
        if request.openlm_type != "CloseApplication":
            # The sessions still open: closed ones are gone (the Agents act at once).
            with lock:
                rows = "".join(product(f"u{i}", i) for i in range(40) if f"u{i}" not in closes)
            return xml("GetActiveProducts2", rows)
        user = re.search(r'name="username">([^<]+)<', request.text)
        with lock:
            closes.append(user.group(1) if user else "")
            if len(closes) == 40:
                others_arrived.set()
        if user and user.group(1) == "u0":
            # The first item's answer waits until every other close has arrived: with
            # in-order collection they never would (the run would stall here for 10 s).
            others_arrived.wait(10)
        return xml("Success")

    openlm = openlm_server(server, answer)
    products = openlm.get_active_products()
    started = time.monotonic()
    report = openlm.close_applications(products, concurrency=4, allow_all=True)
    assert report.counts() == {"closed": 40}
    assert others_arrived.is_set()
    assert time.monotonic() - started < 8
    assert [o.item.username for o in report] == [f"u{i}" for i in range(40)]


# 9. Transient failures at sign-in -----------------------------------------------------------------


def test_a_500_at_sign_in_is_retried_and_reported_as_a_server_error(server: Server) -> None:
    fails = {"left": 1}

    def answer(request: Request) -> tuple[int, str, bytes]:
        if request.path.endswith("generateToken"):
            if fails["left"] > 0:
                fails["left"] -= 1
                return 500, "text/html", b"<html><body>Internal Server Error</body></html>"
            return as_json({"token": "t", "expires": int(time.time() * 1000) + 3_600_000})
        return as_json({"currentVersion": "2024.1"})

    server.answer(answer)
    gis = GIS(server.url + "/portal", "admin", "pw", allow_insecure_http=True, backoff=0.01)
    gis.sign_in()  # the one 500 is retried
    fails["left"] = 100
    gis = GIS(server.url + "/portal", "admin", "pw", allow_insecure_http=True, backoff=0.01)
    with pytest.raises(ServerError) as caught:
        gis.sign_in()
    assert not isinstance(caught.value, gislicense.AuthenticationError)
    assert caught.value.status == 500


# 10 and 11. Names in URL paths -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", "."])
def test_dot_names_never_reach_a_url(server: Server, name: str) -> None:
    gis = portal_server(server, lambda path, request: None)
    with pytest.raises(InvalidInputError, match="not a user name"):
        gis.users.get(name)
    assert server.seen == []


def test_a_huge_user_name_is_refused_briefly(server: Server) -> None:
    gis = portal_server(server, lambda path, request: None)
    with pytest.raises(InvalidInputError) as caught:
        gis.users.get("x" * 1_000_000)
    assert len(str(caught.value)) < 300
    assert server.seen == []


# What the review found: a second look must never be kinder than the truth -----------------------


def _close_then_drop(rows: str) -> Callable[[Request], tuple[int, str, bytes]]:
    """An OpenLM server that lists `rows` and drops every close without acting."""

    def answer(request: Request) -> tuple[int, str, bytes]:
        if request.openlm_type == "CloseApplication":
            raise ConnectionAbortedError("dropped")  # the handler dies: no reply at all
        return xml("GetActiveProducts2", rows)

    return answer


@pytest.mark.parametrize(
    ("username", "workstation"), [("ANN", "ws0"), ("ann", "ws0.corp.example.com")]
)
def test_a_session_spelled_otherwise_is_not_taken_for_closed(
    server: Server, username: str, workstation: str
) -> None:
    openlm = openlm_server(server, _close_then_drop(product("ann", 0)))
    target = {
        "username": username,
        "workstation": workstation,
        "server": "lic",
        "vendor": "ARCGIS",
        "feature": "Editor",
    }
    report = openlm.close_applications([target])
    assert [o.status for o in report] == ["unknown"], report[0].reason
    assert "still open" in (report[0].reason or "")


def test_a_change_made_before_the_portal_went_down_is_not_failed(server: Server) -> None:
    state = {"role": "org_user", "attempts": 0}

    def route(path: str, request: Request) -> Any:
        if path == "portals/self/updateUserRole":
            state["attempts"] += 1
            if state["attempts"] == 1:
                state["role"] = "org_publisher"  # done, but the answer comes too late
                time.sleep(1.5)
                return {"success": True}
            return 503, "text/html", b"<html><body>Service Unavailable</body></html>"
        if path == "community/users/ann":
            return member("ann", role=state["role"], roleId=state["role"])
        return None

    portal_server(server, route)
    gis = GIS(
        server.url + "/portal",
        token="t0ken",
        allow_insecure_http=True,
        timeout=0.5,
        retries=2,
        backoff=0.01,
    )
    report = gis.users.update_role(["ann"], "org_publisher")
    assert [o.status for o in report] == ["changed"], report[0].reason
    assert "showed it done" in (report[0].reason or "")


def test_an_empty_entitlement_reply_does_not_confirm_a_release(server: Server) -> None:
    pro = {
        "listing": {"itemId": "proItem", "title": "ArcGIS Pro"},
        "provision": {
            "itemId": "proItem",
            "orgId": "0123456789ABCDEF",
            "startDate": 0,
            "endDate": -1,
            "orgEntitlements": {"entitlements": {"desktopAdvN": {"num": 5}}},
        },
    }
    holder = {"username": "ann", "disconnected": True, "entitlements": ["desktopAdvN"]}

    def route(path: str, request: Request) -> Any:
        if path == "portals/self/purchases":
            return {"purchases": [pro]}
        if path == "content/listings/proItem/userEntitlements":
            return {"userEntitlements": [holder], "total": 1, "nextStart": -1}
        if path.startswith("content/listings/proItem/userEntitlements/"):
            return {}  # says nothing: neither "none" nor a holder
        if path.endswith("releaseLicense"):
            return {}  # says neither released nor refused
        return None

    gis = portal_server(server, route)
    report = gis.admin.license.release_many(["ann"], "pro")
    assert [o.status for o in report] == ["unknown"], report[0].reason
    assert "re-reading the state failed" in (report[0].reason or "")
    with pytest.raises(OutcomeUnknownError):
        gis.admin.license.release("ann", "pro")


# Every exception a user meets is a GisLicenseError: numbers out of any range ----------------------


def test_numbers_out_of_range_are_invalid_input_not_overflow() -> None:
    with Sandbox(sessions=5, portal_members=20) as sb:
        openlm = OpenLM(sb.openlm_url)
        gis = admin_of(sb)
        pro = gis.admin.license.get("pro")
        calls: dict[str, Callable[[], object]] = {
            "concurrency": lambda: openlm.close_applications([], concurrency=2**70),
            "page_size": lambda: openlm.get_active_products(page_size=-5),
            "retries": lambda: OpenLM(sb.openlm_url, retries=2**40),
            "timeout": lambda: OpenLM(sb.openlm_url, timeout="5"),  # type: ignore[arg-type]
            "batch_size": lambda: gis.users.update_license_type(["a"], "viewer", batch_size=-1),
            "level": lambda: gis.users.get(sb.admin_username).update_level(2**70),
            "max_users": lambda: gis.users.search(max_users=2**70),
            "concurrency ": lambda: gis.admin.license.release_many(["a"], concurrency=2**64),
            "batch_size ": lambda: pro.assign(["a"], ["desktopAdvN"], batch_size=2**64),
        }
        for name, call in calls.items():
            with pytest.raises(InvalidInputError, match=name.strip()):
                call()


def test_connection_failures_read_as_sentences() -> None:
    """What people meet most, said plainly: no chain of library error types."""
    import http.server

    from gislicense import GIS, TLSError, TransportError

    def failure(url: str) -> str:
        with pytest.raises(gislicense.GisLicenseError) as caught:
            _ = GIS(url, token="t").users.me
        return str(caught.value)

    unknown_host = failure("https://no-such-host.invalid/portal")
    assert "host name was not found" in unknown_host and "←" not in unknown_host
    refused = failure("https://127.0.0.1:9/portal")
    assert "connection refused" in refused and "←" not in refused
    # An https:// URL for a server that speaks plain HTTP.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    with serving(server) as port, pytest.raises(TLSError, match="plain HTTP, not HTTPS"):
        _ = GIS(f"https://127.0.0.1:{port}/portal", token="t").users.me
    assert issubclass(TLSError, TransportError)


def test_bad_numbers_are_refused_before_anything_is_read() -> None:
    from gislicense import GIS, InvalidInputError, OpenLM

    gis = GIS("https://no-such-host.invalid/portal", token="t")
    openlm = OpenLM("http://no-such-host.invalid:7014/OpenLMServer")
    for bad in (0, -1, 257, 2.5, True):
        with pytest.raises(InvalidInputError, match="concurrency must be a whole number from 1"):
            openlm.close_applications([], concurrency=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="concurrency"):
            gis.users.update_role(["a"], "viewer", concurrency=bad)  # type: ignore[arg-type]
    for bad in (0, -5, 101):
        with pytest.raises(InvalidInputError, match="batch_size must be a whole number from 1 to"):
            gis.users.update_license_type(["a"], "viewer", batch_size=bad)
    from gislicense.licenses import License

    pro = License(
        gis.admin.license, {"title": "ArcGIS Pro", "item_id": "x", "entitlements": {}, "raw": {}}
    )
    with pytest.raises(InvalidInputError, match="from 1 to 25"):
        pro.assign(["a"], "desktopAdvN", batch_size=26)


# Member pages read straight from their bytes into Python objects -------------------------------
# What the pages say reaches Python exactly as `json.loads` reads it, whatever the JSON holds; an
# error on any page is that error; Python's cycle collector is paused while the members are
# made, and back as it was afterwards, whatever happened.

#: JSON a real portal may send in a member, and the corners of the grammar: escapes in keys
#: and values, astral characters, numbers at the edges of 64 bits, exponents, nesting, a
#: repeated key (the last one counts, as in json.loads).
ODD_MEMBER = (
    '{"username": "z\\u00e9na", "id": "z-id", "fullName": "Z\\u00e9na \\"Zee\\" \\ud83d\\ude00",'
    ' "k\\u00e9y\\n": "v\\t", "level": "2", "disabled": false, "mfaEnabled": true,'
    ' "thumbnail": null, "big": 18446744073709551615, "small": -9223372036854775808,'
    ' "ratio": 0.1, "exp": 1e300, "neg": -2.5E-3, "tags": [], "groups": [{"id": "g", "x": [1,'
    ' [2, {}]]}], "units": "english", "units": "metric", "empty": "", "obj": {}}'
)


def _pages(members: list[str], page_size: int = 100) -> dict[int, bytes]:
    """The listing's pages by start, as text: `members` are JSON objects as text. The
    client asks for pages of 100."""
    pages = {}
    for at in range(0, len(members), page_size):
        items = ", ".join(members[at : at + page_size])
        following = at + page_size + 1 if at + page_size < len(members) else -1
        pages[at + 1] = (
            f'{{"total": {len(members)}, "start": {at + 1}, "num": {page_size},'
            f' "nextStart": {following}, "users": [{items}]}}'
        ).encode()
    return pages


def _serve(server: Server, pages: dict[int, bytes], seen_collector: list[bool]) -> Any:
    def route(path: str, request: Request) -> Any:
        if path != "portals/self/users":
            return None
        seen_collector.append(gc.isenabled())
        start = int(request.form.get("start", "1"))
        return 200, "application/json", pages[start]

    return portal_server(server, route)


@pytest.fixture(autouse=True)
def _collector_back_on() -> Iterator[None]:
    """A test that fails with the collector off does not leave it off for the others."""
    yield
    gc.enable()


def test_members_are_exactly_what_json_loads_reads(server: Server) -> None:
    texts = [json.dumps(member(f"m{i:03}", n=i, note="é" * (i % 7))) for i in range(250)]
    texts.insert(150, ODD_MEMBER)
    pages = _pages(texts)
    collector: list[bool] = []
    gis = _serve(server, pages, collector)
    users = gis.users.search()
    assert all(type(u) is User for u in users)
    expected = [u for text in pages.values() for u in json.loads(text)["users"]]
    # Same keys, same values, same types (an int stays an int, a float a float).
    assert [u.raw for u in users] == expected
    assert [[type(v) for v in u.raw.values()] for u in users] == [
        [type(v) for v in e.values()] for e in expected
    ]
    odd = next(u for u in users if u.username == "zéna")
    assert odd["units"] == "metric"
    assert odd["kéy\n"] == "v\t"
    assert odd.full_name == 'Zéna "Zee" \U0001f600'
    assert odd["big"] == 2**64 - 1 and odd["small"] == -(2**63)
    assert odd["groups"] == [{"id": "g", "x": [1, [2, {}]]}]


def test_items_that_are_not_members_are_skipped(server: Server) -> None:
    texts = [json.dumps(member("ann")), "null", '"bob"', "[1]", json.dumps(member("cy"))]
    collector: list[bool] = []
    gis = _serve(server, _pages(texts), collector)
    assert [u.username for u in gis.users.search()] == ["ann", "cy"]


def test_listed_members_read_their_fields_once_when_first_used(server: Server) -> None:
    # The user name the listing checks is the one the dict holds: its key unescaped, the
    # last of a repeated key.
    texts = [json.dumps(member("ann")), '{"username": 7, "user\\u006eame": "bob", "id": "b"}']
    gis = _serve(server, _pages(texts), [])
    ann, bob = gis.users.search()
    assert bob.username == "bob" and bob.raw == {"username": "bob", "id": "b"}
    assert ann.raw is ann.raw and dict(ann) == member("ann")
    assert ann == gis.users.get("ann") and hash(ann) == hash("ann")
    assert repr(ann) == "<User 'ann' type='creatorUT' role='org_user'>"
    # Threads reading a member at once all get its one dict.
    fresh = gis.users.search()[0]
    read: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: read.append(fresh.raw)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(read) == 8 and all(raw is fresh.raw for raw in read)


def test_a_listing_without_its_list_is_empty(server: Server) -> None:
    for users in ("null", "{}", '"none"', "3"):
        collector: list[bool] = []
        body = f'{{"total": 0, "nextStart": -1, "users": {users}}}'.encode()
        gis = _serve(server, {1: body}, collector)
        assert gis.users.search() == []


def test_the_collector_is_paused_while_members_are_made_and_back_after(server: Server) -> None:
    texts = [json.dumps(member(f"m{i:03}")) for i in range(550)]
    collector: list[bool] = []
    gis = _serve(server, _pages(texts), collector)
    assert gc.isenabled()
    assert len(gis.users.search()) == 550
    assert collector == [False] * 6
    assert gc.isenabled()
    # A script that turned the collector off keeps it off.
    gc.disable()
    collector.clear()
    assert len(gis.users.search()) == 550
    assert collector == [False] * 6
    assert not gc.isenabled()


@pytest.mark.parametrize(
    ("page", "error", "message"),
    [
        (b'{"error": {"code": 498, "message": "Invalid token."}}', None, None),
        (
            b'{"error": {"code": 500, "message": "Unable to list the members."}}',
            ServerError,
            "Unable to list the members",
        ),
        (b'{"total": 6, "users": [{"username": "x"', UnreadableReplyError, "not JSON"),
        (b'{"total": 6, "users": []} trailing', UnreadableReplyError, "not JSON"),
        (b"<html>Service unavailable</html>", UnreadableReplyError, "HTML came instead"),
    ],
)
def test_a_bad_page_is_its_error_and_the_collector_comes_back(
    server: Server, page: bytes, error: type[Exception] | None, message: str | None
) -> None:
    texts = [json.dumps(member(f"m{i:03}")) for i in range(300)]
    pages = _pages(texts)
    pages[201] = page
    collector: list[bool] = []
    gis = _serve(server, pages, collector)
    if error is None:
        # A rejected token is renewed, which a token given by hand cannot be.
        with pytest.raises(Exception, match="token"):
            gis.users.search()
    else:
        with pytest.raises(error, match=message):
            gis.users.search()
    assert gc.isenabled()


def test_listings_at_once_leave_the_collector_on(server: Server) -> None:
    texts = [json.dumps(member(f"m{i:03}")) for i in range(400)]
    collector: list[bool] = []
    gis = _serve(server, _pages(texts), collector)

    async def both() -> list[list[User]]:
        return list(await asyncio.gather(*(gis.users.search_async() for _ in range(3))))

    found = asyncio.run(both())
    assert [len(users) for users in found] == [400, 400, 400]
    assert gc.isenabled()


# A listing never returns a short, repeated or nameless list silently -----------------------------


def _nameless(name: str, how: str) -> str:
    """A member whose user name is missing, null or not text."""
    fields = member(name)
    if how == "missing":
        del fields["username"]
    else:
        fields["username"] = None if how == "null" else 42
    return json.dumps(fields)


@pytest.mark.parametrize("how", ["missing", "null", "number"])
def test_members_without_a_user_name_are_refused_not_named_empty(server: Server, how: str) -> None:
    # 340 of 1,000 members came without "username": they were listed, named ''.
    texts = [
        _nameless(f"m{i:04}", how) if i % 100 < 34 else json.dumps(member(f"m{i:04}"))
        for i in range(1000)
    ]
    gis = _serve(server, _pages(texts), [])
    says = "the page of portals/self/users at start 1 has 34 of its 100 members with no username"
    with pytest.raises(UnreadableReplyError, match=says):
        gis.users.search()
    assert gc.isenabled()


def test_pages_repeating_members_are_refused_not_counted_twice(server: Server) -> None:
    # 1,000 rows of the same 50 members came back as 1,000 users.
    texts = [json.dumps(member(f"m{i % 50:03}")) for i in range(1000)]
    gis = _serve(server, _pages(texts), [])
    with pytest.raises(UnreadableReplyError, match=r'"m000" twice .*it repeated members'):
        gis.users.search()
    # A member on two pages, each page without repeats of its own.
    texts = [json.dumps(member(f"m{i:03}")) for i in range(300)]
    texts[150] = texts[50]
    gis = _serve(server, _pages(texts), [])
    with pytest.raises(
        UnreadableReplyError, match=r'"m050" twice \(again on the page of .* at start 101\)'
    ):
        gis.users.search()


def test_an_empty_page_while_the_total_counts_more_cuts_the_listing_off(server: Server) -> None:
    texts = [json.dumps(member(f"m{i:03}")) for i in range(300)]
    pages = _pages(texts)
    pages[201] = b'{"total": 300, "start": 201, "num": 100, "nextStart": -1, "users": []}'
    gis = _serve(server, pages, [])
    with pytest.raises(
        gislicense.ListingCutOffError,
        match=r"at start 201 came back with no members while the portal counted 300; 200 members",
    ):
        gis.users.search()


def test_planning_reads_the_members_with_the_same_checks(server: Server) -> None:
    # Planning reads only a few fields of each member (member_rows): the rows without a user
    # name were dropped there, and repeated ones counted once.
    for texts, says in [
        (
            [_nameless("m000", "missing")] + [json.dumps(member(f"m{i:03}")) for i in range(1, 5)],
            "the page of portals/self/users at start 1 has 1 of its 5 members with no username",
        ),
        ([json.dumps(member("ann"))] * 2 + [json.dumps(member("bob"))], '"ann" twice'),
    ]:
        gis = _serve(server, _pages(texts), [])
        plan = gis.users.plan_license_type(["ann"], "viewer")
        assert any(says in note for note in plan.notes), plan.notes
        # Not predicted, so not sent: failed with the listing's error, left for a resume.
        assert [i.status for i in plan.items] == ["failed"], plan
        assert isinstance(plan.report()[0].error, gislicense.UnreadableReplyError)


def test_license_holders_without_a_user_name_are_refused(server: Server) -> None:
    pro = {
        "listing": {"itemId": "proItem", "title": "ArcGIS Pro"},
        "provision": {
            "itemId": "proItem",
            "orgId": "0123456789ABCDEF",
            "startDate": 0,
            "endDate": -1,
            "orgEntitlements": {"entitlements": {"desktopAdvN": {"num": 5}}},
        },
    }
    holders = [
        {"username": "ann", "disconnected": True, "entitlements": ["desktopAdvN"]},
        {"disconnected": True, "entitlements": ["desktopAdvN"]},
    ]

    def route(path: str, request: Request) -> Any:
        if path == "portals/self/purchases":
            return {"purchases": [pro]}
        if path == "content/listings/proItem/userEntitlements":
            return {"userEntitlements": holders, "total": 2, "nextStart": -1}
        return None

    gis = portal_server(server, route)
    pro_license = gis.admin.license.get("pro")
    says = "content/listings/proItem/userEntitlements at start 1 has 1 of its 2 license holders"
    with pytest.raises(UnreadableReplyError, match=says):
        pro_license.users()
    # Planning reads the holders as rows: the same check.
    plan = gis.admin.license.plan_release(["ann"])
    assert any(says in note for note in plan.notes), plan.notes
    assert [i.status for i in plan.items] == ["failed"], plan


# Roles: what members' roles read as when the roles cannot be read ---------------------------


def _roles_route(roles: Any) -> Callable[[str, Request], Any]:
    """A portal of one Viewer whose `portals/self/roles` answers `roles`."""

    def route(path: str, request: Request) -> Any:
        if path == "portals/self/roles":
            return roles
        if path == "portals/self/users":
            viewer = member("ann", roleId="iAAAAAAAAAAAAAAA")
            return {"users": [viewer], "total": 1, "nextStart": -1}
        if path == "community/users/ann":
            return member("ann", roleId="iAAAAAAAAAAAAAAA")
        return None

    return route


def test_a_member_who_may_not_read_the_roles_sees_role_ids(server: Server) -> None:
    refused = {"error": {"code": 403, "message": "You do not have permissions to access this."}}
    gis = portal_server(server, _roles_route(refused))
    # As the official client falls back: the role's id, never a failed listing.
    assert [(u.role, u.role_id) for u in gis.users.search()] == [("iAAAAAAAAAAAAAAA",) * 2]
    assert gis.users.get("ann").role == "iAAAAAAAAAAAAAAA"
    # The refusal is remembered: asked once for the life of the GIS.
    assert sum(1 for r in server.seen if r.path.endswith("portals/self/roles")) == 1


def test_roles_read_as_the_portal_names_them(server: Server) -> None:
    named = {"roles": [{"id": "iAAAAAAAAAAAAAAA", "name": "Lecteur"}], "total": 1, "nextStart": -1}
    gis = portal_server(server, _roles_route(named))
    assert [u.role for u in gis.users.search()] == ["Lecteur"]


def test_roles_that_cannot_be_read_for_another_reason_fail_the_listing(server: Server) -> None:
    # A member whose role silently read as an id would break `user.role == "Viewer"`.
    gis = portal_server(server, _roles_route(as_json({"oops": True}, status=500)))
    with pytest.raises(ServerError, match="500"):
        gis.users.search()
