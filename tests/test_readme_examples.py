"""Every ```python example of the README runs, as written, against the sandbox: in README
order, in one namespace (a later example goes on from an earlier one, as a reader would),
with the servers and people the examples name standing for the sandbox's. So no example
can go stale: one that fails to run, or whose result is not what its comment says, fails
here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.readme import python_blocks

import gislicense
from gislicense.bulk import BulkReport

#: The example servers' URLs; each stands for the sandbox's server of its kind.
EXAMPLE_OPENLM = ("http://openlm01:7014/OpenLMServer", "https://openlm01:7014/OpenLMServer")
EXAMPLE_PORTAL = "https://gis.example.com/portal"


pytestmark = pytest.mark.sandbox(sessions=300, openlm_tls=True)


def _people(sb: gislicense.Sandbox) -> dict[str, str]:
    """The examples' people, as sandbox members of the kind each example needs."""
    members = sb.portal_users()
    joe = next(
        u["username"]
        for u in members
        if u["userLicenseTypeId"] == "creatorUT"
        and u["roleId"] == "org_user"
        and not u["proOffline"]
        and u["username"] != sb.admin_username
    )
    jdoe = next(u["username"] for u in members if u["proOffline"])
    return {"joe": joe, "jdoe": jdoe}


@pytest.fixture
def stand_ins(sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The example servers lead to the sandbox; files the examples write go to tmp_path."""
    real_openlm, real_gis = gislicense.OpenLM, gislicense.GIS

    def openlm(url: str, *args: Any, **kw: Any) -> gislicense.OpenLM:
        if url not in EXAMPLE_OPENLM:
            return real_openlm(url, *args, **kw)
        kw.update(ca_bundle=sb.ca_file, close_wait=5)
        return real_openlm(sb.openlm_url, *args, **kw)

    def gis(url: str, username: str | None = None, *args: Any, **kw: Any) -> gislicense.GIS:
        if url != EXAMPLE_PORTAL:
            return real_gis(url, username, *args, **kw)
        # The example's administrator; their password is what the example asks for.
        kw.update(ca_bundle=sb.ca_file)
        return real_gis(sb.portal_url, sb.admin_username, sb.admin_password, **kw)

    monkeypatch.setattr(gislicense, "OpenLM", openlm)
    monkeypatch.setattr(gislicense, "GIS", gis)
    monkeypatch.chdir(tmp_path)


def _as_written(code: str, people: dict[str, str]) -> str:
    """The example's code, its people's names replaced by sandbox members' (only in
    quotes: "joe" as a name, not the variable joe)."""
    for name, member in people.items():
        code = re.sub(rf'"{name}"', f'"{member}"', code)
    return code


# What a reader brings to examples that are fragments (variables they define themselves).
def _reader(sb: gislicense.Sandbox) -> dict[str, Any]:
    import pandas as pd

    now = dt.datetime.now(dt.timezone.utc)
    admin = gislicense.GIS(
        sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file
    )
    idle_creators = [
        u
        for u in admin.users.search(user_type="creator")
        if u.last_login is None or u.last_login < now - dt.timedelta(days=90)
    ][:5]
    return {"cutoff": now - dt.timedelta(hours=2), "pd": pd, "idle_creators": idle_creators}


def _first_portal_example(made: list[Any], scope: dict[str, Any]) -> None:
    # Its dry run predicts no failure (before the role step was added, it predicted one
    # for every member), and joe ends a Viewer.
    [report] = [value for value in made if isinstance(value, BulkReport)]
    assert report and not report.failed, str(report)
    assert str(report) == f"{len(report)} items: {len(report)} would change"
    assert (scope["joe"].user_type, scope["joe"].role) == ("viewerUT", "Viewer")


#: Checks of what an example's comments promise, by a line of code that tells the example
#: (given what the example made, and the namespace).
CHECKS: dict[str, Callable[[list[Any], dict[str, Any]], None]] = {
    'joe = gis.users.get("joe")': _first_portal_example,
}


def test_every_python_example_of_the_readme_runs(sb: gislicense.Sandbox, stand_ins: None) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 9
    for marker in CHECKS:
        assert any(marker in code for _, code in blocks), f"no example has {marker!r}"
    scope: dict[str, Any] = {"gislicense": gislicense, **_reader(sb)}
    people = _people(sb)
    for line, code in blocks:
        before = {id(value) for value in scope.values()}
        try:
            exec(compile(_as_written(code, people), f"README.md:{line}", "exec"), scope)
        except Exception as error:
            pytest.fail(f"the README's example at line {line} fails: {error!r}")
        made = [value for value in scope.values() if id(value) not in before]
        for marker, check in CHECKS.items():
            if marker in code:
                check(made, scope)
