"""BENCHMARKS.md's sections on the License Manager's readers (issue 30) and the usage
history (issue 31), each beside its limit, and their rows of the table against the limit."""

from __future__ import annotations

import sqlite3
import statistics
import sys
from typing import Any

from suite.report import fmt, load, verdict


def target_row(
    path: str, ours: float, limit: float, what: str, target: str, ok: bool | None
) -> str:
    """A row of the table against the limit whose target is an issue's own (a speed-up
    over a contender, a time, bounded memory) rather than a ratio to the limit."""
    judged = "" if ok is None else f": {verdict(ok)}"
    return (
        f"| {path} | {fmt(ours)} | {fmt(limit)}: {what} | {ours / limit:.2f}x | {target}{judged} |"
    )


def _kib(n: float) -> str:
    return f"{n / 1024:.1f} MiB"


def flexnet_section(f: dict[str, Any], limits: list[str]) -> list[str]:
    s, g = f["lmstat"], f["log"]
    r, lr = s["results"], g["results"]
    ours, regex, scan = (min(r[n]["times"]) for n in ("gislicense", "regex", "floor"))
    peak, regex_peak = min(r["gislicense"]["peak_kib"]), min(r["regex"]["peak_kib"])
    speedup, lower = regex / ours, peak < regex_peak
    log_ours, log_scan = min(lr["gislicense"]["times"]), min(lr["floor"]["times"])
    log_peak = max(lr["gislicense"]["peak_kib"])
    bounded = log_peak <= g["small_peak_kib"] + 8 * 1024
    rounds = len(r["gislicense"]["times"])
    lines = [
        f"## ArcGIS License Manager: reading `lmstat -a` ({s['sessions']:,} session lines) "
        f"and a {g['bytes'] / 2**30:.2f} GiB debug log",
        "",
        f"`lmstat -a` output of {s['bytes'] / 2**20:.0f} MiB (half the displays obfuscated, "
        "every 17th line holding 2 licenses), each contender in its own process reading the "
        "file and every session line; time and peak memory (VmHWM) above the process's "
        f"before it read, best of {rounds} (the three in turn). The limit: a bare Rust scan "
        "of the same text (`examples/floors.rs lmstat`): the file read and checked as "
        "UTF-8, split into lines, each session line's user, host, display, version, "
        "server/port, handle, start and licenses found from the right without allocating, "
        f"folded into a printed checksum; no records, no dates, no Python objects. {load(f)}.",
        "",
        "| contender | time | x gislicense time | peak memory added |",
        "|---|---|---|---|",
        "| a plain Python regular-expression parser of the public projects' kind (no "
        f"dates, no quirks) | {fmt(regex)} | {regex / ours:.2f}x | {_kib(regex_peak)} |",
        "| `gislicense.parse_lmstat` (every quirk, start times dated) "
        f"| {fmt(ours)} | 1.00x | {_kib(peak)} |",
        "| **the limit**: a bare scan of the same lines, fields from the right (Rust, no "
        f"objects) | {fmt(scan)} | {scan / ours:.2f}x | |",
        "",
        f"Target (issue 30): at least 10x faster than the regular-expression parser, with "
        f"lower peak memory. Result: {speedup:.1f}x, memory "
        f"{'lower' if lower else 'NOT lower'}: {verdict(speedup >= 10 and lower)}. Against "
        f"the limit: {ours / scan:.2f}x.",
        "",
        f"The debug log: {g['bytes'] / 2**20:,.0f} MiB, {g['events']:,} lines, of which "
        f"{g['usage']:,} OUT, IN and DENIED events. `gislicense.parse_lmgrd_log` yields "
        "every line's event (time dated from the TIMESTAMP lines, kind, feature, user, "
        "workstation, reason) to a loop counting them by kind, in its own process. The "
        "limit (`examples/floors.rs lmgrd`): a bare streaming scan in 64 KiB reads, one "
        "line buffer reused, each line's clock and daemon skipped, its kind found (OUT, "
        "IN, DENIED, TIMESTAMP, other), and for license events the feature and user@host; "
        f"counts and a checksum. Best of {len(lr['gislicense']['times'])}, in turn.",
        "",
        "| contender | time | peak memory |",
        "|---|---|---|",
        f"| `gislicense.parse_lmgrd_log` | {fmt(log_ours)} | +{_kib(log_peak)} above the "
        f"process's before it read (+{_kib(g['small_peak_kib'])} for a "
        f"{g['small_bytes'] / 2**20:,.0f} MiB log) |",
        f"| **the limit**: a bare streaming scan (Rust) | {fmt(log_scan)} | "
        f"{_kib(max(lr['floor']['peak_kib']))} (the whole process) |",
        "",
        f"Target (issue 30): the log read in bounded memory (peak within 8 MiB of a log an "
        f"eighth the size). Result: {verdict(bounded)}. Against the limit: "
        f"{log_ours / log_scan:.2f}x.",
        "",
    ]
    limits.append(
        target_row(
            f"FlexNet: parse `lmstat -a`, {s['sessions']:,} session lines",
            ours,
            scan,
            "a bare scan of the same lines, fields found from the right (Rust)",
            f"10x the regex parser ({speedup:.1f}x), lower memory",
            speedup >= 10 and lower,
        )
    )
    limits.append(
        target_row(
            f"FlexNet: read a {g['bytes'] / 2**30:.2f} GiB debug log into events",
            log_ours,
            log_scan,
            "a bare streaming scan: kind, feature, user@host (Rust)",
            "bounded memory",
            bounded,
        )
    )
    return lines


