"""Run the benchmarks side by side and write BENCHMARKS.md.

    pip install . lxml aiohttp orjson   # a release build: benchmarks refuse a debug build
    python benches/run.py       # all; or --only some of parse,close,import,help,list,
                                #   change,release,sandbox,flexnet,history
    python benches/run.py --only flexnet,history --quick   # reduced sizes, to check it works

The portal benchmarks also run the official ArcGIS API for Python when --arcgis-python (or
GISLICENSE_ARCGIS_PYTHON) names a Python that has it installed (pip install arcgis==2.4.4).
The change benchmark also runs the build before change plans when --before-plans-python (or
GISLICENSE_BEFORE_PLANS_PYTHON) names a Python with a release build of commit 770ff14, to
measure what planning and the journal cost.

Every contender runs in its own process, on this machine, in this run; the report gives
each one's time and its ratio to gislicense, against the targets of the issues, and each
path's limit: a floor program (`examples/floors.rs`, built here with cargo) measured in turn
with gislicense, and the ratio to it. One module per path in `benches/suite/`, and the report
(`suite/report.py`).

`--quick` runs the FlexNet and history benchmarks at reduced sizes (20,000 lmstat session
lines, a 64 MiB debug log, 18 days of the history's year), to check that they work; the
full sizes (100,000 lines, a 1 GiB log, a year of a 2,000-seat site) are the ones the
targets speak of. The history's year is written once into `benches/.data` and kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from suite.change import bench_change
from suite.close import bench_close
from suite.common import ROOT, build_floors
from suite.flexnet import bench_flexnet
from suite.history import bench_history
from suite.listing import bench_list
from suite.parse import bench_parse
from suite.release import bench_release
from suite.report import report
from suite.sandbox import bench_sandbox
from suite.startup import bench_help, bench_import


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default="parse,close,import,help,list,change,release,sandbox,flexnet,history"
    )
    parser.add_argument("--quick", action="store_true", help="FlexNet and history at reduced sizes")
    parser.add_argument(
        "--arcgis-python",
        default=os.environ.get("GISLICENSE_ARCGIS_PYTHON"),
        help="a Python with the official arcgis package, to run it as a contender",
    )
    parser.add_argument(
        "--before-plans-python",
        default=os.environ.get("GISLICENSE_BEFORE_PLANS_PYTHON"),
        help="a Python with the release build of commit 770ff14 (before change plans), to "
        "measure what plans cost the change benchmark",
    )
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    import gislicense._core as core

    if core.DEBUG_BUILD:
        sys.exit("This is a debug build of gislicense; benchmark a release build (pip install .)")
    wanted = set(args.only.split(","))
    results: dict[str, Any] = {}
    if wanted & {"parse", "close", "list", "change", "flexnet"}:
        build_floors()
    if "parse" in wanted:
        results["parse"] = bench_parse(rows=100_000, repeats=5, rounds=3)
    if "close" in wanted:
        results["close"] = bench_close(sessions=1_000, latency=0.020, runs=3)
    if "list" in wanted:
        results["list"] = bench_list(
            10_000, 0.010, runs=5, arcgis=args.arcgis_python, memory_members=50_000
        )
    if "change" in wanted:
        results["change"] = bench_change(
            5_000, 0.010, runs=5, arcgis=args.arcgis_python, before_plans=args.before_plans_python
        )
    if "release" in wanted:
        results["release"] = bench_release(500, 0.010, runs=3)
    if "sandbox" in wanted:
        results["sandbox"] = bench_sandbox(20_000, (500, 5_000, 50_000), runs=3)
    if "flexnet" in wanted:
        sizes = (20_000, 64) if args.quick else (100_000, 1024)
        results["flexnet"] = bench_flexnet(*sizes, rounds=5, log_rounds=2)
    if "history" in wanted:
        days = 18 if args.quick else 365
        results["history"] = bench_history(2_000, days, 10_000, polls=10, repeats=3)
    if "import" in wanted:
        results["import"] = bench_import(runs=30)
    if "help" in wanted:
        results["help"] = bench_help(runs=30)
    text = report(results)
    Path(args.output).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
