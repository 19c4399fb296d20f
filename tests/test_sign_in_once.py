"""A refused sign-in is sent once per client. Every refusal of a password counts toward
locking its account (the sandbox locks one after 5, as a portal does), so the requests that
needed the sign-in, concurrent or later, all get that one refusal; nothing asks again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import gislicense
from gislicense import GIS, AuthenticationError, OpenLM
from gislicense.cli import main

WRONG = "not-the-password"


pytestmark = pytest.mark.sandbox(sessions=40, portal_members=120, permissions=True)


def sign_ins(sb: gislicense.Sandbox) -> int:
    return len(sb.requests(operation="generateToken"))


def creators(sb: gislicense.Sandbox, count: int = 30) -> list[str]:
    names = [
        u["username"]
        for u in sb.portal_users()
        if u["userLicenseTypeId"] == "creatorUT" and u["username"] != sb.admin_username
    ]
    return names[:count]


def signs_in_still(sb: gislicense.Sandbox) -> None:
    """The account is not locked: the right password signs in."""
    GIS(sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file).sign_in()


def test_a_wrong_password_is_sent_once_for_many_concurrent_requests(
    fresh_sb: gislicense.Sandbox,
) -> None:
    gis = GIS(fresh_sb.portal_url, fresh_sb.admin_username, WRONG, ca_bundle=fresh_sb.ca_file)
    names = creators(fresh_sb)

    async def read_all() -> list[object]:
        reads = [gis.users.get_async(name) for name in names]
        return await asyncio.gather(*reads, return_exceptions=True)

    outcomes = asyncio.run(read_all())
    assert all(isinstance(o, AuthenticationError) for o in outcomes), outcomes
    assert all("Invalid username or password" in str(o) for o in outcomes)
    assert sign_ins(fresh_sb) == 1
    # Later calls, and a sign-in asked for outright, get the same refusal without asking.
    with pytest.raises(AuthenticationError, match="Invalid username or password"):
        gis.users.me  # noqa: B018
    with pytest.raises(AuthenticationError, match="Invalid username or password"):
        gis.sign_in()
    assert sign_ins(fresh_sb) == 1
    signs_in_still(fresh_sb)


def test_a_bulk_change_and_a_plan_with_a_wrong_password_sign_in_once_each(
    fresh_sb: gislicense.Sandbox,
) -> None:
    names = creators(fresh_sb)
    gis = GIS(fresh_sb.portal_url, fresh_sb.admin_username, WRONG, ca_bundle=fresh_sb.ca_file)
    with pytest.raises(AuthenticationError, match="Invalid username or password"):
        gis.users.update_license_type(names, "viewer", batch_size=1, concurrency=8)
    assert sign_ins(fresh_sb) == 1
    planner = GIS(fresh_sb.portal_url, fresh_sb.admin_username, WRONG, ca_bundle=fresh_sb.ca_file)
    with pytest.raises(AuthenticationError, match="Invalid username or password"):
        planner.users.plan_license_type(names, "viewer", roles="auto")
    assert sign_ins(fresh_sb) == 2
    signs_in_still(fresh_sb)


def journal_of_a_change(sb: gislicense.Sandbox, tmp_path: Path) -> Path:
    """The journal of a finished run that changed members (for undo)."""
    gis = GIS(sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file)
    sb.set_seats("viewerUT", 1000)
    journal = tmp_path / "run.jsonl"
    report = gis.users.plan_license_type(creators(sb), "viewer", roles="auto").apply(
        journal=journal
    )
    assert report.counts() == {"changed": 30}
    return journal


def cut_short(journal: Path) -> Path:
    """The same run interrupted before any member changed: its plan alone (for resume)."""
    first = journal.read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(first)["event"] == "plan"
    interrupted = journal.with_name("interrupted.jsonl")
    interrupted.write_text(first + "\n", encoding="utf-8")
    return interrupted


@pytest.mark.parametrize("command", ["undo", "undo --apply", "resume", "resume --apply"])
def test_a_journal_command_with_a_wrong_password_signs_in_once(
    fresh_sb: gislicense.Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    journal = journal_of_a_change(fresh_sb, tmp_path)
    if command.startswith("resume"):
        journal = cut_short(journal)
    before = sign_ins(fresh_sb)
    monkeypatch.setenv("GISLICENSE_PASSWORD", WRONG)
    verb, *apply = command.split()
    login = ["--url", fresh_sb.portal_url, "--username", fresh_sb.admin_username]
    login += ["--ca-bundle", str(fresh_sb.ca_file)]
    status = main(["journal", verb, str(journal), *apply, *login])
    err = capsys.readouterr().err
    assert status == 3, err
    assert "Invalid username or password" in err and WRONG not in err
    assert sign_ins(fresh_sb) == before + 1
    signs_in_still(fresh_sb)


def test_a_refused_client_secret_is_sent_once(fresh_sb: gislicense.Sandbox) -> None:
    gis = GIS(
        fresh_sb.portal_url,
        client_id=fresh_sb.oauth_client_id,
        client_secret="not-the-secret-0123456789",
        ca_bundle=fresh_sb.ca_file,
    )

    async def read_all() -> list[object]:
        reads = [gis.users.get_async(name) for name in creators(fresh_sb)]
        return await asyncio.gather(*reads, return_exceptions=True)

    outcomes = asyncio.run(read_all())
    assert all(isinstance(o, AuthenticationError) for o in outcomes), outcomes
    assert len(fresh_sb.requests(operation="token")) == 1


def test_a_wrong_openlm_password_logs_in_once(fresh_sb: gislicense.Sandbox) -> None:
    openlm = OpenLM(fresh_sb.openlm_url, fresh_sb.openlm_username, WRONG)

    async def read_many() -> list[object]:
        reads = [openlm.get_active_products_async() for _ in range(20)]
        return await asyncio.gather(*reads, return_exceptions=True)

    outcomes = asyncio.run(read_many())
    assert all(isinstance(o, AuthenticationError) for o in outcomes), outcomes
    with pytest.raises(AuthenticationError):
        openlm.get_active_products()
    assert len(fresh_sb.requests(operation="UserAuthentication")) == 1
