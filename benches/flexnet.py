"""The License Manager's readers against what public projects write by hand.

    python benches/flexnet.py                 # 100,000 session lines, a 1 GB debug log
    python benches/flexnet.py --sessions 20000 --log-mb 50    # a small run, to check it works

(a) ``lmstat -a`` output with N session lines, read by ``gislicense.parse_lmstat`` and by a
    plain Python regular-expression parser of the kind public projects use (a line-by-line
    loop with ``re``, as ArcGIS-License-Tracker and LicenseStatus do). Each runs in its own
    process, which reports its time and its peak memory (VmHWM) above the process's
    memory before it read; both read the same file, in this run, on this machine.
(b) A debug log of ``--log-mb`` MB read through ``gislicense.parse_lmgrd_log``: time and
    peak memory, which must not grow with the log's size.

The contenders, the generated files and the floors are those of ``benches/suite/flexnet.py``
(``python benches/run.py --only flexnet`` runs them beside the floor program and writes
them into BENCHMARKS.md); this prints the two contenders alone.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path
from typing import Any

from suite.flexnet import BASELINE, GISLICENSE, LOG, lmstat_text, run, write_log


def _seconds(result: dict[str, Any]) -> float:
    seconds: float = result["seconds"]
    return seconds


def _shown(result: dict[str, Any]) -> str:
    return f"{result['seconds'] * 1000:9.1f} ms, peak +{result['peak_kib'] / 1024:.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--log-mb", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        status = Path(folder) / "lmstat.txt"
        status.write_text(lmstat_text(args.sessions, random.Random(1)))
        ours = min((run(GISLICENSE, status) for _ in range(args.repeats)), key=_seconds)
        theirs = min((run(BASELINE, status) for _ in range(args.repeats)), key=_seconds)
        assert ours["sessions"] == theirs["sessions"], (ours, theirs)
        print(f"lmstat, {ours['sessions']:,} sessions:")
        for name, result in (("gislicense.parse_lmstat", ours), ("Python regex parser", theirs)):
            print(f"  {name:26} {_shown(result)}")
        print(f"  ratio: {theirs['seconds'] / ours['seconds']:.1f}x faster")
        log = Path(folder) / "lmgrd9.log"
        write_log(log, args.log_mb)
        size = log.stat().st_size
        result = run(LOG, log)
        print(f"debug log, {size / 1e6:,.0f} MB, {result['events']:,} events:")
        print(f"  {'gislicense.parse_lmgrd_log':26} {_shown(result)}")


if __name__ == "__main__":
    main()
