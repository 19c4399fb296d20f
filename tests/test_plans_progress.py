"""Progress while applying: a hook called with (done, total) as items finish, in the waiting
thread or on the event loop, for progress bars, ArcGIS Pro's progressor and the command."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers.sandbox import admin_of

import gislicense


def organization() -> gislicense.Sandbox:
    sb = gislicense.Sandbox(portal_members=600, portal_offline=0, sessions=10)
    sb.set_seats("creatorUT", 10_000)
    return sb


def not_creators(sb: gislicense.Sandbox) -> list[str]:
    return [
        u["username"]
        for u in sb.portal_users()
        if u["userLicenseTypeId"] != "creatorUT" and u["username"] != sb.admin_username
    ]


def counted(calls: list[tuple[int, int]], total: int) -> None:
    """Each call a new count, never going back, the last one all done."""
    assert len(calls) >= 3, calls
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(set(done))
    assert calls[-1] == (total, total)


def test_progress_is_reported_in_the_waiting_thread() -> None:
    with organization() as sb:
        gis = admin_of(sb)
        names = [*not_creators(sb), "nobody-here"]
        plan = gis.users.plan_license_type(names, "creator")
        sb.latency = 0.02
        calls: list[tuple[int, int]] = []
        threads = set()

        def progress(done: int, total: int) -> None:
            calls.append((done, total))
            threads.add(threading.get_ident())

        report = plan.apply(journal=False, batch_size=5, concurrency=2, progress=progress)
        assert report.counts() == {"changed": len(names) - 1, "failed": 1}
        counted(calls, len(names))
        assert threads == {threading.get_ident()}


async def test_progress_is_reported_on_the_event_loop() -> None:
    with organization() as sb:
        gis = admin_of(sb)
        names = not_creators(sb)
        plan = await gis.users.plan_license_type_async(names, "creator")
        sb.latency = 0.02
        calls: list[tuple[int, int]] = []
        report = await plan.apply_async(
            journal=False, batch_size=5, concurrency=2, progress=lambda d, t: calls.append((d, t))
        )
        assert report.counts() == {"changed": len(names)}
        counted(calls, len(names))


def test_a_progress_hook_that_raises_stops_the_apply(tmp_path: Path) -> None:
    with organization() as sb:
        gis = admin_of(sb)
        names = not_creators(sb)
        plan = gis.users.plan_license_type(names, "creator")
        sb.latency = 0.02

        class Cancelled(Exception):
            pass

        def progress(done: int, total: int) -> None:
            if done:
                raise Cancelled  # the progressor's Cancel button

        journal = tmp_path / "run.jsonl"
        with pytest.raises(Cancelled):
            plan.apply(journal=journal, batch_size=5, concurrency=2, progress=progress)
        sb.latency = 0.0
        changed = {
            u["username"] for u in sb.portal_users() if u["userLicenseTypeId"] == "creatorUT"
        }
        moved = changed & set(names)
        assert 0 < len(moved) < len(names)
        # The journal accounts for every member that changed.
        unfinished = gislicense.plans.Journal(journal)
        assert not unfinished.finished
        done = {o.item for o in unfinished.report if o.status == "changed"}
        assert moved <= done | set(unfinished.unfinished)


def test_the_command_counts_on_a_terminal(tmp_path: Path) -> None:
    with organization() as sb:
        names = tmp_path / "names.txt"
        names.write_text("\n".join(not_creators(sb)))
        sb.latency = 0.02
        # stderr is a terminal (a pseudo-terminal here): the command counts there.
        leader, follower = pty.openpty()
        result = subprocess.run(
            [sys.executable, "-m", "gislicense", "users", "set-type", "--users-file",
             str(names), "--to", "creator", "--apply", "--concurrency", "2", "--json",
             "--url", sb.portal_url, "-u", sb.admin_username, "--ca-bundle", str(sb.ca_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, text=True,
            env={**os.environ, "GISLICENSE_PASSWORD": sb.admin_password}, timeout=120,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        os.close(leader)
        assert result.returncode == 0, shown.decode()
        total = len(names.read_text().split())
        assert f"applying: {total:,} of {total:,} items" in shown.decode()
        assert "applying:" not in result.stdout  # the JSON stays clean


def test_the_one_shot_calls_take_progress_too(monkeypatch: pytest.MonkeyPatch) -> None:
    with organization() as sb:
        gis = admin_of(sb)
        names = not_creators(sb)
        sb.latency = 0.02
        calls: list[tuple[int, int]] = []
        report = gis.users.update_license_type(
            names, "creator", batch_size=5, concurrency=2, journal=False,
            progress=lambda d, t: calls.append((d, t)),
        )  # fmt: skip
        assert report.counts() == {"changed": len(names)}
        counted(calls, len(names))
        with pytest.raises(gislicense.InvalidInputError, match="progress"):
            gis.users.update_license_type(names, "viewer", progress="yes")  # type: ignore[arg-type]


def test_progress_true_uses_tqdm_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    bars: list[Bar] = []

    class Bar:
        def __init__(self, total: int, **_: object) -> None:
            self.total, self.n, self.closed = total, 0, False
            bars.append(self)

        def update(self, by: int) -> None:
            self.n += by

        def close(self) -> None:
            self.closed = True

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = Bar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    with organization() as sb:
        gis = admin_of(sb)
        names = not_creators(sb)
        gis.users.update_license_type(names, "creator", journal=False, progress=True)
        assert len(bars) == 1
        assert (bars[0].total, bars[0].n, bars[0].closed) == (len(names), len(names), True)


def test_progress_true_without_tqdm_counts_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # not installed
    with organization() as sb:
        gis = admin_of(sb)
        names = not_creators(sb)
        gis.users.update_license_type(names, "creator", journal=False, progress=True)
    err = capsys.readouterr().err
    assert f"applying: {len(names):,} of {len(names):,} items" in err
    # In a script (nobody watching), the default shows nothing.
    with organization() as sb:
        gis = admin_of(sb)
        gis.users.update_license_type(not_creators(sb), "creator", journal=False)
    assert "applying" not in capsys.readouterr().err
