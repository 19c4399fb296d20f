"""The benchmark's floors for the usage history do the same work as gislicense: a floor
that wrote other rows, or computed another report, would measure nothing."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))

from suite import history as bench

from gislicense.history import History


def test_floor_poll_writes_what_history_record_writes(tmp_path: Path) -> None:
    # bench_poll checks both files equal after the polls (sessions ended and begun, idle
    # time, samples, polls) and fails otherwise.
    result = bench.bench_poll(tmp_path, open_sessions=200, polls=3)
    assert len(result["results"]["gislicense"]) == len(result["results"]["floor"]) == 3


def test_floor_poll_differs_when_a_row_is_left_out(tmp_path: Path) -> None:
    # The check bench_poll relies on notices a floor that writes less.
    original = bench.floor_rows

    def fewer(listed: list[object]) -> tuple[list[tuple[object, ...]], list[tuple[str, int]]]:
        rows, counts = original(listed)
        return rows[:-1], counts

    bench.floor_rows = fewer  # type: ignore[assignment]
    try:
        with pytest.raises(AssertionError):
            bench.bench_poll(tmp_path, open_sessions=200, polls=2)
    finally:
        bench.floor_rows = original


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nine days of a small site, written as the benchmark writes its year."""
    path = tmp_path_factory.mktemp("year") / "year.sqlite"
    with History(path) as history:
        assert bench.make_year(history, seats=20, days=9) > 0
    return path


def test_the_peaks_statement_is_the_daily_peaks_report(year: Path) -> None:
    with History(year) as history:
        made = history.rows("peaks", by="day")
        bare = history._db.execute(bench.PEAKS_SQL).fetchall()
        assert made and bench._same_peaks(made, bare)
        # The last day is not rolled up: the statement reads its samples too.
        assert bare[-1][0] == made[-1]["period"]
        changed = [(*bare[0][:4], bare[0][4] + 1, *bare[0][5:]), *bare[1:]]
        assert not bench._same_peaks(made, changed)
        read = history._db.execute(bench.PEAKS_READ_SQL).fetchall()
        assert len({(r[0], r[1], r[2]) for r in read}) == len(made)
        hours = history.rows("hours", by="user")
        assert len(hours) == len(history._db.execute(bench.HOURS_SQL).fetchall())


def test_report_writes_both_sections_and_their_rows(year: Path, tmp_path: Path) -> None:
    with History(year) as history:
        reports = bench.bench_reports(history, repeats=1)
    history_result = {
        "seats": 20,
        "days": 9,
        "sessions": 1,
        "bytes": 1_000_000,
        "reports": reports,
        "poll": bench.bench_poll(tmp_path, 100, 1),
    }
    flexnet_result = {
        "lmstat": {
            "sessions": 99_996,
            "bytes": 9_000_000,
            "results": {
                "regex": {"times": [0.5], "peak_kib": [100_000]},
                "gislicense": {"times": [0.25], "peak_kib": [60_000]},
                "floor": {"times": [0.02]},
            },
        },
        "log": {
            "bytes": 2**30,
            "events": 10,
            "usage": 9,
            "small_bytes": 2**27,
            "small_peak_kib": 1_000,
            "results": {
                "gislicense": {"times": [20.0], "peak_kib": [1_200]},
                "floor": {"times": [1.0], "peak_kib": [2_000]},
            },
        },
    }
    from suite.report import report

    text = report({"flexnet": flexnet_result, "history": history_result})
    assert "**the limit**: a bare scan" in text
    assert "| FlexNet: parse `lmstat -a`, 99,996 session lines | 250.0 ms | 20.0 ms" in text
    assert "12.50x | 10x the regex parser (2.0x), lower memory: NOT MET |" in text
    assert "bounded memory: met |" in text
    assert "| history: record a poll of 100 open sessions |" in text
    assert "| history: daily peaks over 9 days |" in text
    assert f"SQLite {sqlite3.sqlite_version}" in text
