"""Changing the user type of many members, and its floors: the same batches of 25, 8 in
flight, through the crate's own HTTP layer, and nothing else (`examples/floors.rs change`);
and the same after listing every member as bytes, the least a change does whose whole plan
is made before anything is sent (`examples/floors.rs change ... LIST_CONCURRENCY`)."""

from __future__ import annotations

import json
import sys
from typing import Any

from suite.common import DATA, Load, SandboxProcess, floor, not_creators, portal_contenders, worker
from suite.listing import CONCURRENCY as LIST_CONCURRENCY

# What gislicense sends by default: batches of 25 members, 8 requests in flight.
BATCH, IN_FLIGHT = 25, 8


def bench_change(
    count: int, latency: float, runs: int, arcgis: str | None, before_plans: str | None
) -> dict[str, Any]:
    """The one-at-a-time contenders once each; gislicense, the floor (and the build before
    change plans when given) in turn, `runs` times, each against a fresh organization."""
    load = Load()
    # Creator holds any role, and the seats are raised: every member can change.
    members = count * 2
    args = (
        *("--members", str(members), "--latency", str(latency), "--sessions", "10"),
        *("--offline", "0", "--seats", f"creatorUT={members}"),
    )

    def once(contender: str, python: str = sys.executable) -> float:
        with SandboxProcess(*args) as sb:  # a fresh organization for every run
            portal = sb.portal_file()
            names_file = DATA / "names.json"
            names_file.write_text(json.dumps(not_creators(sb.portal, count)))
            if contender == "floor":
                result = floor("change", portal, str(names_file), str(BATCH), str(IN_FLIGHT))
            elif contender == "listed_floor":
                sizes = (str(BATCH), str(IN_FLIGHT), str(LIST_CONCURRENCY))
                result = floor("change", portal, str(names_file), *sizes)
            else:
                result = worker("change", contender, portal, str(names_file), python=python)
            assert result["rows"] == count, result
            return float(result["times"][0])

    results: dict[str, Any] = {}
    for contender, python in portal_contenders(arcgis):
        if contender != "gislicense":
            results[contender] = {"times": [once(contender, python)]}
    # Run after run, in turn, so that every build meets the same moments of a noisy machine;
    # the cost of planning is the median of the paired ratios.
    turns = [("gislicense", sys.executable), ("floor", ""), ("listed_floor", "")]
    if before_plans:
        turns.insert(0, ("before_plans", before_plans))
    for name, _ in turns:
        results[name] = {"times": []}
    for _ in range(runs):
        for name, python in turns:
            results[name]["times"].append(once(name, python))
    return {
        "count": count,
        "latency": latency,
        "batch": BATCH,
        "in_flight": IN_FLIGHT,
        "results": results,
        **load.end(),
    }
