"""What OpenLM watches (GetServerList, GetVendorList) against the sandbox and canned replies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gislicense import AuthenticationError, OpenLM, OpenLMServer, OpenLMVendor, Sandbox


def test_servers_count_what_the_sessions_hold(sandbox: Sandbox, openlm: OpenLM) -> None:
    servers = openlm.get_servers()
    assert all(isinstance(s, OpenLMServer) for s in servers)
    by_name = {s.name: s for s in servers}
    assert by_name["GIS License Server"].host == "gislic01"
    assert by_name["GIS License Server"].port == 27000
    assert by_name["GIS License Server"].vendor == "ARCGIS"
    assert by_name["GIS License Server"].status == "UP"
    products = openlm.get_active_products()
    for server in servers:
        held = sum(p.licenses for p in products if p.server == server.name)
        assert server.in_use == held, server.name
        assert server.issued is not None and server.issued >= held
        assert server.extra == {}
    # A close shows in the server's count; what it issues stays.
    editor = next(p for p in products if p.closable and p.feature == "Editor")
    before = by_name[str(editor.server)]
    openlm.close_application(
        username=editor.username,
        workstation=editor.workstation,
        server=str(editor.server),
        vendor=str(editor.vendor),
        feature=editor.feature,
    )
    after = {s.name: s for s in openlm.get_servers()}[before.name]
    assert after.in_use == (before.in_use or 0) - editor.licenses
    assert after.issued == before.issued
    assert sandbox.requests(operation="GetServerList")


def test_vendors_sum_their_servers(openlm: OpenLM) -> None:
    servers = openlm.get_servers()
    vendors = asyncio.run(openlm.get_vendors_async())
    assert all(isinstance(v, OpenLMVendor) for v in vendors)
    assert sorted(v.name for v in vendors) == sorted({str(s.vendor) for s in servers})
    for vendor in vendors:
        mine = [s for s in servers if s.vendor == vendor.name]
        assert vendor.servers == len(mine)
        assert vendor.issued == sum(s.issued or 0 for s in mine)
        assert vendor.in_use == sum(s.in_use or 0 for s in mine)
        assert vendor.to_dict()["name"] == vendor.name


def test_the_lists_need_the_login_when_the_server_has_permissions() -> None:
    with Sandbox(sessions=10, permissions=True) as sb:
        with pytest.raises(AuthenticationError, match="requires a login"):
            OpenLM(sb.openlm_url).get_servers()
        openlm = OpenLM(sb.openlm_url, sb.openlm_username, sb.openlm_password)
        assert len(openlm.get_servers()) >= 3
        sb.expire_openlm_logins()
        assert openlm.get_vendors()


def test_unknown_shapes_are_kept_raw(canned_server: Any) -> None:
    canned_server.body = (
        b'<ULM><MESSAGE type="GetServerList"/>'
        b'<LICENSE_SERVER ServerName="Spare" Address="27001@gislic03" Vendor="ARCGIS"'
        b' TotalLicenses="n/a" LmType="FlexLM"/></ULM>'
    )
    (server,) = OpenLM(canned_server.url).get_servers()
    assert (server.name, server.host, server.port, server.vendor) == (
        "Spare",
        "gislic03",
        27001,
        "ARCGIS",
    )
    assert server.issued is None and server.status is None
    assert server.tag == "LICENSE_SERVER"
    assert server.extra == {"TotalLicenses": "n/a", "LmType": "FlexLM"}
    assert "Spare" in repr(server)
