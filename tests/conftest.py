from __future__ import annotations

import http.server
import json
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import gislicense


@pytest.fixture
def sandbox() -> Iterator[gislicense.Sandbox]:
    with gislicense.Sandbox(sessions=300) as sb:
        yield sb


@pytest.fixture
def openlm(sandbox: gislicense.Sandbox) -> gislicense.OpenLM:
    # Short backoff keeps retry tests quick; the retry policy itself is unchanged.
    # Closes lost before the server acted are watched for close_wait: kept short.
    return gislicense.OpenLM(sandbox.openlm_url, backoff=0.01, close_wait=3)


class _CannedHandler(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b""
    content_type = "text/html"
    #: The request lines received (a proxy sees absolute URLs here).
    seen: list[str]

    def do_POST(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canned_server() -> Iterator[type[_CannedHandler]]:
    """A server that answers every request with a fixed status and body (set on the class)."""

    class Handler(_CannedHandler):
        seen: list[str] = []  # noqa: RUF012

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Handler.url = f"http://127.0.0.1:{server.server_address[1]}/OpenLMServer"  # type: ignore[attr-defined]
    try:
        yield Handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _journals_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Journals of applied changes go to a temporary folder, not the user's data folder."""
    monkeypatch.setenv("GISLICENSE_JOURNAL_DIR", str(tmp_path_factory.mktemp("journals")))


def sb_post(sb: gislicense.Sandbox, path: str, fields: dict[str, str], method: str = "POST") -> Any:
    """A request made by hand with a fresh token, as a script using urllib would; with
    ``method="GET"`` the fields go in the URL and the token in a header."""
    import os
    import ssl
    import urllib.parse
    import urllib.request

    context = ssl.create_default_context(cafile=os.fspath(sb.ca_file))

    def send(url: str, data: dict[str, str], method: str = "POST", token: str = "") -> Any:
        form = urllib.parse.urlencode({**data, "f": "json"})
        headers = {"Referer": "raw"}
        if token:
            headers["X-Esri-Authorization"] = f"Bearer {token}"
        if method == "GET":
            request = urllib.request.Request(f"{url}?{form}", headers=headers, method="GET")
        else:
            request = urllib.request.Request(url, data=form.encode(), headers=headers)
        with urllib.request.urlopen(request, context=context) as answer:
            return json.loads(answer.read())

    token = send(
        sb.portal_url + "/sharing/rest/generateToken",
        {
            "username": sb.admin_username,
            "password": sb.admin_password,
            "client": "referer",
            "referer": "raw",
        },
    )["token"]
    return send(sb.portal_url + path, fields, method, token)
