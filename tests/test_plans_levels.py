"""Levels: before user types (Enterprise before 10.7) a member's license was their level.
Plans of levels predict the real run item for item there, and say on a portal with user types
that the level follows the user type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import InvalidInputError, NotFoundError
from gislicense.plans import Journal, Plan

VIEWER_ROLE = "iAAAAAAAAAAAAAAA"


@pytest.fixture
def old(new_sandbox: Callable[..., gislicense.Sandbox]) -> gislicense.Sandbox:
    # A 10.6 portal (REST 6.1): no user types yet.
    return new_sandbox(portal_version="6.1")


def levels(sb: gislicense.Sandbox) -> dict[str, tuple[str, str]]:
    return {u["username"]: (u["level"], u["roleId"]) for u in sb.portal_users()}


def test_a_portal_before_user_types_has_levels_and_no_user_types(
    old: gislicense.Sandbox,
) -> None:
    gis = admin_of(old)
    members = old.portal_users()
    assert all("userLicenseTypeId" not in m for m in members)
    assert {m["level"] for m in members} == {"1", "2"}
    # Level 1 members hold level 1 roles only: the seeded Viewers hold the Viewer role.
    assert all(m["roleId"] == VIEWER_ROLE for m in members if m["level"] == "1")
    with pytest.raises(gislicense.ServerError):
        gis.users.license_types  # noqa: B018
    # Changing user types is refused before anything is sent, pointing to levels.
    with pytest.raises(InvalidInputError, match="level"):
        gis.users.plan_license_type([members[5]["username"]], "viewer")
    assert old.requests(operation="updateUserLicenseType") == []


def test_moving_to_level_1_needs_a_level_1_role_first(
    old: gislicense.Sandbox, tmp_path: Path
) -> None:
    gis = admin_of(old)
    before = levels(old)
    twos = [n for n, (lv, role) in before.items() if lv == "2" and role != "org_admin"][:12]
    plan = gis.users.plan_level(twos, 1)
    assert plan.counts() == {"failed": 12}
    assert 'roles="auto"' in (plan.items[0].reason or "")
    # Predicted failures are not sent; what the portal says agrees.
    assert plan.apply(journal=False).counts() == {"failed": 12}
    assert old.requests(operation="updateUserLevel") == []
    with pytest.raises(gislicense.ServerError, match="not a level 1 role"):
        gis.users.get(twos[0]).update_level(1)

    auto = gis.users.plan_level(twos, 1, roles="auto")
    assert auto.counts() == {"would_change": 12}
    assert [s["action"] for s in auto.items[0].steps] == ["role", "level"]
    assert auto.items[0].steps[0]["to"] == VIEWER_ROLE
    journal = tmp_path / "down.jsonl"
    report = auto.apply(journal=journal)
    assert report.counts() == {"changed": 12}
    assert all(levels(old)[n] == ("1", VIEWER_ROLE) for n in twos)
    assert Journal(journal).report.counts() == {"changed": 12}

    # Undo: the level back first, then the role a level 1 member could not hold.
    undo = Plan.undo(journal, gis)
    assert undo.counts() == {"would_change": 12}
    assert [s["action"] for s in undo.items[0].steps] == ["level", "role"]
    assert undo.apply(journal=tmp_path / "undo.jsonl").counts() == {"changed": 12}
    assert levels(old) == before


def test_a_mixed_population_is_predicted_item_for_item(old: gislicense.Sandbox) -> None:
    gis = admin_of(old)
    before = levels(old)
    ones = [n for n, (lv, _) in before.items() if lv == "1"][:6]
    twos = [n for n, (lv, role) in before.items() if lv == "2" and role == "org_user"][:3]
    items = [*ones, *twos, ones[0], "nobody-here"]
    # Two seats left at level 2: they go to the two idle longest (never signed in first),
    # then by user name; the others up are refused for want of one.
    used = sum(1 for lv, _ in before.values() if lv == "2")
    old.set_level_seats(2, used + 2)
    last = {u["username"]: u["lastLogin"] for u in old.portal_users()}
    first = sorted(ones, key=lambda n: (last[n] if last[n] > 0 else -1, n))[:2]
    plan = gis.users.plan_level(items, 2)
    statuses = [i.status for i in plan]
    assert statuses == [
        *["would_change" if n in first else "failed" for n in ones],
        *["unchanged"] * 3,
        "skipped",
        "failed",
    ]
    refused = next(i for i in plan.items[:6] if i.item not in first)
    assert "no seat left at level 2" in (refused.reason or "")
    assert plan.items[6].reason == "already level 2"
    assert [s["action"] for s in plan.items[ones.index(first[0])].steps] == ["level"]
    dry = plan.report()
    report = plan.apply(journal=False)
    assert [o.status for o in report] == [s.replace("would_change", "changed") for s in statuses]
    assert [o.reason for o in report] == [o.reason for o in dry]
    assert isinstance(report[10].error, NotFoundError)
    after = levels(old)
    assert [after[n][0] for n in ones] == ["2" if n in first else "1" for n in ones]
    # The portal agrees there is no seat left.
    with pytest.raises(gislicense.ServerError, match="maximum number of level 2"):
        gis.users.get(refused.item).update_level(2)


def test_level_1_members_hold_only_level_1_roles(old: gislicense.Sandbox) -> None:
    gis = admin_of(old)
    one = next(n for n, (lv, _) in levels(old).items() if lv == "1")
    plan = gis.users.plan_role([one], "org_user")
    assert plan.items[0].status == "failed"
    assert "level 1 member" in (plan.items[0].reason or "")
    with pytest.raises(gislicense.ServerError, match="level 1"):
        gis.users.get(one).update_role("org_user")
    # Up to level 2 with the role asked: the level first, then the role.
    up = gis.users.plan_level([one], 2)
    assert up.apply(journal=False).counts() == {"changed": 1}
    assert gis.users.plan_role([one], "org_user").apply(journal=False).counts() == {"changed": 1}
    assert levels(old)[one] == ("2", "org_user")


def test_the_signed_in_administrator_is_not_demoted_to_level_1(old: gislicense.Sandbox) -> None:
    gis = admin_of(old)
    plan = gis.users.plan_level([old.admin_username], 1, roles="auto")
    assert plan.items[0].status == "failed"
    assert "signed-in administrator" in (plan.items[0].reason or "")


def test_on_a_portal_with_user_types_the_level_follows_the_user_type() -> None:
    with gislicense.Sandbox() as sb:
        gis = admin_of(sb)
        members = sb.portal_users()
        viewer = next(m["username"] for m in members if m["userLicenseTypeId"] == "viewerUT")
        creator = next(m["username"] for m in members if m["userLicenseTypeId"] == "creatorUT")
        plan = gis.users.plan_level([viewer, creator], 1)
        assert [i.status for i in plan] == ["unchanged", "failed"]
        assert "follows their user type" in (plan.items[1].reason or "")
        assert "'Creator' gives level 2" in (plan.items[1].reason or "")
        assert plan.apply(journal=False).counts() == {"unchanged": 1, "failed": 1}
        assert sb.requests(operation="updateUserLevel") == []


def test_a_level_is_1_or_2(old: gislicense.Sandbox) -> None:
    gis = admin_of(old)
    for bad in (0, 3, True, "1"):
        with pytest.raises(InvalidInputError, match="1 or 2"):
            gis.users.plan_level(["member"], bad)  # type: ignore[arg-type]
    assert old.requests(service="portal") == []


def test_the_one_shot_call_plans_and_applies(old: gislicense.Sandbox, tmp_path: Path) -> None:
    gis = admin_of(old)
    ones = [n for n, (lv, _) in levels(old).items() if lv == "1"][:4]
    dry = gis.users.update_level(ones, 2, dry_run=True)
    assert dry.counts() == {"would_change": 4}
    assert old.requests(operation="updateUserLevel") == []
    report = gis.users.update_level(ones, 2, journal=tmp_path / "up.jsonl")
    assert report.counts() == {"changed": 4}
    assert all(levels(old)[n][0] == "2" for n in ones)
    assert gis.users.update_level(ones, 2).counts() == {"unchanged": 4}
