"""Signing in through OAuth 2.0 against the sandbox portal: a person on the portal's page
(browser and loopback, or a pasted code), app credentials, renewal by refresh token, and
ArcGIS Pro's sign-in renewed from arcpy."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import socket
import ssl
import sys
import threading
import time
import types
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

import gislicense
from gislicense import GIS, AuthenticationError, PermissionDeniedError

# 11.4: app credentials carry administrative privileges there.
pytestmark = pytest.mark.sandbox(sessions=10, portal_members=150, portal_version="2024.2")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def person_signs_in(sb: gislicense.Sandbox, page_url: str, password: str | None = None) -> str:
    """What a person does on the portal's sign-in page: the Location it sends the browser to,
    or the page it shows (the oob code page, or the page again after a refusal)."""
    context = ssl.create_default_context(cafile=str(sb.ca_file))
    page = urllib.request.urlopen(page_url, context=context).read().decode()
    found = re.search(r"var oAuthInfo = (\{.*\});", page)
    assert found, page
    form = urllib.parse.urlencode(
        {
            "oauth_state": json.loads(found.group(1))["oauth_state"],
            "username": sb.admin_username,
            "password": sb.admin_password if password is None else password,
        }
    ).encode()
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(f"{sb.portal_url}/sharing/oauth2/signin", data=form) as reply:
            text: str = reply.read().decode()
            return text
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302, redirect
        location: str = redirect.headers["Location"]
        return location


def sign_in_in_the_browser(sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch) -> GIS:
    """GIS(client_id=) with a browser that signs the administrator in and follows the
    redirect back to the loopback listener."""

    def browser(url: str) -> bool:
        threading.Thread(
            target=lambda: urllib.request.urlopen(person_signs_in(sb, url)).read()
        ).start()
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    return GIS(sb.portal_url, client_id=sb.oauth_client_id, browser=True, ca_bundle=sb.ca_file)


def test_a_person_signs_in_in_the_browser_and_the_code_comes_back_to_loopback(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)

        def follow() -> None:
            location = person_signs_in(sb, url)
            assert location.startswith("http://127.0.0.1:"), location
            urllib.request.urlopen(location).read()

        threading.Thread(target=follow).start()
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    gis = GIS(sb.portal_url, client_id=sb.oauth_client_id, browser=True, ca_bundle=sb.ca_file)
    assert opened and "code_challenge_method=S256" in opened[0]
    assert gis.username == sb.admin_username
    assert len(gis.users.search()) == 150
    assert len(asyncio.run(gis.users.search_async())) == 150
    # The code, its verifier and the tokens stay out of what a person sees.
    assert repr(gis) == f"GIS({sb.portal_url!r}, username={sb.admin_username!r})"
    token_requests = sb.requests(operation="token")
    assert token_requests and all(
        value == "***"
        for r in token_requests
        for key, value in r.params
        if key in ("code", "code_verifier", "refresh_token")
    )


def test_connections_that_stall_do_not_hold_up_the_sign_in(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any local process can connect to the loopback listener: one that trickles its request
    a byte at a time and one that sends nothing do not keep the browser's redirect waiting."""
    stop = threading.Event()
    stalled: list[socket.socket] = []

    def trickle(connection: socket.socket) -> None:
        for byte in itertools.cycle(b"GET /?code=slow HTTP/1.1\r\n"):
            if stop.wait(0.2):
                return
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return

    def browser(url: str) -> bool:
        redirect = urllib.parse.urlsplit(
            urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
        )
        address = (redirect.hostname or "", redirect.port or 80)
        stalled.extend(socket.create_connection(address) for _ in range(2))
        threading.Thread(target=trickle, args=(stalled[0],), daemon=True).start()

        def follow() -> None:
            time.sleep(0.3)
            urllib.request.urlopen(person_signs_in(sb, url)).read()

        threading.Thread(target=follow).start()
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    started = time.monotonic()
    try:
        gis = GIS(
            sb.portal_url,
            client_id=sb.oauth_client_id,
            browser=True,
            ca_bundle=sb.ca_file,
            sign_in_timeout=15,
        )
    finally:
        stop.set()
        for connection in stalled:
            connection.close()
    # Well within the 5 s each request has for its request line and headers.
    assert time.monotonic() - started < 4
    assert gis.username == sb.admin_username


