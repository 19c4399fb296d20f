"""The example scripts run against the sandbox with no arguments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gislicense import GIS, Sandbox

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GISLICENSE_PASSWORD"}
    if password is not None:
        env["GISLICENSE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )


def test_close_editor_sessions_plans_by_default() -> None:
    result = run("close_editor_sessions.py")
    assert result.returncode == 0, result.stderr
    assert "built-in sandbox" in result.stdout
    assert "Editor sessions in use" in result.stdout
    assert "would close" in result.stdout
    assert not any(line.startswith("  closed") for line in result.stdout.splitlines())
    assert "Nothing was closed" in result.stdout


def test_close_editor_sessions_closes_and_reports_failures() -> None:
    result = run("close_editor_sessions.py", "--apply")
    # Some sandbox workstations have no OpenLM Agent: those sessions fail and are listed.
    assert result.returncode == 0, result.stderr
    assert " closed " in result.stdout
    assert "no OpenLM Agent on" in result.stdout
    summary = [line for line in result.stdout.splitlines() if " items: " in line][-1]
    assert "closed" in summary and "failed" in summary


def test_strict_exits_1_when_sessions_stay_open() -> None:
    result = run("close_editor_sessions.py", "--strict", "--apply")
    assert result.returncode == 1, result.stderr
    assert "still open" in result.stdout


def test_close_editor_sessions_with_nothing_to_close() -> None:
    result = run("close_editor_sessions.py", "--feature", "NoSuchFeature")
    assert result.returncode == 0, result.stderr
    assert "No one is using the ARCGIS NoSuchFeature license." in result.stdout


def test_close_editor_sessions_reports_an_unreachable_server() -> None:
    result = run("close_editor_sessions.py", "--url", "http://127.0.0.1:9/OpenLMServer")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot reach http://127.0.0.1:9/OpenLMServer")


def test_change_user_license_type_plans_by_default() -> None:
    result = run("change_user_license_type.py", "--days", "90")
    assert result.returncode == 0, result.stderr
    assert "built-in sandbox" in result.stdout
    assert "have not signed in for 90 days" in result.stdout
    assert "would change" in result.stdout
    assert not any(line.startswith("  changed") for line in result.stdout.splitlines())
    assert "Nothing was changed" in result.stdout


def test_change_user_license_type_applies_within_the_seats() -> None:
    result = run("change_user_license_type.py", "--apply")
    assert result.returncode == 0, result.stderr
    # The sandbox has fewer free Viewer seats than idle Creators: the longest idle move, the
    # others are planned (and reported) as failing for want of a seat, as everywhere.
    assert "free seats" in result.stdout
    plan, done = [line for line in result.stdout.splitlines() if " items: " in line]
    assert "would change" in plan and "failed" in plan
    assert "changed" in done and "failed" in done
    assert "no seat left" in result.stdout
    # Administrators are left out, and said so.
    assert "left out" in result.stdout and "administrator" in result.stdout
    # Each moves in two steps, the Viewer role first.
    steps = [line for line in result.stdout.splitlines() if line.startswith("  would change")]
    assert steps and all("role " in s and s.index("role ") < s.index("user type") for s in steps)
    assert "Journal: " in result.stdout and "--undo " in result.stdout


def test_change_user_license_type_upwards_keeps_roles() -> None:
    result = run("change_user_license_type.py", "--from", "viewer", "--to", "creator", "--apply")
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if line.startswith("  would change")]
    assert steps and all("user type Viewer → Creator" in s for s in steps)
    assert not any("role " in s for s in steps)


def test_change_user_license_type_undo_puts_members_back(tmp_path: Path) -> None:
    with Sandbox() as sb:
        portal = (
            *("--url", sb.portal_url, "--username", sb.admin_username),
            *("--ca-bundle", str(sb.ca_file)),
        )
        before = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        journal = tmp_path / "run.jsonl"
        done = run(
            "change_user_license_type.py",
            *portal,
            "--apply",
            "--journal",
            str(journal),
            password=sb.admin_password,
        )
        assert done.returncode == 0, done.stderr
        assert journal.exists()
        moved = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        assert moved != before

        plan = run(
            "change_user_license_type.py",
            *portal,
            "--undo",
            str(journal),
            password=sb.admin_password,
        )
        assert plan.returncode == 0, plan.stderr
        assert "Undoing the run journaled in" in plan.stdout
        assert "Nothing was changed" in plan.stdout
        assert "user type Viewer → Creator; role Viewer → " in plan.stdout
        still = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        assert still == moved

        undo = run(
            "change_user_license_type.py",
            *portal,
            "--undo",
            str(journal),
            "--apply",
            password=sb.admin_password,
        )
        assert undo.returncode == 0, undo.stderr
        after = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        assert after == before


def test_change_user_license_type_rejects_an_unknown_type() -> None:
    result = run("change_user_license_type.py", "--to", "gold")
    assert result.returncode == 2
    assert "unknown user type" in result.stderr
    assert "viewerUT (Viewer)" in result.stderr


def test_release_offline_pro_license_lists_then_releases() -> None:
    listing = run("release_offline_pro_license.py")
    assert listing.returncode == 0, listing.stderr
    assert "5 members have ArcGIS Pro checked out for offline use" in listing.stdout
    assert "Name members to release" in listing.stdout

    plan = run("release_offline_pro_license.py", "--all")
    assert plan.returncode == 0, plan.stderr
    assert "5 items: 5 would release" in plan.stdout
    assert "Nothing was released" in plan.stdout

    done = run("release_offline_pro_license.py", "--all", "--apply")
    assert done.returncode == 0, done.stderr
    assert "5 items: 5 released" in done.stdout
    assert "Journal: " in done.stdout


def test_release_then_viewer_and_undo(tmp_path: Path) -> None:
    with Sandbox() as sb:
        portal = (
            *("--url", sb.portal_url, "--username", sb.admin_username),
            *("--ca-bundle", str(sb.ca_file)),
        )
        offline = [u["username"] for u in sb.portal_users() if u["proOffline"]]
        before = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        gis = GIS(sb.portal_url, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file)
        pro = gis.admin.license.get("pro")
        entitled = {n: pro.user_entitlement(n).entitlements for n in offline}
        journal = tmp_path / "run.jsonl"
        args = ("--all", "--user-type", "viewer", "--revoke", "--journal", str(journal))
        done = run(
            "release_offline_pro_license.py", *portal, *args, "--apply", password=sb.admin_password
        )
        assert done.returncode == 0, done.stderr
        assert f"{len(offline)} items: {len(offline)} changed" in done.stdout
        assert all(sb.portal_user(n)["userLicenseTypeId"] == "viewerUT" for n in offline)

        undo = run(
            "release_offline_pro_license.py",
            *portal,
            "--undo",
            str(journal),
            "--apply",
            password=sb.admin_password,
        )
        assert undo.returncode == 0, undo.stderr
        # Types, roles and entitlements go back; the releases are listed as not undoable.
        assert "cannot be undone" in undo.stdout
        after = {u["username"]: (u["userLicenseTypeId"], u["role"]) for u in sb.portal_users()}
        assert after == before
        assert {n: pro.user_entitlement(n).entitlements for n in offline} == entitled
        assert not any(sb.portal_user(n)["proOffline"] for n in offline)


def test_release_offline_pro_license_names_members() -> None:
    result = run("release_offline_pro_license.py", "member", "nobody-here")
    # The sandbox member has nothing checked out; an unknown name is predicted to fail.
    assert result.returncode == 1, result.stderr
    assert "unchanged" in result.stdout and "no ArcGIS Pro license checked out" in result.stdout
    assert "nobody-here is not a member of the organization" in result.stdout
    bad = run("release_offline_pro_license.py", "--app", "arcmap")
    assert bad.returncode == 2
    assert 'no license "arcmap"' in bad.stderr and "ArcGIS Pro" in bad.stderr


def test_the_notebook_runs_from_top_to_bottom() -> None:
    """examples/notebook.ipynb, run as Jupyter runs it (a kernel of this Python)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3").execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert not errors, errors
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    # The plan and the report show as HTML views; the tables as DataFrames.
    assert any("Plan: update_license_type" in view and "Changes" in view for view in html)
    # The plan as a table, with each change's own columns.
    assert any("role_from" in view and "user_type_to" in view for view in html)
    assert any("<b>Report</b>" in view for view in html)
    assert any("feature" in view and "longest_idle" in view for view in html)
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "applying:" in text and "journal:" in text


