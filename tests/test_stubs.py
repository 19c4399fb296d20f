"""The type stub of the extension (`_core.pyi`) and the Python facade agree with what
runs: mypy.stubtest compares every name, signature and default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ALLOWLIST = Path(__file__).with_name("stubtest_allowlist.txt")


def test_stubs_match_the_runtime() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "gislicense", "--allowlist", str(ALLOWLIST)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
