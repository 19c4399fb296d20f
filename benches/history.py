"""The usage history at scale: a year of a site, on disk, recorded, reported and exported.

    python benches/history.py                   # the full year: 2,000 seats, ~1M sessions
    python benches/history.py --scale 0.05      # a twentieth of it, to check quickly

Measures, against the targets of issue 31:

- the file holding a year of a 2,000-seat site polled every 5 minutes (about a million
  sessions): at most 200 MB;
- recording one poll of 10,000 open sessions (the sessions still open, a few ended and a
  few new, as a scheduler's poll finds them): under 100 ms;
- the daily-peak report over that year: under 1 s;
- exporting the year's in-use samples to CSV, and to Parquet when pyarrow is installed;
- importing a License Manager debug log of ``--log-mb`` MB (and one an eighth of that
  size) through ``parse_lmgrd_log``: time and peak memory, which must not grow with the
  log (each import in its own process).

The year is written as recording writes it (the same tables and rows: one interval per
session, one in-use sample per feature per poll), directly, in large transactions: a year
of polls through ``History.record`` would take hours, and what is measured is the file and
the reports, not the writing of a year. Prints a Markdown section for BENCHMARKS.md. The
year's writer and the poll are those of ``benches/suite/history.py``, which
``python benches/run.py --only history`` runs beside their floors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from suite.flexnet import PEAK_KIB, write_log
from suite.history import FEATURES, make_year
from suite.history import bench_poll as suite_poll

from gislicense.history import History


def bench_poll(folder: Path, open_sessions: int, polls: int) -> list[float]:
    """Milliseconds per poll of ``open_sessions`` (1% ended and 1% new at each poll),
    through ``History.record`` (the suite's measure, without its floor's times)."""
    return [t * 1000 for t in suite_poll(folder, open_sessions, polls)["results"]["gislicense"]]


def timed(run: Any, repeats: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        began = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the year's days")
    parser.add_argument("--seats", type=int, default=2000)
    parser.add_argument("--open", type=int, default=10_000, help="open sessions in a poll")
    parser.add_argument("--keep", metavar="FOLDER", help="keep the files here")
    parser.add_argument("--log-mb", type=int, default=1024, help="the debug log's size")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="gislicense-history-"))
    folder.mkdir(parents=True, exist_ok=True)
    days = max(7, round(365 * args.scale))
    path = folder / "year.sqlite"
    if path.exists():
        path.unlink()
    results: dict[str, Any] = {"days": days, "seats": args.seats}
    with History(path) as history:
        began = time.perf_counter()
        results["sessions"] = make_year(history, args.seats, days)
        results["write_s"] = time.perf_counter() - began
        results["size_mb"] = os.path.getsize(path) / 1e6
        results["peaks_s"], rows = timed(lambda: history._peaks("day"))
        results["weeks_s"], _ = timed(lambda: history._peaks("week"))
        results["peak_rows"] = len(rows)
        results["csv_s"], _ = timed(lambda: history.export(folder / "usage.csv"), 1)
        results["csv_mb"] = os.path.getsize(folder / "usage.csv") / 1e6
        try:
            import pyarrow  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
        except ImportError:
            results["parquet_s"] = None
        else:
            results["parquet_s"], _ = timed(lambda: history.export(folder / "usage.parquet"), 1)
            results["parquet_mb"] = os.path.getsize(folder / "usage.parquet") / 1e6
    polls = bench_poll(folder, args.open, 10)
    results["poll_ms_median"] = statistics.median(polls)
    results["poll_ms_max"] = max(polls)
    results["logs"] = [
        bench_log_import(folder, mb) for mb in (max(1, args.log_mb // 8), args.log_mb)
    ]
    print(report(results, args.scale))
    if not args.keep:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()


LOG_IMPORT = (
    PEAK_KIB
    + r"""
import json, resource, sys, time
from gislicense import parse_lmgrd_log
from gislicense.history import History
history = History(sys.argv[2])
before = hwm()
start = time.perf_counter()
counts = history.import_log(parse_lmgrd_log(sys.argv[1]), source="27000@gislic01")
seconds = time.perf_counter() - start
peak = hwm()
print(json.dumps({"seconds": seconds, "events": sum(counts.values()), "peak_kib": peak - before}))
"""
)


def bench_log_import(folder: Path, megabytes: int) -> dict[str, Any]:
    """Import a generated debug log of ``megabytes`` MB into a new history, in a process
    of its own: its time and peak memory above the process's before the import."""
    import json
    import subprocess

    log, target = folder / f"lmgrd-{megabytes}.log", folder / f"log-{megabytes}.sqlite"
    write_log(log, megabytes)
    out = subprocess.run(
        [sys.executable, "-c", LOG_IMPORT, str(log), str(target)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["mb"] = log.stat().st_size / 1e6
    for made in (log, target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        made.unlink(missing_ok=True)
    return result


def report(r: dict[str, Any], scale: float) -> str:
    year = r["size_mb"] * 365 / r["days"]
    parquet = (
        "pyarrow not installed"
        if r["parquet_s"] is None
        else f"{r['parquet_s']:.2f} s, {r['parquet_mb']:.1f} MB"
    )
    return f"""## Usage history: a year of a {r["seats"]:,}-seat site

{r["days"]} days ({scale:g} of a year) of a site of {r["seats"]:,} people polled every 5
minutes, {FEATURES} features: {r["sessions"]:,} sessions, written in {r["write_s"]:.1f} s.

| measure | result | target |
|---|---|---|
| file size | {r["size_mb"]:.1f} MB ({year:.0f} MB for a year at this rate) | at most 200 MB for a year |
| recording one poll of {10_000:,} open sessions, median (max) of 10 | {r["poll_ms_median"]:.0f} ms ({r["poll_ms_max"]:.0f} ms) | under 100 ms |
| daily-peak report over the {r["days"]} days ({r["peak_rows"]:,} rows), best of 3 | {r["peaks_s"]:.2f} s | under 1 s for a year |
| weekly peaks, best of 3 | {r["weeks_s"]:.2f} s | |
| CSV export of every in-use sample | {r["csv_s"]:.2f} s, {r["csv_mb"]:.1f} MB | |
| Parquet export | {parquet} | |
{_log_rows(r["logs"])}
Python {sys.version.split()[0]}, SQLite {__import__("sqlite3").sqlite_version}.
"""  # noqa: E501


def _log_rows(logs: list[dict[str, Any]]) -> str:
    return "".join(
        f"| importing a {log['mb']:,.0f} MB debug log ({log['events']:,} events) | "
        f"{log['seconds']:.1f} s, peak +{log['peak_kib'] / 1024:.0f} MiB | "
        "memory bounded: the same at every size |\n"
        for log in logs
    )


if __name__ == "__main__":
    main()
