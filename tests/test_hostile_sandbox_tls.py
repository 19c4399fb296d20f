"""Self-signed server certificates (ca_bundle=), and a sandbox that cannot be turned against
its host: a private temporary directory, and no well-known passwords beyond loopback."""

from __future__ import annotations

import http.server
import logging
import os
import shutil
import socketserver
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.sandbox import admin_of
from helpers.servers import serving

import gislicense
from gislicense import GIS, OpenLM, Sandbox

# --- self-signed certificates -----------------------------------------------------------------


def _openssl_self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate exactly as ``openssl req -x509`` makes it by default (CA:TRUE, used as
    the server's own), for localhost and 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    assert (
        "CA:TRUE"
        in subprocess.run(
            [openssl, "x509", "-in", str(cert), "-noout", "-text"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    return cert, key


class _OpenLmReply(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'<ULM><MESSAGE type="SkipLoginForm"/><PRODUCT product="Editor"/></ULM>'
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate: its URL and that PEM."""
    cert, key = _openssl_self_signed(tmp_path, "server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _OpenLmReply)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server) as port:
        yield f"https://127.0.0.1:{port}/OpenLMServer", cert


def test_without_ca_bundle_a_self_signed_server_is_refused_with_the_fix(
    self_signed_server: tuple[str, Path],
) -> None:
    url, _ = self_signed_server
    with pytest.raises(gislicense.TLSError, match="certificate not trusted") as caught:
        OpenLM(url, retries=0).get_active_products()
    text = str(caught.value)
    assert "ca_bundle=" in text
    assert "self-signed" in text
    assert "that certificate itself" in text


def test_ca_bundle_with_the_servers_own_certificate_trusts_it(
    self_signed_server: tuple[str, Path],
) -> None:
    url, cert = self_signed_server
    products = OpenLM(url, ca_bundle=cert, retries=0).get_active_products()
    assert [p.product for p in products] == ["Editor"]
    # By name too: the certificate names localhost.
    by_name = url.replace("127.0.0.1", "localhost")
    assert len(OpenLM(by_name, ca_bundle=str(cert), retries=0).get_active_products()) == 1


def test_ca_bundle_with_another_self_signed_certificate_is_still_refused(
    self_signed_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, cert = self_signed_server
    other, _ = _openssl_self_signed(tmp_path, "other")
    with pytest.raises(gislicense.TLSError, match="certificate not trusted"):
        OpenLM(url, ca_bundle=other, retries=0).get_active_products()
    # The server's certificate among others in one bundle is found.
    both = tmp_path / "both.pem"
    both.write_bytes(other.read_bytes() + cert.read_bytes())
    assert len(OpenLM(url, ca_bundle=both, retries=0).get_active_products()) == 1


def test_the_sandbox_ca_still_verifies_as_a_ca() -> None:
    # The usual path (a CA signing the server's certificate) is unchanged.
    with Sandbox(sessions=3, openlm_tls=True) as sb:
        assert len(OpenLM(sb.openlm_url, ca_bundle=sb.ca_file).get_active_products()) == 3
        gis = admin_of(sb)
        assert gis.users.get(sb.user_username) is not None


# --- the sandbox's temporary directory ----------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks and modes are POSIX here")
def test_the_ca_file_goes_to_a_new_private_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "ca.pem").write_text("precious")
    # The names the sandbox used to take: gislicense-sandbox-<pid>-<n>.
    for n in range(500):
        (temp / f"gislicense-sandbox-{os.getpid()}-{n}").symlink_to(victim)
    planted = set(temp.iterdir())

    with Sandbox(sessions=1) as first, Sandbox(sessions=1) as second:
        dirs = [Path(first.ca_file).parent, Path(second.ca_file).parent]
        assert dirs[0] != dirs[1]
        for d in dirs:
            assert d.parent == temp
            assert d not in planted
            info = d.lstat()
            assert stat.S_ISDIR(info.st_mode)
            assert stat.S_IMODE(info.st_mode) == 0o700
            assert Path(d / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert len(OpenLM(first.openlm_url).get_active_products()) == 1
    assert (victim / "ca.pem").read_text() == "precious"
    assert not dirs[0].exists()
    assert not dirs[1].exists()
    assert set(temp.iterdir()) == planted
    assert all(p.is_symlink() for p in planted)


# --- listening beyond loopback ------------------------------------------------------------------

_WELL_KNOWN = {"sandbox-password", "sandbox-admin-password", "sandbox-member-password"}


def _local(url: str) -> str:
    return url.replace("0.0.0.0", "127.0.0.1")


def test_loopback_keeps_the_well_known_passwords(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="gislicense")
    with Sandbox(sessions=1) as sb:
        assert sb.openlm_password == "sandbox-password"
        assert sb.admin_password == "sandbox-admin-password"
        assert sb.user_password == "sandbox-member-password"
    assert not [r for r in caplog.records if "other machines" in r.getMessage()]


def test_beyond_loopback_it_warns_and_makes_random_passwords(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="gislicense")
    with (
        Sandbox(sessions=5, host="0.0.0.0", permissions=True) as sb,
        Sandbox(sessions=1, host="0.0.0.0") as other,
    ):
        warnings = [r for r in caplog.records if "other machines" in r.getMessage()]
        assert len(warnings) == 2
        assert all(r.levelno == logging.WARNING for r in warnings)
        assert "0.0.0.0" in warnings[0].getMessage()
        passwords = [sb.openlm_password, sb.admin_password, sb.user_password]
        assert not _WELL_KNOWN & set(passwords)
        assert all(len(p) >= 16 for p in passwords)
        assert len(set(passwords)) == 3
        assert other.admin_password != sb.admin_password
        # No password in any log line.
        for record in caplog.records:
            assert not any(p in record.getMessage() for p in passwords)

        # The random passwords are the ones that work (over 127.0.0.1 only).
        openlm = OpenLM(_local(sb.openlm_url), username=sb.openlm_username, password="x")
        with pytest.raises(gislicense.AuthenticationError):
            openlm.get_active_products()
        openlm = OpenLM(
            _local(sb.openlm_url), username=sb.openlm_username, password=sb.openlm_password
        )
        assert len(openlm.get_active_products()) == 5
        portal = _local(sb.portal_url)
        with pytest.raises(gislicense.AuthenticationError):
            GIS(portal, sb.admin_username, "sandbox-admin-password", ca_bundle=sb.ca_file).sign_in()
        gis = GIS(portal, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file)
        assert gis.users.get(sb.user_username) is not None
        GIS(portal, sb.user_username, sb.user_password, ca_bundle=sb.ca_file).sign_in()


def test_beyond_loopback_passwords_given_are_kept() -> None:
    with Sandbox(
        sessions=1,
        host="0.0.0.0",
        openlm_password="chosen-openlm",
        admin_password="chosen-admin",
        user_password="chosen-member",
    ) as sb:
        assert sb.openlm_password == "chosen-openlm"
        assert sb.admin_password == "chosen-admin"
        assert sb.user_password == "chosen-member"
        GIS(
            _local(sb.portal_url), sb.admin_username, "chosen-admin", ca_bundle=sb.ca_file
        ).sign_in()


def test_the_command_warns_on_stderr_and_prints_the_random_passwords() -> None:
    command = subprocess.Popen(
        [sys.executable, "-m", "gislicense", "sandbox", "--host", "0.0.0.0", "--sessions", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert command.stdout is not None
        lines = []
        for line in command.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
    finally:
        command.terminate()
        _, err = command.communicate(timeout=30)
    out = "".join(lines)
    assert "other machines" in err
    assert "WARNING" in err
    assert not _WELL_KNOWN & set(out.split())
    admin = next(line for line in lines if "administrator:" in line)
    assert len(admin.split("/")[-1].strip()) >= 16
    assert "OpenLM login:" in out
