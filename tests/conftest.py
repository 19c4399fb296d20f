"""Fixtures every test module shares: sandboxes, signed-in clients, a canned server.

A module says what its sandbox holds with a marker, ``pytestmark =
pytest.mark.sandbox(sessions=10, portal_members=150)``; a test may mark its own.

- ``sb``: the module's sandbox, shared by its tests: for tests that read, or change only
  members no other test of the module looks at. ``gis`` and ``member_gis`` sign in to it as
  the administrator and as an ordinary member.
- ``fresh_sb``: a sandbox of the test's own, for a test that changes what others read
  (seats, sessions, tokens, faults, latency), refuses passwords (the sandbox locks an account
  after 5) or counts the requests sent.
- ``new_sandbox``: starts sandboxes with options of the test's own.
- ``sandbox`` and ``openlm``: each OpenLM test's own 300 sessions, and a client of them.

Plain helpers (``admin_of``, ``member_of``, ``sb_post``) are in ``helpers.sandbox``."""

from __future__ import annotations

import contextlib
import http.server
import socketserver
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers.sandbox import admin_of, member_of
from helpers.servers import serving

import gislicense


def _sandbox_options(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """The options of the closest ``sandbox`` marker (the test's, else its module's)."""
    marker = node.get_closest_marker("sandbox")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture(scope="module")
def sb(request: pytest.FixtureRequest) -> Iterator[gislicense.Sandbox]:
    """The sandbox the tests of a module share, made as the module's marker says."""
    with gislicense.Sandbox(**_sandbox_options(request.node)) as sandbox:
        yield sandbox


@pytest.fixture
def fresh_sb(request: pytest.FixtureRequest) -> Iterator[gislicense.Sandbox]:
    """A sandbox of this test's own, made as the closest marker says."""
    with gislicense.Sandbox(**_sandbox_options(request.node)) as sandbox:
        yield sandbox


@pytest.fixture
def new_sandbox() -> Iterator[Callable[..., gislicense.Sandbox]]:
    """Starts sandboxes with this test's own options (``new_sandbox(sessions=3,
    openlm_tls=True)``); each stops when the test ends."""
    with contextlib.ExitStack() as running:
        yield lambda **options: running.enter_context(gislicense.Sandbox(**options))


@pytest.fixture
def gis(sb: gislicense.Sandbox) -> gislicense.GIS:
    """The administrator of the module's sandbox, signed in."""
    return admin_of(sb)


@pytest.fixture
def member_gis(sb: gislicense.Sandbox) -> gislicense.GIS:
    """An ordinary member (no administrator) of the module's sandbox, signed in."""
    return member_of(sb)


@pytest.fixture
def sandbox() -> Iterator[gislicense.Sandbox]:
    """A sandbox of this test's own with 300 OpenLM sessions (the OpenLM tests close them)."""
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
    with serving(server) as port:
        Handler.url = f"http://127.0.0.1:{port}/OpenLMServer"  # type: ignore[attr-defined]
        yield Handler


@pytest.fixture(autouse=True)
def _journals_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Journals of applied changes go to a temporary folder, not the user's data folder."""
    monkeypatch.setenv("GISLICENSE_JOURNAL_DIR", str(tmp_path_factory.mktemp("journals")))
