"""An apply cut short (Ctrl-C in a script, a cancelled task) leaves a journal that accounts for
every change the portal shows; resume finishes the rest and undo puts every member back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS
from gislicense.plans import Journal, Plan

COUNT = 5_000

# The client side of the Ctrl-C test: a script of its own, interrupted by SIGINT as a person
# pressing Ctrl-C interrupts it.
SCRIPT = """
import json, sys
from gislicense import GIS
url, user, password, ca, names, journal = sys.argv[1:]
gis = GIS(url, user, password, ca_bundle=ca)
plan = gis.users.plan_license_type(json.loads(open(names).read()), "creatorUT")
print("planned", plan.counts(), flush=True)
plan.apply(journal=journal, concurrency=2)
print("finished", flush=True)
"""


def organization(latency: float) -> gislicense.Sandbox:
    # Creator holds any role and has seats for everyone: every member named can change.
    sb = gislicense.Sandbox(portal_members=COUNT * 2, portal_offline=0, sessions=10)
    sb.set_seats("creatorUT", 100_000)
    sb.latency = latency
    return sb


def state(sb: gislicense.Sandbox) -> dict[str, tuple[str, str]]:
    return {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}


def not_creators(before: dict[str, tuple[str, str]], admin: str) -> list[str]:
    names = [n for n, (t, _) in before.items() if t != "creatorUT" and n != admin]
    assert len(names) >= COUNT
    return names[:COUNT]


def signed_in(sb: gislicense.Sandbox) -> tuple[GIS, dict[str, tuple[str, str]], list[str]]:
    """The administrator, the organization as it is, and the members to change."""
    gis = admin_of(sb)
    before = state(sb)
    return gis, before, not_creators(before, sb.admin_username)


def results_in(journal: Path) -> int:
    if not journal.exists():
        return 0
    return journal.read_text(encoding="utf-8").count('"event":"result"')


def wait_for_results(journal: Path, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while results_in(journal) < at_least:
        assert time.monotonic() < deadline, "the apply wrote no results in time"
        time.sleep(0.02)


def check_accounts_then_resume_and_undo(
    sb: gislicense.Sandbox,
    gis: GIS,
    journal: Path,
    names: list[str],
    before: dict[str, tuple[str, str]],
) -> None:
    read = Journal(journal)
    assert not read.finished, "the interrupt came after the end: nothing was tested"
    now = state(sb)
    changed = {n for n in names if now[n] != before[n]}
    assert changed, "nothing was changed before the interrupt"
    assert len(changed) < COUNT, "everything was changed before the interrupt"
    statuses = {o.item: o.status for o in read.report}
    assert len(statuses) == COUNT
    # Every member the portal shows changed is in the journal: changed, or sent with its
    # answer lost ("unknown"). No member the journal calls changed is unchanged.
    assert {n for n in changed if statuses[n] not in ("changed", "unknown")} == set()
    assert {n for n, s in statuses.items() if s == "changed"} <= changed
    assert set(read.unfinished) == {n for n, s in statuses.items() if s != "changed"}
    assert len(read.unfinished) == COUNT - sum(1 for s in statuses.values() if s == "changed")

    # Resume plans only what is left, from the state now, and finishes it, on a network
    # that drops and fails requests as the resume plans and applies (a resume that meets a
    # fault leaves what it could not do for the next).
    flaky = admin_of(sb, retries=5)
    sb.latency = 0.0
    resumed = Plan.resume(journal, flaky)
    assert len(resumed) == len(read.unfinished)
    rounds = under_faults(sb, journal, lambda: Plan.resume(journal, flaky))
    assert rounds[0] <= {"changed", "unchanged", "unknown", "failed"}
    now = state(sb)
    assert all(now[n][0] == "creatorUT" for n in names)
    # The journal, read back, now tells the whole run: every member changed, those whose
    # answer was lost at the interrupt too (the resume found them done).
    finished = Journal(journal)
    assert finished.finished
    assert finished.unfinished == []
    assert {o.status for o in finished.report} == {"changed"}
    landed = {i.item for i in resumed if i.status == "unchanged"}
    assert landed <= {n for n, s in statuses.items() if s == "unknown"}
    assert all("answer was lost" in (o.reason or "") for o in finished.report if o.item in landed)

    # Undo puts every member back exactly, role and user type; nobody else moved: under
    # faults too, resumed until nothing is left.
    undo_journal = journal.with_suffix(".undo.jsonl")
    undo = Plan.undo(journal, flaky)
    under_faults(
        sb,
        undo_journal,
        lambda: undo if not undo_journal.exists() else Plan.resume(undo_journal, flaky),
    )
    assert Journal(undo_journal).report.counts() == {"changed": len(names)}
    assert state(sb) == before


#: The faults of a flaky network: dropped connections, 503s, 500s, and error replies.
FAULTS = {"drop": 0.02, "http503": 0.02, "http500": 0.01, "error": 0.01}


def under_faults(sb: gislicense.Sandbox, journal: Path, make: Callable[[], Plan]) -> list[set[str]]:
    """Plan (make) and apply with the faults on, again and again, until the journal says
    nothing is left. The statuses of each round."""
    rounds = []
    for _ in range(10):
        sb.set_faults(**FAULTS)
        try:
            report = make().apply(journal=journal, concurrency=4)
        finally:
            sb.clear_faults()
        rounds.append(set(report.counts()))
        if Journal(journal).finished:
            return rounds
    raise AssertionError(f"ten rounds left the journal unfinished: {rounds}")


def test_ctrl_c_in_a_script_leaves_a_journal_that_resume_and_undo_complete(
    tmp_path: Path,
) -> None:
    with organization(latency=0.05) as sb:
        gis, before, names = signed_in(sb)
        names_file = tmp_path / "names.json"
        names_file.write_text(json.dumps(names))
        journal = tmp_path / "run.jsonl"
        args = [sb.portal_url, sb.admin_username, sb.admin_password, str(sb.ca_file)]
        child = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, *args, str(names_file), str(journal)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_results(journal, at_least=50)
            os.kill(child.pid, signal.SIGINT)
            out, err = child.communicate(timeout=60)
        finally:
            child.kill()
        time.sleep(0.3)  # a request already on the wire lands: what it changed must be journaled
        assert "KeyboardInterrupt" in err, (out, err)
        assert "finished" not in out
        assert child.returncode != 0
        check_accounts_then_resume_and_undo(sb, gis, journal, names, before)


async def test_a_cancelled_task_leaves_a_journal_that_resume_and_undo_complete(
    tmp_path: Path,
) -> None:
    with organization(latency=0.05) as sb:
        gis, before, names = signed_in(sb)
        journal = tmp_path / "run.jsonl"
        plan = await gis.users.plan_license_type_async(names, "creatorUT")
        task = asyncio.create_task(plan.apply_async(journal=journal, concurrency=2))
        while results_in(journal) < 50:
            assert not task.done()
            await asyncio.sleep(0.02)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the apply was not cancelled")
        # Give a request already on the wire the time to land: what it changed must be journaled.
        await asyncio.sleep(0.3)
        check_accounts_then_resume_and_undo(sb, gis, journal, names, before)
