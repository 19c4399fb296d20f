"""Past the 10,000 results a portal pages through for one search (issue 13): the sandbox
windows its searches as real portals do, and gislicense returns every match by splitting a
search by user name, or says what it could not reach. Never a silently short list."""

from __future__ import annotations

import pytest
from helpers.sandbox import admin_of, sb_post

import gislicense
from gislicense import GIS

pytestmark = pytest.mark.sandbox(sessions=10, portal_members=25_000, portal_offline=0)


@pytest.fixture(scope="module")
def everyone(sb: gislicense.Sandbox) -> list[gislicense.User]:
    # The member listing (portals/self/users) is not a search: it is not windowed.
    members = admin_of(sb).users.search()
    assert len(members) == 25_000
    return members


def test_the_sandbox_serves_only_the_first_10000_results_of_a_search(
    sb: gislicense.Sandbox,
) -> None:
    path = "/sharing/rest/community/users"
    page = sb_post(sb, path, {"q": "*", "start": "9901", "num": "100"})
    assert (page["total"], len(page["results"]), page["nextStart"]) == (25_000, 100, -1)
    page = sb_post(sb, path, {"q": "*", "start": "10001", "num": "100"})
    assert page["total"] == 25_000
    assert page["results"] == []
    assert page["nextStart"] == -1


def test_a_search_matching_25000_members_returns_every_one_in_order(
    gis: GIS, everyone: list[gislicense.User]
) -> None:
    found = gis.users.search("*", max_users=None)
    assert [u.username for u in found] == [u.username for u in everyone]


def test_a_search_matching_more_than_10000_returns_every_match(
    gis: GIS, everyone: list[gislicense.User]
) -> None:
    creators = [u.username for u in everyone if u.user_type == "creatorUT"]
    viewers = [u.username for u in everyone if u.user_type == "viewerUT"]
    assert len(creators) + len(viewers) > 10_000
    query = "userlicensetype:creatorUT OR userlicensetype:viewerUT"
    found = gis.users.search(query, max_users=None)
    assert sorted(u.username for u in found) == sorted(creators + viewers)
    assert len({u.username for u in found}) == len(found)


def test_max_users_within_the_window_reads_no_more_than_asked(gis: GIS) -> None:
    found = gis.users.search("*", max_users=150)
    assert len(found) == 150
