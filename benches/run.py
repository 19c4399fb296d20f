"""Run the benchmarks side by side and write BENCHMARKS.md.

    pip install . lxml          # a release build: benchmarks refuse a debug build
    python benches/run.py       # all; or --only parse,close,import

Every contender runs in its own process, on this machine, in this run; the report gives
each one's time and its ratio to gislicense, against the targets of the issues.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
WORKERS = HERE / "workers.py"


def worker(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(WORKERS), *args], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


class SandboxProcess:
    """`python -m gislicense sandbox` as its own process."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gislicense", "sandbox", *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        for _ in range(5):
            match = re.search(r"OpenLM: (\S+)", self.process.stdout.readline())
            if match:
                self.openlm_url = match.group(1)
                return
        raise RuntimeError("the sandbox did not print its URL")

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def bench_parse(rows: int, repeats: int) -> dict[str, Any]:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"active_products_{rows}.xml"
    if not path.exists():
        with SandboxProcess("--sessions", str(rows)) as sb:
            listing = b'<ULM><MESSAGE type="GetActiveProducts" /><SESSION sessionid="0" /></ULM>'
            request = urllib.request.Request(sb.openlm_url, data=listing)
            with urllib.request.urlopen(request) as reply:
                path.write_bytes(reply.read())
    results = {
        c: worker("parse", c, str(path), str(repeats)) for c in ("etree", "lxml", "gislicense")
    }
    for result in results.values():
        assert result["rows"] == rows, result
    return {"rows": rows, "bytes": path.stat().st_size, "results": results}


def bench_close(sessions: int, latency: float, runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for contender, times in (("seed", 1), ("gislicense", runs)):
        measured: list[float] = []
        for _ in range(times):
            with SandboxProcess(
                "--sessions", str(sessions), "--latency", str(latency), "--seed", "7"
            ) as sb:
                result = worker("close", contender, sb.openlm_url)
                assert result["rows"] == sessions, result
                measured += result["times"]
        results[contender] = {"times": measured}
    return {"sessions": sessions, "latency": latency, "results": results}


def bench_import(runs: int) -> dict[str, Any]:
    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    once("import gislicense")  # warm the file cache
    bare, imported = [], []
    for _ in range(runs):
        bare.append(once("pass"))
        imported.append(once("import gislicense"))
    return {
        "bare": statistics.median(bare),
        "import": statistics.median(imported),
        "cost": statistics.median(imported) - statistics.median(bare),
        "runs": runs,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            found = re.search(r"model name\s*:\s*(.+)", f.read())
            if found:
                cpu = found.group(1).strip()
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def report(results: dict[str, Any]) -> str:
    import gislicense

    lines = [
        "# Benchmarks",
        "",
        f"Run {datetime.date.today():%Y-%m-%d} with gislicense {gislicense.__version__} "
        f"(release build) on {machine()}.",
        "All contenders ran on this machine in this run, each in its own process. Regenerate with "
        "`python benches/run.py` after `pip install . lxml`.",
        "",
    ]
    if "parse" in results:
        p = results["parse"]
        r = p["results"]
        ours = min(r["gislicense"]["times"])
        lines += [
            f"## Reading a GetActiveProducts reply of {p['rows']:,} PRODUCT rows "
            "into Python objects",
            "",
            f"The reply is {p['bytes'] / 2**20:.0f} MiB of XML from the sandbox. Each contender "
            "reads it and the product, username and workstation of every row. Time: best of "
            f"{len(r['gislicense']['times'])} runs. Memory: peak resident memory the first run "
            "added, with its result alive.",
            "",
            "| contender | time | x gislicense time | peak memory added |",
            "|---|---|---|---|",
        ]
        names = {
            "etree": "`xml.etree.ElementTree` as the seed does it "
            "(`iter('PRODUCT')`, `attrib.get`)",
            "lxml": "lxml (`etree.fromstring`, `iter`, `attrib.get`)",
            "gislicense": "`gislicense.parse_active_products`",
        }
        for name in ("etree", "lxml", "gislicense"):
            best = min(r[name]["times"])
            memory = mib(r[name]["peak_bytes"])
            lines.append(
                f"| {names[name]} | {best * 1000:.0f} ms | {best / ours:.1f}x | {memory} |"
            )
        speedup = min(r["etree"]["times"]) / ours
        lower = r["gislicense"]["peak_bytes"] < r["etree"]["peak_bytes"]
        lines += [
            "",
            f"Target: at least 3x faster than ElementTree with lower peak memory. Result: "
            f"{speedup:.1f}x faster, memory {'lower' if lower else 'NOT lower'} "
            f"({mib(r['gislicense']['peak_bytes'])} against {mib(r['etree']['peak_bytes'])}): "
            f"{'met' if speedup >= 3 and lower else 'NOT MET'}.",
            "",
        ]
    if "close" in results:
        c = results["close"]
        seed = statistics.median(c["results"]["seed"]["times"])
        ours = statistics.median(c["results"]["gislicense"]["times"])
        lines += [
            f"## Closing {c['sessions']:,} sessions with {c['latency'] * 1000:.0f} ms latency "
            "per request",
            "",
            "Against the sandbox run as its own process (`python -m gislicense sandbox`), a fresh "
            "one for every run. Both contenders list the sessions and send one CloseApplication "
            "for each; some workstations have no OpenLM Agent, so some closes fail for both.",
            "",
            "| contender | time | x gislicense time |",
            "|---|---|---|",
            "| the seed's way: urllib, one request after another "
            f"| {seed:.2f} s | {seed / ours:.1f}x |",
            f"| `OpenLM.close_applications` (default concurrency), median of "
            f"{len(c['results']['gislicense']['times'])} | {ours:.2f} s | 1.0x |",
            "",
            f"Target: at least 15x faster. Result: {seed / ours:.1f}x: "
            f"{'met' if seed / ours >= 15 else 'NOT MET'}.",
            "",
        ]
    if "import" in results:
        i = results["import"]
        lines += [
            "## `import gislicense`",
            "",
            f"Whole-process time of `python -c 'import gislicense'` minus `python -c pass`, "
            f"medians of {i['runs']} runs each: {i['import'] * 1000:.1f} ms - "
            f"{i['bare'] * 1000:.1f} ms = **{i['cost'] * 1000:.1f} ms**.",
            "",
            f"Target: at most 50 ms: {'met' if i['cost'] <= 0.050 else 'NOT MET'}.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="parse,close,import")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    import gislicense._core as core

    if core.DEBUG_BUILD:
        sys.exit("This is a debug build of gislicense; benchmark a release build (pip install .)")
    wanted = set(args.only.split(","))
    results: dict[str, Any] = {}
    if "parse" in wanted:
        results["parse"] = bench_parse(rows=100_000, repeats=5)
    if "close" in wanted:
        results["close"] = bench_close(sessions=1_000, latency=0.020, runs=3)
    if "import" in wanted:
        results["import"] = bench_import(runs=30)
    text = report(results)
    Path(args.output).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