def test_without_a_browser_the_page_gives_a_code_to_paste(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def paste(prompt: str = "") -> str:
        printed = capsys.readouterr().out
        url = re.search(r"https://\S+", printed)
        assert url, printed
        page = person_signs_in(sb, url.group(0))
        code = re.search(r"<title>SUCCESS code=(.*?)</title>", page)
        assert code, page
        return code.group(1)

    monkeypatch.setattr("getpass.getpass", paste)
    monkeypatch.setattr("gislicense._oauth.can_ask", lambda: True)
    gis = GIS(sb.portal_url, client_id=sb.oauth_client_id, browser=False, ca_bundle=sb.ca_file)
    assert gis.users.me.username == sb.admin_username


def test_the_refresh_token_renews_the_session_and_a_revoked_one_is_said(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    gis = sign_in_in_the_browser(sb, monkeypatch)
    refreshes = len(
        [r for r in sb.requests(operation="token") if ("grant_type", "refresh_token") in r.params]
    )
    sb.expire_portal_tokens()
    assert gis.users.me.username == sb.admin_username
    after = [
        r for r in sb.requests(operation="token") if ("grant_type", "refresh_token") in r.params
    ]
    assert len(after) == refreshes + 1
    sb.revoke_refresh_tokens()
    sb.expire_portal_tokens()
    with pytest.raises(AuthenticationError, match="refresh token") as caught:
        gis.users.get(sb.user_username)
    assert "Invalid refresh_token" in str(caught.value)
    assert "client_id=" in str(caught.value)


def test_a_revoked_refresh_token_is_sent_once_for_many_concurrent_requests(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    gis = sign_in_in_the_browser(sb, monkeypatch)

    def refreshes() -> int:
        grant = ("grant_type", "refresh_token")
        return len([r for r in sb.requests(operation="token") if grant in r.params])

    before = refreshes()
    sb.revoke_refresh_tokens()
    sb.expire_portal_tokens()

    async def read_all() -> list[object]:
        reads = [gis.users.get_async(sb.user_username) for _ in range(20)]
        return await asyncio.gather(*reads, return_exceptions=True)

    outcomes = asyncio.run(read_all())
    assert all(isinstance(o, AuthenticationError) for o in outcomes), outcomes
    assert refreshes() == before + 1
    # Checking the sign-in now says the same, without asking again.
    with pytest.raises(AuthenticationError, match="refresh token"):
        gis.sign_in()
    assert refreshes() == before + 1


def test_a_refused_password_on_the_page_brings_no_code(fresh_sb: gislicense.Sandbox) -> None:
    authorization = gislicense._core.Authorization(
        fresh_sb.portal_url, fresh_sb.oauth_client_id, False, 60, False
    )
    page = person_signs_in(fresh_sb, authorization.url, password="wrong")
    assert "OAUTH_0015" in page and "SUCCESS" not in page


def test_app_credentials_sign_in_and_renew_sync_and_async(sb: gislicense.Sandbox) -> None:
    gis = GIS(
        sb.portal_url,
        client_id=sb.oauth_client_id,
        client_secret=sb.oauth_client_secret,
        ca_bundle=sb.ca_file,
    )
    assert len(gis.users.search()) == 150
    sb.expire_portal_tokens()
    assert gis.users.get(sb.user_username).username == sb.user_username
    assert sb.oauth_client_secret not in repr(gis)

    async def run() -> int:
        sb.expire_portal_tokens()
        return len(await gis.users.search_async())

    assert asyncio.run(run()) == 150


def test_a_wrong_client_secret_is_an_authentication_error_without_the_secret(
    sb: gislicense.Sandbox,
) -> None:
    secret = "not-the-secret-0123456789"
    gis = GIS(
        sb.portal_url, client_id=sb.oauth_client_id, client_secret=secret, ca_bundle=sb.ca_file
    )
    with pytest.raises(AuthenticationError, match="Invalid client_secret") as caught:
        gis.sign_in()
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert secret not in repr(gis)
    sent = sb.requests(operation="token")[-1]
    assert ("client_secret", "***") in sent.params


def test_app_credentials_before_11_4_reach_no_administrative_operation() -> None:
    with gislicense.Sandbox(sessions=10, portal_members=50, portal_version="2024.1") as sb:
        gis = GIS(
            sb.portal_url,
            client_id=sb.oauth_client_id,
            client_secret=sb.oauth_client_secret,
            ca_bundle=sb.ca_file,
        )
        gis.sign_in()
        with pytest.raises(PermissionDeniedError, match=r"before ArcGIS Enterprise 11\.4"):
            gis.users.search()


@pytest.mark.parametrize("way", ["app credentials", "a person's refresh token"])
def test_a_sign_in_renews_in_the_middle_of_a_2000_member_change(
    way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2,000 members change while tokens last 2 s and are also revoked once mid-run."""
    with gislicense.Sandbox(
        sessions=10,
        portal_members=3000,
        portal_offline=0,
        portal_version="2024.2",
        token_lifetime=2.0,
        latency=0.05,
    ) as sb:
        sb.set_seats("creatorUT", 10_000)
        names = [u["username"] for u in sb.portal_users() if u["userLicenseTypeId"] != "creatorUT"]
        names = names[:2000]
        assert len(names) == 2000
        if way == "app credentials":
            gis = GIS(
                sb.portal_url,
                client_id=sb.oauth_client_id,
                client_secret=sb.oauth_client_secret,
                ca_bundle=sb.ca_file,
                expiration=1,
            )
            grant = ("grant_type", "client_credentials")
        else:
            gis = sign_in_in_the_browser(sb, monkeypatch)
            grant = ("grant_type", "refresh_token")
        gis.sign_in()
        revoke = threading.Timer(1.0, sb.expire_portal_tokens)
        revoke.start()
        try:
            report = gis.users.update_license_type(names, "creator", batch_size=25, concurrency=2)
        finally:
            revoke.cancel()
        assert report.counts() == {"changed": 2000}, str(report)
        assert all(sb.portal_user(n)["userLicenseTypeId"] == "creatorUT" for n in names)
        renewals = [r for r in sb.requests(operation="token") if grant in r.params]
        assert len(renewals) >= 2


def test_arcgis_pro_sign_in_is_asked_again_when_its_token_runs_out(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def signin_token() -> dict[str, Any]:
        # What Pro gives: a token of its own sign-in (here, one made by generateToken).
        context = ssl.create_default_context(cafile=str(sb.ca_file))
        form = urllib.parse.urlencode(
            {
                "username": sb.admin_username,
                "password": sb.admin_password,
                "client": "referer",
                "referer": "pro-referer",
                "f": "json",
            }
        ).encode()
        request = urllib.request.Request(
            f"{sb.portal_url}/sharing/rest/generateToken",
            data=form,
            headers={"Referer": "pro-referer"},
        )
        reply = json.loads(urllib.request.urlopen(request, context=context).read())
        asked.append(reply["token"])
        return {
            "token": reply["token"],
            "expires": reply["expires"] / 1000,
            "referer": "pro-referer",
        }

    arcpy = types.ModuleType("arcpy")
    arcpy.GetActivePortalURL = lambda: sb.portal_url  # type: ignore[attr-defined]
    arcpy.GetSigninToken = signin_token  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "arcpy", arcpy)
    gis = GIS("pro", ca_bundle=sb.ca_file)
    assert gis.users.me.username == sb.admin_username
    assert len(asked) == 1
    sb.expire_portal_tokens()
    assert gis.users.me.username == sb.admin_username
    assert len(asked) == 2

    async def me() -> str:
        sb.expire_portal_tokens()
        return (await gis.users.me_async()).username

    assert asyncio.run(me()) == sb.admin_username
    assert len(asked) == 3


def test_no_secret_of_any_sign_in_reaches_a_log_line(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every way to sign in, renewal included, logged at DEBUG: no password, client secret,
    token, code or certificate password in any line."""
    caplog.set_level(logging.DEBUG, logger="gislicense")
    secrets = [sb.admin_password, sb.oauth_client_secret]

    # A password, then renewed.
    gis = GIS(sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file)
    gis.users.me  # noqa: B018
    sb.expire_portal_tokens()
    gis.users.me  # noqa: B018
    # App credentials, then renewed.
    app = GIS(
        sb.portal_url,
        client_id=sb.oauth_client_id,
        client_secret=sb.oauth_client_secret,
        ca_bundle=sb.ca_file,
    )
    app.users.me  # noqa: B018
    sb.expire_portal_tokens()
    app.users.me  # noqa: B018

    # A person on the sign-in page: the code and the tokens seen on the way are secrets.
    def browser(url: str) -> bool:
        def follow() -> None:
            location = person_signs_in(sb, url)
            secrets.append(urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0])
            urllib.request.urlopen(location).read()

        threading.Thread(target=follow).start()
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    person = GIS(sb.portal_url, client_id=sb.oauth_client_id, browser=True, ca_bundle=sb.ca_file)
    sb.expire_portal_tokens()
    person.users.me  # noqa: B018

    # ArcGIS Pro's token, asked for again.
    def signin_token() -> dict[str, Any]:
        context = ssl.create_default_context(cafile=str(sb.ca_file))
        form = urllib.parse.urlencode(
            {"username": sb.admin_username, "password": sb.admin_password, "f": "json",
             "client": "referer", "referer": "pro"}
        ).encode()  # fmt: skip
        request = urllib.request.Request(
            f"{sb.portal_url}/sharing/rest/generateToken", data=form, headers={"Referer": "pro"}
        )
        token = json.loads(urllib.request.urlopen(request, context=context).read())["token"]
        secrets.append(token)
        return {"token": token, "referer": "pro"}

    arcpy = types.ModuleType("arcpy")
    arcpy.GetActivePortalURL = lambda: sb.portal_url  # type: ignore[attr-defined]
    arcpy.GetSigninToken = signin_token  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "arcpy", arcpy)
    pro = GIS("pro", ca_bundle=sb.ca_file)
    pro.users.me  # noqa: B018
    sb.expire_portal_tokens()
    pro.users.me  # noqa: B018

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "signed in" in logged  # the log does speak of sign-ins
    assert len(secrets) >= 5
    for secret in secrets:
        assert secret not in logged


def test_when_the_browser_cannot_reach_this_machine_its_address_can_be_pasted(
    sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The browser runs elsewhere: its redirect to 127.0.0.1 never arrives here, so the
    # person pastes the address it ended on.
    ended_on: list[str] = []
    monkeypatch.setattr(
        "webbrowser.open", lambda url: bool(ended_on.append(person_signs_in(sb, url))) or True
    )
    monkeypatch.setattr("gislicense._oauth.can_ask", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": ended_on[0])
    gis = GIS(
        sb.portal_url,
        client_id=sb.oauth_client_id,
        browser=True,
        sign_in_timeout=0.5,
        ca_bundle=sb.ca_file,
    )
    assert gis.users.me.username == sb.admin_username


def test_tokens_and_codes_cannot_be_predicted_from_the_seed() -> None:
    """A sandbox reachable from other machines must not hand out what the same seed gave
    another sandbox."""

    def first_token(sb: gislicense.Sandbox) -> str:
        context = ssl.create_default_context(cafile=str(sb.ca_file))
        form = urllib.parse.urlencode(
            {"username": sb.admin_username, "password": sb.admin_password, "f": "json"}
        ).encode()
        request = urllib.request.Request(f"{sb.portal_url}/sharing/rest/generateToken", data=form)
        token: str = json.loads(urllib.request.urlopen(request, context=context).read())["token"]
        return token

    tokens = set()
    for _ in range(2):
        with gislicense.Sandbox(sessions=10, portal_members=20, seed=7) as sb:
            tokens.add(first_token(sb))
    assert len(tokens) == 2
