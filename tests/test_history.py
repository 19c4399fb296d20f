"""The usage history: its file, recording polls as intervals, logs as events, members as
changes, and the reports checked against a simulated site's known truth."""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gislicense import InvalidInputError
from gislicense.history import History, _schema
from gislicense.history.simulate import SimulatedSite

GOLDEN = Path(__file__).parent / "golden" / "openlm"
T0 = 1_750_000_000  # a fixed time, seconds since 1970


def session(feature: str, user: str, handle: str = "1", **more: Any) -> SimpleNamespace:
    fields = {"server": "lm", "workstation": f"ws-{user}", "licenses": 1, "start_time": None}
    return SimpleNamespace(feature=feature, username=user, handle=handle, **{**fields, **more})


class Listing:
    """A source that answers what it is given (as an OpenLM client does)."""

    url = "http://lm:7014/OpenLMServer"

    def __init__(self, *sessions: SimpleNamespace) -> None:
        self.sessions = list(sessions)

    def get_active_products(self) -> list[SimpleNamespace]:
        return self.sessions


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "h.sqlite")


def intervals(h: History) -> list[tuple[str, str, int, int, int]]:
    return h._db.execute(
        "SELECT feature, username, first_seen, last_seen, open FROM intervals ORDER BY id"
    ).fetchall()


# The file


def test_made_on_first_use_for_its_owner_only_with_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "new" / "h.sqlite"
    with History(path) as h:
        assert h.schema_version == _schema.VERSION
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
    with History(path) as again:  # opened again: nothing made twice
        assert again.schema_version == _schema.VERSION
        mode = again._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_default_file_is_in_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GISLICENSE_HISTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert _schema.default_path() == tmp_path / "gislicense" / "history.sqlite"
    monkeypatch.setenv("GISLICENSE_HISTORY", str(tmp_path / "chosen.sqlite"))
    assert _schema.default_path() == tmp_path / "chosen.sqlite"


