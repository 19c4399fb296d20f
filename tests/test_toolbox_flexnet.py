"""The toolbox's Close Sessions tool on an ArcGIS License Manager (``port@host`` or a saved
profile of kind flexnet), run as Pro runs it (the stand-in ``arcpy``) against the sandbox's
License Manager and its stand-in ``lmutil``: plan, applied, FlexNet's filters."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import arcpy_standin

import gislicense
from gislicense.cli import main
from gislicense.plans import Journal
from gislicense.sandbox import LicenseManagerSandbox
from gislicense.toolbox import parameters, tools

ExecuteError = arcpy_standin.ExecuteError
NOW = dt.datetime(2020, 1, 2, 10, 15)
START = dt.datetime(2020, 1, 2, 8, 0)


def _site() -> dict[str, Any]:
    def one(user: str, days: int, feature: str = "Editor", **more: Any) -> dict[str, Any]:
        start = START - dt.timedelta(days=days)
        return {"feature": feature, "username": user, "workstation": f"WS-{user}", "start": start,
                **more}  # fmt: skip

    return {
        "features": [{"name": "Editor", "issued": 5}, {"name": "ARC/INFO", "issued": 2}],
        "sessions": [
            one("jsmith", 0),
            one("akhan", 3),
            one("lchen", 1, licenses=2),
            one("pnovak", 2, "ARC/INFO"),
        ],
    }


@pytest.fixture
def lm() -> Iterator[LicenseManagerSandbox]:
    with LicenseManagerSandbox(now=NOW, site=_site()) as sandbox:
        yield sandbox


@pytest.fixture
def arcpy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """ArcGIS Pro's arcpy (the stand-in); no portal is needed."""
    module = arcpy_standin.install()
    monkeypatch.setitem(sys.modules, "arcpy", module)
    parameters.forget_choices()
    yield module
    parameters.forget_choices()


def params(**values: Any) -> dict[str, Any]:
    tool = tools.CloseSessions()
    found = tool.getParameterInfo()
    by_name = {p.name: p for p in found}
    for name, value in values.items():
        by_name[name].value = value
    tool.updateParameters(found)
    for p in found:
        p.clearMessage()
    tool.updateMessages(found)
    return by_name


def errors(found: dict[str, Any]) -> dict[str, str]:
    return {n: p.message for n, p in found.items() if p.hasError()}


def run(**values: Any) -> None:
    found = params(**values)
    assert errors(found) == {}
    tools.CloseSessions().execute(list(found.values()), None)


def said(kind: str | None = None) -> list[str]:
    return [text for k, text in arcpy_standin.messages if kind is None or k == kind]


def holders(lm: LicenseManagerSandbox) -> set[str]:
    return {s["username"] for s in lm.sessions()}


def test_the_features_come_from_the_license_manager_and_the_plan_changes_nothing(
    arcpy: ModuleType, lm: LicenseManagerSandbox
) -> None:
    lmutil = str(lm.lmutil_path)
    found = params(source=lm.server, lmutil=lmutil)
    assert found["features"].filter.list == ["ARC/INFO", "Editor"]
    assert "features" in errors(found) and "keep free" in errors(found)["features"]
    run(source=lm.server, lmutil=lmutil, features=["ARC/INFO"])
    assert holders(lm) == {"jsmith", "akhan", "lchen", "pnovak"}
    lines = said("message")
    assert any(line.startswith("would_close: ") and "pnovak" in line for line in lines)
    assert any("Nothing was changed" in line for line in lines)


def test_keep_free_applied_takes_back_the_longest_running_licenses_only(
    arcpy: ModuleType, lm: LicenseManagerSandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "close.jsonl"
    lmutil = str(lm.lmutil_path)
    # Editor: 5 issued, 4 in use. Two free needs one more: akhan's, the oldest.
    run(source=lm.server, lmutil=lmutil, features=["Editor"], keep_free=2)
    assert holders(lm) == {"jsmith", "akhan", "lchen", "pnovak"}
    run(source=lm.server, lmutil=lmutil, features=["Editor"], keep_free=2, apply=True,
        journal=str(journal))  # fmt: skip
    assert holders(lm) == {"jsmith", "lchen", "pnovak"}
    assert Journal(journal).finished
    assert any("Applied: " in line for line in said("message"))
    flexnet = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path)
    editor = next(f for f in flexnet.get_features() if f.name == "Editor")
    assert editor.free == 2


def test_flexnets_filters_are_checked_before_running(
    arcpy: ModuleType, lm: LicenseManagerSandbox
) -> None:
    lmutil = str(lm.lmutil_path)
    found = errors(params(source=lm.server, lmutil=lmutil, idle_hours=2))
    assert "keeps no idle time" in found["idle_hours"]
    assert "source" not in found
    found = errors(params(source=lm.server, lmutil=lmutil, features=["Editor"], keep_free=-1))
    assert "0 or more" in found["keep_free"]
    openlm = "http://openlm01:7014/OpenLMServer"
    found = errors(params(source=openlm, features=["Editor"], keep_free=1, lmutil=lmutil))
    assert "OpenLM does not give" in found["keep_free"]
    assert "for an ArcGIS License Manager" in found["lmutil"]
    # An lmutil that is not there: the features cannot be listed, said as a warning.
    found = params(source=lm.server, lmutil=str(lm.lmutil_path) + "-gone", features=["Editor"])
    assert found["source"].hasWarning() and "lmutil was not found" in found["source"].message


def test_a_saved_license_manager_is_a_source_with_lmutil_on_path(
    arcpy: ModuleType,
    lm: LicenseManagerSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["profile", "add", "licsrv", "--url", lm.server, "--kind", "flexnet"]) == 0
    monkeypatch.setenv("PATH", f"{lm.lmutil_path.parent}{os.pathsep}{os.environ['PATH']}")
    found = params(source="licsrv", idle_hours=1)
    assert "keeps no idle time" in errors(found)["idle_hours"]
    run(source="licsrv", features=["ARC/INFO"], apply=True)
    assert holders(lm) == {"jsmith", "akhan", "lchen"}
