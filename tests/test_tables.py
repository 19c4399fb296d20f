"""Everything the library lists becomes a pandas DataFrame with one call, typed."""

from __future__ import annotations

import pandas
import pytest

import gislicense
from gislicense import GIS, OpenLM


def utc_times(column: pandas.Series) -> bool:
    """Timezone-aware UTC datetimes, whatever resolution pandas picks."""
    dtype = column.dtype
    return isinstance(dtype, pandas.DatetimeTZDtype) and str(dtype.tz) == "UTC"


pytestmark = pytest.mark.sandbox(sessions=200, portal_members=150)


def test_members(gis: GIS) -> None:
    members = gis.users.search()
    table = gislicense.to_dataframe(members)
    assert list(table["username"]) == [m.username for m in members]
    assert utc_times(table["last_login"])
    assert str(table["level"].dtype) == "Int64"
    assert str(table["disabled"].dtype) == "boolean"
    first = members[0]
    if first.last_login is not None:
        assert table["last_login"][0].to_pydatetime() == first.last_login


def test_sessions(sb: gislicense.Sandbox) -> None:
    sessions = OpenLM(sb.openlm_url).get_active_products()
    table = gislicense.to_dataframe(sessions)
    assert len(table) == len(sessions)
    assert utc_times(table["start_time"])
    assert str(table["idle_time"].dtype).startswith("timedelta64")
    assert str(table["closable"].dtype) == "boolean"
    assert set(table["username"]) == {s.username for s in sessions}


def test_records_reports_and_plans(gis: GIS) -> None:
    types = gislicense.to_dataframe(gis.users.license_types)
    assert "creatorUT" in set(types["id"]) and str(types["maximum"].dtype) == "Int64"
    assert set(gislicense.to_dataframe(gis.users.roles).columns) == {"id", "name", "description"}
    pro = gis.admin.license.get("pro")
    counts = gislicense.to_dataframe(pro.report)
    assert (counts["total"] == counts["assigned"] + counts["remaining"]).all()
    holders = gislicense.to_dataframe(pro.users())
    assert str(holders["disconnected"].dtype) == "boolean"
    licenses = gislicense.to_dataframe(gis.admin.license.all())
    assert "ArcGIS Pro" in set(licenses["license"])

    viewers = [m.username for m in gis.users.search(user_type="viewerUT")][:3]
    names = [*viewers, "nobody-here"]
    plan = gis.users.plan_license_type(names, "creator")
    planned = plan.to_dataframe()
    assert list(planned["item"]) == names
    assert list(planned["status"]) == [i.status for i in plan]
    report = plan.report()
    reported = report.to_dataframe()
    assert list(reported["status"]) == [o.status for o in report]
    assert reported["reason"].iloc[-1] == report[-1].reason


def test_no_column_is_an_object_and_text_is_text(sb: gislicense.Sandbox, gis: GIS) -> None:
    pro = gis.admin.license.get("pro")
    creators = [m.username for m in gis.users.search(user_type="creatorUT")][:3]
    plan = gis.users.plan_license_type([*creators, "nobody-here"], "viewer", roles="auto")
    tables = {
        "members": gislicense.to_dataframe(gis.users.search()),
        "sessions": gislicense.to_dataframe(OpenLM(sb.openlm_url).get_active_products()),
        "user types": gislicense.to_dataframe(gis.users.license_types),
        "roles": gislicense.to_dataframe(gis.users.roles),
        "licenses": gislicense.to_dataframe(gis.admin.license.all()),
        "holders": gislicense.to_dataframe(pro.users()),
        "counts": gislicense.to_dataframe(pro.report),
        "plan": plan.to_dataframe(),
        "report": plan.report().to_dataframe(),
    }
    for name, table in tables.items():
        objects = [c for c in table.columns if table[c].dtype == object]
        assert not objects, f"{name}: {objects}"
    assert str(tables["members"]["username"].dtype) == "string"
    assert str(tables["plan"]["reason"].dtype) == "string"
    assert str(tables["sessions"]["workstation"].dtype) == "string"


def test_entitlements_are_text_of_comma_joined_ids(gis: GIS) -> None:
    pro = gis.admin.license.get("pro")
    holders = pro.users()
    table = gislicense.to_dataframe(holders)
    assert str(table["entitlements"].dtype) == "string"
    assert list(table["entitlements"]) == [",".join(h.entitlements) for h in holders]
    advanced = table[table["entitlements"].str.contains("desktopAdvN")]
    assert set(advanced["username"]) == {
        h.username for h in holders if "desktopAdvN" in h.entitlements
    }
    licenses = gislicense.to_dataframe(gis.admin.license.all())
    first = licenses[licenses["license"] == "ArcGIS Pro"]["entitlements"].iloc[0]
    assert first.split(",") == list(pro.entitlements)


def test_a_plan_table_has_the_items_fields(gis: GIS) -> None:
    creators = [m.username for m in gis.users.search(user_type="creatorUT")][:3]
    plan = gis.users.plan_license_type(creators, "viewer", roles="auto")
    table = plan.to_dataframe()
    changing = table[table["status"] == "would_change"]
    assert len(changing) > 0
    assert set(changing["user_type_to"]) == {"Viewer"}
    assert set(changing["user_type_to_id"]) == {"viewerUT"}
    assert list(table["username"]) == creators
    assert all("user type Creator → Viewer" in steps for steps in changing["steps"])
    assert str(table["level_to"].dtype) == "Int64"


def test_something_that_makes_no_row() -> None:
    with pytest.raises(gislicense.InvalidInputError, match="table row"):
        gislicense.to_dataframe([object()])
    assert pandas.__name__ == "pandas"