def test_a_newer_schema_or_another_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    History(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(InvalidInputError, match="schema version 99"):
        History(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidInputError, match="not a gislicense history"):
        History(junk)


# Recording sessions


def test_sessions_are_kept_as_intervals_not_rows_per_poll(history: History) -> None:
    a, b = session("Editor", "ann"), session("Viewer", "bob")
    history.record(Listing(a, b), at=T0)
    history.record(Listing(a, b), at=T0 + 300)
    history.record(Listing(a), at=T0 + 600)
    history.record(Listing(a), at=T0 + 900)
    assert intervals(history) == [
        ("Editor", "ann", T0, T0 + 900, 1),
        ("Viewer", "bob", T0, T0 + 300, 0),
    ]
    usage = history._db.execute(
        "SELECT feature, at, in_use FROM usage WHERE feature = 'Viewer' ORDER BY at"
    ).fetchall()
    # A feature no longer in use reads 0, not "no row".
    assert [n for _, _, n in usage] == [1, 1, 0, 0]


def test_the_same_poll_twice_or_an_older_one_writes_nothing(history: History) -> None:
    a = session("Editor", "ann")
    assert history.record(Listing(a), at=T0)["sessions"] == 1
    assert history.record(Listing(a, session("Editor", "eve")), at=T0)["sessions"] is None
    assert history.record(Listing(), at=T0 - 60)["sessions"] is None
    assert intervals(history) == [("Editor", "ann", T0, T0, 1)]
    assert history._db.execute("SELECT COUNT(*) FROM polls").fetchone()[0] == 1


def test_a_gap_without_polls_ends_the_intervals_and_is_reported(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite", gap=_dt.timedelta(minutes=30))
    a = session("Editor", "ann")
    h.record(Listing(a), at=T0)
    h.record(Listing(a), at=T0 + 600)
    h.record(Listing(a), at=T0 + 600 + 2 * 3600)  # the scheduler stopped for two hours
    assert intervals(h) == [
        ("Editor", "ann", T0, T0 + 600, 0),
        ("Editor", "ann", T0 + 7800, T0 + 7800, 1),
    ]
    (gap,) = h._gaps()
    assert gap["hours"] == 2.0
    (day,) = [r for r in h._peaks("day") if r["feature"] == "Editor"]
    assert day["covered_hours"] == round(600 / 3600, 2)  # the two hours are not counted


def test_a_failed_poll_is_recorded_as_one_and_raised(history: History) -> None:
    class Down:
        url = "http://down:7014/OpenLMServer"

        def get_active_products(self) -> list[Any]:
            raise InvalidInputError("server down")

    with pytest.raises(InvalidInputError, match="server down"):
        history.record(Down(), at=T0)
    (row,) = history._sources()
    assert (row["polls"], row["failed"]) == (1, 1)


def test_idle_time_adds_up_across_polls(history: History) -> None:
    def idle(minutes: int) -> SimpleNamespace:
        return session("Editor", "ann", idle_time=_dt.timedelta(minutes=minutes))

    history.record(Listing(idle(0)), at=T0)
    history.record(Listing(idle(2)), at=T0 + 600)  # 2 of the 10 minutes idle
    history.record(Listing(idle(12)), at=T0 + 1200)  # idle the whole 10
    (row,) = history._hours("user")
    assert row["hours"] == round(1200 / 3600, 2)
    assert row["idle_hours"] == round(720 / 3600, 2)
    assert row["idle_share"] == 0.6


def test_two_recorders_at_once_take_turns(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    History(path).close()
    errors: list[BaseException] = []

    def recorder(name: str) -> None:
        try:
            with History(path) as h:
                for n in range(40):
                    sessions = [session("Editor", f"u{i}", str(i)) for i in range(n % 7)]
                    h.record(Listing(*sessions), at=T0 + 60 * n)
                    h.record(Listing(*sessions), at=T0 + 60 * n, source=name)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=recorder, args=(f"r{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with History(path) as h:
        polls = dict(
            h._db.execute(
                "SELECT s.name, COUNT(*) FROM polls p JOIN sources s "
                "ON s.id = p.source_id GROUP BY s.name"
            ).fetchall()
        )
        assert polls == {Listing.url: 40, "r0": 40, "r1": 40}
        # The shared source: each session once per stretch, never twice at once.
        open_twice = h._db.execute(
            "SELECT COUNT(*) FROM (SELECT key FROM sessions WHERE open = 1 "
            "GROUP BY source_id, key HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        assert open_twice == 0


def test_a_saved_getactiveproducts_reply_is_imported_once(history: History) -> None:
    reply = GOLDEN / "reply-get-active-products.xml"
    assert history.import_active_products(reply, source="lm", at=T0) == 3
    assert history.import_active_products(reply.read_bytes(), source="lm", at=T0) is None
    features = {r["feature"]: r["peak"] for r in history._peaks("day")}
    assert features == {"Editor": 1, "ARC/INFO": 1, "87545ACD_2024_0F": 2}


def test_the_issued_count_needs_a_known_feature(history: History) -> None:
    with pytest.raises(InvalidInputError, match="no source has recorded"):
        history.set_issued("Editor", 3)
    history.record(Listing(session("Editor", "ann")), at=T0)
    with pytest.raises(InvalidInputError, match="0 or more"):
        history.set_issued("Editor", -1)
    history.set_issued("Editor", 1)
    (row,) = history._peaks("day")
    assert (row["issued"], row["peak"]) == (1, 1)


# Logs and lmstat outputs (the FlexNet readers' objects, duck-typed)


def test_log_events_make_sessions_counts_and_denials_once(history: History) -> None:
    site = SimulatedSite(seed=5, days=7, people=30)
    events = site.log_events()
    counts = history.import_log(iter(events), source="lmgrd")
    assert counts["DENIED"] == len(site.denials) > 0
    assert counts["OUT"] == counts["IN"] == len(site.sessions)
    assert history.import_log(events[:50], source="lmgrd") == {}  # imported already
    denied = {(r["period"], r["feature"]): r["denials"] for r in history._denials("day")}
    assert denied == site.truth_denials()
    # Every check-out and check-in is a sample: the peak is the most at once, exactly.
    starts = sorted({int(s.start_time.timestamp()) for s in site.sessions})
    truth = site.truth_peaks(starts)
    found = {(r["period"], r["feature"]): r["peak"] for r in history._peaks("day")}
    assert {k: v for k, v in found.items() if v} == {k: v for k, v in truth.items() if v}
    assert history._db.execute("SELECT COUNT(*) FROM sessions WHERE open = 1").fetchone()[0] == 0


def test_lmstat_output_records_issued_counts_and_sessions(history: History) -> None:
    status = SimpleNamespace(
        features=[
            SimpleNamespace(name="ARC/INFO", issued=5, in_use=2, error=None),
            SimpleNamespace(name="Viewer", issued=10, in_use=0, error=None),
        ],
        sessions=[session("ARC/INFO", "ann", "11"), session("ARC/INFO", "bob", "12")],
    )
    assert history.import_lmstat(status, source="27000@lm", at=T0) == 2
    rows = {r["feature"]: (r["issued"], r["peak"]) for r in history._peaks("day")}
    assert rows == {"ARC/INFO": (5, 2), "Viewer": (10, 0)}


def test_an_older_log_imported_later_is_rolled_up_again(tmp_path: Path) -> None:
    site = SimulatedSite(seed=6, days=14, people=30)
    events = site.log_events()
    # Split at the second Monday's midnight: no session is open across it.
    split = _dt.datetime.fromtimestamp(site.start) + _dt.timedelta(days=7)
    early = [e for e in events if e.time < split]
    late = [e for e in events if e.time >= split]
    with History(tmp_path / "a.sqlite") as in_order, History(tmp_path / "b.sqlite") as reversed_:
        in_order.import_log(events, source="lm")
        reversed_.import_log(late, source="lm")
        before = reversed_._peaks("day")
        reversed_.import_log(early, source="lm")  # days already rolled up are made again
        assert reversed_._peaks("day") == in_order._peaks("day")
        assert len(reversed_._peaks("day")) > len(before)
        assert reversed_._denials("week") == in_order._denials("week")


def test_a_notebook_shows_what_the_file_holds(history: History) -> None:
    history.record(Listing(session("Editor", "ann")), at=T0)
    view = history._repr_html_()
    assert "Usage history" in view and f"{Listing.url} (sessions)" in view
    assert repr(history) == f"History({str(history.path)!r})"
