"""`gislicense usage`: recording from the sandbox, importing saved outputs and logs, and the
reports as tables, JSON, CSV, an HTML page and a plan."""

from __future__ import annotations

import csv
import io
import json
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

import gislicense
from gislicense.cli import main
from gislicense.history import History
from gislicense.history.simulate import SimulatedSite

GOLDEN = Path(__file__).parent / "golden" / "openlm" / "reply-get-active-products.xml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_record_polls_every_source_of_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "h.sqlite"
    status, out, err = run(capsys, "usage", "record", "--sandbox", "--history", str(file), "--json")
    assert status == 0, err
    rows = json.loads(out)
    assert {r["kind"] for r in rows} == {"openlm", "portal"}
    assert next(r for r in rows if r["kind"] == "openlm")["sessions"] > 0
    assert next(r for r in rows if r["kind"] == "portal")["members"] > 0
    with History(file) as history:
        assert {r["kind"] for r in history._sources()} == {"openlm", "portal"}


def test_record_needs_its_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "usage", "record", "--history", str(tmp_path / "h.sqlite"))
    assert status == 2
    assert "--profile" in err and "--sandbox" in err


def test_saved_replies_are_imported_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = str(tmp_path / "h.sqlite")
    status, _, err = run(
        capsys, "usage", "import-log", str(GOLDEN), "--source", "lm", "--history", file,
        "--at", "2025-03-03T10:00",
    )  # fmt: skip
    assert status == 0, err
    status, out, err = run(
        capsys, "usage", "report", "peaks", "--history", file, "--issued", "Editor=1", "--json"
    )
    assert status == 0, err
    rows = {r["feature"]: r for r in json.loads(out)}
    assert rows["Editor"]["peak"] == 1 and rows["Editor"]["issued"] == 1
    assert rows["87545ACD_2024_0F"]["peak"] == 2
    assert rows["Editor"]["period"] == "2025-03-03"


def test_logs_go_through_the_flexnet_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = SimulatedSite(seed=4, days=7, people=30)
    log = tmp_path / "lmgrd.log"
    log.write_text("15:00:00 (lmgrd) FlexNet Licensing started\n")
    read: list[Any] = []

    def parse_lmgrd_log(path: Any) -> Any:
        read.append(path)
        return iter(site.log_events())

    monkeypatch.setattr(gislicense, "parse_lmgrd_log", parse_lmgrd_log, raising=False)
    file = str(tmp_path / "h.sqlite")
    status, out, err = run(
        capsys, "usage", "import-log", str(log), "--source", "lm", "--history", file, "--json"
    )
    assert status == 0, err
    (row,) = json.loads(out)
    assert row["format"] == "lmgrd" and row["denied"] == len(site.denials)
    assert read == [str(log)]
    status, out, _ = run(capsys, "usage", "report", "denials", "--by", "month", "--history",
                         file, "--csv")  # fmt: skip
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum(int(r["denials"]) for r in rows) == len(site.denials)


def test_an_option_a_report_does_not_take_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = str(tmp_path / "h.sqlite")
    status, _, err = run(capsys, "usage", "report", "holders", "--by", "day", "--history", file)
    assert status == 2 and "--by does not apply to the holders report" in err
    status, _, err = run(capsys, "usage", "report", "peaks", "--issued", "x", "--history", file)
    assert status == 2 and "FEATURE=N" in err


def test_an_html_page_is_one_file_with_nothing_fetched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = SimulatedSite(seed=3, days=7, people=20)
    file = tmp_path / "h.sqlite"
    with History(file) as history:
        for at in site.poll_times(30):
            history.record(site.openlm_at(at), at=at)
        history.import_log([e for e in site.log_events() if e.kind == "DENIED"], source="log")
    page = tmp_path / "usage.html"
    status, _, err = run(
        capsys, "usage", "report", "right-size", "--history", str(file), "--html", str(page)
    )
    assert status == 0, err
    text = page.read_text()
    assert "Right-size summary" in text and "ARC/INFO" in text
    assert "src='http" not in text and 'src="http' not in text and "<link" not in text
    if find_spec("matplotlib") is None:
        assert "No charts" in text
    else:
        assert text.count("data:image/png;base64,") == 3


def test_a_report_hands_its_members_to_set_type_as_a_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = str(tmp_path / "h.sqlite")
    assert run(capsys, "usage", "record", "--sandbox", "--history", file)[0] == 0
    status, out, err = run(
        capsys, "usage", "report", "idle-members", "--days", "0", "--user-type", "creatorUT",
        "--history", file, "--json",
    )  # fmt: skip
    assert status == 0, err
    creators = {r["username"] for r in json.loads(out)}
    assert creators and all(r["user_type"] == "creatorUT" for r in json.loads(out))
    status, out, err = run(
        capsys, "usage", "report", "idle-members", "--days", "0", "--user-type", "creatorUT",
        "--history", file, "--set-type", "viewerUT", "--role", "auto", "--sandbox", "--json",
    )  # fmt: skip
    assert "Nothing was changed" in err
    items = json.loads(out)
    assert {item["item"] for item in items} == creators
    # As `users set-type` plans it: the sandbox has fewer Viewer seats than creators.
    changed = [i for i in items if i["status"] == "would_change"]
    short = [i for i in items if i["status"] == "failed"]
    assert changed and len(changed) + len(short) == len(items)
    assert all("no seat left" in i["reason"] for i in short)
    assert status == (1 if short else 0)


def test_lmstat_outputs_without_a_status_line_are_dated_by_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as _dt

    # Start times carry no year: without the status line, --at gives it.
    saved = tmp_path / "lmstat.txt"
    saved.write_text(
        "lmstat - Copyright (c) Flexera\n"
        "Users of ARC/INFO:  (Total of 5 licenses issued;  Total of 1 license in use)\n\n"
        '  "ARC/INFO" v10.1, vendor: ARCGIS\n  floating license\n\n'
        "    ann ws1 ws1 (v10.1) (lm/27000 7), start Mon 3/3 9:00\n"
    )
    file = str(tmp_path / "h.sqlite")
    status_code, out, err = run(
        capsys, "usage", "import-log", str(saved), "--source", "lm", "--history", file,
        "--at", "2025-03-03T10:00", "--json",
    )  # fmt: skip
    assert status_code == 0, err
    assert json.loads(out)[0]["format"] == "lmstat"
    with History(file) as history:
        (row,) = history._peaks("day")
        assert (row["feature"], row["issued"], row["peak"]) == ("ARC/INFO", 5, 1)
        (start,) = history._db.execute("SELECT start_time FROM sessions").fetchone()
        assert start == int(_dt.datetime(2025, 3, 3, 9, 0).timestamp())
