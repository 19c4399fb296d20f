"""An administrator's day, end to end from the command line, against the sandbox: the jobs a
GIS administrator does, as a new user would try them, without surprises."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense.plans import Journal, Plan


def command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "gislicense", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        timeout=120,
    )


def portal(sb: gislicense.Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    """A portal command, signed in as the sandbox's administrator."""
    return command(
        *args,
        *("--url", sb.portal_url, "--username", sb.admin_username),
        *("--ca-bundle", str(sb.ca_file)),
        GISLICENSE_PASSWORD=sb.admin_password,
    )


pytestmark = pytest.mark.sandbox(portal_members=300, seed=11)


def members(sb: gislicense.Sandbox) -> dict[str, dict[str, Any]]:
    return {u["username"]: u for u in sb.portal_users()}


# --- No surprises in the options ---------------------------------------------------------------


def every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from every_parser(sub)


def test_no_parser_takes_abbreviations() -> None:
    # Whether argparse reads `--user` as `--username` depends on the Python version and on
    # where the option stands; with abbreviations off it never does, on any version.
    from gislicense.cli import build_parser

    parsers = list(every_parser(build_parser(None)))
    assert len(parsers) > 20
    assert [p.prog for p in parsers if p.allow_abbrev] == []


def test_no_option_is_taken_for_another_by_its_first_letters(sb: gislicense.Sandbox) -> None:
    # `--user` is the sessions' user filter; on portal commands it must not mean --username.
    result = portal(sb, "journal", "undo", "nowhere.jsonl", "--user", "ataylor")
    assert result.returncode == 2
    assert "unrecognized arguments: --user" in result.stderr
    assert portal(sb, "users", "list", "--idle", "3").returncode == 2  # not --idle-days


# --- Downgrading idle Creators, then undoing it for the one who complained ----------------------


