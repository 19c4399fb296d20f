"""Reports on a simulated month recorded as a scheduler records it, checked against the
simulation's known truth; named-user state from a portal; the real sandbox recorded."""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import gislicense
from gislicense import InvalidInputError
from gislicense.history import History
from gislicense.history.simulate import SimulatedSite

MINUTES = 15
OPENLM = "http://simulated:7014/OpenLMServer"


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulatedSite, History, list[int]]:
    """Four weeks polled every 15 minutes (as `usage record` from a scheduler), the
    license server's log imported for its denials, the portal read at the end."""
    site = SimulatedSite(seed=11, days=28, people=40, members=60)
    history = History(tmp_path_factory.mktemp("month") / "h.sqlite")
    times = list(site.poll_times(MINUTES))
    for at in times:
        history.record(site.openlm_at(at), at=at)
    for feature, count in site.issued.items():
        history.set_issued(feature, count)
    history.import_log([e for e in site.log_events() if e.kind == "DENIED"], source="lmgrd")
    history.record(site.portal_at(), at=site.end)
    return site, history, times


def test_daily_peaks_match_the_simulation(month: tuple[SimulatedSite, History, list[int]]) -> None:
    site, history, times = month
    rows = [r for r in history._peaks("day") if r["source"] == OPENLM]
    assert len(rows) == 28 * len(site.issued)
    assert {(r["period"], r["feature"]): r["peak"] for r in rows} == site.truth_peaks(times)
    for row in rows:
        assert row["issued"] == site.issued[row["feature"]]
        assert row["p95"] <= row["peak"] <= row["issued"]
        assert 0 <= row["at_limit_share"] <= 1


def test_percentile_and_time_at_the_limit_match_the_samples(
    month: tuple[SimulatedSite, History, list[int]],
) -> None:
    site, history, times = month
    # Every sample but the last weighs the same 15 minutes: the truth is plain counting,
    # from the poll that first saw the feature (the history knows of no feature before).
    samples: dict[tuple[str, str], list[int]] = defaultdict(list)
    known: set[str] = set()
    for at in times[:-1]:
        week = _dt.datetime.fromtimestamp(at).strftime("%Y-W%W")
        counts: dict[str, int] = defaultdict(int)
        for s in site.open_at(at):
            counts[s.feature] += 1
        known |= set(counts)
        for feature in known:
            samples[(week, feature)].append(counts[feature])
    for row in [r for r in history._peaks("week") if r["source"] == OPENLM]:
        values = sorted(samples[(row["period"], row["feature"])])
        expected = next(v for i, v in enumerate(values) if (i + 1) >= 0.95 * len(values))
        assert row["p95"] == expected
        at_limit = sum(v >= site.issued[row["feature"]] for v in values)
        assert row["hours_at_limit"] == round(at_limit * MINUTES / 60, 2)
        assert row["covered_hours"] == round(len(values) * MINUTES / 60, 2)


def test_denials_match_the_simulation(month: tuple[SimulatedSite, History, list[int]]) -> None:
    site, history, _ = month
    found = {(r["period"], r["feature"]): r["denials"] for r in history._denials("day")}
    assert found == site.truth_denials()
    assert sum(r["denials"] for r in history._denials("month")) == len(site.denials)


def test_hours_per_user_match_the_polls(month: tuple[SimulatedSite, History, list[int]]) -> None:
    site, history, times = month
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for s in site.sessions:
        seen = [t for t in times if s.start_time.timestamp() <= t < s.end]
        if seen:
            expected[(s.username, s.feature)] += seen[-1] - seen[0]
    rows = [r for r in history._hours("user") if r["feature"] in site.issued]
    assert {(r["user"], r["feature"]): r["hours"] for r in rows if r["sessions"]} == {
        k: round(v / 3600, 2) for k, v in expected.items()
    }
    for row in rows:
        assert 0 <= row["idle_share"] <= 1


def test_idle_members_and_holders_match_the_simulation(
    month: tuple[SimulatedSite, History, list[int]],
) -> None:
    site, history, _ = month
    idle = history._idle_members(90, at=site.end)
    assert {r["username"] for r in idle} == site.truth_idle_members(90)
    pro = history._holders("desktopAdvN", at=site.end)
    holders = {m.username for m in site.members if "desktopAdvN" in m.entitlements}
    assert {r["username"] for r in pro} == holders
    stale = {r["username"] for r in pro if r["days_since_use"] is None or r["days_since_use"] >= 90}
    assert stale == holders & site.truth_idle_members(90)