def history_section(h: dict[str, Any], limits: list[str]) -> list[str]:
    poll, rep = h["poll"], h["reports"]
    pr = poll["results"]
    ours, bare = min(pr["gislicense"]), min(pr["floor"])
    median = statistics.median(pr["gislicense"])
    peaks, hours = rep["results"]["peaks"], rep["results"]["hours"]
    year = h["bytes"] * 365 / h["days"]
    full = h["days"] >= 365
    pk, pk_sql, pk_read = (min(peaks[n]) for n in ("gislicense", "floor", "read"))
    # The limit is the faster of the two ways without gislicense: the whole report in SQL,
    # or the histograms it needs read alone.
    pk_floor = min(pk_sql, pk_read)
    pk_what = (
        "the same rows from one SQL statement"
        if pk_sql <= pk_read
        else "the histograms it reads, read alone"
    )
    hr, hr_floor = min(hours["gislicense"]), min(hours["floor"])
    lines = [
        f"## Usage history: recording a poll, and reports over {h['days']} days of a "
        f"{h['seats']:,}-seat site",
        "",
        f"The year: {h['days']} days of {h['seats']:,} people polled every 5 minutes, "
        f"{h['sessions']:,} sessions, written as recording writes them (`benches/suite/"
        f"history.py`'s `make_year`), {h['bytes'] / 1e6:.1f} MB on disk"
        + ("" if full else f" ({year / 1e6:.0f} MB for a year at this rate)")
        + f". {load(h)}.",
        "",
        f"Recording: {poll['polls']} polls of {poll['open']:,} open sessions (1% ended and "
        "1% new since the last), each through `History.record` of a client whose "
        "`get_active_products()` gives the listing, then the limit: the same rows (sessions "
        "ended, idle time added, sessions begun, a sample per feature, the poll) written by "
        "bare `sqlite3` `executemany` in one transaction to a file of the same schema and "
        "indexes, after reading the open sessions' keys; its rows (keys, per-feature counts) "
        "made before it is timed. Both files are checked equal after the polls.",
        "",
        f"Reports, best of {len(peaks['gislicense'])}, in turn with the limit: the daily "
        'peaks (`History.rows("peaks", by="day")`: peak, time-weighted 95th percentile, '
        "issued, time at the limit) against one SQL statement computing the same rows from "
        "the daily histograms and the samples not yet rolled up (checked equal), and against "
        "those histograms read alone as tuples (the limit is the faster of the two); hours "
        'per user (`History.rows("hours", by="user")`) against its own SQL statement\'s '
        f"tuples. Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}.",
        "",
        "| measure | gislicense | **the limit** | x the limit | target (issue 31) |",
        "|---|---|---|---|---|",
        f"| file size | {h['bytes'] / 1e6:.1f} MB | | | at most 200 MB for a year: "
        f"{verdict(year <= 200e6)} |",
        f"| recording one poll of {poll['open']:,} open sessions, best (median) | "
        f"{fmt(ours)} ({fmt(median)}) | {fmt(bare)}: bare sqlite3, the same rows | "
        f"{ours / bare:.2f}x | under 100 ms: {verdict(median < 0.100)} |",
        f"| daily-peak report ({rep['rows']['peaks']:,} rows) | {fmt(pk)} | "
        f"{fmt(pk_sql)}: one SQL statement; {fmt(pk_read)}: the histograms it reads, read "
        f"alone | {pk / pk_floor:.2f}x | under 1 s for a year: "
        f"{verdict(pk < 1.0 if full else pk * 365 / h['days'] < 1.0)} |",
        f"| hours per user ({rep['rows']['hours']:,} rows) | {fmt(hr)} | {fmt(hr_floor)}: "
        f"the same SQL statement, tuples | {hr / hr_floor:.2f}x | |",
        "",
    ]
    limits += [
        target_row(
            f"history: record a poll of {poll['open']:,} open sessions",
            ours,
            bare,
            "the same rows by bare sqlite3, one transaction",
            f"under 100 ms (median {fmt(median)})",
            median < 0.100,
        ),
        target_row(
            f"history: daily peaks over {h['days']} days",
            pk,
            pk_floor,
            pk_what,
            "under 1 s for a year",
            pk < 1.0 if full else None,
        ),
        target_row(
            f"history: hours per user over {h['days']} days",
            hr,
            hr_floor,
            "the report's SQL statement alone, tuples",
            "",
            None,
        ),
    ]
    return lines
