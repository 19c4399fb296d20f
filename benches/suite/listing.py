"""Listing every member of an organization, and its floor: the same pages read as bytes at
the same concurrency, through the crate's own HTTP layer (`examples/floors.rs list`)."""

from __future__ import annotations

from typing import Any

from suite.common import Load, SandboxProcess, floor, has_aiohttp, portal_contenders, worker

# gislicense's pages in flight (PAGE_CONCURRENCY in src/portal/paging.rs).
CONCURRENCY = 25


def bench_list(
    members: int, latency: float, runs: int, arcgis: str | None, memory_members: int
) -> dict[str, Any]:
    """The paging contenders once each; gislicense, the aiohttp + orjson client and the floor
    `runs` times each, in turn (this machine's noise hits them alike). Then the peak memory
    of gislicense and aiohttp listing `memory_members`."""
    load = Load()
    results: dict[str, Any] = {}
    fast = ["aiohttp", "gislicense"] if has_aiohttp() else ["gislicense"]
    args = ("--latency", str(latency), "--sessions", "10")
    with SandboxProcess("--members", str(members), *args) as sb:
        portal = sb.portal_file()
        for contender, python in portal_contenders(arcgis):
            if contender not in fast:
                result = worker("list", contender, portal, python=python)
                assert result["rows"] == members, result
                results[contender] = {"times": result["times"], "cpu": [result["cpu"]]}
        results["floor"] = {"times": []}
        for _ in range(runs):
            for contender in fast:
                result = worker("list", contender, portal)
                assert result["rows"] == members, result
                got = results.setdefault(contender, {"times": [], "cpu": []})
                got["times"] += result["times"]
                got["cpu"].append(result["cpu"])
                if "read" in result:
                    got.setdefault("read", []).extend(result["read"])
            result = floor("list", portal, str(CONCURRENCY))
            assert result["rows"] == members, result
            results["floor"]["times"] += result["times"]
    with SandboxProcess("--members", str(memory_members), *args) as sb:
        portal = sb.portal_file()
        for contender in fast:
            result = worker("list", contender, portal)
            assert result["rows"] == memory_members, result
            results[contender]["peak"] = result["peak"]
            if "peak_read" in result:
                results[contender]["peak_read"] = result["peak_read"]
    return {
        "members": members,
        "memory_members": memory_members,
        "latency": latency,
        "concurrency": CONCURRENCY,
        "results": results,
        **load.end(),
    }
