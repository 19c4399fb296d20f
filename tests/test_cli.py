"""The `gislicense` command, driven as a scheduled job drives it: a process of its own against
the sandbox, its output parsed back, its exit status checked."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import OpenLM
from gislicense.cli.common import in_command_words
from gislicense.cli.options import parse_duration


def gislicense_command(
    *args: str, password: str | None = None, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("GISLICENSE_PASSWORD", None)
    if password is not None:
        environment["GISLICENSE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "gislicense", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,  # no terminal: nothing can be asked
        env=environment,
        timeout=timeout,
    )


def portal_args(sb: gislicense.Sandbox) -> list[str]:
    return ["--url", sb.portal_url, "--username", sb.admin_username, "--ca-bundle", str(sb.ca_file)]


pytestmark = pytest.mark.sandbox(sessions=300, portal_members=300)


def portal(sb: gislicense.Sandbox, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    """A portal command, signed in as the sandbox's administrator."""
    return gislicense_command(*args, *portal_args(sb), password=sb.admin_password, **kw)


def members(sb: gislicense.Sandbox) -> dict[str, tuple[str, str]]:
    return {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}


def open_sessions(sb: gislicense.Sandbox) -> int:
    return len(OpenLM(sb.openlm_url).get_active_products())


def no_secret(result: subprocess.CompletedProcess[str], secret: str) -> None:
    assert secret not in result.stdout
    assert secret not in result.stderr


# --- help, usage, exit statuses ------------------------------------------------------------


def test_help_names_every_command_and_the_exit_statuses() -> None:
    result = gislicense_command("--help")
    assert result.returncode == 0
    for command in ("sessions", "users", "licenses", "plan", "journal", "sandbox"):
        assert command in result.stdout
    for status in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"  {status}" in result.stdout
    close_help = gislicense_command("sessions", "close", "--help")
    assert "--apply" in close_help.stdout and "--idle" in close_help.stdout


def test_help_loads_only_its_own_commands_and_nothing_heavy() -> None:
    # What keeps `gislicense --help` under 100 ms: a group's commands are made only when the
    # group is named, and the core, pandas and asyncio wait until a command runs.
    code = (
        "import sys\nfrom gislicense.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\nprint(' '.join(sys.modules), file=sys.stderr)"
    )
    groups = {"sessions", "users", "licenses", "plan_journal", "profile", "sandbox"}
    for argv, group in (
        (["--help"], None),
        (["users", "set-type", "--help"], "users"),
        (["sessions", "close", "--help"], "sessions"),
    ):
        ran = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True
        )
        loaded = set(ran.stderr.split())
        assert "usage: gislicense" in ran.stdout
        assert {f"gislicense.cli.{g}" for g in groups} & loaded == (
            {f"gislicense.cli.{group}"} if group else set()
        )
        heavy = {"gislicense._core", "pandas", "asyncio", "gislicense.portal", "gislicense.users"}
        assert not heavy & loaded


def test_bad_usage_exits_2_with_a_sentence() -> None:
    result = gislicense_command("users", "set-type", "--to")
    assert result.returncode == 2
    assert "expected one argument" in result.stderr
    result = gislicense_command("sessions", "list", "--idle", "two hours")
    assert result.returncode == 2
    assert "not a duration" in result.stderr


def test_a_command_without_a_server_says_how_to_name_one() -> None:
    result = gislicense_command("users", "list")
    assert result.returncode == 2
    assert "--url" in result.stderr and "--sandbox" in result.stderr


def test_a_password_on_the_command_line_is_refused_with_a_hint() -> None:
    result = gislicense_command(
        "users",
        "list",
        "--url",
        "https://gis.example.com/portal",
        "--username",
        "admin",
        "--password",
        "s3cret!",
    )
    assert result.returncode == 2
    assert "GISLICENSE_PASSWORD" in result.stderr
    no_secret(result, "s3cret!")


def test_a_username_without_a_password_and_no_terminal_exits_2(
    sb: gislicense.Sandbox,
) -> None:
    result = gislicense_command("users", "list", *portal_args(sb))
    assert result.returncode == 2
    assert "GISLICENSE_PASSWORD" in result.stderr


def test_no_connection_and_a_wrong_password_exit_3(fresh_sb: gislicense.Sandbox) -> None:
    closed = gislicense_command(
        "sessions", "list", "--url", "http://127.0.0.1:9/OpenLMServer", "--timeout", "5"
    )
    assert closed.returncode == 3, closed.stderr
    assert "gislicense: error:" in closed.stderr
    wrong = gislicense_command("users", "list", *portal_args(fresh_sb), password="not-the-password")
    assert wrong.returncode == 3, wrong.stderr
    no_secret(wrong, "not-the-password")


