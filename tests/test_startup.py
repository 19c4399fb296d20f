"""Starting up stays cheap (issue 33): `import gislicense` and its first use load the
package's parts and the native core, and no standard-library module beyond three small
ones. Checked by what is loaded, not by timing, so that it cannot flake on a busy machine
and a change that brings a heavy module back fails here rather than in a benchmark."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Each of these was loaded by `import gislicense; gislicense.GIS` before issue 33; together
# they were most of its cost by `python -X importtime`: typing alone pulls in re, enum,
# collections, contextlib, functools, operator and types. The others are what a first use
# would load next if a module imported them at the top (json, datetime, pathlib, logging:
# import them in the function that uses them).
HEAVY = (
    "typing",
    "re",
    "enum",
    "collections",
    "contextlib",
    "functools",
    "operator",
    "types",
    "json",
    "warnings",
    "importlib",
    "datetime",
    "dataclasses",
    "pathlib",
    "logging",
    "inspect",
    "asyncio",
)

# Modules outside gislicense that its start may load: `from __future__ import annotations`
# imports __future__, functools.partial comes from _functools (see _generic.py), and the
# native core registers its exit hook with atexit; all three are small.
ALLOWED = {"__future__", "_functools", "atexit"}


def loaded_by(code: str) -> set[str]:
    """The modules `code` loads beyond those Python loads at start, in a fresh interpreter."""
    probe = f"import sys; before = set(sys.modules); {code}; print(*set(sys.modules) - before)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import gislicense; gislicense.GIS",
        "import gislicense; gislicense.OpenLM",
        # The names a script for a portal imports.
        "from gislicense import GIS, BulkReport, GisLicenseError, Outcome, Role, User, UserType",
    ],
)
def test_first_use_loads_no_heavy_module(code: str) -> None:
    loaded = loaded_by(code)
    assert "gislicense._core" in loaded  # the first use loads the native core
    heavy = sorted(name for name in HEAVY if name in loaded)
    assert not heavy, (
        f"{code!r} loads {heavy}: import them where they are used, or for the type checker "
        "only (see gislicense/_generic.py)"
    )
    others = sorted(n for n in loaded - ALLOWED if n.split(".")[0] != "gislicense")
    assert not others, (
        f"{code!r} loads {others}: measure their cost with `python -X importtime -c {code!r}` "
        "and import them where they are used; if one is needed at start, add it to ALLOWED "
        "with the reason"
    )


def test_reading_members_loads_no_plan_machinery() -> None:
    # Plans, reports and progress display are loaded by the first change, not by GIS.
    loaded = loaded_by("import gislicense; gislicense.GIS")
    assert not loaded & {"gislicense.plans", "gislicense.bulk", "gislicense._progress"}


def test_import_alone_loads_neither_the_core_nor_a_heavy_module() -> None:
    # `gislicense --help` and an ArcGIS Pro toolbox import the package without using it.
    loaded = loaded_by("import gislicense")
    assert "gislicense._core" not in loaded
    assert not loaded & set(HEAVY)


def test_aliases_for_the_type_checker_are_still_there_at_run_time() -> None:
    # Made on first access, for code that evaluates annotations (they need typing then).
    from gislicense import openlm, plans, users

    assert "os.PathLike[str]" in repr(plans.JournalArg)
    assert "User" in repr(users.UserItem)
    assert "ActiveProduct" in repr(openlm.CloseItem)
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        plans.Missing  # noqa: B018
