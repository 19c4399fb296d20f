"""Saved connections: `gislicense profile add|list|remove`, passwords from the environment or
the system keyring (a fake backend here), `GIS(profile=)` and `OpenLM(profile=)`, and one
list from several servers at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gislicense
from gislicense import GIS, InvalidInputError, OpenLM, profiles

HELPERS = Path(__file__).resolve().parent / "helpers"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration folder and a keyring of this test's own."""
    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FAKE_KEYRING_FILE", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "fake_keyring.FileKeyring")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(HELPERS), os.environ.get("PYTHONPATH", "")])
    )
    for name in [n for n in os.environ if n.startswith("GISLICENSE_PASSWORD")]:
        monkeypatch.delenv(name)
    monkeypatch.syspath_prepend(str(HELPERS))
    import keyring
    from fake_keyring import FileKeyring

    keyring.set_keyring(FileKeyring())
    return tmp_path


def command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gislicense", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
        timeout=120,
    )


pytestmark = pytest.mark.sandbox(sessions=100, portal_members=120)


def add_portal(name: str, sb: gislicense.Sandbox, *extra: str, **env: str) -> None:
    result = command(
        "profile", "add", name, "--url", sb.portal_url, "-u", sb.admin_username,
        "--ca-bundle", str(sb.ca_file), *extra, **env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_profiles_are_added_listed_and_removed_without_their_password(
    home: Path, sb: gislicense.Sandbox
) -> None:
    add_portal("prod", sb, "--store-password", GISLICENSE_PASSWORD=sb.admin_password)
    lm = command("profile", "add", "lm", "--url", sb.openlm_url)
    assert lm.returncode == 0, lm.stderr
    listed = json.loads(command("profile", "list", "--json").stdout)
    assert [(p["name"], p["kind"], p["password"]) for p in listed] == [
        ("prod", "portal", "keyring"),
        ("lm", "openlm", "none (no sign-in)"),
    ]
    saved = (home / "config" / "profiles.ini").read_text()
    assert sb.portal_url in saved and sb.admin_username in saved
    assert sb.admin_password not in saved
    assert json.loads((home / "keyring.json").read_text()) == {"gislicense/prod": sb.admin_password}
    removed = command("profile", "remove", "prod")
    assert removed.returncode == 0
    assert json.loads((home / "keyring.json").read_text()) == {}
    assert [p["name"] for p in json.loads(command("profile", "list", "--json").stdout)] == ["lm"]
    assert command("profile", "remove", "prod").returncode == 2


def test_a_profile_signs_in_with_the_keyring_or_the_environment(
    home: Path, fresh_sb: gislicense.Sandbox
) -> None:
    add_portal("prod", fresh_sb, "--store-password", GISLICENSE_PASSWORD=fresh_sb.admin_password)
    from_keyring = command("users", "list", "--profile", "prod", "--json")
    assert from_keyring.returncode == 0, from_keyring.stderr
    assert len(json.loads(from_keyring.stdout)) == 120
    assert fresh_sb.admin_password not in from_keyring.stdout + from_keyring.stderr

    add_portal("test", fresh_sb)  # no password stored
    missing = command("users", "list", "--profile", "test")
    assert missing.returncode == 2
    assert "GISLICENSE_PASSWORD_TEST" in missing.stderr
    from_env = command(
        "users", "list", "--profile", "test", "--json",
        GISLICENSE_PASSWORD_TEST=fresh_sb.admin_password,
    )  # fmt: skip
    assert from_env.returncode == 0, from_env.stderr
    wrong = command("users", "list", "--profile", "test", GISLICENSE_PASSWORD_TEST="nope")
    assert wrong.returncode == 3


def test_a_profile_of_the_wrong_kind_or_none_at_all(home: Path, sb: gislicense.Sandbox) -> None:
    add_portal("prod", sb)
    wrong = command("sessions", "list", "--profile", "prod")
    assert wrong.returncode == 2
    assert "users and licenses commands" in wrong.stderr
    unknown = command("users", "list", "--profile", "nosuch")
    assert unknown.returncode == 2
    assert "prod" in unknown.stderr  # the profiles there are
    nothing = command("users", "list")
    assert nothing.returncode == 2
    assert "profile add" in nothing.stderr and "--sandbox" in nothing.stderr
    bad_name = command("profile", "add", "no spaces", "--url", "https://x/portal")
    assert bad_name.returncode == 2


def test_the_library_reads_the_same_profiles(
    home: Path, fresh_sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_portal("prod", fresh_sb, "--store-password", GISLICENSE_PASSWORD=fresh_sb.admin_password)
    assert command("profile", "add", "lm", "--url", fresh_sb.openlm_url).returncode == 0
    gis = GIS(profile="prod")
    assert gis.url == fresh_sb.portal_url.rstrip("/")
    assert gis.users.me.username == fresh_sb.admin_username
    assert OpenLM(profile="lm").get_active_products()
    # What the caller gives wins over the profile: here a wrong password fails.
    with pytest.raises(gislicense.AuthenticationError):
        GIS(profile="prod", password="not-it").users.me  # noqa: B018
    with pytest.raises(InvalidInputError, match="for a portal: use GIS"):
        OpenLM(profile="prod")
    with pytest.raises(InvalidInputError, match="url"):
        GIS()
    monkeypatch.setenv("GISLICENSE_PASSWORD_PROD", "from-the-environment")
    assert profiles.load("prod").password() == "from-the-environment"


def test_one_list_from_three_servers(home: Path) -> None:
    with (
        gislicense.Sandbox(sessions=30, portal_members=50, seed=1) as a,
        gislicense.Sandbox(sessions=40, portal_members=60, seed=2) as b,
        gislicense.Sandbox(sessions=50, portal_members=70, seed=3) as c,
    ):
        env = {}
        for name, sb in (("a", a), ("b", b), ("c", c)):
            add_portal(name, sb)
            env[profiles.password_variable(name)] = sb.admin_password
            assert command("profile", "add", f"lm-{name}", "--url", sb.openlm_url).returncode == 0
        members = command("users", "list", "--all-profiles", "--json", **env)
        assert members.returncode == 0, members.stderr
        rows = json.loads(members.stdout)
        assert {t: sum(r["target"] == t for r in rows) for t in "abc"} == {
            "a": 50,
            "b": 60,
            "c": 70,
        }
        sessions = command(
            "sessions", "list", "-p", "lm-a", "-p", "lm-b", "-p", "lm-c", "--json"
        )  # fmt: skip
        counted = {t: 0 for t in ("lm-a", "lm-b", "lm-c")}
        for row in json.loads(sessions.stdout):
            counted[row["target"]] += 1
        assert counted == {
            "lm-a": len(OpenLM(a.openlm_url).get_active_products()),
            "lm-b": len(OpenLM(b.openlm_url).get_active_products()),
            "lm-c": len(OpenLM(c.openlm_url).get_active_products()),
        }
        report = command("licenses", "report", "--all-profiles", "--csv", **env)
        assert report.returncode == 0, report.stderr
        assert report.stdout.splitlines()[0].startswith("target,license,entitlement")
        # A fourth portal that does not answer: reported, and the others listed.
        down = command(
            "profile", "add", "d", "--url", "https://127.0.0.1:9/portal", "-u", "admin",
            "--ca-bundle", str(a.ca_file),
        )  # fmt: skip
        assert down.returncode == 0
        env[profiles.password_variable("d")] = "unused"
        one_down = command("users", "list", "--all-profiles", "--json", "--timeout", "5", **env)
        assert one_down.returncode == 3, one_down.stderr
        assert "gislicense: error: d:" in one_down.stderr
        assert {r["target"] for r in json.loads(one_down.stdout)} == {"a", "b", "c"}
        assert "from 3 of 4 servers" in one_down.stderr
        change = command("users", "set-type", "x", "--to", "viewer", "-p", "a", "-p", "c", **env)
        assert change.returncode == 2
        assert "one server" in change.stderr


def test_a_saved_plan_finds_the_profile_of_its_server(
    home: Path, fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    add_portal("prod", fresh_sb, "--store-password", GISLICENSE_PASSWORD=fresh_sb.admin_password)
    saved = tmp_path / "plan.json"
    made = command("users", "set-type", "aanderson", "--to", "creator", "-p", "prod",
                   "--save-plan", str(saved))  # fmt: skip
    assert made.returncode == 0, made.stderr
    applied = command("plan", "apply", str(saved), "--apply", "--json")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)[0]["status"] in ("changed", "unchanged")


def test_a_profile_keeps_its_kind_and_settings(home: Path) -> None:
    added = command("profile", "add", "lm", "--url", "lm01.example.com", "--kind", "openlm",
                    "--timeout", "12.5", "-u", "svc")  # fmt: skip
    assert added.returncode == 0, added.stderr
    test = command("profile", "add", "test", "--url", "http://gis-test/portal", "--insecure-http")
    assert test.returncode == 0, test.stderr
    lm, portal = profiles.load("lm"), profiles.load("test")
    assert (lm.kind, lm.url, lm.timeout, lm.username) == ("openlm", "lm01.example.com", 12.5, "svc")
    assert (portal.kind, portal.allow_insecure_http) == ("portal", True)
    assert profiles.load("lm").options() == {"timeout": 12.5}
    no_keyring = command("profile", "add", "x", "--url", "https://x/portal", "-u", "a",
                         "--store-password", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                         GISLICENSE_PASSWORD="p")  # fmt: skip
    assert no_keyring.returncode == 2
    assert "keyring" in no_keyring.stderr and "p" not in no_keyring.stdout


def test_a_profile_signs_in_with_app_credentials_kept_in_the_keyring(home: Path) -> None:
    # 11.4: app credentials carry administrative privileges there.
    with gislicense.Sandbox(sessions=10, portal_members=60, portal_version="2024.2") as sb:
        added = command(
            "profile", "add", "jobs", "--url", sb.portal_url, "--ca-bundle", str(sb.ca_file),
            "--client-id", sb.oauth_client_id, "--store-client-secret",
            GISLICENSE_CLIENT_SECRET=sb.oauth_client_secret,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "client secret in the system keyring" in added.stderr
        saved = (home / "config" / "profiles.ini").read_text()
        assert sb.oauth_client_id in saved and sb.oauth_client_secret not in saved
        listed = json.loads(command("profile", "list", "--json").stdout)
        assert listed[0]["password"] == "client secret: keyring"
        assert listed[0]["client_id"] == sb.oauth_client_id
        # The command line and the library sign in the same way.
        users = command("users", "list", "--profile", "jobs", "--json")
        assert users.returncode == 0, users.stderr
        assert len(json.loads(users.stdout)) == 60
        assert sb.oauth_client_secret not in users.stdout + users.stderr
        assert len(GIS(profile="jobs").users.search()) == 60
        assert sb.requests(operation="token")
        assert not sb.requests(operation="generateToken")
        # Removing the profile forgets its secret too.
        assert command("profile", "remove", "jobs").returncode == 0
        assert json.loads((home / "keyring.json").read_text()) == {}


def test_a_profile_presents_a_client_certificate(home: Path) -> None:
    with gislicense.Sandbox(sessions=10, portal_members=40, portal_pki=True) as sb:
        p12 = sb.client_pkcs12(sb.admin_username, "p12-word")
        added = command(
            "profile", "add", "pki", "--url", sb.portal_url, "--ca-bundle", str(sb.ca_file),
            "--cert-file", str(p12), "--store-cert-password",
            GISLICENSE_CERT_PASSWORD="p12-word",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "p12-word" not in (home / "config" / "profiles.ini").read_text()
        assert GIS(profile="pki").users.me.username == sb.admin_username
        users = command("users", "list", "--profile", "pki", "--json")
        assert users.returncode == 0, users.stderr
        assert len(json.loads(users.stdout)) == 40
        with pytest.raises(InvalidInputError, match="cert_password"):
            GIS(profile="pki", cert_password="not-it")
