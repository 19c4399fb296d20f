"""A member's role reads as the official ArcGIS API for Python reads it (``User._get_role``):
a custom role by its name ("Viewer", "Data Editor", the organization's own), a built-in role
by its id (``org_admin``, ``org_publisher``, ``org_user``); the id stays in ``role_id``.
Every view of a member agrees: the attribute, the mapping, ``repr``, HTML, tables, the
command line's ``users list`` and its ``--role`` filter."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense.tables import row

#: What each role of the sandbox reads as, by id.
READS_AS = {
    "org_admin": "org_admin",
    "org_publisher": "org_publisher",
    "org_user": "org_user",
    "iAAAAAAAAAAAAAAA": "Viewer",
    "iBBBBBBBBBBBBBBB": "Data Editor",
    "aNaLySt0000RoLe1": "Analyst",
}


pytestmark = pytest.mark.sandbox(sessions=10, portal_members=150)


def role_ids(sb: gislicense.Sandbox) -> dict[str, str]:
    return {u["username"]: u["roleId"] for u in sb.portal_users()}


def test_every_role_reads_by_name_or_built_in_id(sb: gislicense.Sandbox) -> None:
    ids = role_ids(sb)
    assert set(ids.values()) == set(READS_AS), "the sandbox has every kind of role"
    members = admin_of(sb).users.search()
    assert {m.username: m.role for m in members} == {n: READS_AS[i] for n, i in ids.items()}
    assert {m.username: m.role_id for m in members} == ids
    for member in members:
        # The mapping reads as the official client's User does; raw stays as received.
        assert member["role"] == member.get("role") == dict(member)["role"] == member.role
        assert member.raw["role"] == sb.portal_user(member.username)["role"]


def test_one_member_reads_the_same_from_get_me_search_and_changes(
    fresh_sb: gislicense.Sandbox,
) -> None:
    gis = admin_of(fresh_sb)
    ids = role_ids(fresh_sb)
    editor = next(n for n, i in ids.items() if i == "iBBBBBBBBBBBBBBB")
    assert gis.users.get(editor).role == "Data Editor"
    assert gis.users.search(f"username:{editor}")[0].role == "Data Editor"
    assert gis.users.me.role == "org_admin"
    member = gis.users.get(editor)
    assert member.update_role("viewer") is True
    assert (member.role, member.role_id) == ("Viewer", "iAAAAAAAAAAAAAAA")
    assert member.update_role("data editor") is True
    member.refresh()
    assert (member.role, member.role_id) == ("Data Editor", "iBBBBBBBBBBBBBBB")


def test_repr_html_and_tables_show_the_same_role(sb: gislicense.Sandbox) -> None:
    gis = admin_of(sb)
    viewer = next(m for m in gis.users.search(role="viewer", max_users=1))
    assert "role='Viewer'" in repr(viewer)
    assert ">Viewer</td>" in viewer._repr_html_()
    assert "iAAAAAAAAAAAAAAA" not in viewer._repr_html_()
    assert (row(viewer)["role"], row(viewer)["role_id"]) == ("Viewer", "iAAAAAAAAAAAAAAA")
    members = gis.users.search()
    table = gislicense.to_dataframe(members)
    assert list(table["role"]) == [m.role for m in members]
    assert list(table["role_id"]) == [m.role_id for m in members]
    pandas = pytest.importorskip("pandas")
    # A member is a mapping of the portal's fields, as the official client's User is.
    assert list(pandas.DataFrame(members)["role"]) == [m.role for m in members]


def test_the_role_filter_keeps_the_members_whose_role_reads_so(sb: gislicense.Sandbox) -> None:
    users = admin_of(sb).users
    ids = role_ids(sb)
    asked_for = [("user", "org_user"), ("viewer", "Viewer"), ("publisher", "org_publisher")]
    for asked, wanted in asked_for:
        found = users.search(role=asked)
        expected = sorted(n for n, i in ids.items() if READS_AS[i] == wanted)
        assert sorted(m.username for m in found) == expected, asked
        # A search and a cut-off listing keep the same members, in the same order.
        searched = users.search("*", role=asked, max_users=5)
        assert [m.username for m in searched] == sorted(expected, key=str.casefold)[:5]
    # The members of custom roles based on org_user are not User members.
    assert all(m.role == "org_user" for m in users.search(role="org_user"))


def test_roles_are_read_once_per_gis_alongside_the_listing() -> None:
    with gislicense.Sandbox(sessions=10, portal_members=50, latency=0.3) as sb:
        gis = admin_of(sb)
        gis.sign_in()
        sb.clear_requests()
        members = gis.users.search()
        listed = sb.requests(operation="users")
        roles = sb.requests(operation="roles")
        assert len(roles) == 1 and listed
        # Sent with the listing's first page, not after it (which would be 0.3 s later).
        assert abs(roles[0].time - listed[0].time) < 0.15
        gis.users.get(members[0].username)
        _ = gis.users.me
        gis.users.search(role="viewer")
        _ = gis.users.roles
        gis.users.role("data editor")
        assert len(sb.requests(operation="roles")) == 1


def cli(sb: gislicense.Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    portal = ["--url", sb.portal_url, "-u", sb.admin_username, "--ca-bundle", str(sb.ca_file)]
    return subprocess.run(
        [sys.executable, "-m", "gislicense", *args, *portal],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "GISLICENSE_PASSWORD": sb.admin_password},
        timeout=120,
    )


def test_users_list_shows_and_filters_the_role_as_the_library_reads_it(
    sb: gislicense.Sandbox,
) -> None:
    ids = role_ids(sb)
    listed = cli(sb, "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["username"]: r["role"] for r in rows} == {n: READS_AS[i] for n, i in ids.items()}
    assert {r["username"]: r["role_id"] for r in rows} == ids
    as_csv = cli(sb, "users", "list", "--csv")
    assert Counter(r["role"] for r in csv.DictReader(io.StringIO(as_csv.stdout))) == Counter(
        READS_AS[i] for i in ids.values()
    )
    table = cli(sb, "users", "list")
    assert "Data Editor" in table.stdout and "iBBBBBBBBBBBBBBB" not in table.stdout
    asked_for = [("viewer", "Viewer"), ("user", "org_user"), ("Data Editor", "Data Editor")]
    for asked, wanted in asked_for:
        filtered = cli(sb, "users", "list", "--role", asked, "--json")
        assert filtered.returncode == 0, filtered.stderr
        found = {r["username"] for r in json.loads(filtered.stdout)}
        assert found == {n for n, i in ids.items() if READS_AS[i] == wanted}, asked
