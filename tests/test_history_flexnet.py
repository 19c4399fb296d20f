"""The usage history fed by the ArcGIS License Manager, with the real FlexNet client and
readers: polls of the sandbox's License Manager (sessions and issued counts), its debug
log, saved ``lmstat -a`` outputs, and ``gislicense usage`` doing the same."""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import gislicense
from gislicense import parse_lmgrd_log, parse_lmstat
from gislicense.cli import main
from gislicense.history import History
from gislicense.sandbox import LicenseManagerSandbox

GOLDEN = Path(__file__).parent / "golden" / "flexnet"


@pytest.fixture
def lm() -> Iterator[LicenseManagerSandbox]:
    with LicenseManagerSandbox(sessions=12, seed=3) as sandbox:
        yield sandbox


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with History(tmp_path / "h.sqlite") as h:
        yield h


def issued(h: History) -> dict[str, int]:
    return dict(h._db.execute("SELECT feature, count FROM issued"))


def test_a_poll_records_the_license_managers_sessions_and_issued_counts(
    lm: LicenseManagerSandbox, history: History
) -> None:
    flexnet = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path)
    status = flexnet.status()
    done = history.record(flexnet)
    assert done["kind"] == "flexnet" and done["source"] == lm.server == "27000@gislic01"
    assert done["sessions"] == len(status.sessions) > 0
    # FlexNet states what was bought (OpenLM does not); a feature with an error has none.
    want = {f.name: f.issued for f in status.features if f.issued is not None}
    assert issued(history) == want
    assert any(f.issued is None for f in status.features)
    (source,) = history._sources()
    assert (source["source"], source["kind"]) == (lm.server, "flexnet")
    starts = {
        row[0] for row in history._db.execute("SELECT start_time FROM sessions WHERE open = 1")
    }
    assert starts == {int(s.start_time.timestamp()) for s in status.sessions}


def test_a_license_taken_back_ends_its_interval_at_the_next_poll(
    lm: LicenseManagerSandbox, history: History
) -> None:
    flexnet = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path)
    first = int(time.time()) - 60
    history.record(flexnet, at=first)
    taken = next(s for s in flexnet.get_active_products() if not s.borrowed)
    report = flexnet.close_applications([taken], journal=False)
    assert [o.status for o in report] == ["closed"]
    assert history.record(flexnet, at=first + 30)["sessions"] == len(lm.sessions())
    ended = history._db.execute(
        "SELECT username, last_seen FROM intervals WHERE open = 0"
    ).fetchall()
    assert ended == [(taken.username, first)]
    # The same poll twice writes nothing, issued counts included.
    assert history.record(flexnet, at=first + 30)["sessions"] is None


def test_a_license_manager_that_does_not_answer_is_a_gap(
    lm: LicenseManagerSandbox, history: History
) -> None:
    flexnet = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path)
    lm.take_down()
    with pytest.raises(gislicense.TransportError):
        history.record(flexnet)
    (row,) = history._db.execute("SELECT sessions, error FROM polls").fetchall()
    assert row[0] is None and "TransportError" in row[1]


def test_server_clock_times_are_read_as_local_time_like_openlm_utc_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FlexNet's times are naive, on the license server's clock; OpenLM's are UTC-aware.
    # Both are kept as seconds since 1970: a naive time is read in this machine's zone.
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        naive = _dt.datetime(2025, 3, 3, 9, 0)
        aware = _dt.datetime(2025, 3, 3, 3, 30, tzinfo=_dt.timezone.utc)  # the same instant
        with History(tmp_path / "h.sqlite") as h:
            one = SimpleNamespace(feature="Editor", username="ann", handle="1", start_time=naive)
            two = SimpleNamespace(feature="Editor", username="bob", handle="2", start_time=aware)
            h.record_sessions([one], source="27000@lm", kind="flexnet", at=aware)
            h.record_sessions([two], source="http://lm:7014", at=aware)
            starts = [r[0] for r in h._db.execute("SELECT start_time FROM sessions")]
        assert starts == [int(aware.timestamp())] * 2
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_sandbox_license_managers_debug_log_is_imported_once(
    lm: LicenseManagerSandbox, history: History
) -> None:
    flexnet = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path)
    seeded = flexnet.get_active_products()
    taken = next(s for s in seeded if not s.borrowed)
    report = flexnet.close_applications([taken], journal=False)
    assert [o.status for o in report] == ["closed"]
    counts = history.import_log(parse_lmgrd_log(lm.log_path), source=lm.server)
    assert counts == {"OUT": len(seeded), "IN": 1}
    assert history.import_log(parse_lmgrd_log(lm.log_path), source=lm.server) == {}
    rows = history._db.execute(
        "SELECT username, feature, first_seen, open FROM intervals ORDER BY first_seen"
    ).fetchall()
    assert len(rows) == len(seeded)
    assert [(u, f) for u, f, _, o in rows if not o] == [(taken.username, taken.feature)]