def test_the_administrators_day_notebook_runs_every_job() -> None:
    """examples/administrators_day.ipynb: the five jobs of an administrator's day, from a
    notebook, as Jupyter runs it."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(EXAMPLES / "administrators_day.ipynb", as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3").execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert not errors, errors
    text = [o["data"]["text/plain"] for o in outputs if "text/plain" in o.get("data", {})]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    # The harvest closed what it planned; the downgrade left three for want of a seat; the
    # undo for one person and the leaver's plan each changed one member.
    closes = next(t for t in text if t.startswith("{'closed'"))
    assert "failed" not in closes
    assert "{'changed': 39, 'failed': 3}" in text
    assert text.count("{'changed': 1}") == 2
    # The review before applying: the plan's view shows its changes, its failures and the
    # note naming the administrators the selection left out.
    review = next(v for v in html if "Plan: update_license_type" in v)
    assert "Changes" in review and "Failures" in review and "left out" in review
    assert any("north" in t and "south" in t for t in text)


def test_usage_history_records_a_month_and_writes_its_page(tmp_path: Path) -> None:
    result = run("usage_history.py", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "sessions and" in result.stdout and "denials in 28 days" in result.stdout
    assert "short: denied" in result.stdout and "never used at once" in result.stdout
    page = (tmp_path / "usage.html").read_text()
    assert "Right-size summary" in page
