"""Signing in with a client certificate (PKI) against the sandbox portal, which then requires
one from its own client CA: PEM and PKCS#12, sync and async, and the certificates a portal
refuses."""

from __future__ import annotations

import asyncio
import pathlib

import pytest

import gislicense
from gislicense import GIS, InvalidInputError, TLSError
from gislicense._http import InsecureConnectionWarning

pytestmark = pytest.mark.sandbox(sessions=10, portal_members=50, portal_pki=True)


def test_a_pem_certificate_signs_the_administrator_in_sync_and_async(
    sb: gislicense.Sandbox,
) -> None:
    cert, key = sb.client_certificate(sb.admin_username)
    gis = GIS(sb.portal_url, cert_file=cert, key_file=key, ca_bundle=sb.ca_file)
    assert gis.users.me.username == sb.admin_username
    assert len(gis.users.search()) == 50  # an administrator's listing

    async def run() -> str:
        me = await gis.users.me_async()
        return me.username

    assert asyncio.run(run()) == sb.admin_username
    # No token was needed: the certificate is the sign-in.
    assert not sb.requests(operation="generateToken")


def test_a_pkcs12_file_with_its_password(sb: gislicense.Sandbox) -> None:
    p12 = sb.client_pkcs12(sb.user_username, "p12-secret-word")
    gis = GIS(sb.portal_url, cert_file=p12, cert_password="p12-secret-word", ca_bundle=sb.ca_file)
    assert gis.users.me.username == sb.user_username
    with pytest.raises(InvalidInputError, match="cert_password") as caught:
        GIS(sb.portal_url, cert_file=p12, cert_password="not-the-word", ca_bundle=sb.ca_file)
    assert "not-the-word" not in str(caught.value)


def test_an_expired_certificate_is_refused_before_anything_is_sent(
    sb: gislicense.Sandbox,
) -> None:
    cert, key = sb.client_certificate(sb.admin_username, expired=True)
    sent = len(sb.requests())
    with pytest.raises(InvalidInputError, match="expired on"):
        GIS(sb.portal_url, cert_file=cert, key_file=key, ca_bundle=sb.ca_file)
    assert len(sb.requests()) == sent


def test_a_certificate_from_an_untrusted_ca_is_refused_by_the_portal(
    sb: gislicense.Sandbox,
) -> None:
    cert, key = sb.client_certificate(sb.admin_username, untrusted=True)
    gis = GIS(sb.portal_url, cert_file=cert, key_file=key, ca_bundle=sb.ca_file, retries=0)
    with pytest.raises(TLSError, match=r"refused the client certificate \(UnknownCA\)"):
        gis.users.me  # noqa: B018


def test_without_a_certificate_the_error_says_one_is_needed(sb: gislicense.Sandbox) -> None:
    gis = GIS(sb.portal_url, ca_bundle=sb.ca_file, retries=0)
    with pytest.raises(TLSError, match="asked for a client certificate"):
        gis.properties  # noqa: B018


def test_bad_certificate_arguments_are_clear(sb: gislicense.Sandbox) -> None:
    cert, key = sb.client_certificate(sb.admin_username)
    with pytest.raises(InvalidInputError, match="key_file= needs"):
        GIS(sb.portal_url, key_file=key, ca_bundle=sb.ca_file)
    with (
        pytest.raises(InvalidInputError, match="verified server"),
        pytest.warns(InsecureConnectionWarning),
    ):
        GIS(sb.portal_url, cert_file=cert, key_file=key, verify=False)
    with pytest.raises(InvalidInputError, match="no private key"):
        GIS(sb.portal_url, cert_file=cert, ca_bundle=sb.ca_file)


def test_a_certificate_without_its_own_key_or_of_no_member_is_refused(
    sb: gislicense.Sandbox,
) -> None:
    cert, _ = sb.client_certificate(sb.admin_username)
    _, other_key = sb.client_certificate(sb.user_username)
    with pytest.raises(InvalidInputError, match="cannot be used with its key"):
        GIS(sb.portal_url, cert_file=cert, key_file=other_key, ca_bundle=sb.ca_file)
    # The client CA vouches for it, but no member has that name.
    stranger, stranger_key = sb.client_certificate("nobody-here")
    gis = GIS(sb.portal_url, cert_file=stranger, key_file=stranger_key, ca_bundle=sb.ca_file)
    with pytest.raises(gislicense.PermissionDeniedError, match="cannot sign in"):
        gis.users.me  # noqa: B018


def test_files_that_are_no_certificate_say_so(
    sb: gislicense.Sandbox, tmp_path: pathlib.Path
) -> None:
    garbage = tmp_path / "client.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(InvalidInputError, match="holds no PEM certificate"):
        GIS(sb.portal_url, cert_file=garbage, ca_bundle=sb.ca_file)
    p12 = sb.client_pkcs12(sb.admin_username, "a-word")
    with pytest.raises(InvalidInputError, match="no cert_password= was given"):
        GIS(sb.portal_url, cert_file=p12, ca_bundle=sb.ca_file)
    cert, key = sb.client_certificate(sb.admin_username)
    with pytest.raises(InvalidInputError, match="cert_password= opens a PKCS#12 file"):
        GIS(sb.portal_url, cert_file=cert, key_file=key, cert_password="x", ca_bundle=sb.ca_file)
    with pytest.raises(InvalidInputError, match="cert_file is empty"):
        GIS(sb.portal_url, cert_file="", ca_bundle=sb.ca_file)
