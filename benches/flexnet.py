"""The License Manager's readers against what public projects write by hand.

    python benches/flexnet.py                 # 100,000 session lines, a 1 GB debug log
    python benches/flexnet.py --sessions 20000 --log-mb 50    # a small run, to check it works

(a) ``lmstat -a`` output with N session lines, read by ``gislicense.parse_lmstat`` and by a
    plain Python regular-expression parser of the kind public projects use (a line-by-line
    loop with ``re``, as ArcGIS-License-Tracker and LicenseStatus do). Each runs in its own
    process, which reports its time and its peak memory (ru_maxrss) above the process's
    memory before it read; both read the same file, in this run, on this machine.
(b) A debug log of ``--log-mb`` MB read through ``gislicense.parse_lmgrd_log``: time and
    peak memory, which must not grow with the log's size.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

FEATURES = ["ARC/INFO", "Editor", "Viewer", "desktopAdvP", "desktopStdP", "Spatial"]

BASELINE = r"""
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
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "sessions": len(sessions), "peak_kib": peak - before}))
"""

GISLICENSE = r"""
import sys, time, resource, json
import gislicense
gislicense.parse_lmstat("")  # the core loaded before measuring
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
status = gislicense.parse_lmstat(open(sys.argv[1]).read())
sessions = status.sessions
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "sessions": len(sessions), "peak_kib": peak - before}))
"""

LOG = r"""
import sys, time, resource, json
import gislicense
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
counts = {}
for event in gislicense.parse_lmgrd_log(sys.argv[1]):
    counts[event.kind] = counts.get(event.kind, 0) + 1
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "events": sum(counts.values()), "peak_kib": peak - before}))
"""


def lmstat_text(sessions: int, rng: random.Random) -> str:
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


def run(code: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _seconds(result: dict[str, float]) -> float:
    return result["seconds"]


def _shown(result: dict[str, float]) -> str:
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
