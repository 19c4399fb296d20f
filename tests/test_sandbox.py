"""The sandbox itself: its site, its log, its controls, and running it from the command line."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request

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
