"""The sandbox's own cost of a change, by organization size: a change must cost the emulator
the same whatever the organization's size, so that the other benchmarks measure the client."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from suite.common import SandboxProcess


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; after the ")" they are the 12th and 13th.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sandbox_change_cpu(members: int, changes: int, batch: int) -> float:
    """One run of bench_sandbox: a fresh sandbox of `members`, `changes` changes sent to it,
    and the sandbox process's CPU over those changes alone."""
    import ssl
    import urllib.parse
    import urllib.request

    args = (
        *("--members", str(members), "--sessions", "10", "--offline", "0"),
        *("--seats", f"creatorUT={members}", "--seats", f"GISProfessionalStdUT={members}"),
    )
    with SandboxProcess(*args) as sb:
        portal = sb.portal
        context = ssl.create_default_context(cafile=portal["ca_file"])
        sharing = f"{portal['url']}/sharing/rest"

        def post(path: str, form: dict[str, str]) -> dict[str, Any]:
            request = urllib.request.Request(
                f"{sharing}/{path}",
                data=urllib.parse.urlencode({**form, "f": "json"}).encode(),
                headers={"Referer": "bench"},
            )
            with urllib.request.urlopen(request, context=context) as reply:
                answer: dict[str, Any] = json.loads(reply.read())
            return answer

        token = post(
            "generateToken",
            {
                "username": portal["username"],
                "password": portal["password"],
                "client": "referer",
                "referer": "bench",
            },
        )["token"]
        creators: list[str] = []
        start = 1
        while len(creators) < batch and start > 0:
            page = post("portals/self/users", {"token": token, "num": "100", "start": str(start)})
            assert page["total"] == members, page["total"]
            creators += [
                u["username"] for u in page["users"] if u.get("userLicenseTypeId") == "creatorUT"
            ]
            start = page["nextStart"]
        assert len(creators) >= batch, len(creators)
        users = json.dumps(creators[:batch])
        before = process_cpu_seconds(sb.process.pid)
        # Back and forth between two user types that hold any role: every change goes
        # through, in batches as gislicense sends them.
        for n in range(changes // batch):
            to = "GISProfessionalStdUT" if n % 2 == 0 else "creatorUT"
            reply = post(
                "portals/self/updateUserLicenseType",
                {"token": token, "users": users, "userLicenseType": to},
            )
            assert all(r.get("status") for r in reply["results"]), reply
        return process_cpu_seconds(sb.process.pid) - before


def bench_sandbox(changes: int, sizes: tuple[int, ...], runs: int) -> dict[str, Any]:
    """The sandbox's own CPU for the same user type changes in organizations of each size: a
    change must cost the emulator the same whatever the organization's size, so that the other
    benchmarks measure the client."""
    results = {
        str(members): {"cpu": [sandbox_change_cpu(members, changes, 100) for _ in range(runs)]}
        for members in sizes
    }
    return {"changes": changes, "sizes": list(sizes), "results": results}
