"""The toolbox's UsageReport tool over a simulated fortnight recorded as a scheduler records
it: its rows are the history's own report (checked against the simulation's truth), written
as CSV, a geodatabase table and an HTML page, and options a report does not take are
refused before it runs."""

from __future__ import annotations

import csv
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from helpers import arcpy_standin
from test_toolbox import errors, params, run, said

from gislicense.history import History
from gislicense.history.simulate import SimulatedSite
from gislicense.toolbox import tools

OPENLM = "http://simulated:7014/OpenLMServer"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulatedSite, Path, list[int]]:
    site = SimulatedSite(seed=5, days=14, people=30, members=40)
    path = tmp_path_factory.mktemp("usage") / "history.sqlite"
    times = list(site.poll_times(15))
    with History(path) as history:
        for at in times:
            history.record(site.openlm_at(at), at=at)
        for feature, count in site.issued.items():
            history.set_issued(feature, count)
        history.record(site.portal_at(), at=site.end)
    return site, path, times


@pytest.fixture
def arcpy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    module = arcpy_standin.install()
    monkeypatch.setitem(sys.modules, "arcpy", module)
    yield module


def test_daily_peaks_as_messages_csv_and_table_match_the_simulation(
    arcpy: ModuleType, recorded: tuple[SimulatedSite, Path, list[int]], tmp_path: Path
) -> None:
    site, path, times = recorded
    out, table = tmp_path / "peaks.csv", str(tmp_path / "usage.gdb" / "peaks")
    run(tools.UsageReport(), history=str(path), report="peaks", by="day", csv=str(out), table=table)
    with out.open(newline="") as file:
        rows = [r for r in csv.DictReader(file) if r["source"] == OPENLM]
    truth = site.truth_peaks(times)
    assert len(rows) == len(truth) == 14 * len(site.issued)
    assert {(r["period"], r["feature"]): int(r["peak"]) for r in rows} == truth
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    made = arcpy_standin.tables[table]
    assert len([r for r in made["rows"] if r["source"] == OPENLM]) == len(truth)
    assert said("message")[0] == f"peaks: {len(made['rows'])} rows"


def test_an_html_page_and_the_right_size_summary(
    arcpy: ModuleType, recorded: tuple[SimulatedSite, Path, list[int]], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    _, path, _ = recorded
    page = tmp_path / "usage.html"
    run(tools.UsageReport(), history=str(path), report="right_size", html=str(page))
    text = page.read_text()
    assert "data:image/png;base64," in text and "http://" not in text.replace(OPENLM, "")
    with History(path) as history:
        expected = history.rows("right_size")
    assert said("message")[0] == f"right_size: {len(expected)} rows"
    assert f"Wrote {page}" in said("message")


def test_options_a_report_does_not_take_are_refused_before_it_runs(
    arcpy: ModuleType, recorded: tuple[SimulatedSite, Path, list[int]], tmp_path: Path
) -> None:
    _, path, _ = recorded
    found = errors(params(tools.UsageReport(), history=str(path), report="gaps", feature="x"))
    assert found == {"feature": "the gaps report does not take this"}
    found = errors(params(tools.UsageReport(), history=str(path), report="peaks", idle_days=30))
    assert found == {"idle_days": "the peaks report does not take this"}
    found = errors(params(tools.UsageReport(), history=str(tmp_path / "none.sqlite")))
    assert found == {"history": f"{tmp_path / 'none.sqlite'} is not a file"}
    assert not (tmp_path / "none.sqlite").exists()
    tool = tools.UsageReport()
    with pytest.raises(arcpy_standin.ExecuteError, match="does not take"):
        tool.execute(params(tool, history=str(path), report="sources", since_days=3), None)


def test_idle_members_take_the_idle_days(
    arcpy: ModuleType, recorded: tuple[SimulatedSite, Path, list[int]]
) -> None:
    _, path, _ = recorded
    run(tools.UsageReport(), history=str(path), report="idle_members", idle_days=1)
    with History(path) as history:
        expected = history.rows("idle_members", days=1)
    assert expected
    assert said("message")[0] == f"idle_members: {len(expected)} rows"