def test_downgrade_frees_the_idle_members_seats(
    month: tuple[SimulatedSite, History, list[int]],
) -> None:
    site, history, _ = month
    rows = {r["user_type"]: r for r in history._downgrade(90, to="viewer", at=site.end)}
    assert "viewer" not in rows
    idle = site.truth_idle_members(90)
    for kind, row in rows.items():
        chosen = {m.username for m in site.members if m.user_type == kind} & idle
        assert set(row["usernames"]) == chosen
        assert row["frees_seats"] == len(chosen)


def test_right_size_says_what_the_numbers_support(
    month: tuple[SimulatedSite, History, list[int]],
) -> None:
    site, history, _ = month
    rows = {r["feature"]: r for r in history._right_size(at=site.end) if r["source"] == OPENLM}
    denied: dict[str, int] = defaultdict(int)
    for event in site.denials:
        denied[event.feature] += 1
    assert {f: r["denials"] for f, r in rows.items() if r["denials"]} == denied
    for feature, row in rows.items():
        if feature in denied:
            assert row["change"] is None and row["advice"].startswith("short")
        elif row["peak"] < site.issued[feature]:
            assert row["change"] == row["peak"] - site.issued[feature]
    seats = {r["feature"]: r for r in history._right_size(at=site.end) if r["kind"] == "user type"}
    assert sum(r["idle"] for r in seats.values()) == len(site.truth_idle_members(90))
    bought = site.portal_at().users.license_types
    for user_type in bought:
        row = seats[user_type.id]
        assert row["issued"] == user_type.maximum
        # The seats the members who sign in need, against those bought.
        assert row["change"] == row["peak"] - row["idle"] - user_type.maximum


def test_reports_are_dataframes_with_pandas(
    month: tuple[SimulatedSite, History, list[int]],
) -> None:
    pandas = pytest.importorskip("pandas")
    _, history, _ = month
    table = history.peaks("week")
    assert isinstance(table, pandas.DataFrame)
    assert {"period", "feature", "issued", "peak", "p95", "at_limit_share"} <= set(table.columns)
    with pytest.raises(InvalidInputError, match="hour, day, week, month"):
        history.peaks("fortnight")


def test_named_user_state_is_kept_as_changes(tmp_path: Path) -> None:
    site = SimulatedSite(seed=2, days=7, members=10)
    with History(tmp_path / "h.sqlite") as history:
        history.record(site.portal_at(), at=site.end)
        first = history._db.execute("SELECT COUNT(*) FROM member_changes").fetchone()[0]
        assert history.record(site.portal_at(), at=site.end + 60)["changes"] == 0
        site.members[0].user_type = "viewer"
        del site.members[1]
        assert history.record(site.portal_at(), at=site.end + 120)["changes"] > 0
        changed = history._db.execute(
            "SELECT username, field, value FROM member_changes WHERE at = ?", (site.end + 120,)
        ).fetchall()
        assert ("member000", "user_type", "viewer") in changed
        assert ("member001", "user_type", None) in changed  # gone from the portal
        assert (
            first
            == history._db.execute(
                "SELECT COUNT(*) FROM member_changes WHERE at = ?", (site.end,)
            ).fetchone()[0]
        )


def test_a_client_that_is_neither_is_refused(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history, pytest.raises(InvalidInputError):
        history.record(object())


@pytest.mark.sandbox(sessions=200, portal_members=50)
def test_the_sandbox_servers_are_recorded(
    sb: gislicense.Sandbox, gis: gislicense.GIS, tmp_path: Path
) -> None:
    with History(tmp_path / "h.sqlite") as history:
        done = history.record(gislicense.OpenLM(sb.openlm_url))
        assert done["sessions"] == len(gislicense.OpenLM(sb.openlm_url).get_active_products())
        members = history.record(gis)
        assert members["members"] == len(gis.users.search())
        every: Any = history._holders(None)
        assert all(r["entitlement"] for r in every)
        kinds = {r["kind"] for r in history._sources()}
        assert kinds == {"openlm", "portal"}


def test_a_portal_without_licenses_or_user_types_still_records_members(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from gislicense import NotFoundError

    site = SimulatedSite(seed=2, days=7, members=10)
    portal = site.portal_at()

    def not_served() -> Any:
        raise NotFoundError("not served before 10.7")

    portal.admin = SimpleNamespace(license=SimpleNamespace(all=not_served))
    with History(tmp_path / "h.sqlite") as history:
        assert history.record(portal, at=site.end)["members"] == 10
        assert history._holders(None) == []
        assert len(history._idle_members(0, at=site.end)) == 10