def test_an_untrusted_certificate_speaks_of_the_ca_bundle_option(
    sb: gislicense.Sandbox,
) -> None:
    result = gislicense_command(
        "users",
        "list",
        "--url",
        sb.portal_url,
        "--username",
        sb.admin_username,
        password=sb.admin_password,
    )
    assert result.returncode == 3
    assert "--ca-bundle" in result.stderr
    assert "ca_bundle=" not in result.stderr


def test_an_unknown_user_type_exits_2_before_anything_is_sent(
    sb: gislicense.Sandbox,
) -> None:
    before = members(sb)
    result = portal(sb, "users", "set-type", "aanderson", "--to", "superuser", "--apply")
    assert result.returncode == 2
    assert "superuser" in result.stderr
    assert members(sb) == before


def test_options_go_before_or_after_the_command(sb: gislicense.Sandbox) -> None:
    after = gislicense_command("sessions", "list", "--url", sb.openlm_url, "--json")
    before = gislicense_command("--json", "--url", sb.openlm_url, "sessions", "list")
    assert after.returncode == before.returncode == 0

    def sessions(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str, str]]:
        return [(r["username"], r["workstation"], r["feature"]) for r in json.loads(result.stdout)]

    assert sessions(after) == sessions(before)


def test_durations() -> None:
    assert parse_duration("90m").total_seconds() == 5400
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("2d").total_seconds() == 172800
    with pytest.raises(Exception, match="not a duration"):
        parse_duration("90")
    with pytest.raises(Exception, match="not a duration"):
        parse_duration("1h zz")


def test_library_advice_reads_as_options() -> None:
    assert in_command_words("if that is meant, pass allow_all=True") == (
        "if that is meant, pass --all"
    )
    assert "--role auto" in in_command_words('first, or plan with roles="auto" to add that step')


# --- sessions ------------------------------------------------------------------------------


def test_sessions_list_as_table_json_and_csv(sb: gislicense.Sandbox) -> None:
    expected = OpenLM(sb.openlm_url).get_active_products(feature="Editor")
    names = sorted(s.username for s in expected)
    as_json = gislicense_command(
        "sessions", "list", "--url", sb.openlm_url, "--feature", "editor", "--json"
    )
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert sorted(r["username"] for r in rows) == names
    assert all(isinstance(r["idle_time"], int) for r in rows if r["idle_time"] is not None)
    assert all(r["start_time"].endswith("Z") for r in rows if r["start_time"])
    as_csv = gislicense_command(
        "sessions", "list", "--url", sb.openlm_url, "--feature", "Editor", "--csv"
    )
    assert sorted(r["username"] for r in csv.DictReader(io.StringIO(as_csv.stdout))) == names
    table = gislicense_command("sessions", "list", "--url", sb.openlm_url, "--feature", "Editor")
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["username", "workstation", "feature"]
    assert len(lines) == len(names) + 1
    assert f"{len(names)} sessions" in table.stderr


def test_session_filters_idle_min_age_and_exclude(sb: gislicense.Sandbox) -> None:
    every = OpenLM(sb.openlm_url).get_active_products()
    idle = [s for s in every if s.idle_time is not None and s.idle_time.total_seconds() >= 3600]
    assert 0 < len(idle) < len(every)
    excluded = idle[0].username
    result = gislicense_command(
        "sessions", "list", "--url", sb.openlm_url, "--idle", "1h", "--exclude", excluded, "--json"
    )
    got = json.loads(result.stdout)
    want = [s for s in idle if s.username.casefold() != excluded.casefold()]
    assert sorted((r["username"], r["workstation"]) for r in got) == sorted(
        (s.username, s.workstation) for s in want
    )
    old = gislicense_command(
        "sessions", "list", "--url", sb.openlm_url, "--min-age", "3h", "--json"
    )
    for row in json.loads(old.stdout):
        assert row["duration"] >= 3 * 3600 - 5


