"""What every benchmark shares: the data folder, the sandbox as its own process, a contender
in its own process (`benches/workers.py`), and the floor program (`examples/floors.rs`)."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parent
DATA = HERE / ".data"
WORKERS = HERE / "workers.py"
FLOORS = ROOT / "target" / "release" / "examples" / "floors"


def worker(*args: str, python: str = sys.executable) -> dict[str, Any]:
    # Journals of the changes measured go beside the data, not to the user's data folder.
    env = {**os.environ, "GISLICENSE_JOURNAL_DIR": str(DATA / "journals")}
    out = subprocess.run(
        [python, str(WORKERS), *args], check=True, capture_output=True, text=True, env=env
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
        printed = ""
        while "Ctrl-C" not in printed:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the sandbox stopped before it was ready: {printed}")
            printed += line
        found = {
            key: re.search(pattern, printed)
            for key, pattern in {
                "openlm": r"OpenLM: (\S+)",
                "portal": r"Portal: (\S+)",
                "admin": r"administrator: (\S+) / (\S+)",
                "ca": r"\(ca_bundle=\): (\S+)",
            }.items()
        }
        if not all(found.values()):
            raise RuntimeError(f"the sandbox did not print its URLs: {printed}")
        self.openlm_url = found["openlm"].group(1)  # type: ignore[union-attr]
        admin = found["admin"]
        assert admin is not None
        self.portal = {
            "url": found["portal"].group(1),  # type: ignore[union-attr]
            "ca_file": found["ca"].group(1),  # type: ignore[union-attr]
            "username": admin.group(1),
            "password": admin.group(2),
        }

    def portal_file(self) -> str:
        DATA.mkdir(exist_ok=True)
        path = DATA / "portal.json"
        path.write_text(json.dumps(self.portal))
        return str(path)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def portal_contenders(arcgis_python: str | None) -> list[tuple[str, str]]:
    """(contender, python) pairs: the official client only when its Python is given."""
    contenders = [("sequential", sys.executable)]
    if arcgis_python:
        contenders.append(("official", arcgis_python))
    return [*contenders, ("gislicense", sys.executable)]


def has_aiohttp() -> bool:
    """Whether this Python can run the aiohttp + orjson contender."""
    import importlib.util

    return all(importlib.util.find_spec(name) for name in ("aiohttp", "orjson"))


def offline_members(portal: dict[str, str], count: int) -> list[str]:
    import gislicense

    gis = gislicense.GIS(
        portal["url"], portal["username"], portal["password"], ca_bundle=portal["ca_file"]
    )
    names = [u.username for u in gis.admin.license.get("pro").offline]
    assert len(names) == count, len(names)
    return names


def not_creators(portal: dict[str, str], count: int) -> list[str]:
    import gislicense

    gis = gislicense.GIS(
        portal["url"], portal["username"], portal["password"], ca_bundle=portal["ca_file"]
    )
    names = [u.username for u in gis.users.search() if u.user_type != "creatorUT"]
    assert len(names) >= count, len(names)
    return names[:count]


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


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


def build_floors() -> Path:
    """The floor program, built for release (cargo skips it when it is up to date)."""
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "--example", "floors"], check=True, cwd=ROOT
    )
    return FLOORS


def floor(*args: str) -> dict[str, Any]:
    """One run of the floor program (`examples/floors.rs`): its JSON answer."""
    out = subprocess.run([str(FLOORS), *args], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


class Load:
    """The machine's load average over a benchmark, to say in the report when it was busy."""

    def __init__(self) -> None:
        self.start = os.getloadavg()[0]

    def end(self) -> dict[str, float]:
        return {"load_start": self.start, "load_end": os.getloadavg()[0]}
