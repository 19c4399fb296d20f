"""Releasing offline ArcGIS Pro licenses."""

from __future__ import annotations

import json
from typing import Any

from suite.common import DATA, SandboxProcess, offline_members, worker


def bench_release(count: int, latency: float, runs: int) -> dict[str, Any]:
    args = (
        *("--members", str(count * 16), "--latency", str(latency), "--sessions", "10"),
        *("--offline", str(count)),
    )
    results: dict[str, Any] = {}
    for contender in ("sequential", "gislicense"):
        measured: list[float] = []
        for _ in range(runs if contender == "gislicense" else 1):
            with SandboxProcess(*args) as sb:  # a fresh organization for every run
                portal = sb.portal_file()
                names_file = DATA / "names.json"
                names_file.write_text(json.dumps(offline_members(sb.portal, count)))
                result = worker("release", contender, portal, str(names_file))
                assert result["rows"] == count, result
                measured += result["times"]
        results[contender] = {"times": measured}
    return {"count": count, "latency": latency, "results": results}
