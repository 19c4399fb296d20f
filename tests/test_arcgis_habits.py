"""Scripts written for the official ArcGIS API for Python (2.4.x) port over: where it has a
name or a return value for the same thing, gislicense matches it or says what to use."""

from __future__ import annotations

import pickle

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS, InvalidInputError

pytestmark = pytest.mark.sandbox(sessions=10, portal_members=120)


def test_a_member_is_a_read_only_mapping_of_its_fields(gis: GIS) -> None:
    member = gis.users.search(max_users=1)[0]
    as_dict = dict(member)
    # The portal's fields, the role read as the official client reads it (a custom role's
    # name; see test_roles.py).
    assert as_dict == {**member.raw, "role": member.role}
    assert member.get("username") == member.username
    assert member.get("no-such-field") is None
    assert "fullName" in member and "no-such-field" not in member
    assert len(member) == len(member.raw)
    assert sorted(member.keys()) == sorted(member.raw)
    with pytest.raises(TypeError):
        member["fullName"] = "x"  # type: ignore[index]


def test_a_member_list_makes_a_table(gis: GIS) -> None:
    import pandas

    members = gis.users.search()
    table = pandas.DataFrame(members)
    assert list(table["username"]) == [m.username for m in members]


def test_single_member_changes_return_true(fresh_sb: gislicense.Sandbox) -> None:
    gis = admin_of(fresh_sb)
    member = next(m for m in gis.users.search(user_type="creatorUT") if m.role == "org_user")
    assert member.update_role("publisher") is True
    assert member.role == "org_publisher"
    assert member.update_license_type("creator") is True
    # A Role or UserType record stands for its id.
    user_role = gis.users.role("user")
    assert member.update_role(user_role) is True
    assert member.role == "org_user"
    creator = gis.users.license_type("creator")
    assert member.update_license_type(creator) is True


def test_records_are_subscriptable(gis: GIS) -> None:
    creator = next(t for t in gis.users.license_types if t.id == "creatorUT")
    assert creator["id"] == "creatorUT" and creator["name"] == creator.name
    assert creator["maximum"] == creator.maximum
    assert creator["id"] == creator.raw["id"]
    with pytest.raises(KeyError):
        creator["no-such-field"]
    role = gis.users.roles[0]
    assert role["id"] == role.id and role["name"] == role.name
    pro = gis.admin.license.get("pro")
    count = pro.report[0]
    assert count["total"] == count.total and count["remaining"] == count.remaining
    holder = pro.users()[0]
    assert holder["username"] == holder.username
    assert holder["entitlements"] == holder.entitlements
    # Still records: they pickle and compare as before.
    assert pickle.loads(pickle.dumps(creator)) == creator


def test_search_takes_the_official_clients_sorting(gis: GIS) -> None:
    by_name = gis.users.search()
    newest = gis.users.search(sort_field="created", sort_order="desc")
    assert sorted(m.username for m in newest) == sorted(m.username for m in by_name)
    created = [m.raw["created"] for m in newest if m.raw.get("created") is not None]
    assert created == sorted(created, reverse=True)
    first_three = gis.users.search(sort_field="lastLogin", max_users=3)
    logins = sorted(m.raw["lastLogin"] for m in by_name if m.raw.get("lastLogin") is not None)
    assert [m.raw.get("lastLogin") for m in first_three] == logins[:3]
    descending = gis.users.search(sort_order="desc")
    assert [m.username for m in descending] == sorted(
        (m.username for m in by_name), key=str.casefold, reverse=True
    )
    with pytest.raises(InvalidInputError, match="sort_field"):
        gis.users.search(sort_field="shoe_size")
    with pytest.raises(InvalidInputError, match="organization"):
        gis.users.search(outside_org=True)


def test_the_official_clients_connection_names(sb: gislicense.Sandbox) -> None:
    with pytest.raises(InvalidInputError, match=r"ArcGIS Notebooks.*URL"):
        GIS("home")
    # verify_cert=False is verify=False (it warns): it signs in without the CA bundle.
    with pytest.warns(Warning):
        gis = GIS(sb.portal_url, sb.admin_username, sb.admin_password, verify_cert=False)
    assert gis.users.me.username == sb.admin_username
    # api_key= is token=: the same refusal of a key the portal does not know.
    for key in ("token", "api_key"):
        with pytest.raises(gislicense.AuthenticationError):
            _ = GIS(sb.portal_url, ca_bundle=sb.ca_file, **{key: "not-a-key"}).users.me
    with pytest.raises(InvalidInputError, match="not both"):
        GIS(sb.portal_url, token="a", api_key="b")
