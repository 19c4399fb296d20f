"""Notebook views: a compact HTML table for each object, the failures first, everything
escaped, nothing secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import gislicense
from gislicense import GIS, OpenLM
from gislicense.bulk import BulkReport, Outcome


@pytest.fixture(scope="module")
def sb() -> Iterator[gislicense.Sandbox]:
    with gislicense.Sandbox(sessions=50, portal_members=60) as sandbox:
        yield sandbox


def test_every_object_has_a_view_and_none_shows_a_secret(sb: gislicense.Sandbox) -> None:
    gis = GIS(sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file)
    member = gis.users.search(max_users=1)[0]
    session = OpenLM(sb.openlm_url).get_active_products()[0]
    pro = gis.admin.license.get("pro")
    plan = gis.users.plan_license_type([member.username, "nobody-here"], "creator")
    views = {
        "gis": gis._repr_html_(),
        "openlm": OpenLM(sb.openlm_url)._repr_html_(),
        "member": member._repr_html_(),
        "session": session._repr_html_(),
        "license": pro._repr_html_(),
        "plan": plan._repr_html_(),
        "report": plan.report()._repr_html_(),
    }
    for name, view in views.items():
        assert view.startswith("<div>") and "<table>" in view, name
        assert sb.admin_password not in view, name
    assert member.username in views["member"]
    assert session.workstation in views["session"]
    assert "desktopAdvN" in views["license"] or "desktop" in views["license"]
    assert sb.portal_url in views["gis"] and sb.admin_username in views["gis"]
    # One line each for the plain repr.
    for thing in (gis, member, session, pro, plan, plan.report()):
        assert "\n" not in repr(thing)


def test_failures_come_first_and_text_is_escaped() -> None:
    report: BulkReport[str] = BulkReport(
        [Outcome(f"ok{i}", "changed") for i in range(30)]
        + [Outcome("<script>alert(1)</script>", "failed", "bad <b>input</b> & more")]
    )
    view = report._repr_html_()
    assert "31 items" in view and "30 changed" in view and "1 failed" in view
    assert view.index("&lt;script&gt;") < view.index("ok0")
    assert "<script>" not in view and "bad &lt;b&gt;input&lt;/b&gt; &amp; more" in view
    # At most 20 rows, then how many more.
    assert view.count("<tr>") == 1 + 20 and "… and 11 more" in view
