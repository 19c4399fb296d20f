"""Plans and journals that cannot lie, in the corner cases a hostile tester found: a saved plan
applied after members moved, a resume that meets a failing read, a journal cut short by a
crash, two runs of one journal at once, a full disk, a member who is not an administrator, an
over-committed license."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS, InvalidInputError, JournalError
from gislicense.plans import Journal, Plan


@pytest.fixture
def sb(new_sandbox: Callable[..., gislicense.Sandbox]) -> gislicense.Sandbox:
    """Each test's own sandbox (its runs change members), with seats enough for any change."""
    sandbox = new_sandbox(portal_members=120, seed=3)
    for user_type in ("viewerUT", "editorUT", "creatorUT"):
        sandbox.set_seats(user_type, 1_000)
    return sandbox


def of_type(sb: gislicense.Sandbox, user_type: str, role: str = "org_user") -> list[str]:
    return [
        u["username"]
        for u in sb.portal_users()
        if u["userLicenseTypeId"] == user_type and u["role"] == role
    ]


def state(sb: gislicense.Sandbox) -> dict[str, tuple[str, str]]:
    return {u["username"]: (u["userLicenseTypeId"], u["roleId"]) for u in sb.portal_users()}


def records(journal: Path, event: str) -> list[dict[str, Any]]:
    """The journal's records of ``event``; a last line cut short (a full disk) is left out."""
    text = journal.read_text()
    lines = text.splitlines()
    if not text.endswith("\n"):
        lines = lines[:-1]
    read = [json.loads(line) for line in lines if line.strip()]
    return [r for r in read if r["event"] == event]


def cli(*args: str, password: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env, "GISLICENSE_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-m", "gislicense", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        timeout=120,
    )


def portal_args(sb: gislicense.Sandbox) -> list[str]:
    return ["--url", sb.portal_url, "--username", sb.admin_username, "--ca-bundle", str(sb.ca_file)]


# --- 1. A saved plan is re-checked before it is applied ---------------------------------------