def test_the_debug_logs_check_out_times_agree_with_lmstat(
    lm: LicenseManagerSandbox, history: History
) -> None:
    seeded = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path).get_active_products()
    history.import_log(parse_lmgrd_log(lm.log_path), source=lm.server)
    starts = [r[0] for r in history._db.execute("SELECT first_seen FROM intervals")]
    assert sorted(starts) == sorted(int(s.start_time.timestamp()) for s in seeded)


def test_every_quirk_of_a_debug_log_is_read_or_left_out_in_words(history: History) -> None:
    counts = history.import_log(parse_lmgrd_log(GOLDEN / "lmgrd-quirks.log"), source="lm")
    # The check-out before the log gives a date cannot be placed in time; lines that are
    # not license events (the start-up banner, TIMESTAMP, garbage) are not kept.
    assert counts == {
        "UNDATED": 1,
        "OUT": 4,
        "DENIED": 1,
        "UNSUPPORTED": 1,
        "QUEUED": 1,
        "DEQUEUED": 1,
        "IN": 2,
    }
    local = lambda *when: int(_dt.datetime(*when).timestamp())  # noqa: E731
    rows = history._db.execute(
        "SELECT username, feature, licenses, first_seen, last_seen, open FROM intervals "
        "ORDER BY first_seen"
    ).fetchall()
    assert rows[:2] == [
        ("jsmith", "Editor", 1, local(2019, 12, 30, 15, 30), local(2019, 12, 30, 23, 59, 59), 0),
        ("akhan", "ARC/INFO", 2, local(2019, 12, 30, 15, 31, 2), local(2020, 1, 2, 9, 10, 22), 0),
    ]
    assert [(r[0], r[5]) for r in rows[2:]] == [("night.owl@corp.example", 1), ("iso", 1)]
    denied = history._db.execute("SELECT kind, reason FROM events WHERE kind = 'DENIED'")
    assert "Licensed number of users already reached" in denied.fetchone()[1]


def test_a_saved_lmstat_output_records_its_sessions_and_issued_counts(
    history: History,
) -> None:
    status = parse_lmstat((GOLDEN / "lmstat-quirks.txt").read_text())
    at = _dt.datetime(2020, 1, 2, 10, 15)
    assert history.import_lmstat(status, source="27000@gislic01", at=at) == len(status.sessions)
    assert issued(history) == {f.name: f.issued for f in status.features if f.issued is not None}
    peaks = {r["feature"]: (r["issued"], r["peak"]) for r in history._peaks("day")}
    in_use = {f: 0 for f in peaks}
    for s in status.sessions:
        in_use[s.feature] += s.licenses
    assert peaks == {f: (issued(history)[f], in_use[f]) for f in peaks}


# The command line


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_usage_record_polls_a_license_manager_by_port_at_host(
    lm: LicenseManagerSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = str(tmp_path / "h.sqlite")
    status, out, err = run(
        capsys, "usage", "record", "--flexnet", lm.server, "--lmutil", str(lm.lmutil_path),
        "--history", file, "--json",
    )  # fmt: skip
    assert status == 0, err
    (row,) = json.loads(out)
    assert (row["target"], row["kind"], row["sessions"]) == (lm.server, "flexnet", 12)
    with History(file) as h:
        assert issued(h)["Editor"] == 10


def test_usage_record_all_profiles_includes_saved_license_managers(
    lm: LicenseManagerSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["profile", "add", "lm", "--url", lm.server, "--kind", "flexnet"]) == 0
    # lmutil is found on PATH, as at a site.
    monkeypatch.setenv("PATH", f"{lm.lmutil_path.parent}{os.pathsep}{os.environ['PATH']}")
    capsys.readouterr()
    file = str(tmp_path / "h.sqlite")
    status, out, err = run(capsys, "usage", "record", "--all-profiles", "--history", file, "--json")
    assert status == 0, err
    (row,) = json.loads(out)
    assert (row["target"], row["kind"], row["sessions"]) == ("lm", "flexnet", 12)
    with History(file) as h:
        assert [(r["source"], r["kind"]) for r in h._sources()] == [(lm.server, "flexnet")]


def test_usage_import_log_reads_the_debug_log_and_saved_lmstat_with_the_real_readers(
    lm: LicenseManagerSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "lmstat.txt"
    done = subprocess.run(
        [str(lm.lmutil_path), "lmstat", "-a", "-c", lm.server],
        capture_output=True,
        text=True,
        check=True,
    )
    saved.write_text(done.stdout)
    file = str(tmp_path / "h.sqlite")
    status, out, err = run(
        capsys, "usage", "import-log", str(lm.log_path), "--source", "log",
        "--history", file, "--json",
    )  # fmt: skip
    assert status == 0, err
    (row,) = json.loads(out)
    assert (row["format"], row["events"], row["out"]) == ("lmgrd", 12, 12)
    status, out, err = run(
        capsys, "usage", "import-log", str(saved), "--source", lm.server,
        "--history", file, "--json",
    )  # fmt: skip
    assert status == 0, err
    (row,) = json.loads(out)
    assert (row["format"], row["sessions"]) == ("lmstat", 12)
    with History(file) as h:
        kinds = {r["source"]: r["kind"] for r in h._sources()}
        assert kinds == {"log": "flexnet-log", lm.server: "flexnet"}
        assert issued(h)["Viewer"] == 20
