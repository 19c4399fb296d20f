"""Starting up: `import gislicense` with its first use, and `gislicense --help`, against bare
Python (the floor: nothing of gislicense loaded)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def compile_package() -> bool:
    """Compile the package's bytecode, as pip does when it installs it (and as Python does
    on the first import where it may write): a start without it compiles every module's
    source, several times what loading costs. Whether it was missing: an install made with
    PYTHONDONTWRITEBYTECODE=1, as on the machine of the runs before issue 33's, has none."""
    find = "import gislicense, os; print(os.path.dirname(gislicense.__file__))"
    where = subprocess.run(
        [sys.executable, "-c", find],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    missing = not (Path(where) / "__pycache__").is_dir()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], check=True)
    return missing


def bench_import(runs: int) -> dict[str, Any]:
    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    # The package loads its parts on first use; the target is judged on the import with
    # the first use of a client, which loads everything (the native core included).
    loaded = "import gislicense; gislicense.GIS"
    native = "import gislicense._core"
    compiled = compile_package()
    once(loaded)  # warm the file cache
    times: dict[str, list[float]] = {"bare": [], "import": [], "native": [], "used": []}
    # In turn, so that a busy machine's moments hit all alike.
    for _ in range(runs):
        for name, code in (("bare", "pass"), ("import", "import gislicense")):
            times[name].append(once(code))
        times["native"].append(once(native))
        times["used"].append(once(loaded))
    median = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}
    return {
        **median,
        "cost": median["used"] - median["bare"],
        "import_cost": median["import"] - median["bare"],
        "best": best,
        "best_cost": best["used"] - best["bare"],
        "runs": runs,
        "compiled": compiled,
    }


def bench_help(runs: int) -> dict[str, Any]:
    """`gislicense --help`, the console script pip installed beside this Python: the whole
    process, as a person at a terminal waits for it."""
    script = Path(sys.executable).parent / ("gislicense.exe" if os.name == "nt" else "gislicense")

    def once(*command: str) -> float:
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    compiled = compile_package()
    once(str(script), "--help")  # warm the file cache
    bare, helped = [], []
    for _ in range(runs):
        bare.append(once(sys.executable, "-c", "pass"))
        helped.append(once(str(script), "--help"))
    return {
        "bare": statistics.median(bare),
        "help": statistics.median(helped),
        "runs": runs,
        "compiled": compiled,
    }
