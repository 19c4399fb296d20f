"""The sandbox itself: its site, its log, its controls, and running it from the command line."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

import gislicense
from gislicense import InvalidInputError, OpenLM, Sandbox


def test_the_same_seed_gives_the_same_site() -> None:
    def site(seed: int) -> list[tuple[str, str, str]]:
        with Sandbox(sessions=200, seed=seed) as sb:
            return [(s["username"], s["workstation"], s["feature"]) for s in sb.openlm_sessions()]

    assert site(5) == site(5)
    assert site(5) != site(6)


def test_a_realistic_site() -> None:
    with Sandbox() as sb:
        sessions = sb.openlm_sessions()
        assert len(sessions) == 500
        features = {s["feature"] for s in sessions}
        assert {"Editor", "Viewer", "ARC/INFO", "desktopAdvP"} <= features
        assert {s["vendor"] for s in sessions} == {"ARCGIS", "adskflex", "MLM"}
        assert len({s["server"] for s in sessions}) >= 3
        assert len({s["username"] for s in sessions}) >= 200
        assert sb.workstations_without_agent()


def test_the_default_site_has_sessions_idle_for_hours_and_open_for_days() -> None:
    """What the nightly "close the Editor sessions idle for 2 hours" job is for is there."""
    with Sandbox() as sb:
        sessions = OpenLM(sb.openlm_url).get_active_products()
    hours = [s.idle_time.total_seconds() / 3600 for s in sessions if s.idle_time is not None]
    days_open = [s.duration.total_seconds() / 86400 for s in sessions if s.duration is not None]
    assert len(hours) == len(days_open) == len(sessions)
    two_hours = timedelta(hours=2)
    editors_idle = [s for s in sessions if s.feature == "Editor" and s.idle_time >= two_hours]
    assert len(editors_idle) >= 20
    assert sum(h >= 2 for h in hours) >= len(sessions) // 4, "a good share idle for hours"
    assert sum(h >= 24 for h in hours) >= 20, "forgotten sessions, idle for more than a day"
    assert sum(d >= 2 for d in days_open) >= len(sessions) // 6, "sessions open for days"
    assert any(d >= 7 for d in days_open), "a session left open for a week"
    assert sum(h == 0 for h in hours) >= len(sessions) // 5, "people working now"
    for s in sessions:
        # As a real server lists them: idle no longer than open, open since the start time.
        assert s.idle_time <= s.duration
        assert s.start_time is not None
        since = datetime.now(timezone.utc) - s.start_time
        assert abs((since - s.duration).total_seconds()) < 60


def test_add_openlm_session_takes_a_start_and_an_idle_time(sandbox: Sandbox) -> None:
    openlm = OpenLM(sandbox.openlm_url)
    week_ago = (datetime.now(timezone.utc) - timedelta(days=7)).replace(microsecond=0)
    added = {
        "forgotten": sandbox.add_openlm_session(
            product="Editor", username="forgotten", workstation="GIS-WS-901",
            start=week_ago, idle=timedelta(days=6, hours=23),
        ),
        "lunch": sandbox.add_openlm_session(
            product="Editor", username="lunch", workstation="GIS-WS-902", start=3 * 3600, idle=5400
        ),
        "working": sandbox.add_openlm_session(
            product="Editor", username="working", workstation="GIS-WS-903", start=600.0
        ),
    }  # fmt: skip
    listed = {s.username: s for s in openlm.get_active_products(username=list(added))}
    assert {name: int(s.handle or 0) for name, s in listed.items()} == added
    forgotten, lunch, working = listed["forgotten"], listed["lunch"], listed["working"]
    assert forgotten.start_time == week_ago
    idle = timedelta(days=6, hours=23)
    assert idle <= forgotten.idle_time < idle + timedelta(minutes=1)
    assert timedelta(days=7) <= forgotten.duration < timedelta(days=7, minutes=1)
    assert timedelta(hours=1.5) <= lunch.idle_time < timedelta(hours=1.5, minutes=1)
    assert timedelta(hours=3) <= lunch.duration < timedelta(hours=3, minutes=1)
    assert working.idle_time == timedelta(0)
    assert timedelta(minutes=10) <= working.duration < timedelta(minutes=11)
    # The sandbox's own view says the same.
    own = {s["username"]: s for s in sandbox.openlm_sessions() if s["username"] in added}
    assert own["working"]["idle_since_ms"] is None
    assert own["forgotten"]["start_ms"] == int(week_ago.timestamp() * 1000)
    # The idle policy finds the two idle ones.
    hour = timedelta(hours=1)
    idle_ones = openlm.get_active_products(username=list(added), idle_time=lambda t: t >= hour)
    assert sorted(s.username for s in idle_ones) == ["forgotten", "lunch"]


def test_add_openlm_session_refuses_times_no_server_could_list(sandbox: Sandbox) -> None:
    session = {"product": "Editor", "username": "u", "workstation": "w"}
    for times, says in [
        ({"start": 3600, "idle": 7200}, "longer than it has been open"),
        ({"start": -60}, "future"),
        ({"start": datetime.now(timezone.utc) + timedelta(hours=1)}, "future"),
        ({"start": datetime.now() - timedelta(hours=1)}, "without a timezone"),
        ({"idle": -1}, "negative"),
        ({"idle": timedelta(minutes=-5)}, "negative"),
        ({"start": "yesterday"}, "a datetime, a timedelta or a number of seconds, not str"),
        ({"idle": True}, "not bool"),
    ]:
        with pytest.raises(InvalidInputError, match=says):
            sandbox.add_openlm_session(**session, **times)
    assert not [s for s in sandbox.openlm_sessions() if s["username"] == "u"]


def test_the_request_log_and_its_filters(sandbox: Sandbox, openlm: OpenLM) -> None:
    openlm.get_active_products()
    requests = sandbox.requests()
    assert [r.operation for r in requests] == ["GetLoginFormSettings", "GetActiveProducts2"]
    first = requests[0]
    assert (first.service, first.method, first.path, first.status) == (
        "openlm",
        "POST",
        "/OpenLMServer",
        200,
    )
    assert first.fault is None and first.time >= 0
    paged = sandbox.requests(operation="getactiveproducts2")
    assert [r.operation for r in paged] == ["GetActiveProducts2"]
    assert sandbox.requests(service="portal") == []
    assert "GetActiveProducts2" in repr(requests[1])
    sandbox.clear_requests()
    assert sandbox.requests() == []


def test_latency_and_agent_controls(sandbox: Sandbox, openlm: OpenLM) -> None:
    sandbox.latency = 0.05
    assert sandbox.latency == pytest.approx(0.05)
    blocked = sandbox.workstations_without_agent()[0]
    sandbox.set_agent(blocked, installed=True)
    assert blocked not in sandbox.workstations_without_agent()
    assert all(p.closable for p in openlm.get_active_products(workstation=blocked))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        Sandbox(latency=-1)
    with Sandbox(sessions=1) as sb:
        with pytest.raises(InvalidInputError, match="fault"):
            sb.fail_next("explode")
        with pytest.raises(InvalidInputError, match="add up"):
            sb.set_faults(error=0.6, drop=0.6)
        with pytest.raises(InvalidInputError, match="XML"):
            sb.add_openlm_session(product="Editor", username="a\x00b", workstation="w")


def test_the_core_refuses_settings_the_facade_would_not_send() -> None:
    """The bindings take one dict of settings from the facade: a key missing, unknown or of
    the wrong type is a facade bug, and fails loudly rather than falling back to a default."""
    import inspect

    from gislicense import _core

    defaults = {
        name: p.default for name, p in inspect.signature(Sandbox.__new__).parameters.items()
    }
    del defaults["cls"]
    with pytest.raises(TypeError, match="Sandbox settings have no 'extra'"):
        _core.Sandbox({**defaults, "extra": 1})
    del defaults["seed"]
    with pytest.raises(TypeError, match='Sandbox settings are missing "seed"'):
        _core.Sandbox(defaults)
    with Sandbox(sessions=1) as sb:
        session = {"product": "Editor", "username": "u", "workstation": "w"}
        with pytest.raises(TypeError, match="OpenLM session settings are missing"):
            sb._add_openlm_session(session)
    with pytest.raises(TypeError, match="HTTP options are a dict, not list"):
        _core.HttpOptions([])


def test_a_stopped_sandbox_says_so() -> None:
    sb = Sandbox(sessions=1)
    url = sb.openlm_url
    sb.stop()
    sb.stop()
    assert not sb.running
    assert repr(sb) == "Sandbox(stopped)"
    with pytest.raises(InvalidInputError, match="stopped"):
        _ = sb.openlm_url
    with pytest.raises(gislicense.TransportError):
        OpenLM(url, retries=0).get_active_products()


def test_the_wire_is_plain_openlm_xml(sandbox: Sandbox) -> None:
    """What the seed script sends works unchanged."""
    from xml.etree.ElementTree import ElementTree, fromstring

    xml = b'<ULM><MESSAGE type="GetActiveProducts" /><SESSION sessionid="0" /></ULM>'
    request = urllib.request.Request(
        sandbox.openlm_url, data=xml, headers={"Content-Type": "application/xml"}
    )
    with urllib.request.urlopen(request) as reply:
        tree = ElementTree(fromstring(reply.read()))
    products = [n.attrib.get("product") for n in tree.iter("PRODUCT")]
    assert len(products) == 300 and "Editor" in products


def test_python_m_gislicense_sandbox_prints_its_urls() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "gislicense", "sandbox", "--sessions", "25", "--permissions"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        url = re.search(r"OpenLM: (\S+)", "".join(lines))
        assert url, lines
        assert "admin / sandbox-password" in "".join(lines)
        openlm = OpenLM(url.group(1), "admin", "sandbox-password")
        assert len(openlm.get_active_products()) == 25
    finally:
        process.terminate()
        process.wait(timeout=10)
