"""Reading a GetActiveProducts reply into Python objects, and its floor: a bare quick-xml
event scan of the same bytes touching every attribute."""

from __future__ import annotations

import urllib.request
from typing import Any

from suite.common import DATA, Load, SandboxProcess, floor, worker


def bench_parse(rows: int, repeats: int, rounds: int) -> dict[str, Any]:
    """ElementTree and lxml once (`repeats` parses each); then gislicense and the floor in
    turn, `rounds` times, so that both meet the same moments of a busy machine."""
    load = Load()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"active_products_{rows}.xml"
    if not path.exists():
        with SandboxProcess("--sessions", str(rows)) as sb:
            listing = b'<ULM><MESSAGE type="GetActiveProducts" /><SESSION sessionid="0" /></ULM>'
            request = urllib.request.Request(sb.openlm_url, data=listing)
            with urllib.request.urlopen(request) as reply:
                path.write_bytes(reply.read())
    results = {c: worker("parse", c, str(path), str(repeats)) for c in ("etree", "lxml")}
    ours: dict[str, Any] = {"times": []}
    scan: dict[str, Any] = {"times": []}
    for _ in range(rounds):
        run = worker("parse", "gislicense", str(path), str(repeats))
        ours["times"] += run["times"]
        ours.setdefault("peak_bytes", run["peak_bytes"])
        ours["rows"] = run["rows"]
        bare = floor("parse", str(path), str(repeats))
        scan["times"] += bare["times"]
        scan["rows"] = bare["rows"]
    results["gislicense"] = ours
    results["floor"] = scan
    for result in results.values():
        assert result["rows"] == rows, result
    return {"rows": rows, "bytes": path.stat().st_size, "results": results, **load.end()}
