"""Change plans: a dry run predicts the real run item for item, applying journals every step,
and a journal can be read back and undone."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense.plans import Journal, Plan


def test_a_mixed_population_is_predicted_item_for_item(tmp_path: Path) -> None:
    with gislicense.Sandbox() as sb:
        gis = admin_of(sb)
        users = sb.portal_users()
        publishers = [u["username"] for u in users if u["role"] == "org_publisher"][:3]
        offline = [u["username"] for u in users if u["proOffline"]][:2]
        viewers = [u["username"] for u in users if u["userLicenseTypeId"] == "viewerUT"][:2]
        items = [*publishers, *offline, *viewers, "nobody-here", sb.admin_username]
        plan = gis.users.plan_license_type(items, "viewer")
        before = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        # Saved and loaded, the plan is the same plan.
        loaded = Plan.load(plan.save(tmp_path / "plan.json"), gis)
        assert [i.status for i in loaded] == [i.status for i in plan]
        journal = tmp_path / "run.jsonl"
        report = loaded.apply(journal=journal)
        predicted = [i.status.replace("would_change", "changed") for i in plan]
        assert [o.status for o in report] == predicted
        # The reasons and errors are the same too: a non-member is not found, as the
        # portal's own refusal would say.
        dry = plan.report()
        assert [o.reason for o in report] == [o.reason for o in dry]
        assert [type(o.error) for o in report] == [type(o.error) for o in dry]
        assert isinstance(report[7].error, gislicense.NotFoundError)
        assert "cannot be held by" in (plan.items[0].reason or "")
        assert "not a member" in (plan.items[7].reason or "")
        assert plan.items[8].status == "failed"  # the signed-in administrator
        # Read back, the journal tells the same outcomes.
        read = Journal(journal)
        assert read.finished
        assert [o.status for o in read.report] == predicted

        # With roles="auto" the role step comes first, then the user type.
        auto = gis.users.plan_license_type(publishers, "viewer", roles="auto")
        assert [s["action"] for s in auto.items[0].steps] == ["role", "user_type"]
        journal2 = tmp_path / "auto.jsonl"
        done = auto.apply(journal=journal2)
        assert done.counts() == {"changed": 3}
        assert all(sb.portal_user(n)["userLicenseTypeId"] == "viewerUT" for n in publishers)
        # Undo puts every member back exactly.
        undo = Plan.undo(journal2, gis)
        assert undo.counts() == {"would_change": 3}
        assert [s["action"] for s in undo.items[0].steps] == ["user_type", "role"]
        undone = undo.apply(journal=tmp_path / "undo.jsonl")
        assert undone.counts() == {"changed": 3}
        after = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        assert after == before
        # Nothing is left to resume of a finished run.
        assert len(Plan.resume(journal2, gis)) == 0


def test_steps_read_with_the_names_people_know() -> None:
    with gislicense.Sandbox(portal_members=80) as sb:
        gis = admin_of(sb)
        user = next(
            u["username"]
            for u in sb.portal_users()
            if u["userLicenseTypeId"] == "creatorUT" and u["role"] == "org_user"
        )
        plan = gis.users.plan_license_type([user], "viewer", roles="auto")
        assert plan.items[0].describe_steps() == "role User → Viewer; user type Creator → Viewer"
        # The steps keep the ids the portal takes.
        assert [s["to"] for s in plan.items[0].steps] == ["iAAAAAAAAAAAAAAA", "viewerUT"]
        assert "role User → Viewer" in str(plan)


def test_a_plan_request_is_read_strictly() -> None:
    """The one typed request across the binding: what it does not know is refused, never
    read as something else."""
    from gislicense import GIS, InvalidInputError

    core = GIS("https://no-such-host.invalid/portal", token="t")._core
    refused = {
        'no operation "update_user_type"': {"operation": "update_user_type", "user_type": "x"},
        'unknown mode "sett"': {"operation": "provision", "license": "pro", "mode": "sett"},
        "update_role takes no user_type=": {
            "operation": "update_role",
            "role": "x",
            "user_type": "y",
        },
        "update_role needs role=": {"operation": "update_role"},
        "allow_all must be True or False": {"operation": "release", "app": "pro", "allow_all": 1},
        "a user level is 1 or 2, not True": {"operation": "update_level", "level": True},
    }
    for words, request in refused.items():
        with pytest.raises(InvalidInputError, match=words):
            core.plan(request, [])


def test_the_collectors_pause_from_python_nests_and_ends_as_the_caller_left_it() -> None:
    """The pause a report takes is the core's own: pauses nest, an error passes through,
    and a collector the caller had turned off stays off."""
    import gc

    from gislicense import _core

    try:
        assert gc.isenabled()
        with _core.collector_paused():
            assert not gc.isenabled()
            with _core.collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer pause still holds
        assert gc.isenabled()
        with pytest.raises(ZeroDivisionError), _core.collector_paused():
            1 / 0  # noqa: B018
        assert gc.isenabled()
        gc.disable()
        with _core.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_paused_while_a_report_is_made_and_back_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A report of thousands of outcomes is made with the cycle collector paused (they hold
    no cycles), and the collector is as the caller left it afterwards."""
    import gc

    from gislicense.bulk import BulkReport

    seen: list[bool] = []
    made = BulkReport.from_results.__func__  # type: ignore[attr-defined]

    def watched(cls: type[BulkReport[object]], *args: object) -> BulkReport[object]:
        seen.append(gc.isenabled())
        return made(cls, *args)  # type: ignore[no-any-return]

    monkeypatch.setattr(BulkReport, "from_results", classmethod(watched))
    with gislicense.Sandbox() as sb:
        gis = admin_of(sb)
        names = [u["username"] for u in sb.portal_users() if u["role"] != "org_admin"][:5]
        try:
            assert gc.isenabled()
            report = gis.users.update_license_type(names, "creator", dry_run=True)
            assert len(report) == 5 and gc.isenabled()
            # A script that turned the collector off keeps it off.
            gc.disable()
            gis.users.update_license_type(names, "creator", dry_run=True)
            assert not gc.isenabled()
        finally:
            gc.enable()
    assert seen == [False, False]


def test_a_new_journal_is_named_by_the_local_time_to_the_microsecond() -> None:
    import datetime
    import re

    from gislicense.plans import _journal_path, default_journal_dir

    before = datetime.datetime.now().replace(microsecond=0)
    path = Path(_journal_path(None, "update_license_type") or "")
    after = datetime.datetime.now()
    assert path.parent == default_journal_dir()
    found = re.fullmatch(r"(\d{8}-\d{6}-\d{6})-update_license_type\.jsonl", path.name)
    assert found, path.name
    assert before <= datetime.datetime.strptime(found.group(1), "%Y%m%d-%H%M%S-%f") <= after
    assert _journal_path(False, "update_license_type") is None
