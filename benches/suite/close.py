"""Closing every open session, and its floor: the latency bound (one listing, the closes at
the same concurrency, the Agent's delay, one confirming listing), measured."""

from __future__ import annotations

from typing import Any

from suite.common import Load, SandboxProcess, floor, worker

# gislicense's default concurrency of closes (DEFAULT_CONCURRENCY in plans.py).
CONCURRENCY = 32
# The sandbox's Agents close an application this long after a close is queued.
AGENT_DELAY = 0.2


def bench_close(sessions: int, latency: float, runs: int) -> dict[str, Any]:
    """The seed's way once; gislicense and the floor in turn, `runs` times, each against a
    fresh sandbox."""
    load = Load()
    args = ("--sessions", str(sessions), "--latency", str(latency), "--seed", "7")
    args += ("--close-delay", str(AGENT_DELAY))
    results: dict[str, Any] = {"seed": {"times": []}, "gislicense": {"times": []}}
    results["floor"] = {"times": []}
    with SandboxProcess(*args) as sb:
        result = worker("close", "seed", sb.openlm_url)
        assert result["rows"] == sessions, result
        results["seed"]["times"] += result["times"]
    for _ in range(runs):
        with SandboxProcess(*args) as sb:
            result = worker("close", "gislicense", sb.openlm_url)
            assert result["rows"] == sessions, result
            results["gislicense"]["times"] += result["times"]
        with SandboxProcess(*args) as sb:
            result = floor("close", sb.openlm_url, str(CONCURRENCY), str(AGENT_DELAY))
            assert result["rows"] == sessions, result
            results["floor"]["times"] += result["times"]
    return {
        "sessions": sessions,
        "latency": latency,
        "concurrency": CONCURRENCY,
        "agent_delay": AGENT_DELAY,
        "results": results,
        **load.end(),
    }