def test_idle_creators_down_to_viewer_then_undo_for_one(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    before = members(fresh_sb)
    idle = admin_of(fresh_sb).users.select(user_type="creator", idle_days=90)
    assert len(idle) > 10 and idle.left_out, "the sandbox should have idle Creators and admins"
    # Fewer free Viewer seats than idle Creators: the longest idle get them.
    viewers = sum(1 for u in before.values() if u["userLicenseTypeId"] == "viewerUT")
    seats = len(idle) - 5
    fresh_sb.set_seats("viewerUT", viewers + seats)
    journal = tmp_path / "down.jsonl"
    result = portal(
        fresh_sb, "users", "set-type", "--from", "creator", "--idle-days", "90", "--to", "viewer",
        "--role", "auto", "--apply", "--journal", str(journal), "--json",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # five wait for a seat: "failed"
    rows = {r["item"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {u.username for u in idle}
    # Seats went longest idle first, then by name: the same rule as the library's.
    by_idle = sorted(
        idle, key=lambda u: (u.last_login is not None, u.last_login, u.username.lower())
    )
    first = {u.username for u in by_idle[:seats]}
    assert {n for n, r in rows.items() if r["status"] == "changed"} == first
    assert all("no seat left" in (r["reason"] or "") for n, r in rows.items() if n not in first)
    # The administrators the selection matched were left out, and the plan said so.
    assert "left out" in result.stderr and "--include-admins" in result.stderr
    for left in idle.left_out:
        assert members(fresh_sb)[left.username]["userLicenseTypeId"] == "creatorUT"

    # One of them complains: undo for that person only, journaled as a run of its own.
    who = sorted(first)[0]
    undo_journal = tmp_path / "undo-one.jsonl"
    undone = portal(fresh_sb, "journal", "undo", str(journal), who, "--apply", "--journal",
                    str(undo_journal))  # fmt: skip
    assert undone.returncode == 0, undone.stderr
    now = members(fresh_sb)
    assert (now[who]["userLicenseTypeId"], now[who]["roleId"]) == (
        before[who]["userLicenseTypeId"],
        before[who]["roleId"],
    )
    assert sum(1 for n in first if now[n]["userLicenseTypeId"] == "viewerUT") == seats - 1
    assert [o.item for o in Journal(undo_journal).report] == [who]
    # A name not in the run is refused, not ignored.
    typo = portal(fresh_sb, "journal", "undo", str(journal), "nobody-at-all")
    assert typo.returncode == 2 and "not in this plan: nobody-at-all" in typo.stderr


def test_down_to_contributor_with_the_data_editor_role_in_one_run(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    fresh_sb.set_seats("editorUT", 1_000)
    names = [
        n
        for n, u in members(fresh_sb).items()
        if u["userLicenseTypeId"] == "creatorUT" and u["role"] == "org_publisher"
        and not u["proOffline"]
    ][:4]  # fmt: skip
    journal = tmp_path / "editors.jsonl"
    result = portal(fresh_sb, "users", "set-type", *names, "--to", "contributor", "--role",
                    "data editor", "--apply", "--journal", str(journal))  # fmt: skip
    assert result.returncode == 0, result.stderr
    now = members(fresh_sb)
    assert {(now[n]["userLicenseTypeId"], now[n]["roleId"]) for n in names} == {
        ("editorUT", "iBBBBBBBBBBBBBBB")
    }
    # The same in Python, by the role's id; a role the type cannot hold is refused.
    gis = admin_of(fresh_sb)
    plan = gis.users.plan_license_type(names, "viewer", roles="iBBBBBBBBBBBBBBB")
    assert {i.status for i in plan} == {"failed"}
    assert "cannot be held" in (plan.items[0].reason or "")
    # Undo puts both back in one run.
    assert Plan.undo(journal, gis).apply(journal=False).counts() == {"changed": 4}


# --- A departed employee's offline ArcGIS Pro ---------------------------------------------------


def test_a_departed_employee_is_released_downgraded_and_revoked_in_one_command(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gone = next(
        n for n, u in members(fresh_sb).items() if u["proOffline"] and u["role"] == "org_user"
    )
    plan = portal(fresh_sb, "licenses", "release", gone, "--user-type", "viewer", "--role", "auto",
                  "--revoke", "--json")  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    assert [r["status"] for r in json.loads(plan.stdout)] == ["would_change"]
    journal = tmp_path / "gone.jsonl"
    done = portal(fresh_sb, "licenses", "release", gone, "--user-type", "viewer", "--role", "auto",
                  "--revoke", "--apply", "--journal", str(journal))  # fmt: skip
    assert done.returncode == 0, done.stderr
    now = members(fresh_sb)[gone]
    assert not now["proOffline"]
    assert (now["userLicenseTypeId"], now["roleId"]) == ("viewerUT", "iAAAAAAAAAAAAAAA")
    assert now["entitlements"]["ArcGIS Pro"] == []
    # The hint for a change a check-out blocks points to this command, not to Python.
    other = next(
        n for n, u in members(fresh_sb).items() if u["proOffline"] and u["role"] == "org_user"
    )
    blocked = portal(fresh_sb, "users", "set-type", other, "--to", "viewer", "--role", "auto")
    assert "licenses release USER --user-type TYPE does both" in blocked.stdout
    assert "gis.admin" not in blocked.stdout


# --- An inventory of Pro holders across two portals ----------------------------------------------


def test_who_holds_pro_across_two_portals(tmp_path: Path) -> None:
    env = {"GISLICENSE_CONFIG_DIR": str(tmp_path / "config")}
    with (
        gislicense.Sandbox(portal_members=80, seed=1) as a,
        gislicense.Sandbox(portal_members=90, seed=2) as b,
    ):
        for name, sb in (("north", a), ("south", b)):
            added = command(
                "profile", "add", name, "--url", sb.portal_url, "-u", sb.admin_username,
                "--ca-bundle", str(sb.ca_file), **env,
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
            env[f"GISLICENSE_PASSWORD_{name.upper()}"] = sb.admin_password
        result = command(
            "licenses", "holders", "--license", "pro", "--entitlement", "desktopAdvN",
            "--all-profiles", "--json", **env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        rows = json.loads(result.stdout)
        for target, sb in (("north", a), ("south", b)):
            expected = {
                u["username"]
                for u in sb.portal_users()
                if "desktopAdvN" in u["entitlements"].get("ArcGIS Pro", [])
            }
            assert {r["username"] for r in rows if r["target"] == target} == expected
        assert {"license", "username", "entitlements", "offline", "last_login"} <= set(rows[0])


def test_a_saved_plan_and_a_resume_act_on_the_members_named(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    fresh_sb.set_seats("editorUT", 1_000)
    creators = [
        n
        for n, u in members(fresh_sb).items()
        if u["userLicenseTypeId"] == "creatorUT" and u["role"] == "org_user"
        and not u["proOffline"]
    ][:6]  # fmt: skip
    saved = tmp_path / "plan.json"
    planned = portal(fresh_sb, "users", "set-type", *creators, "--to", "contributor",
                     "--save-plan", str(saved))  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    journal = tmp_path / "run.jsonl"
    some = portal(fresh_sb, "plan", "apply", str(saved), *creators[:2], "--exclude", creators[1],
                  "--apply", "--journal", str(journal))  # fmt: skip
    assert some.returncode == 0, some.stderr
    assert [o.item for o in Journal(journal).report] == [creators[0]]
    # The rest of the saved plan, from a file of names, later.
    names = tmp_path / "names.txt"
    names.write_text("\n".join(creators[1:]) + "\n")
    rest = portal(fresh_sb, "plan", "apply", str(saved), "--users-file", str(names), "--apply",
                  "--journal", str(tmp_path / "rest.jsonl"))  # fmt: skip
    assert rest.returncode == 0, rest.stderr
    assert all(members(fresh_sb)[n]["userLicenseTypeId"] == "editorUT" for n in creators)
