"""The ArcGIS License Manager (FlexNet): lmstat and debug log readers on hand-made outputs of
every quirk, and the client, its plans and the command line against the sandbox's License
Manager."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import gislicense
from gislicense import InvalidInputError, ServerError, TransportError
from gislicense.cli import main
from gislicense.plans import Plan
from gislicense.sandbox import LicenseManagerSandbox

GOLDEN = Path(__file__).parent / "golden" / "flexnet"
NOW = dt.datetime(2020, 1, 2, 10, 15)


def _site() -> dict[str, object]:
    start = dt.datetime(2020, 1, 2, 8, 0)
    return {
        "features": [
            {"name": "Editor", "issued": 5},
            {"name": "ARC/INFO", "issued": 2},
            {"name": "desktopAdvN", "issued": 0, "error": "Error: 48 licenses, unsupported"},
        ],
        "sessions": [
            {"feature": "Editor", "username": "jsmith", "workstation": "WS-1", "start": start},
            {
                "feature": "Editor",
                "username": "akhan",
                "workstation": "WS-2",
                "display": ",_6!/#bE (v9) (x/1 2), start",
                "start": start - dt.timedelta(days=3),
            },
            {
                "feature": "Editor",
                "username": "lchen",
                "workstation": "WS-3",
                "start": start - dt.timedelta(days=1),
                "licenses": 2,
            },
            {
                "feature": "ARC/INFO",
                "username": "pnovak",
                "workstation": "WS-4",
                "start": "2019-12-31 23:00",
                "borrowed": True,
            },
        ],
    }


@pytest.fixture
def sb() -> Iterator[LicenseManagerSandbox]:
    with LicenseManagerSandbox(now=NOW, site=_site()) as sandbox:
        yield sandbox


@pytest.fixture
def flexnet(sb: LicenseManagerSandbox) -> gislicense.FlexNet:
    return gislicense.FlexNet(sb.server, lmutil=sb.lmutil_path)


def test_parse_lmstat_reads_every_quirk_as_the_golden_file_says() -> None:
    status = gislicense.parse_lmstat((GOLDEN / "lmstat-quirks.txt").read_text())
    want = json.loads((GOLDEN / "lmstat-quirks.json").read_text())
    assert [f.name for f in status.features] == [f["name"] for f in want["features"]]
    for got, expected in zip(status.sessions, want["sessions"]):
        row = got.to_dict()
        start = row.pop("start_time")
        assert (start.isoformat() if start else None) == expected["start_time"]
        for key in ("feature", "username", "workstation", "display", "handle", "licenses"):
            assert row[key] == expected[key], key
        assert row["borrowed"] is expected["borrowed"]
    assert status.date == dt.date(2020, 1, 2)
    assert status.unread == want["unread"]
    named_user = status.features[2]
    assert named_user.issued is None and "unsupported" in (named_user.error or "")


def test_parse_lmstat_takes_a_date_for_output_without_a_status_line() -> None:
    line = "    jsmith WS1 WS1 (v10.1) (gislic01/27000 412), start Tue 12/31 8:33\n"
    text = "Users of Editor:  (Total of 1 license issued;  Total of 1 license in use)\n" + line
    assert gislicense.parse_lmstat(text).sessions[0].start_time is None
    dated = gislicense.parse_lmstat(text, date=dt.date(2020, 1, 2))
    assert dated.sessions[0].start_time == dt.datetime(2019, 12, 31, 8, 33)
    with pytest.raises(InvalidInputError):
        gislicense.parse_lmstat(b"bytes")  # type: ignore[arg-type]


def test_parsed_records_stand_alone_and_outside_the_cycle_collector() -> None:
    text = (GOLDEN / "lmstat-quirks.txt").read_text()
    status = gislicense.parse_lmstat(text)
    session, feature = status.sessions[0], status.features[0]
    # They hold no Python object, so the collector has nothing to visit in them...
    assert not gc.is_tracked(session) and not gc.is_tracked(feature)
    assert all(isinstance(r, type) for r in gc.get_referents(session))  # its class only
    # ...and each keeps its own words: one kept alone is whole after the rest are gone.
    kept = session.to_dict()
    del status
    gc.collect()
    assert session.to_dict() == kept
    assert session == gislicense.parse_lmstat(text).sessions[0]


def test_parse_lmgrd_log_streams_events_from_a_path_or_lines(tmp_path: Path) -> None:
    want = json.loads((GOLDEN / "lmgrd-quirks.json").read_text())
    path = GOLDEN / "lmgrd-quirks.log"
    from_path = list(gislicense.parse_lmgrd_log(path))
    from_lines = list(gislicense.parse_lmgrd_log(path.read_text().splitlines()))
    assert [e.to_dict() for e in from_path] == [e.to_dict() for e in from_lines]
    assert len(from_path) == len(want)
    for event, expected in zip(from_path, want):
        assert event.kind == expected["kind"]
        assert (event.time.isoformat() if event.time else None) == expected["time"]
        assert (event.feature, event.user, event.workstation, event.reason) == (
            expected["feature"],
            expected["user"],
            expected["workstation"],
            expected["reason"],
        )
        assert event.time is None or event.time.tzinfo is None
    with pytest.raises(InvalidInputError):
        gislicense.parse_lmgrd_log(tmp_path / "missing.log")


def test_features_and_sessions_from_the_sandbox(flexnet: gislicense.FlexNet) -> None:
    features = {f.name: f for f in flexnet.get_features()}
    assert (features["Editor"].issued, features["Editor"].in_use) == (5, 4)
    assert features["Editor"].free == 1
    assert features["desktopAdvN"].error and features["desktopAdvN"].issued is None
    sessions = flexnet.get_active_products()
    assert {s.username for s in sessions} == {"jsmith", "akhan", "lchen", "pnovak"}
    akhan = next(s for s in sessions if s.username == "akhan")
    assert akhan.display == ",_6!/#bE (v9) (x/1 2), start"
    assert akhan.start_time == dt.datetime(2019, 12, 30, 8, 0)
    pnovak = next(s for s in sessions if s.username == "pnovak")
    assert pnovak.borrowed and pnovak.start_time == dt.datetime(2019, 12, 31, 23, 0)
    # OpenLM's filters: text without regard to case, several values, functions.
    assert [s.username for s in flexnet.get_active_products(username="JSMITH")] == ["jsmith"]
    assert len(flexnet.get_active_products(feature=["editor", "ARC/INFO"])) == 4
    old = flexnet.get_active_products(start_time=lambda t: t < dt.datetime(2020, 1, 1))
    assert {s.username for s in old} == {"akhan", "pnovak"}


def test_idle_filters_are_refused_with_the_reason(flexnet: gislicense.FlexNet) -> None:
    with pytest.raises(InvalidInputError, match="keeps no idle time"):
        flexnet.get_active_products(idle_time=lambda t: True)
    with pytest.raises(InvalidInputError, match="not a field"):
        flexnet.get_active_products(colour="red")


def test_close_is_closed_only_when_lmstat_no_longer_shows_the_handle(
    flexnet: gislicense.FlexNet, sb: LicenseManagerSandbox, tmp_path: Path
) -> None:
    sessions = flexnet.get_active_products()
    chosen = [s for s in sessions if s.username in ("akhan", "pnovak")]
    dry = flexnet.close_applications(chosen, dry_run=True)
    assert [o.status for o in dry] == ["would_close", "failed"]
    assert "borrowed" in (dry[1].reason or "")
    journal = tmp_path / "run.jsonl"
    report = flexnet.close_applications(chosen, journal=journal)
    assert [o.status for o in report] == ["closed", "failed"]
    assert {s["username"] for s in sb.sessions()} == {"jsmith", "lchen", "pnovak"}
    log = list(gislicense.parse_lmgrd_log(sb.log_path))
    removed = [e for e in log if e.kind == "IN" and e.user == "akhan"]
    assert removed and removed[0].reason == "REMOVED"
    # The same plan again: the session is gone, so unchanged.
    again = flexnet.close_applications(chosen[:1], journal=False)
    assert again[0].status == "unchanged"
    read = gislicense.plans.Journal(journal)
    assert read.plan["operation"] == "close_applications" and read.finished
    assert read.plan["items"][0]["steps"][0]["action"] == "remove"


def test_an_application_that_checks_out_again_is_a_new_handle() -> None:
    with LicenseManagerSandbox(now=NOW, site=_site(), checks_out_again=True) as sb:
        flexnet = gislicense.FlexNet(sb.server, lmutil=sb.lmutil_path)
        jsmith = flexnet.get_active_products(username="jsmith")
        report = flexnet.close_applications(jsmith, journal=False)
        assert report[0].status == "closed"
        again = flexnet.get_active_products(username="jsmith")
        assert len(again) == 1 and again[0].handle != jsmith[0].handle


def test_a_server_that_refuses_lmremove_answers_so(
    flexnet: gislicense.FlexNet, sb: LicenseManagerSandbox
) -> None:
    sb.refuse_remove()
    chosen = flexnet.get_active_products(feature="Editor")[:2]
    report = flexnet.close_applications(chosen, journal=False)
    assert [o.status for o in report] == ["failed", "failed"]
    assert "not allowed" in (report[0].reason or "")
    assert len(sb.sessions()) == 4


def test_keep_free_closes_only_what_it_takes_longest_running_first(
    flexnet: gislicense.FlexNet,
) -> None:
    editors = flexnet.get_active_products(feature="Editor")
    # 5 issued, 4 in use: 1 free. Keeping 3 free needs 2 more: akhan (the oldest) frees 1,
    # lchen (next, holding 2) the rest; jsmith is not needed.
    plan = flexnet.plan_close(editors, keep_free=3)
    by_user = {item.item.split(" held by ")[1].split(" ")[0]: item for item in plan.items}
    assert by_user["akhan"].status == "would_close"
    assert by_user["lchen"].status == "would_close"
    assert by_user["jsmith"].status == "skipped"
    assert "keep_free=3" in (by_user["jsmith"].reason or "")
    assert all(i.status == "skipped" for i in flexnet.plan_close(editors, keep_free=1).items)
    with pytest.raises(InvalidInputError):
        flexnet.plan_close(editors, keep_free=-1)


def test_a_plan_saved_and_applied_later_is_rechecked(
    flexnet: gislicense.FlexNet, sb: LicenseManagerSandbox, tmp_path: Path
) -> None:
    chosen = flexnet.get_active_products(username=["jsmith", "lchen"])
    plan = flexnet.plan_close(chosen, allow_all=True)
    saved = plan.save(tmp_path / "plan.json")
    flexnet.close_applications(chosen[:1], journal=False)
    report = Plan.load(saved, flexnet).apply(journal=False)
    assert sorted(o.status for o in report) == ["closed", "unchanged"]


def test_a_server_down_and_a_missing_lmutil_are_clear(sb: LicenseManagerSandbox) -> None:
    flexnet = gislicense.FlexNet(sb.server, lmutil=sb.lmutil_path)
    sb.take_down()
    with pytest.raises(TransportError, match="Cannot connect"):
        flexnet.get_features()
    with pytest.raises(InvalidInputError, match="lmutil was not found"):
        gislicense.FlexNet("27000@x", lmutil="/no/such/lmutil")
    with pytest.raises(InvalidInputError):
        gislicense.FlexNet("-c@x", lmutil=sb.lmutil_path)


def test_mappings_close_as_sessions_do(flexnet: gislicense.FlexNet) -> None:
    s = flexnet.get_active_products(username="jsmith")[0]
    wanted = {"feature": s.feature, "server": s.server, "port": s.port, "handle": s.handle}
    report = flexnet.close_applications([wanted, {"feature": "Editor"}], journal=False)
    assert [o.status for o in report] == ["closed", "failed"]
    assert "has no server" in (report[1].reason or "")
    with pytest.raises(ServerError):
        flexnet._client.remove(wanted).wait()


def test_the_command_line_lists_and_closes(
    sb: LicenseManagerSandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    where = ["--flexnet", sb.server, "--lmutil", str(sb.lmutil_path)]
    assert main(["sessions", "list", *where, "--csv"]) == 0
    out = capsys.readouterr().out
    assert "jsmith" in out and "handle" in out
    assert main(["sessions", "list", *where, "--idle", "2h"]) != 0
    assert "keeps no idle time" in capsys.readouterr().err
    journal = str(tmp_path / "cli.jsonl")
    code = main(["sessions", "close", *where, "--user", "jsmith", "--apply", "--journal", journal])
    assert code == 0, capsys.readouterr()
    assert "jsmith" not in {s["username"] for s in sb.sessions()}
    capsys.readouterr()
    # 5 Editor issued, 3 in use: 2 free already, so nothing of Editor is needed.
    code = main(["sessions", "close", *where, "--feature", "Editor", "--keep-free", "2"])
    shown = capsys.readouterr()
    assert code == 0, shown
    assert "not needed" in shown.out + shown.err


def test_the_command_line_refuses_keep_free_for_openlm(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["sessions", "close", "--sandbox", "--keep-free", "2"])
    assert code != 0
    assert "--flexnet" in capsys.readouterr().err


def test_licenses_report_shows_a_license_managers_features_across_servers(
    sb: LicenseManagerSandbox,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = ["--flexnet", sb.server, "--lmutil", str(sb.lmutil_path)]
    assert main(["licenses", "report", *where, "--csv"]) == 0
    out = capsys.readouterr().out
    assert "Editor,5,4,1" in out and "desktopAdvN" in out
    from gislicense import profiles

    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", f"{sb.lmutil_path.parent}:/usr/bin:/bin")
    profiles.save(profiles.Profile("lic", "flexnet", sb.server))
    assert main(["licenses", "report", "--profile", "lic", "--csv"]) == 0
    assert "Editor,5,4,1" in capsys.readouterr().out
    assert main(["sessions", "list", "--profile", "lic", "--csv"]) == 0
    assert "jsmith" in capsys.readouterr().out


def test_sessions_features_and_events_make_table_rows(flexnet: gislicense.FlexNet) -> None:
    from gislicense.tables import row

    session = flexnet.get_active_products()[0]
    assert row(session) == session.to_dict()
    assert row(flexnet.get_features()[0])["name"] == "Editor"
    event = next(iter(gislicense.parse_lmgrd_log([' 8:00:00 (ARCGIS) OUT: "Editor" a@b'])))
    assert row(event)["kind"] == "OUT"


def test_the_sandbox_command_runs_a_license_manager_the_commands_reach() -> None:
    """`gislicense sandbox` prints its License Manager; sessions list reaches it as printed,
    and it is gone once the sandbox stops."""
    import re
    import subprocess
    import sys

    started = ["sandbox", "--sessions", "1", "--license-manager-sessions", "7"]
    command = subprocess.Popen(
        [sys.executable, "-m", "gislicense", *started],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert command.stdout is not None
        out = ""
        for line in command.stdout:
            out += line
            if line.startswith("Press Ctrl-C"):
                break
        server = re.search(r"ArcGIS License Manager: (\S+)", out)
        lmutil = re.search(r"lmutil \(--lmutil\): (\S+)", out)
        assert server and lmutil, out
        where = ["--flexnet", server.group(1), "--lmutil", lmutil.group(1)]
        listed = subprocess.run(
            [sys.executable, "-m", "gislicense", "sessions", "list", "--json", *where],
            capture_output=True,
            text=True,
            check=True,
        )
        assert len(json.loads(listed.stdout)) == 7
    finally:
        command.terminate()
        command.communicate(timeout=30)
    assert not Path(lmutil.group(1)).exists()


def test_a_run_cut_short_after_its_plan_is_resumed_from_the_state_read_again(
    flexnet: gislicense.FlexNet, sb: LicenseManagerSandbox, tmp_path: Path
) -> None:
    """A journal whose run stopped right after its plan line (the process killed): resume
    plans every item again from lmstat read now, and applying appends to the journal."""
    chosen = flexnet.get_active_products(username=["akhan", "lchen"])
    plan = flexnet.plan_close(chosen)
    journal = tmp_path / "cut.jsonl"
    line = {"event": "plan", "time_ms": 0, "plan": plan.to_dict()}
    journal.write_text(json.dumps(line) + "\n")
    cut = gislicense.plans.Journal(journal)
    assert not cut.ended and not cut.finished
    assert len(cut.unfinished) == 2
    # Meanwhile lchen's session is closed by someone else.
    lchen = [s for s in chosen if s.username == "lchen"]
    assert flexnet.close_applications(lchen, journal=False)[0].status == "closed"
    resumed = Plan.resume(journal, flexnet)
    by_user = {i.item.split(" held by ")[1].split(" ")[0]: i.status for i in resumed.items}
    assert by_user == {"akhan": "would_close", "lchen": "unchanged"}
    report = resumed.apply(journal=journal)
    assert sorted(o.status for o in report) == ["closed", "unchanged"]
    assert {s["username"] for s in sb.sessions()} == {"jsmith", "pnovak"}
    done = gislicense.plans.Journal(journal)
    assert done.finished and done.ended
    plans = [json.loads(x) for x in journal.read_text().splitlines()]
    assert [p["event"] for p in plans].count("plan") == 2


def test_a_saved_license_manager_connection_is_used_by_profile(
    sb: LicenseManagerSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["profile", "add", "lm", "--url", sb.server, "--kind", "flexnet"]) == 0
    assert main(["profile", "add", "lic", "--url", "http://lic01:7014"]) == 0
    flexnet = gislicense.FlexNet(profile="lm", lmutil=sb.lmutil_path)
    assert flexnet.server == sb.server
    assert len(flexnet.get_active_products()) == 4
    # What the caller gives wins over the profile.
    other = gislicense.FlexNet("27001@other", lmutil=sb.lmutil_path, profile="lm")
    assert other.server == "27001@other"
    with pytest.raises(InvalidInputError, match=r"for an OpenLM server: use OpenLM"):
        gislicense.FlexNet(profile="lic")
