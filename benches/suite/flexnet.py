"""The License Manager's readers (issue 30), each beside its floor.

- ``lmstat -a`` output with N session lines, read by ``gislicense.parse_lmstat``, by a plain
  Python regular-expression parser of the kind public projects use (a line-by-line loop
  with ``re``, as ArcGIS-License-Tracker and LicenseStatus do), and by the floor: a bare
  Rust scan of the same text finding each session line's fields from the right
  (``examples/floors.rs lmstat``).
- A debug log read through ``gislicense.parse_lmgrd_log`` (every event made), against the
  floor: a bare Rust streaming scan of the same log classifying each line and finding its
  feature and user@host (``examples/floors.rs lmgrd``); and gislicense's peak memory on a
  log an eighth of the size, to show that it does not grow with the log.

Every contender runs in its own process, which reports its time and its peak memory
(VmHWM) above the process's memory before it read; gislicense and the floor run in
turn, ``rounds`` times, best against best.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from suite.common import DATA, Load, floor

FEATURES = ["ARC/INFO", "Editor", "Viewer", "desktopAdvP", "desktopStdP", "Spatial"]

#: Put before each worker's code: `hwm()`, the worker's own peak resident memory in KiB
#: (VmHWM). Not ru_maxrss: a child keeps its parent's peak in it across exec, so a worker
#: of a big benchmark process would report the parent's peak.
PEAK_KIB = r"""
import resource
def hwm():
    try:
        with open("/proc/self/status") as status:
            return int(next(l for l in status if l.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

#: A plain Python regular-expression parser of the public projects' kind (no dates, no
#: quirks): the contender of issue 30's target.
BASELINE = (
    PEAK_KIB
    + r"""
import re, sys, time, resource, json
USERS = re.compile(
    r"Users of (?P<feature>[^:]+):\s+\(Total of (?P<issued>\d+) licenses? issued;"
    r"\s+Total of (?P<used>\d+) licenses? in use\)"
)
SESSION = re.compile(
    r"^\s+(?P<user>\S+) (?P<host>\S+) (?P<display>.*) \(v(?P<version>[^)]*)\) "
    r"\((?P<server>[^/]+)/(?P<port>\d+) (?P<handle>\d+)\), start (?P<dow>\w+) "
    r"(?P<month>\d+)/(?P<day>\d+) (?P<hour>\d+):(?P<minute>\d+)(?:, (?P<count>\d+) licenses?)?"
)
before = hwm()
start = time.perf_counter()
text = open(sys.argv[1]).read()
features, sessions, feature = [], [], None
for line in text.splitlines():
    m = USERS.match(line)
    if m:
        feature = m["feature"]
        features.append(m.groupdict())
        continue
    m = SESSION.match(line)
    if m:
        row = m.groupdict()
        row["feature"] = feature
        sessions.append(row)
seconds = time.perf_counter() - start
peak = hwm()
print(json.dumps({"seconds": seconds, "sessions": len(sessions), "peak_kib": peak - before}))
"""
)

GISLICENSE = (
    PEAK_KIB
    + r"""
import sys, time, resource, json
import gislicense
gislicense.parse_lmstat("")  # the core loaded before measuring
before = hwm()
start = time.perf_counter()
status = gislicense.parse_lmstat(open(sys.argv[1]).read())
sessions = status.sessions
seconds = time.perf_counter() - start
peak = hwm()
print(json.dumps({"seconds": seconds, "sessions": len(sessions), "peak_kib": peak - before}))
"""
)

LOG = (
    PEAK_KIB
    + r"""
import sys, time, resource, json
import gislicense
before = hwm()
start = time.perf_counter()
counts = {}
for event in gislicense.parse_lmgrd_log(sys.argv[1]):
    counts[event.kind] = counts.get(event.kind, 0) + 1
seconds = time.perf_counter() - start
peak = hwm()
usage = sum(counts.get(k, 0) for k in ("OUT", "IN", "DENIED"))
print(json.dumps({"seconds": seconds, "events": sum(counts.values()), "usage": usage,
                  "peak_kib": peak - before}))
"""
)


def lmstat_text(sessions: int, rng: random.Random) -> str:
    """``lmstat -a`` output with ``sessions`` session lines (to a multiple of the feature
    count): half the displays obfuscated, every 17th line holding 2 licenses."""
    lines = ["Flexible License Manager status on Thu 1/2/2020 10:15", ""]
    per = sessions // len(FEATURES)
    handle = 100
    for feature in FEATURES:
        lines += [
            f"Users of {feature}:  (Total of {per * 2} licenses issued;  "
            f"Total of {per} licenses in use)",
            "",
            f'  "{feature}" v10.1, vendor: ARCGIS, expiry: permanent(no expiration date)',
            "  floating license",
            "",
        ]
        for n in range(per):
            handle += 1
            display = f"WS-{n}" if n % 2 else ",_6!/#bE-mN*5kgRxhN~xU"
            tail = ", 2 licenses" if n % 17 == 0 else ""
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            clock = f"{rng.randint(0, 23)}:{rng.randint(0, 59):02}"
            lines.append(
                f"    user{n} WS-{n} {display} (v10.1) (gislic01/27000 {handle}), "
                f"start Wed {month}/{day} {clock}{tail}"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def write_log(path: Path, megabytes: int) -> None:
    """A debug log of about ``megabytes`` MiB: check-outs, check-ins and a denial every 50
    people, dated by one TIMESTAMP line."""
    block = []
    reason = "Licensed number of users already reached. (-4,342)"
    for n in range(2000):
        hour, minute = divmod(n % 1440, 60)
        at = f"{hour:2}:{minute:02}"
        block.append(f'{at}:00 (ARCGIS) OUT: "Editor" user{n}@WS-{n}  ')
        block.append(f'{at}:30 (ARCGIS) IN: "Editor" user{n}@WS-{n}  (INACTIVE)')
        if n % 50 == 0:
            block.append(f'{at}:40 (ARCGIS) DENIED: "desktopAdvP" u@h  ({reason})')
    chunk = ("\n".join(block) + "\n").encode()
    with path.open("wb") as out:
        out.write(b" 0:00:00 (lmgrd) TIMESTAMP 1/2/2020\n")
        for _ in range(max(1, megabytes * 1024 * 1024 // len(chunk))):
            out.write(chunk)


def run(code: str, path: Path) -> dict[str, Any]:
    """One contender in its own process: its JSON answer."""
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _add(into: dict[str, Any], seconds: float, **kept: Any) -> None:
    into.setdefault("times", []).append(seconds)
    for key, value in kept.items():
        into.setdefault(key, []).append(value)


def bench_lmstat(sessions: int, rounds: int) -> dict[str, Any]:
    """The regular-expression parser, gislicense and the floor in turn, ``rounds`` times."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"lmstat_{sessions}.txt"
    path.write_text(lmstat_text(sessions, random.Random(1)))
    results: dict[str, dict[str, Any]] = {"regex": {}, "gislicense": {}, "floor": {}}
    for _ in range(rounds):
        for name, code in (("regex", BASELINE), ("gislicense", GISLICENSE)):
            r = run(code, path)
            _add(results[name], r["seconds"], peak_kib=r["peak_kib"], rows=r["sessions"])
        bare = floor("lmstat", str(path), "1")
        _add(results["floor"], bare["times"][0], rows=bare["rows"], checksum=bare["checksum"])
    found = {n for r in results.values() for n in r["rows"]}
    assert len(found) == 1, {name: r["rows"] for name, r in results.items()}
    return {
        "sessions": results["gislicense"]["rows"][0],
        "bytes": path.stat().st_size,
        "results": results,
    }


def bench_log(megabytes: int, rounds: int) -> dict[str, Any]:
    """gislicense's events and the floor's scan of a ``megabytes`` MiB log in turn,
    ``rounds`` times; gislicense once more on a log an eighth of the size, for memory."""
    DATA.mkdir(exist_ok=True)
    small_mb = max(1, megabytes // 8)
    log, small = DATA / f"lmgrd_{megabytes}.log", DATA / f"lmgrd_{small_mb}.log"
    try:
        write_log(log, megabytes)
        write_log(small, small_mb)
        ours: dict[str, Any] = {}
        bare: dict[str, Any] = {}
        for _ in range(rounds):
            r = run(LOG, log)
            _add(ours, r["seconds"], peak_kib=r["peak_kib"], rows=r["usage"])
            f = floor("lmgrd", str(log))
            _add(bare, f["times"][0], peak_kib=f["peak_kib"], rows=f["rows"])
        assert set(ours["rows"]) == set(bare["rows"]), (ours["rows"], bare["rows"])
        smaller = run(LOG, small)
        return {
            "bytes": log.stat().st_size,
            "events": r["events"],
            "usage": ours["rows"][0],
            "small_bytes": small.stat().st_size,
            "small_peak_kib": smaller["peak_kib"],
            "results": {"gislicense": ours, "floor": bare},
        }
    finally:
        log.unlink(missing_ok=True)
        small.unlink(missing_ok=True)


def bench_flexnet(sessions: int, log_mb: int, rounds: int, log_rounds: int) -> dict[str, Any]:
    load = Load()
    lmstat = bench_lmstat(sessions, rounds)
    log = bench_log(log_mb, log_rounds)
    return {"lmstat": lmstat, "log": log, **load.end()}
