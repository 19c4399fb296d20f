"""The "Coming from the ArcGIS API for Python" table (docs/guide/coming-from-arcgis.md), row
by row: each row's
official-client code runs against gislicense as the row says (the same, or refused with a
pointer to the gislicense way), and, where the official client is installed
(``GISLICENSE_ARCGIS_PYTHON``), against it too, on the same sandbox, for the same answer."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap
import types
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.readme import section, table_rows
from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS, InvalidInputError

ARCGIS_PYTHON = os.environ.get("GISLICENSE_ARCGIS_PYTHON")
#: The pages that state the table, and how to run the official client on the sandbox.
COMING_FROM_ARCGIS = "docs/guide/coming-from-arcgis.md"
SANDBOX_PAGE = "docs/explanation/sandbox.md"


@dataclass
class Site:
    """The sandbox and the members each row works on (a separate one for each client where
    a row changes something)."""

    sb: gislicense.Sandbox
    token: str
    names: dict[str, str]

    def gis(self, **kw: Any) -> GIS:
        return admin_of(self.sb, **kw)


def _token(sb: gislicense.Sandbox) -> str:
    """A token made as any client makes one (for api_key= and ArcGIS Pro's sign-in)."""
    fields = {"username": sb.admin_username, "password": sb.admin_password}
    data = urllib.parse.urlencode({**fields, "referer": "http", "f": "json"}).encode()
    context = ssl.create_default_context(cafile=str(sb.ca_file))
    url = sb.portal_url + "/sharing/rest/generateToken"
    with urllib.request.urlopen(url, data, context=context) as reply:
        return str(json.load(reply)["token"])


def _pick(sb: gislicense.Sandbox) -> dict[str, str]:
    members = sb.portal_users()

    def each(test: Callable[[dict[str, Any]], bool], n: int) -> list[str]:
        found = [u["username"] for u in members if test(u) and u["username"] != sb.admin_username]
        assert len(found) >= n
        return found[:n]

    plain = each(
        lambda u: (
            u["userLicenseTypeId"] == "creatorUT"
            and u["roleId"] == "org_user"
            and not u["proOffline"]
            and not u["entitlements"].get("ArcGIS Pro")
        ),
        4,
    )
    holder = each(lambda u: bool(u["entitlements"].get("ArcGIS Pro")), 1)
    offline = each(lambda u: u["proOffline"], 2)
    editor = each(lambda u: u["roleId"] == "iBBBBBBBBBBBBBBB", 1)
    return {
        "ours": plain[0],
        "theirs": plain[1],
        "ours_pro": plain[2],
        "theirs_pro": plain[3],
        "holder": holder[0],
        "ours_offline": offline[0],
        "theirs_offline": offline[1],
        "editor": editor[0],
    }


pytestmark = pytest.mark.sandbox(sessions=10, portal_members=150)


@pytest.fixture(scope="module")
def site(sb: gislicense.Sandbox) -> Site:
    return Site(sb, _token(sb), _pick(sb))


@pytest.fixture
def arcpy(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """ArcGIS Pro's arcpy, signed in to the sandbox, as GIS("pro") reads it."""
    module = types.ModuleType("arcpy")
    module.GetActivePortalURL = lambda: site.sb.portal_url  # type: ignore[attr-defined]
    module.GetSigninToken = lambda: {"token": site.token, "referer": "http"}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "arcpy", module)


# Each row: what gislicense gives for it (`ours`), and the official client's code for the
# same (`theirs`: statements that set `seen`, run with `gis` signed in as the administrator,
# `url`, `user`, `password`, `token` and `names`; None where it cannot run here). Both give
# a summary made of JSON values; `expect` compares them (equal, unless the row differs).


def row_sign_in(site: Site) -> Any:
    return site.gis().users.me.username


def row_gen_token(site: Site) -> Any:
    return site.gis(use_gen_token=True).users.me.username


def row_home(site: Site) -> Any:
    with pytest.raises(InvalidInputError, match=r'GIS\("pro"\).*profile='):
        GIS("home")
    return None


def row_pro(site: Site) -> Any:
    return GIS("pro", ca_bundle=site.sb.ca_file).users.me.username


def row_connection_names(site: Site) -> Any:
    sb = site.sb
    with pytest.warns(Warning):
        unverified = GIS(sb.portal_url, sb.admin_username, sb.admin_password, verify_cert=False)
    # The sandbox's tokens are bound to the Referer they were made for (an API key is not).
    keyed = GIS(sb.portal_url, api_key=site.token, ca_bundle=sb.ca_file, referer="http")
    return [unverified.users.me.username, keyed.users.me.username]


def row_search(site: Site) -> Any:
    users = site.gis().users
    found = users.search("username:a*", sort_field="username", sort_order="desc", max_users=5)
    viewers = users.search(user_type="viewerUT", role="iAAAAAAAAAAAAAAA", max_users=1000)
    return [[u.username for u in found], sorted(u.username for u in viewers)]


def row_get(site: Site) -> Any:
    users = site.gis().users
    member = users.get(site.names["editor"])
    assert member is not None
    return [member.username, users.get("nosuchuser"), users.me.username]


def row_role(site: Site) -> Any:
    members = site.gis().users.search(max_users=1000)
    changed = (site.names["ours"], site.names["theirs"])  # by the row of single changes
    return {u.username: [u.role, u["role"], u.roleId] for u in members if u.username not in changed}


def row_mapping(site: Site) -> Any:
    member = site.gis().users.get(site.names["editor"])
    assert member is not None
    return [member["fullName"], member.fullName, dict(member)["role"]]


def row_single_changes(site: Site) -> Any:
    member = site.gis().users.get(site.names["ours"])
    assert member is not None
    return [member.update_license_type("editorUT"), member.update_role("iBBBBBBBBBBBBBBB")]


def row_license_types(site: Site) -> Any:
    return sorted(t["id"] for t in site.gis().users.license_types)


def row_roles(site: Site) -> Any:
    roles = site.gis().users.roles
    found = roles.get_role("Data Editor")
    assert found is not None and roles.get_role("org_admin") is None
    return [sorted([r.role_id, r.name] for r in roles.all()), found.role_id]


def row_license_get(site: Site) -> Any:
    return site.gis().admin.license.get("ArcGIS Pro").item_id


def row_license_all(site: Site) -> Any:
    pro = site.gis().admin.license.get("ArcGIS Pro")
    return sorted(e["username"] for e in pro.all())


def row_license_names(site: Site) -> Any:
    pro = site.gis().admin.license.get("ArcGIS Pro")
    member = site.names["ours_pro"]
    held = pro.user_entitlement(site.names["holder"])
    assert held is not None and pro.user_entitlement(member) is None
    assigned = pro.assign([member], ["desktopBasicN"])
    now = pro.user_entitlement(member)
    revoked = pro.revoke([member], "*")
    report = {r["entitlement"]: [r["total"], r["assigned"], r["remaining"]] for r in pro.report}
    ok = [assigned.counts(), now and list(now["entitlements"]), revoked.counts()]
    return [sorted(held["entitlements"]), ok, report]


def row_release(site: Site) -> Any:
    gis = site.gis()
    with pytest.raises(AttributeError, match=r"gis\.admin\.license\.release\(username\)"):
        gis.admin.license.release_license(site.names["ours_offline"])
    with pytest.raises(AttributeError, match=r"in gislicense use gis\.admin\.license"):
        gis.admin.system  # noqa: B018
    gis.admin.license.release(site.names["ours_offline"])
    return site.sb.portal_user(site.names["ours_offline"])["proOffline"]


def _same(ours: Any, theirs: Any) -> None:
    assert ours == theirs


def _official_user_entitlements(ours: Any, theirs: Any) -> None:
    # The same holdings and report; the changes answer True there, a report here.
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    assert ours[1] == [{"assigned": 1}, ["desktopBasicN"], {"revoked": 1}]
    assert theirs[1] == [True, ["desktopBasicN"], True]


def _official_release(ours: Any, theirs: Any) -> None:
    # gislicense frees the member's license; the official client's request names no member,
    # and the portal's refusal comes back as its reply.
    assert ours is False
    assert theirs == {"status": "error", "messages": ["'username' must be specified."], "code": 400}


@dataclass
class Row:
    ours: Callable[[Site], Any]
    theirs: str | None
    expect: Callable[[Any, Any], None] = _same


ROWS: dict[str, Row] = {
    "`GIS(url, user, password)`": Row(
        row_sign_in, "seen = GIS(url, user, password).users.me.username"
    ),
    "`GIS(..., use_gen_token=True)`": Row(
        row_gen_token, "seen = GIS(url, user, password, use_gen_token=True).users.me.username"
    ),
    '`GIS("home")`': Row(row_home, None),
    '`GIS("pro")`': Row(row_pro, 'seen = GIS("pro").users.me.username'),
    "`GIS(..., verify_cert=False)`, `GIS(..., api_key=)`": Row(
        row_connection_names,
        """
        unverified = GIS(url, user, password, verify_cert=False, use_gen_token=True)
        seen = [unverified.users.me.username, GIS(url, api_key=token).users.me.username]
        """,
    ),
    "`gis.users.search(query, sort_field=, sort_order=, max_users=, user_type=, role=)`": Row(
        row_search,
        """
        found = gis.users.search(
            "username:a*", sort_field="username", sort_order="desc", max_users=5
        )
        viewers = gis.users.search(
            user_type="viewerUT", role="iAAAAAAAAAAAAAAA", max_users=1000
        )
        seen = [[u.username for u in found], sorted(u.username for u in viewers)]
        """,
    ),
    "`gis.users.get(name)`, `gis.users.me`": Row(
        row_get,
        """
        member = gis.users.get(names["editor"])
        seen = [member.username, gis.users.get("nosuchuser"), gis.users.me.username]
        """,
    ),
    '`user.role`, `user["role"]`, `user.roleId`': Row(
        row_role,
        """
        members = gis.users.search(max_users=1000)
        changed = (names["ours"], names["theirs"])
        seen = {
            u.username: [u.role, u["role"], u.roleId]
            for u in members
            if u.username not in changed
        }
        """,
    ),
    '`user["fullName"]`, `user.fullName`, `dict(user)`': Row(
        row_mapping,
        """
        member = gis.users.get(names["editor"])
        seen = [member["fullName"], member.fullName, dict(member)["role"]]
        """,
    ),
    "`user.update_license_type(t)`, `user.update_role(r)` → `True`": Row(
        row_single_changes,
        """
        member = gis.users.get(names["theirs"])
        changed = member.update_license_type("editorUT")
        seen = [changed, gis.users.get(names["theirs"]).update_role("iBBBBBBBBBBBBBBB")]
        """,
    ),
    "`gis.users.license_types` (dicts)": Row(
        row_license_types, 'seen = sorted(t["id"] for t in gis.users.license_types)'
    ),
    "`gis.users.roles.all()`, `gis.users.roles.get_role(id)`": Row(
        row_roles,
        """
        roles = gis.users.roles
        found = roles.get_role("Data Editor")
        seen = [sorted([r.role_id, r.name] for r in roles.all()), found.role_id]
        """,
    ),
    "`gis.admin.license.get(name)`": Row(
        row_license_get,
        'seen = gis.admin.license.get("ArcGIS Pro").properties["listing"]["itemId"]',
    ),
    "`license.all()`": Row(
        row_license_all,
        'seen = sorted(e["username"] for e in gis.admin.license.get("ArcGIS Pro").all())',
    ),
    "`license.user_entitlement(u)`, `license.assign(...)`, `license.revoke(...)`, "
    "`license.report`": Row(
        row_license_names,
        """
        pro = gis.admin.license.get("ArcGIS Pro")
        member = names["theirs_pro"]
        held = pro.user_entitlement(names["holder"])
        assigned = pro.assign(username=member, entitlements=["desktopBasicN"])
        now = pro.user_entitlement(member)
        revoked = pro.revoke(username=member, entitlements="*")
        report = {
            r["Entitlement"]: [int(r["Total"]), int(r["Assigned"]), int(r["Remaining"])]
            for r in pro.report.to_dict("records")
        }
        ok = [assigned, now["entitlements"], revoked]
        seen = [sorted(held["entitlements"]), ok, report]
        """,
        _official_user_entitlements,
    ),
    "`gis.admin.system.licenses.release_license(u)` (classic)": Row(
        row_release,
        'seen = gis.admin.system.licenses.release_license(names["theirs_offline"])',
        _official_release,
    ),
}


def test_every_row_of_the_table_is_tested() -> None:
    rows = table_rows(section("Coming from the ArcGIS API for Python", COMING_FROM_ARCGIS))
    assert [row[0] for row in rows] == list(ROWS)


@pytest.mark.parametrize("name", list(ROWS))
def test_the_row_holds_for_gislicense(name: str, site: Site, arcpy: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # verify_cert=False warns, and is checked to
        ROWS[name].ours(site)


OFFICIAL = textwrap.dedent(
    """
    import json, sys, textwrap
    from arcgis.gis import GIS

    url, user, password, token, names, rows = sys.argv[1:7]
    names, rows = json.loads(names), json.loads(rows)
    gis = GIS(url, user, password, use_gen_token=True)
    answers = {}
    for name, code in rows.items():
        scope = {"GIS": GIS, "gis": gis, "url": url, "user": user, "password": password,
                 "token": token, "names": names}
        try:
            exec(textwrap.dedent(code), scope)
            answers[name] = {"seen": scope["seen"]}
        except Exception as error:
            answers[name] = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(answers, default=str))
    """
)


@pytest.mark.skipif(not ARCGIS_PYTHON, reason="GISLICENSE_ARCGIS_PYTHON is not set")
def test_the_rows_give_the_official_clients_answers(
    site: Site, arcpy: None, tmp_path: Path
) -> None:
    assert ARCGIS_PYTHON is not None
    sb = site.sb
    # ArcGIS Pro's arcpy for GIS("pro"), signed in to the sandbox.
    (tmp_path / "arcpy.py").write_text(
        f"def GetActivePortalURL():\n    return {sb.portal_url!r}\n"
        f"def GetSigninToken():\n    return {{'token': {site.token!r}, 'referer': 'http'}}\n"
    )
    official = {name: row.theirs for name, row in ROWS.items() if row.theirs is not None}
    env = {
        **os.environ,
        # The official client's session makes its own TLS context, which reads
        # SSL_CERT_FILE; REQUESTS_CA_BUNDLE alone is not enough (see below).
        "SSL_CERT_FILE": os.fspath(sb.ca_file),
        "REQUESTS_CA_BUNDLE": os.fspath(sb.ca_file),
        "PYTHONPATH": os.fspath(tmp_path),
    }
    args = [sb.portal_url, sb.admin_username, sb.admin_password, site.token]
    result = subprocess.run(
        [ARCGIS_PYTHON, "-c", OFFICIAL, *args, json.dumps(site.names), json.dumps(official)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in official:
            answer = answers[name]
            assert "seen" in answer, (name, answer)
            ROWS[name].expect(json.loads(json.dumps(ROWS[name].ours(site))), answer["seen"])


@pytest.mark.skipif(not ARCGIS_PYTHON, reason="GISLICENSE_ARCGIS_PYTHON is not set")
def test_the_official_client_needs_ssl_cert_file_as_the_readme_says(site: Site) -> None:
    assert ARCGIS_PYTHON is not None
    sb = site.sb
    script = "import sys\nfrom arcgis.gis import GIS\nGIS(*sys.argv[1:4]).users.me\n"
    args = [ARCGIS_PYTHON, "-c", script, sb.portal_url, sb.admin_username, sb.admin_password]
    for variables, works in [
        ({"REQUESTS_CA_BUNDLE": os.fspath(sb.ca_file)}, False),
        (
            {"REQUESTS_CA_BUNDLE": os.fspath(sb.ca_file), "SSL_CERT_FILE": os.fspath(sb.ca_file)},
            True,
        ),
    ]:
        env = {
            k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
        }
        done = subprocess.run(
            args, capture_output=True, text=True, env={**env, **variables}, timeout=300
        )
        assert (done.returncode == 0) is works, (variables, done.stderr[-2000:])
    note = "with `SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE` set to `sb.ca_file`"
    assert note in " ".join(section("Other clients against it", SANDBOX_PAGE).split())
