"""Each operation is bound once: a pending core call that the sync form waits for and the
async form awaits. These tests hold the two forms together."""

from __future__ import annotations

import asyncio
import inspect
import pickle

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS, EntitlementCount, OpenLM, Role, Sandbox, UserEntitlement, UserType
from gislicense.licenses import License, LicenseManager
from gislicense.portal import User, UserManager

FACADES = [GIS, UserManager, User, License, LicenseManager, OpenLM]


@pytest.mark.parametrize("cls", FACADES, ids=lambda c: c.__name__)
def test_every_async_form_has_its_sync_form_with_the_same_parameters(cls: type) -> None:
    asyncs = [name for name in vars(cls) if name.endswith("_async")]
    assert asyncs, cls
    for name in asyncs:
        sync = getattr(cls, name.removesuffix("_async"))
        run = getattr(cls, name)
        assert inspect.iscoroutinefunction(run), name
        assert run.__doc__.startswith("Async form of"), name
        if isinstance(sync, property):
            continue
        assert sync.__name__ == name.removesuffix("_async")
        assert sync.__doc__ and not sync.__doc__.startswith("Async form")
        assert inspect.signature(sync) == inspect.signature(run), name


def test_a_call_runs_once(sandbox: Sandbox) -> None:
    call = admin_of(sandbox)._core.version()
    assert call.wait() == admin_of(sandbox).version
    with pytest.raises(RuntimeError, match="already run"):
        call.wait()


async def test_a_call_can_be_awaited_and_not_then_waited(sandbox: Sandbox) -> None:
    gis = admin_of(sandbox)
    call = gis._core.org_id()
    assert await call == gis.org_id
    with pytest.raises(RuntimeError, match="already run"):
        call.wait()
    assert await asyncio.gather(gis.version_async(), gis.org_id_async()) == [
        gis.version,
        gis.org_id,
    ]


def test_a_call_not_run_sends_nothing(sandbox: Sandbox) -> None:
    gis = admin_of(sandbox)
    gis.sign_in()
    sandbox.clear_requests()
    gis._core.update_license_type("nobody", "viewer")
    assert sandbox.requests() == []


def test_sync_and_async_forms_agree(sandbox: Sandbox) -> None:
    gis = admin_of(sandbox)
    pro = gis.admin.license.get("pro")

    async def both() -> tuple[object, ...]:
        return (
            await gis.users.license_types_async(),
            await gis.users.roles_async(),
            await pro.report_async(),
            [u.username for u in await pro.users_async()],
        )

    assert asyncio.run(both()) == (
        gis.users.license_types,
        gis.users.roles,
        pro.report,
        [u.username for u in pro.users()],
    )


def test_records_pickle_and_compare() -> None:
    records = [
        UserType("creatorUT", "Creator", 3, 10, {"id": "creatorUT"}),
        Role("org_admin", "Administrator", "All"),
        EntitlementCount("desktopAdvN", 10, 3, 7),
    ]
    for record in records:
        copy = pickle.loads(pickle.dumps(record))
        assert copy == record and hash(copy) == hash(record)
        assert type(copy).__module__ == "gislicense"
    entitlement = UserEntitlement(
        {
            "username": "ann",
            "entitlements": ["desktopAdvN"],
            "disconnected": True,
            "last_login": 1_700_000_000_000,
            "raw": {"username": "ann"},
        }
    )
    copy = pickle.loads(pickle.dumps(entitlement))
    assert (copy.username, copy.entitlements, copy.disconnected, copy.last_login, copy.raw) == (
        "ann",
        ["desktopAdvN"],
        True,
        entitlement.last_login,
        {"username": "ann"},
    )
    assert entitlement.last_login is not None and entitlement.last_login.year == 2023
    assert UserType("a", "A", 5, 3).available == 0
    assert UserType("a", "A").available is None
    assert gislicense.UserType is UserType


# A script whose last await ends in an error, then exits: the runtime thread that woke the
# event loop may still be inside Python when the interpreter finalizes. CPython ends such a
# thread with pthread_exit, which aborted the process (SIGABRT) about one exit in ten.
EXITING_SCRIPT = """
import asyncio, sys, gislicense
gis = gislicense.GIS(sys.argv[1], sys.argv[2], "not-the-password", ca_bundle=sys.argv[3])
try:
    asyncio.run(gis.users.search_async())
except gislicense.AuthenticationError:
    sys.exit(3)
"""


def test_exiting_right_after_an_await_never_aborts() -> None:
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    with Sandbox(sessions=10, portal_members=20) as sb:
        args = [sys.executable, "-c", EXITING_SCRIPT, sb.portal_url, sb.admin_username,
                str(sb.ca_file)]  # fmt: skip

        def once(_: int) -> int:
            return subprocess.run(args, capture_output=True, timeout=60).returncode

        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(once, range(60)))
    assert codes == [3] * 60, f"exit statuses other than 3: {sorted(set(codes))}"
