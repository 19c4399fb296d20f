"""Signing in to a sandbox and asking it things by hand, as the tests do everywhere."""

from __future__ import annotations

import json
import os
import ssl
import urllib.parse
import urllib.request
from typing import Any

import gislicense


def admin_of(sb: gislicense.Sandbox, **options: Any) -> gislicense.GIS:
    """The sandbox portal's administrator, signed in as a script would. A short backoff keeps
    retry tests quick; the retry policy itself is unchanged. ``options`` go to ``GIS``."""
    options.setdefault("backoff", 0.01)
    return gislicense.GIS(
        sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file, **options
    )


def member_of(sb: gislicense.Sandbox, **options: Any) -> gislicense.GIS:
    """The sandbox portal's ordinary (non-administrator) member, signed in."""
    return gislicense.GIS(
        sb.portal_url, sb.user_username, sb.user_password, ca_bundle=sb.ca_file, **options
    )


def sb_post(sb: gislicense.Sandbox, path: str, fields: dict[str, str], method: str = "POST") -> Any:
    """A request made by hand with a fresh token, as a script using urllib would; with
    ``method="GET"`` the fields go in the URL and the token in a header."""
    context = ssl.create_default_context(cafile=os.fspath(sb.ca_file))

    def send(url: str, data: dict[str, str], method: str = "POST", token: str = "") -> Any:
        form = urllib.parse.urlencode({**data, "f": "json"})
        headers = {"Referer": "raw"}
        if token:
            headers["X-Esri-Authorization"] = f"Bearer {token}"
        if method == "GET":
            request = urllib.request.Request(f"{url}?{form}", headers=headers, method="GET")
        else:
            request = urllib.request.Request(url, data=form.encode(), headers=headers)
        with urllib.request.urlopen(request, context=context) as answer:
            return json.loads(answer.read())

    token = send(
        sb.portal_url + "/sharing/rest/generateToken",
        {
            "username": sb.admin_username,
            "password": sb.admin_password,
            "client": "referer",
            "referer": "raw",
        },
    )["token"]
    return send(sb.portal_url + path, fields, method, token)
