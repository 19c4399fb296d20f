"""Notebook views: a compact HTML table for each object; a plan's or a report's changes and
failures each in a section, no row lost; everything escaped, nothing secret."""

from __future__ import annotations

from typing import Any

import pytest

import gislicense
from gislicense import GIS, OpenLM
from gislicense.bulk import BulkReport, Outcome
from gislicense.plans import Plan

pytestmark = pytest.mark.sandbox(sessions=50, portal_members=60)


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


def plan_of(changes: int, failures: int, unchanged: int) -> Plan:
    """A plan as saved, made by hand: ``changes`` members to Viewer, ``failures`` names that
    are no members (with text that must be escaped), ``unchanged`` Viewers already."""
    items: list[dict[str, Any]] = []
    for n in range(changes):
        step = {
            "action": "user_type",
            "username": f"member{n}",
            "from": "creatorUT",
            "to": "viewerUT",
        }
        items.append({"item": f"member{n}", "predicted": "would_change", "steps": [step]})
    for n in range(failures):
        reason = "not a member & <i>never was</i>"
        items.append({"item": f"<b>gone{n}</b>", "predicted": "failed", "reason": reason})
    for n in range(unchanged):
        items.append({"item": f"viewer{n}", "predicted": "unchanged", "reason": "a Viewer already"})
    for index, item in enumerate(items):
        item.update(index=index, word="changed", steps=item.get("steps", []))
    data = {
        "format": 1,
        "operation": "update_license_type",
        "service": "https://gis.example.com/portal",
        "created_ms": 0,
        "options": {},
        "notes": ["seats <b>&</b> roles were read"],
        "items": items,
        "names": {"creatorUT": "Creator", "viewerUT": "Viewer"},
    }
    return Plan(None, data)


def test_a_plan_shows_its_changes_and_its_failures_and_loses_no_row() -> None:
    view = plan_of(changes=60, failures=30, unchanged=3)._repr_html_()
    assert view.startswith("<div>")
    assert "93 items: 60 would change, 30 failed, 3 unchanged" in view
    # The counts, the changes, the failures, the unchanged items, the notes, in that order.
    order = ["93 items", "Changes</b> (60)", "Failures</b> (30)", "Skipped and unchanged", "Notes"]
    assert [view.index(part) for part in order] == sorted(view.index(part) for part in order)
    # Every row is there once; those past the first ones are under a "show all" with no script.
    for n in range(60):
        assert view.count(f">member{n}<") == 1, n
    for n in range(30):
        assert view.count(f">&lt;b&gt;gone{n}&lt;/b&gt;<") == 1, n
    assert view.count("<details>") == 2 and "show all 60" in view and "show all 30" in view
    assert view.index("show all 60") < view.index("Failures")
    assert "<script" not in view
    assert "user type Creator → Viewer" in view
    # Everything escaped: items, reasons, notes.
    assert "<b>gone" not in view and "<i>" not in view
    assert "not a member &amp; &lt;i&gt;never was&lt;/i&gt;" in view
    assert "seats &lt;b&gt;&amp;&lt;/b&gt; roles were read" in view


def test_a_small_plan_shows_every_row_open() -> None:
    view = plan_of(changes=3, failures=2, unchanged=0)._repr_html_()
    assert "<details>" not in view and "Skipped and unchanged" not in view
    assert view.count("<tr>") == 2 + 3 + 2  # two headers, then the rows


def test_a_report_shows_every_outcome_escaped() -> None:
    report: BulkReport[str] = BulkReport(
        [Outcome(f"ok{i}", "changed") for i in range(30)]
        + [Outcome("<script>alert(1)</script>", "failed", "bad <b>input</b> & more")]
    )
    view = report._repr_html_()
    assert "31 items" in view and "30 changed" in view and "1 failed" in view
    assert view.index("ok0") < view.index("Failures") < view.index("&lt;script&gt;")
    assert "<script>" not in view and "bad &lt;b&gt;input&lt;/b&gt; &amp; more" in view
    assert all(view.count(f">ok{i}<") == 1 for i in range(30))