def test_a_saved_plan_rechecks_members_and_journals_what_was_there(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    creators = of_type(sb, "creatorUT")[:6]
    saved = gis.users.plan_license_type(creators, "contributor").save(tmp_path / "plan.json")
    assert all(i.status == "would_change" for i in Plan.load(saved))
    # Since planning: two went to Viewer (a seat of its own), one is a Contributor already.
    moved, done = creators[:2], creators[2]
    for name in moved:
        gis.users.get(name).update_role("viewer")
        gis.users.get(name).update_license_type("viewer")
    gis.users.get(done).update_license_type("contributor")
    before = state(sb)
    sb.clear_requests()

    report = Plan.load(saved, gis).apply(journal=tmp_path / "run.jsonl")
    assert [o.status for o in report] == ["skipped", "skipped", "unchanged"] + ["changed"] * 3
    assert "their user type is now Viewer, not Creator" in (report[0].reason or "")
    assert "since planning" in (report[2].reason or "")
    # Nothing was sent for the moved ones: they are still Viewers.
    for name in moved:
        assert state(sb)[name] == before[name]
    sent = [v for r in sb.requests(operation="updateUserLicenseType") for _, v in r.params]
    assert not any(name in value for value in sent for name in moved)
    # The journal's "before" is what was read just before the change.
    results = records(tmp_path / "run.jsonl", "result")
    assert {r["item"] for r in results} == set(creators[3:])
    assert {r["before"] for r in results} == {"creatorUT"}
    # Undo makes nobody a Creator who was not one.
    Plan.undo(tmp_path / "run.jsonl", gis).apply(journal=tmp_path / "undo.jsonl")
    assert state(sb) == before


def test_a_plan_part_done_meanwhile_sends_only_what_is_left(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    publishers = of_type(sb, "creatorUT", "org_publisher")[:2]
    plan = gis.users.plan_license_type(publishers, "viewer", roles="auto")
    assert [s["action"] for s in plan.items[0].steps] == ["role", "user_type"]
    # Someone gave the first the Viewer role already: only the user type is left to do.
    gis.users.get(publishers[0]).update_role("viewer")
    report = plan.apply(journal=tmp_path / "run.jsonl")
    assert report.counts() == {"changed": 2}
    assert [s.item for s in report[0].steps] == ["user_type"]
    assert [s.item for s in report[1].steps] == ["role", "user_type"]
    roles = [r for r in records(tmp_path / "run.jsonl", "result") if r["step"] == "role"]
    assert [r["item"] for r in roles] == [publishers[1]]


def test_a_plan_the_portal_would_now_refuse_fails_before_sending(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    contributors = of_type(sb, "editorUT")[:3]
    plan = gis.users.plan_license_type(contributors, "creator")
    assert plan.counts() == {"would_change": 3}
    # Since planning the Creator seats ran out.
    taken = sum(1 for u in sb.portal_users() if u["userLicenseTypeId"] == "creatorUT")
    sb.set_seats("creatorUT", taken)
    sb.clear_requests()
    report = plan.apply(journal=tmp_path / "run.jsonl")
    assert report.counts() == {"failed": 3}
    assert "no seat left" in (report[0].reason or "")
    assert "since planning" in (report[0].reason or "")
    assert not sb.requests(operation="updateUserLicenseType")


def test_the_command_line_rechecks_a_saved_plan(sb: gislicense.Sandbox, tmp_path: Path) -> None:
    gis = admin_of(sb)
    creators = of_type(sb, "creatorUT")[:3]
    saved = tmp_path / "plan.json"
    gis.users.plan_license_type(creators, "contributor").save(saved)
    gis.users.get(creators[0]).update_role("viewer")
    gis.users.get(creators[0]).update_license_type("viewer")
    result = cli(
        "plan",
        "apply",
        str(saved),
        "--apply",
        "--journal",
        str(tmp_path / "j.jsonl"),
        *portal_args(sb),
        password=sb.admin_password,
    )
    assert result.returncode == 0, result.stderr
    assert "now Viewer, not Creator" in result.stdout
    assert state(sb)[creators[0]][0] == "viewerUT"


# --- 2. A failing read leaves items unfinished; reads retry 5xx envelopes ---------------------


def interrupted_run(sb: gislicense.Sandbox, gis: GIS, journal: Path, names: list[str]) -> None:
    """Apply a change and stop it after its first items, as Ctrl-C or a cancel button does."""

    def stop(done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt

    plan = gis.users.plan_license_type(names, "contributor")
    sb.latency = 0.1  # slow enough for the hook to run before the last batch
    try:
        with pytest.raises(KeyboardInterrupt):
            plan.apply(journal=journal, batch_size=2, concurrency=1, progress=stop)
    finally:
        sb.latency = 0.0
    assert Journal(journal).unfinished


def test_one_error_reply_on_the_member_listing_is_read_again(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    creators = of_type(sb, "creatorUT")[:4]
    sb.fail_next("error", 1, operation="users")
    plan = gis.users.plan_license_type(creators, "contributor")
    assert plan.counts() == {"would_change": 4}
    assert any(r.fault == "error" for r in sb.requests(operation="users"))


def test_a_resume_that_cannot_read_the_members_leaves_them_unfinished(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    journal = tmp_path / "run.jsonl"
    creators = of_type(sb, "creatorUT")[:8]
    interrupted_run(sb, gis, journal, creators)
    left = len(Journal(journal).unfinished)
    # The listing keeps failing during the resume: nothing is predicted, nothing sent.
    sb.fail_next("error", 50, operation="users")
    result = cli(
        "journal", "resume", str(journal), "--apply", *portal_args(sb), password=sb.admin_password
    )
    sb.clear_faults()
    assert result.returncode == 1, result.stderr
    assert "cannot predict" in result.stdout
    read = Journal(journal)
    assert not read.finished
    assert len(read.unfinished) == left
    # A second resume, with the portal well again, finishes the run.
    again = cli(
        "journal", "resume", str(journal), "--apply", *portal_args(sb), password=sb.admin_password
    )
    assert again.returncode == 0, again.stderr
    done = Journal(journal)
    assert done.finished and done.report.counts() == {"changed": 8}
    assert all(state(sb)[n][0] == "editorUT" for n in creators)


def test_an_item_interrupted_part_way_reads_unknown_with_its_steps(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    journal = tmp_path / "run.jsonl"
    publishers = of_type(sb, "creatorUT", "org_publisher")[:3]
    gis.users.plan_license_type(publishers, "viewer", roles="auto").apply(journal=journal)
    # As a run killed between the role wave and the user type wave leaves it.
    lines = journal.read_text().splitlines()
    kept = [line for line in lines if '"step":"user_type"' not in line and '"end"' not in line]
    journal.write_text("\n".join(kept) + "\n")
    for name in publishers:  # the portal as that run would have left it
        gis.users.get(name).update_license_type("creator")
    read = Journal(journal)
    assert [o.status for o in read.report] == ["unknown"] * 3
    assert "interrupted part way" in (read.report[0].reason or "")
    assert "role" in (read.report[0].reason or "") and "not sent: user type" in (
        read.report[0].reason or ""
    )
    assert len(read.unfinished) == 3
    # The resume finishes them.
    Plan.resume(journal, gis).apply(journal=journal)
    assert Journal(journal).report.counts() == {"changed": 3}
    assert all(state(sb)[n][0] == "viewerUT" for n in publishers)


def test_a_member_who_is_not_an_administrator_fails_with_exit_1(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    target = of_type(sb, "creatorUT")[0]
    result = cli(
        "users",
        "set-type",
        target,
        "--to",
        "viewer",
        "--apply",
        "--journal",
        str(tmp_path / "j.jsonl"),
        "--url",
        sb.portal_url,
        "--username",
        sb.user_username,
        "--ca-bundle",
        str(sb.ca_file),
        password=sb.user_password,
    )
    assert result.returncode == 1, result.stderr
    assert "failed" in result.stdout and "administrator" in result.stdout
    assert state(sb)[target][0] == "creatorUT"


# --- 3. A journal cut short by a crash stays readable -----------------------------------------


def test_resuming_a_journal_whose_last_line_was_cut_short(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    journal = tmp_path / "run.jsonl"
    creators = of_type(sb, "creatorUT")[:8]
    interrupted_run(sb, gis, journal, creators)
    # A crash in the middle of writing a line (a full disk, a killed process).
    text = journal.read_bytes()
    journal.write_bytes(text + b'{"event":"result","time_ms":17,"pla')
    Journal(journal)  # the cut line is ignored
    Plan.resume(journal, gis).apply(journal=journal)
    read = Journal(journal)
    assert read.finished and read.report.counts() == {"changed": 8}
    assert all(line.startswith('{"event":') for line in journal.read_text().splitlines())
    Plan.undo(journal, gis)  # readable by undo too


def test_a_journal_an_older_version_appended_to_a_cut_line_is_read(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    journal = tmp_path / "run.jsonl"
    creators = of_type(sb, "creatorUT")[:4]
    gis.users.plan_license_type(creators, "contributor").apply(journal=journal)
    lines = journal.read_text().splitlines()
    # The cut rest of a line, then a whole record on the same line.
    damaged = [*lines[:2], '{"event":"send","ti' + lines[2], *lines[3:]]
    journal.write_text("\n".join(damaged) + "\n")
    assert Journal(journal).report.counts() == {"changed": 4}


def test_a_journal_of_a_newer_format_is_refused(sb: gislicense.Sandbox, tmp_path: Path) -> None:
    gis = admin_of(sb)
    journal = tmp_path / "run.jsonl"
    gis.users.plan_license_type(of_type(sb, "creatorUT")[:2], "contributor").apply(journal=journal)
    lines = journal.read_text().splitlines()
    first = json.loads(lines[0])
    first["plan"]["format"] = 99
    journal.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    with pytest.raises(InvalidInputError, match="newer gislicense"):
        Journal(journal)
    with pytest.raises(InvalidInputError, match="newer gislicense"):
        Plan.resume(journal, gis)


# --- 4. One run at a time per journal ----------------------------------------------------------


async def test_two_resumes_of_one_journal_at_once_are_refused(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    import asyncio

    gis = admin_of(sb)
    journal = tmp_path / "run.jsonl"
    creators = of_type(sb, "creatorUT")[:12]
    interrupted_run(sb, gis, journal, creators)
    first = await Plan.resume_async(journal, gis)
    second = await Plan.resume_async(journal, admin_of(sb))
    sb.latency = 0.05
    results = await asyncio.gather(
        first.apply_async(journal=journal, concurrency=1),
        second.apply_async(journal=journal, concurrency=1),
        return_exceptions=True,
    )
    sb.latency = 0.0
    refused = [r for r in results if isinstance(r, JournalError)]
    assert len(refused) == 1, results
    assert "another run" in str(refused[0]) and "nothing was sent" in str(refused[0])
    assert Journal(journal).finished
    assert not Path(f"{journal}.lock").exists()


# --- 5. A full disk says what was sent and how to finish ---------------------------------------


def test_a_full_disk_stops_the_run_and_says_how_to_finish(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    if not hasattr(os, "setrlimit") and sys.platform == "win32":
        pytest.skip("file size limits are POSIX")
    import resource
    import signal

    gis = admin_of(sb)
    # Creator holds any role, and has seats for all: every one of them would change.
    offline = {u["username"] for u in sb.portal_users() if u["proOffline"]}
    names = [
        n
        for n, (t, _) in state(sb).items()
        if t != "creatorUT" and n != sb.admin_username and n not in offline
    ][:40]
    plan_file = tmp_path / "plan.json"
    planned = gis.users.plan_license_type(names, "creator")
    assert planned.counts() == {"would_change": 40}
    planned.save(plan_file)
    journal = tmp_path / "run.jsonl"
    # The disk fills after the plan line and the first batch's 25 "send" lines (about 190
    # bytes each), in the middle of its answers: the file may grow no further.
    plan_line = len(json.dumps(json.loads(plan_file.read_text()), separators=(",", ":"))) + 60
    limit = plan_line + 25 * 200 + 2_000

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    before = state(sb)
    environment = {**os.environ, "GISLICENSE_PASSWORD": sb.admin_password}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gislicense",
            "users",
            "set-type",
            *names,
            "--to",
            "creator",
            "--apply",
            "--journal",
            str(journal),
            "--concurrency",
            "1",
            *portal_args(sb),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        preexec_fn=small_disk,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "cannot write the journal" in result.stderr
    assert "File too large" in result.stderr
    assert "25 step(s) were sent" in result.stderr and "journal resume" in result.stderr
    changed = [n for n in names if state(sb)[n] != before[n]]
    assert len(changed) == 25
    # Every member changed is in the journal, as sent; nothing after the failure was sent.
    sent = {r["item"] for r in records(journal, "send")}
    assert set(changed) == sent
    # The answers it could not write read as unknown: never as not sent.
    statuses = [o.status for o in Journal(journal).report if o.item in sent]
    assert set(statuses) <= {"changed", "unknown"} and "unknown" in statuses
    # With room again, the resume finishes the run.
    again = cli(
        "journal", "resume", str(journal), "--apply", *portal_args(sb), password=sb.admin_password
    )
    assert again.returncode == 0, again.stderr
    assert Journal(journal).finished, again.stdout
    assert [n for n in names if state(sb)[n][0] != "creatorUT"] == [], again.stdout


# --- 6. Files holding organization data are the user's alone -----------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_journals_are_written_for_their_owner_only(sb: gislicense.Sandbox, tmp_path: Path) -> None:
    gis = admin_of(sb)
    journal = tmp_path / "new" / "folder" / "run.jsonl"
    gis.users.plan_license_type(of_type(sb, "creatorUT")[:2], "contributor").apply(journal=journal)
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


# --- 7. An over-committed license --------------------------------------------------------------


def test_an_over_committed_license_is_predicted_as_the_portal_refuses_it(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    pro = gis.admin.license.get("pro")
    creators = of_type(sb, "creatorUT")[:20]
    holders = {h.username for h in pro.users() if "desktopAdvN" in h.entitlements}
    sb.set_entitlement_seats("desktopAdvN", 1_000)
    sb.set_entitlement_seats("spatialAnalystN", 1_000)
    pro.assign([n for n in creators if n not in holders][:16], ["desktopAdvN"], overwrite=False)
    holding = [h.username for h in pro.users() if "desktopAdvN" in h.entitlements]
    # A renewal with fewer seats: more are assigned than bought.
    sb.set_entitlement_seats("desktopAdvN", len(holding) - 6)
    keeper = holding[0]
    plan = pro.plan_assign([keeper], ["desktopAdvN", "spatialAnalystN"])
    assert plan.counts() == {"failed": 1}
    assert "over-committed" in (plan.items[0].reason or "")
    report = plan.apply(journal=tmp_path / "run.jsonl")
    assert report.counts() == {"failed": 1}
    # Taking it away still goes through, as predicted.
    revoke = pro.plan_revoke([keeper], ["desktopAdvN"])
    assert revoke.counts() == {"would_revoke": 1}
    assert revoke.apply(journal=tmp_path / "revoke.jsonl").counts() == {"revoked": 1}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_plans_outputs_and_profiles_are_written_for_their_owner_only(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(sb)
    saved = gis.users.plan_license_type(of_type(sb, "creatorUT")[:2], "contributor").save(
        tmp_path / "plan.json"
    )
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    config = tmp_path / "config"
    env = {"XDG_CONFIG_HOME": str(config), "HOME": str(tmp_path)}
    listed = tmp_path / "members.csv"
    result = cli(
        "users",
        "list",
        "--csv",
        "--output",
        str(listed),
        *portal_args(sb),
        password=sb.admin_password,
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(listed.stat().st_mode) == 0o600
    added = cli(
        "profile",
        "add",
        "prod",
        "--url",
        sb.portal_url,
        "--username",
        "admin",
        password=sb.admin_password,
        **env,
    )
    assert added.returncode == 0, added.stderr
    profiles = next(config.rglob("profiles.ini"))
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600
    assert stat.S_IMODE(profiles.parent.stat().st_mode) == 0o700
