"""The usage history's pictures (matplotlib, the plot extra) and its exports."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from gislicense import InvalidInputError
from gislicense.history import History
from gislicense.history.simulate import SimulatedSite


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    site = SimulatedSite(seed=8, days=14, people=30)
    made = History(tmp_path_factory.mktemp("plots") / "h.sqlite")
    for at in site.poll_times(30):
        made.record(site.openlm_at(at), at=at)
    for feature, count in site.issued.items():
        made.set_issued(feature, count)
    made.import_log([e for e in site.log_events() if e.kind == "DENIED"], source="log")
    return made


def _drawn(figure: object, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    figure.savefig(path)  # type: ignore[attr-defined]
    assert path.stat().st_size > 5_000  # a picture, not an empty canvas
    return path


def test_use_over_time_against_the_issued_line(history: History, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    figure = history.plot_use("Editor")
    (axes,) = figure.axes
    labels = [line.get_label() for line in axes.get_lines()]
    assert labels == ["Editor", "Editor issued"]
    in_use, issued = axes.get_lines()
    assert max(in_use.get_ydata()) <= 10 and set(issued.get_ydata()) == {10}
    _drawn(figure, tmp_path, "use.png")


def test_heat_map_by_weekday_and_hour(history: History, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    figure = history.plot_heatmap()
    grid = figure.axes[0].images[0].get_array()
    assert grid.shape == (7, 24)
    # The simulated site works weekdays, from 8 on: nights and weekends are quiet.
    assert grid[5].max() == 0 and grid[0][3] == 0 and grid[0][11] > 0
    _drawn(figure, tmp_path, "heat.png")


def test_denials_per_day(history: History, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    figure = history.plot_denials("day")
    heights = sum(bar.get_height() for bar in figure.axes[0].patches)
    assert heights == sum(r["denials"] for r in history._denials("day"))
    _drawn(figure, tmp_path, "denials.png")


def test_without_matplotlib_the_error_says_what_to_install(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(InvalidInputError, match=r"gislicense\[plot\]"):
        history.plot_use()


def test_the_html_page_is_private_and_self_contained(history: History, tmp_path: Path) -> None:
    page = history.report_html(tmp_path / "usage.html")
    if os.name == "posix":
        assert page.stat().st_mode & 0o777 == 0o600
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "Right-size summary" in text
    assert "http://" not in text.replace("http://simulated", "")
    assert "https://" not in text


def test_export_to_csv_and_parquet(history: History, tmp_path: Path) -> None:
    written = history.export(tmp_path / "usage.csv")
    with open(written, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(history._usage())
    assert set(rows[0]) == {"time", "source", "feature", "in_use", "issued"}
    editor = history.export(tmp_path / "editor.csv", feature="Editor")
    with open(editor, newline="") as file:
        assert {r["feature"] for r in csv.DictReader(file)} == {"Editor"}
    with pytest.raises(InvalidInputError, match="feature, start and end"):
        history.export(tmp_path / "x.csv", by="day")
    peaks = history.export(tmp_path / "peaks.csv", "peaks", by="week")
    assert peaks.read_text().startswith("period,source,feature,issued,peak,p95")
    pyarrow = pytest.importorskip("pyarrow.parquet")
    table = pyarrow.read_table(history.export(tmp_path / "usage.parquet"))
    assert table.num_rows == len(rows)
    with pytest.raises(InvalidInputError, match="no report"):
        history.export(tmp_path / "x.csv", "secrets")