def test_sessions_close_plans_unless_asked_to_apply(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    before = open_sessions(fresh_sb)
    plan = gislicense_command(
        "sessions", "close", "--url", fresh_sb.openlm_url, "--feature", "Editor", "--json"
    )
    assert open_sessions(fresh_sb) == before, "a plan closed something"
    rows = json.loads(plan.stdout)
    predicted = [(r["item"], r["status"]) for r in rows]
    statuses = [status for _, status in predicted]
    assert "would_close" in statuses
    assert "Run again with --apply" in plan.stderr
    # Workstations without an Agent are predicted to fail: the plan's status says so.
    assert plan.returncode == (1 if "failed" in statuses else 0)

    journal = tmp_path / "close.jsonl"
    applied = gislicense_command(
        "sessions",
        "close",
        "--url",
        fresh_sb.openlm_url,
        "--feature",
        "Editor",
        "--apply",
        "--journal",
        str(journal),
        "--json",
    )
    outcomes = [(r["item"], r["status"]) for r in json.loads(applied.stdout)]
    # The dry run predicted the real run, item for item.
    assert outcomes == [(item, s.replace("would_close", "closed")) for item, s in predicted]
    closed = statuses.count("would_close")
    assert open_sessions(fresh_sb) == before - closed
    assert applied.returncode == (1 if "failed" in statuses else 0)
    assert str(journal) in applied.stderr

    shown = gislicense_command("journal", "show", str(journal), "--json")
    assert [(r["item"], r["status"]) for r in json.loads(shown.stdout)] == outcomes


def test_the_nightly_job_finds_and_closes_idle_editor_sessions_on_the_built_in_sandbox(
    tmp_path: Path,
) -> None:
    """The policy administrators run each night, as its README command, on --sandbox."""
    listed = gislicense_command("--sandbox", "sessions", "list", "--idle", "2h", "--json")
    assert listed.returncode == 0, listed.stderr
    idle = json.loads(listed.stdout)
    assert len(idle) >= 50 and all(r["idle_time"] >= 2 * 3600 for r in idle)
    assert any(r["idle_time"] >= 24 * 3600 for r in idle), "no forgotten session"
    job = ["--sandbox", "sessions", "close", "--feature", "Editor", "--idle", "2h", "--json"]
    plan = gislicense_command(*job)
    planned = json.loads(plan.stdout)
    would_close = [r for r in planned if r["status"] == "would_close"]
    assert len(would_close) >= 20, plan.stderr
    # Each run starts a fresh sandbox of the same seed: the same sessions are idle in both.
    applied = gislicense_command(*job, "--apply", "--journal", str(tmp_path / "nightly.jsonl"))
    outcomes = json.loads(applied.stdout)
    closed = [r for r in outcomes if r["status"] == "closed"]
    assert len(closed) >= 20, applied.stderr
    # What is not closed is on a workstation without the OpenLM Agent, as the plan said.
    assert {r["status"] for r in outcomes} <= {"closed", "failed"}
    assert all("Agent" in r["reason"] for r in outcomes if r["status"] == "failed")


def test_closing_every_session_needs_all(sb: gislicense.Sandbox) -> None:
    before = open_sessions(sb)
    refused = gislicense_command("sessions", "close", "--url", sb.openlm_url, "--apply")
    assert refused.returncode == 2
    assert "--all" in refused.stderr
    assert open_sessions(sb) == before
    planned = gislicense_command("sessions", "close", "--url", sb.openlm_url, "--all", "--json")
    assert len(json.loads(planned.stdout)) == before


def test_output_to_a_file(sb: gislicense.Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "sessions.csv"
    result = gislicense_command(
        "sessions", "list", "--url", sb.openlm_url, "--csv", "--output", str(target)
    )
    assert result.returncode == 0 and result.stdout == ""
    assert len(list(csv.DictReader(target.open()))) == open_sessions(sb)


def test_the_built_in_sandbox_runs_any_command() -> None:
    result = gislicense_command("--sandbox", "sessions", "close", "--feature", "Editor")
    assert result.returncode in (0, 1)
    assert "would_close" in result.stdout
    assert "built-in sandbox" in result.stderr


# --- users ---------------------------------------------------------------------------------


def test_users_list_and_idle_members(sb: gislicense.Sandbox) -> None:
    result = portal(sb, "users", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["username"] for r in rows} == set(members(sb))
    no_secret(result, sb.admin_password)
    idle = portal(sb, "users", "list", "--idle-days", "90", "--csv")
    idle_names = {r["username"] for r in csv.DictReader(io.StringIO(idle.stdout))}
    gis = admin_of(sb)
    cutoff = time.time() - 90 * 86400
    want = {
        u.username
        for u in gis.users.search()
        if (u.last_login is None or u.last_login.timestamp() < cutoff)
        and (u.created is None or u.created.timestamp() < cutoff)
    }
    assert idle_names == want and 0 < len(want) < len(rows)
    creators = portal(sb, "users", "list", "--type", "creator", "--json")
    assert {r["user_type"] for r in json.loads(creators.stdout)} == {"creatorUT"}


def test_set_type_plans_applies_and_undoes(fresh_sb: gislicense.Sandbox, tmp_path: Path) -> None:
    before = members(fresh_sb)
    plan = portal(
        fresh_sb,
        "users",
        "set-type",
        "--from",
        "creator",
        "--idle-days",
        "60",
        "--to",
        "viewer",
        "--role",
        "auto",
        "--json",
    )
    assert members(fresh_sb) == before, "a plan changed something"
    predicted = {r["item"]: r["status"] for r in json.loads(plan.stdout)}
    assert "would_change" in predicted.values()

    journal = tmp_path / "viewer.jsonl"
    applied = portal(
        fresh_sb,
        "users",
        "set-type",
        "--from",
        "creator",
        "--idle-days",
        "60",
        "--to",
        "viewer",
        "--role",
        "auto",
        "--apply",
        "--journal",
        str(journal),
        "--json",
    )
    outcomes = {r["item"]: r["status"] for r in json.loads(applied.stdout)}
    assert outcomes == {
        item: status.replace("would_change", "changed") for item, status in predicted.items()
    }
    after = members(fresh_sb)
    for name, status in outcomes.items():
        assert (after[name][0] == "viewerUT") == (status == "changed")

    undo_plan = portal(fresh_sb, "journal", "undo", str(journal), "--json")
    assert undo_plan.returncode == 0, undo_plan.stderr
    assert members(fresh_sb) == after
    undone = portal(
        fresh_sb,
        "journal",
        "undo",
        str(journal),
        "--apply",
        "--journal",
        str(tmp_path / "undo.jsonl"),
    )
    assert undone.returncode == 0, undone.stderr
    assert members(fresh_sb) == before


def test_set_role_from_a_file_with_exclusions(fresh_sb: gislicense.Sandbox, tmp_path: Path) -> None:
    before = members(fresh_sb)
    users = [n for n, (t, role) in before.items() if role == "org_user" and t == "creatorUT"][:4]
    names = tmp_path / "names.txt"
    names.write_text("# members to make publishers\n" + "\n".join(users) + "\n")
    result = portal(
        fresh_sb,
        "users",
        "set-role",
        "--users-file",
        str(names),
        "--exclude",
        users[0],
        "--to",
        "publisher",
        "--apply",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert [r["item"] for r in json.loads(result.stdout)] == users[1:]
    after = members(fresh_sb)
    assert after[users[0]] == before[users[0]]
    assert all(after[n][1] == "org_publisher" for n in users[1:])


def test_naming_and_selecting_together_is_refused(sb: gislicense.Sandbox) -> None:
    result = portal(sb, "users", "set-type", "aanderson", "--from", "creator", "--to", "viewer")
    assert result.returncode == 2
    assert "not both" in result.stderr
    nothing = portal(sb, "users", "set-type", "--to", "viewer")
    assert nothing.returncode == 2
    assert "--idle-days" in nothing.stderr


def test_demoting_the_signed_in_administrator_needs_asking(sb: gislicense.Sandbox) -> None:
    before = members(sb)
    result = portal(
        sb, "users", "set-role", sb.admin_username, "--to", "viewer", "--apply", "--json"
    )
    assert result.returncode == 1
    row = json.loads(result.stdout)[0]
    assert row["status"] == "failed"
    assert "--allow-admin-demotion" in row["reason"] or "--allow-admin-demotion" in result.stderr
    assert members(sb) == before


# --- licenses ------------------------------------------------------------------------------


def test_licenses_list_report_and_offline(sb: gislicense.Sandbox) -> None:
    listed = json.loads(portal(sb, "licenses", "list", "--json").stdout)
    assert "ArcGIS Pro" in {r["license"] for r in listed}
    report = json.loads(portal(sb, "licenses", "report", "--license", "pro", "--json").stdout)
    assert report and all(r["total"] == r["assigned"] + r["remaining"] for r in report)
    offline = json.loads(portal(sb, "licenses", "offline", "--license", "pro", "--json").stdout)
    assert len(offline) == 5


def test_release_all_offline_licenses(fresh_sb: gislicense.Sandbox, tmp_path: Path) -> None:
    planned = portal(fresh_sb, "licenses", "release", "--all", "--json")
    assert planned.returncode == 0, planned.stderr
    assert [r["status"] for r in json.loads(planned.stdout)] == ["would_release"] * 5
    offline = json.loads(
        portal(fresh_sb, "licenses", "offline", "--license", "pro", "--json").stdout
    )
    assert len(offline) == 5
    applied = portal(fresh_sb, "licenses", "release", "--all", "--apply", "--json")
    assert [r["status"] for r in json.loads(applied.stdout)] == ["released"] * 5
    offline = json.loads(
        portal(fresh_sb, "licenses", "offline", "--license", "pro", "--json").stdout
    )
    assert offline == []


def test_assign_and_revoke_entitlements(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    pro = gis.admin.license.get("pro")
    holders = {u.username for u in pro.users()}
    creators = [
        u.username for u in gis.users.search(user_type="creatorUT") if u.username not in holders
    ][:3]
    assign = portal(
        fresh_sb, "licenses", "assign", *creators, "-e", "desktopBasicN", "--apply", "--json"
    )
    assert assign.returncode == 0, assign.stderr
    assert {n: pro.user_entitlement(n).entitlements for n in creators} == {
        n: ["desktopBasicN"] for n in creators
    }
    revoke = portal(fresh_sb, "licenses", "revoke", *creators, "--apply", "--json")
    assert revoke.returncode == 0, revoke.stderr
    assert all(pro.user_entitlement(n) is None for n in creators)


# --- saved plans, journals, interruption ---------------------------------------------------


def test_a_saved_plan_is_shown_without_a_server_and_applied_later(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    names = [n for n, (t, _) in members(fresh_sb).items() if t != "creatorUT"][:3]
    made = portal(
        fresh_sb, "users", "set-type", *names, "--to", "creator", "--save-plan", str(saved)
    )
    assert made.returncode == 0, made.stderr
    shown = gislicense_command("plan", "show", str(saved), "--json")
    assert shown.returncode == 0, shown.stderr
    assert [r["status"] for r in json.loads(shown.stdout)] == ["would_change"] * 3
    # The plan knows its portal: signing in is all that is left to give.
    applied = gislicense_command(
        "plan",
        "apply",
        str(saved),
        "--username",
        fresh_sb.admin_username,
        "--ca-bundle",
        str(fresh_sb.ca_file),
        "--apply",
        "--json",
        password=fresh_sb.admin_password,
    )
    assert applied.returncode == 0, applied.stderr
    assert all(members(fresh_sb)[n][0] == "creatorUT" for n in names)
    not_a_plan = tmp_path / "x.json"
    not_a_plan.write_text("[1, 2]")
    assert gislicense_command("plan", "show", str(not_a_plan)).returncode == 2


def test_ctrl_c_exits_130_and_resume_finishes(tmp_path: Path) -> None:
    with gislicense.Sandbox(portal_members=2_000, portal_offline=0, sessions=10) as sb:
        sb.set_seats("creatorUT", 100_000)
        before = members(sb)
        names = [n for n, (t, _) in before.items() if t != "creatorUT" and n != sb.admin_username][
            :1_000
        ]
        names_file = tmp_path / "names.txt"
        names_file.write_text("\n".join(names))
        journal = tmp_path / "run.jsonl"
        sb.latency = 0.05
        env = {**os.environ, "GISLICENSE_PASSWORD": sb.admin_password}
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gislicense",
                "users",
                "set-type",
                "--users-file",
                str(names_file),
                "--to",
                "creator",
                "--apply",
                "--journal",
                str(journal),
                "--concurrency",
                "1",
                *portal_args(sb),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not journal.exists() or '"event":"result"' not in journal.read_text()
        ):
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 130, err
        assert "journal resume" in err
        sb.latency = 0.0
        shown = gislicense_command("journal", "show", str(journal))
        assert "interrupted" in shown.stderr
        resumed = gislicense_command(
            "journal",
            "resume",
            str(journal),
            "--apply",
            "--username",
            sb.admin_username,
            "--ca-bundle",
            str(sb.ca_file),
            password=sb.admin_password,
        )
        assert resumed.returncode == 0, resumed.stderr
        after = members(sb)
        assert all(after[n][0] == "creatorUT" for n in names)
        finished = gislicense_command("journal", "show", str(journal), "--json")
        assert "finished" in finished.stderr


def test_the_readme_first_command_runs_the_installed_command() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    first = readme.split("```bash\n", 1)[1].split("\n```", 1)[0]
    install, _, command = first.partition(" && ")
    assert install == "pip install ."
    program, *args = command.split()
    assert program == "gislicense"
    # The console script pip installed beside this Python.
    script = Path(sys.executable).parent / ("gislicense.exe" if os.name == "nt" else "gislicense")
    assert script.exists(), f"{script}: the package's console script is not installed"
    result = subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    # --closable leaves out the workstations without an OpenLM Agent: every close goes through.
    assert result.returncode == 0, result.stderr
    assert "closed" in result.stdout and "failed" not in result.stdout
    assert "Journal:" in result.stderr


def test_closable_sessions_only(fresh_sb: gislicense.Sandbox) -> None:
    every = OpenLM(fresh_sb.openlm_url).get_active_products(feature="Editor")
    assert any(not s.closable for s in every)
    listed = gislicense_command("sessions", "list", "--url", fresh_sb.openlm_url, "--feature",
                                "Editor", "--closable", "--json")  # fmt: skip
    rows = json.loads(listed.stdout)
    assert len(rows) == sum(s.closable for s in every) and all(r["closable"] for r in rows)
    closing = gislicense_command("sessions", "close", "--url", fresh_sb.openlm_url, "--feature",
                                 "Editor", "--closable", "--apply", "--json")  # fmt: skip
    assert closing.returncode == 0, closing.stderr
    assert {r["status"] for r in json.loads(closing.stdout)} == {"closed"}


def test_a_plain_http_portal_speaks_of_the_insecure_http_option() -> None:
    with gislicense.Sandbox(sessions=10, portal_members=20, portal_tls=False) as sb:
        args = ["users", "list", "--url", sb.portal_url, "-u", sb.admin_username, "--json"]
        refused = gislicense_command(*args, password=sb.admin_password)
        assert refused.returncode == 2
        assert "--insecure-http" in refused.stderr
        assert "allow_insecure_http" not in refused.stderr
        accepted = gislicense_command(*args, "--insecure-http", password=sb.admin_password)
        assert accepted.returncode == 0, accepted.stderr
        assert len(json.loads(accepted.stdout)) == 20


def test_every_session_filter_matches_the_library(sb: gislicense.Sandbox) -> None:
    every = OpenLM(sb.openlm_url).get_active_products()
    sample = every[0]

    def listed(*args: str) -> list[tuple[str, str, str]]:
        result = gislicense_command("sessions", "list", "--url", sb.openlm_url, "--json", *args)
        assert result.returncode == 0, result.stderr
        return sorted(
            (r["username"], r["workstation"], r["feature"]) for r in json.loads(result.stdout)
        )

    def expected(keep: Any) -> list[tuple[str, str, str]]:
        return sorted((s.username, s.workstation, s.feature) for s in every if keep(s))

    assert listed("--user", sample.username.upper()) == expected(
        lambda s: s.username.casefold() == sample.username.casefold()
    )
    assert listed("--workstation", sample.workstation) == expected(
        lambda s: s.workstation == sample.workstation
    )
    assert listed("--server", str(sample.server)) == expected(lambda s: s.server == sample.server)
    assert listed("--vendor", "arcgis", "--feature", "Editor", "--feature", "Viewer") == expected(
        lambda s: s.vendor == "ARCGIS" and s.feature in ("Editor", "Viewer")
    )
    assert listed("--exclude", sample.workstation) == expected(
        lambda s: s.workstation != sample.workstation
    )


def test_quiet_and_verbose(sb: gislicense.Sandbox) -> None:
    quiet = gislicense_command("sessions", "list", "--url", sb.openlm_url, "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    verbose = gislicense_command("sessions", "list", "--url", sb.openlm_url, "-vv")
    assert verbose.returncode == 0
    lines = verbose.stderr.splitlines()
    assert any(line.startswith("gislicense: DEBUG: POST ") for line in lines), lines
    # Only gislicense's own lines, not those of the libraries underneath.
    assert not any("certs" in line for line in lines), lines
    info = gislicense_command("sessions", "list", "--url", sb.openlm_url, "-v")
    assert "DEBUG" not in info.stderr


def test_release_named_members_and_names_from_stdin(fresh_sb: gislicense.Sandbox) -> None:
    offline = [u["username"] for u in fresh_sb.portal_users() if u["proOffline"]]
    assert len(offline) == 5
    names = "\n".join([*offline[:2], "nobody-here"]) + "\n"
    environment = {**os.environ, "GISLICENSE_PASSWORD": fresh_sb.admin_password}
    result = subprocess.run(
        [sys.executable, "-m", "gislicense", "licenses", "release", "--users-file", "-",
         "--app", "pro", "--apply", "--json", *portal_args(fresh_sb)],
        input=names, capture_output=True, text=True, env=environment, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # the unknown member failed
    statuses = [(r["item"], r["status"]) for r in json.loads(result.stdout)]
    assert statuses == [(offline[0], "released"), (offline[1], "released"),
                        ("nobody-here", "failed")]  # fmt: skip
    still = json.loads(portal(fresh_sb, "licenses", "offline", "--license", "pro", "--json").stdout)
    assert sorted(r["username"] for r in still) == sorted(offline[2:])
    unknown_app = portal(fresh_sb, "licenses", "release", offline[2], "--app", "photoshop")
    assert unknown_app.returncode == 2


def test_set_role_from_a_role_and_assign_adding(fresh_sb: gislicense.Sandbox) -> None:
    before = members(fresh_sb)
    publishers = sorted(n for n, (_, role) in before.items() if role == "org_publisher")
    planned = portal(fresh_sb, "users", "set-role", "--from", "publisher",
                     "--exclude", publishers[0], "--to", "user", "--json")  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    assert sorted(r["item"] for r in json.loads(planned.stdout)) == publishers[1:]
    assert members(fresh_sb) == before

    gis = admin_of(fresh_sb)
    pro = gis.admin.license.get("pro")
    held = next(u for u in pro.users() if u.entitlements and not u.disconnected)
    added = portal(fresh_sb, "licenses", "assign", held.username, "-e", "spatialAnalystN", "--add",
                   "--apply")  # fmt: skip
    assert added.returncode == 0, added.stderr
    after = pro.user_entitlement(held.username)
    assert after is not None
    assert sorted(after.entitlements) == sorted({*held.entitlements, "spatialAnalystN"})


def test_what_a_first_probe_found(fresh_sb: gislicense.Sandbox, tmp_path: Path) -> None:
    # A portal password in the environment does not stop an OpenLM command without a login.
    listed = gislicense_command("sessions", "list", "--url", fresh_sb.openlm_url, "--json",
                                password="a-portal-password")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    # A plan that cannot be saved is an error in words.
    unsaved = portal(fresh_sb, "users", "set-role", "aanderson", "--to", "user", "--save-plan",
                     str(tmp_path / "no" / "such" / "dir" / "plan.json"))  # fmt: skip
    assert unsaved.returncode == 2 and "cannot write the plan" in unsaved.stderr
    assert "Traceback" not in unsaved.stderr
    # Undoing closes sends nothing and says who was closed.
    journal = tmp_path / "close.jsonl"
    closed = gislicense_command(
        "sessions", "close", "--url", fresh_sb.openlm_url, "--feature", "Editor", "--apply",
        "--journal", str(journal), "--json",
    )  # fmt: skip
    closed_rows = [r for r in json.loads(closed.stdout) if r["status"] == "closed"]
    undo = gislicense_command("journal", "undo", str(journal), "--json")
    assert undo.returncode == 0, undo.stderr
    assert [r["item"] for r in json.loads(undo.stdout)] == [r["item"] for r in closed_rows]
    assert {r["status"] for r in json.loads(undo.stdout)} == {"skipped"}
    # Naming and --all together, an empty file, and comments after names.
    both = portal(fresh_sb, "licenses", "release", "aanderson", "--all")
    assert both.returncode == 2 and "not both" in both.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nobody yet\n\n")
    assert "names no one" in portal(fresh_sb, "users", "set-type", "--users-file", str(empty),
                                    "--to", "viewer").stderr  # fmt: skip
    commented = tmp_path / "names.txt"
    commented.write_text("aanderson   # the GIS lead\n")
    planned = portal(fresh_sb, "users", "set-role", "--users-file", str(commented), "--to", "user",
                     "--json")  # fmt: skip
    assert [r["item"] for r in json.loads(planned.stdout)] == ["aanderson"]


def test_an_untrusted_portal_says_so_once_and_in_words(sb: gislicense.Sandbox) -> None:
    result = gislicense_command("users", "list", "--url", sb.portal_url, "-u",
                                sb.admin_username, password=sb.admin_password)  # fmt: skip
    assert result.returncode == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines  # no line from the TLS library underneath
    assert "--ca-bundle" in lines[0] and "already given" not in lines[0]


def test_sessions_close_reports_an_agent_that_never_acts_as_unknown(tmp_path: Path) -> None:
    with gislicense.Sandbox(sessions=30, portal_members=20) as sb:
        first = sb.openlm_sessions()[0]
        # Every Agent installed and none acting: closes are acknowledged, and stay open.
        for session in sb.openlm_sessions():
            sb.set_agent(session["workstation"], installed=True, acts=False)
        applied = gislicense_command(
            "sessions",
            "close",
            "--url",
            sb.openlm_url,
            "--workstation",
            first["workstation"],
            "--apply",
            "--close-wait",
            "0.5",
            "--journal",
            str(tmp_path / "close.jsonl"),
            "--json",
        )
        rows = json.loads(applied.stdout)
        assert rows and {r["status"] for r in rows} == {"unknown"}, applied.stderr
        assert all("has not closed the application" in r["reason"] for r in rows)
        assert applied.returncode != 0
        still = [s for s in sb.openlm_sessions() if s["workstation"] == first["workstation"]]
        assert len(still) == len(rows)


# --- plans and reports as rows a script can use ----------------------------------------------


def test_close_rows_carry_each_session_in_json_and_csv(sb: gislicense.Sandbox) -> None:
    listed = gislicense_command(
        "sessions", "list", "--url", sb.openlm_url, "--feature", "Editor", "--json"
    )
    fields = ("username", "workstation", "feature", "server", "vendor")
    sessions = [tuple(r[f] for f in fields) for r in json.loads(listed.stdout)]
    planned = gislicense_command(
        "sessions", "close", "--url", sb.openlm_url, "--feature", "Editor", "--json"
    )
    rows = json.loads(planned.stdout)
    assert [tuple(r[f] for f in fields) for r in rows] == sessions
    closing = next(r for r in rows if r["status"] == "would_close")
    assert closing["steps"] == [{"action": "close", "description": f"close {closing['item']}"}]
    as_csv = gislicense_command(
        "sessions", "close", "--url", sb.openlm_url, "--feature", "Editor", "--csv"
    )
    read = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [tuple(r[f] for f in fields) for r in read] == sessions
    assert read[rows.index(closing)]["steps"] == f"close {closing['item']}"
    # The table a person reads names the session by its fields, not one long sentence.
    table = gislicense_command("sessions", "close", "--url", sb.openlm_url, "--feature", "Editor")
    header = table.stdout.splitlines()[0].split()
    assert header[:3] == ["username", "workstation", "feature"]


def test_member_rows_carry_each_change_in_json_and_csv(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    select = ["users", "set-type", "--from", "creator", "--idle-days", "60"]
    change = [*select, "--to", "viewer", "--role", "auto"]
    rows = json.loads(portal(fresh_sb, *change, "--json").stdout)
    moving = [r for r in rows if r["status"] == "would_change"]
    assert moving and all(r["username"] == r["item"] for r in rows)
    for row in moving:
        assert (row["user_type_from"], row["user_type_to"]) == ("Creator", "Viewer")
        assert (row["user_type_from_id"], row["user_type_to_id"]) == ("creatorUT", "viewerUT")
        assert row["role_to"] == "Viewer" and row["role_to_id"] == "iAAAAAAAAAAAAAAA"
        actions = [(s["action"], s["from"], s["to"]) for s in row["steps"]]
        assert actions[-1] == ("user_type", "Creator", "Viewer")
    as_csv = list(csv.DictReader(io.StringIO(portal(fresh_sb, *change, "--csv").stdout)))
    assert [r["username"] for r in as_csv] == [r["username"] for r in rows]
    first = as_csv[rows.index(moving[0])]
    assert first["user_type_to"] == "Viewer" and first["role_to_id"] == "iAAAAAAAAAAAAAAA"
    assert first["steps"].endswith("user type Creator → Viewer")

    journal = tmp_path / "viewer.jsonl"
    applied = portal(fresh_sb, *change, "--apply", "--journal", str(journal), "--json")
    done = {r["username"]: r for r in json.loads(applied.stdout)}
    changed = done[moving[0]["username"]]
    assert changed["status"] == "changed" and changed["user_type_to"] == "Viewer"
    assert [s["status"] for s in changed["steps"]] == ["changed"] * len(moving[0]["steps"])
    assert [s["description"] for s in changed["steps"]] == [
        s["description"] for s in moving[0]["steps"]
    ]
