"""The ArcGIS Pro toolbox, run as Pro runs it, with a stand-in ``arcpy`` (tests/helpers/
arcpy_standin.py) against the sandbox: each tool's parameters, validation, plan (Apply
unchecked) and applied run, Cancel, failures failing the tool, undo from the toolbox.

Pro's own sign-in (``GIS("pro")``) reaches the sandbox's HTTPS portal through the system
trust store, which ``SSL_CERT_FILE`` points at the sandbox's CA here."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import arcpy_standin
from helpers.sandbox import admin_of

import gislicense
from gislicense import profiles
from gislicense.toolbox import TOOL_NAMES, parameters, toolbox_path, tools

pytestmark = pytest.mark.sandbox(sessions=120, portal_members=150)


@pytest.fixture
def arcpy(sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """ArcGIS Pro's arcpy (the stand-in), signed in to the module's sandbox."""
    yield from _pro(sb, monkeypatch)


@pytest.fixture
def fresh_arcpy(fresh_sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The same, signed in to a sandbox of the test's own (for tests that change it)."""
    yield from _pro(fresh_sb, monkeypatch)


def _pro(sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    module = arcpy_standin.install()
    arcpy_standin.signed_in(sb.portal_url, sb.admin_username, sb.admin_password, str(sb.ca_file))
    monkeypatch.setitem(sys.modules, "arcpy", module)
    monkeypatch.setenv("SSL_CERT_FILE", str(sb.ca_file))
    parameters.forget_choices()
    yield module
    parameters.forget_choices()


def params(tool: Any, **values: Any) -> list[Any]:
    """The tool's parameters with ``values`` set, validated as Pro validates them."""
    found = tool.getParameterInfo()
    by_name = {p.name: p for p in found}
    for name, value in values.items():
        by_name[name].value = value
    tool.updateParameters(found)
    for p in found:
        p.clearMessage()
    tool.updateMessages(found)
    return found


def errors(found: list[Any]) -> dict[str, str]:
    return {p.name: p.message for p in found if p.hasError()}


def run(tool: Any, **values: Any) -> list[Any]:
    """Validate, then run, as Pro does when the tool's Run button is pressed."""
    found = params(tool, **values)
    assert errors(found) == {}
    tool.execute(found, None)
    return found


def said(kind: str | None = None) -> list[str]:
    return [text for k, text in arcpy_standin.messages if kind is None or k == kind]


def members_of(sb: gislicense.Sandbox, user_type: str, n: int) -> list[str]:
    """``n`` members of ``user_type`` who are not administrators."""
    found = admin_of(sb).users.search(user_type=user_type)
    return [m.username for m in found if m.role_id != "org_admin"][:n]


# --- the toolbox itself --------------------------------------------------------------------


def load_pyt(path: Path) -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("gislicense_pyt", str(path))
    spec = importlib.util.spec_from_loader("gislicense_pyt", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_installed_pyt_declares_every_tool_and_no_parameter_takes_a_password() -> None:
    assert gislicense.toolbox_path() == toolbox_path()
    assert toolbox_path().name == "gislicense.pyt" and toolbox_path().is_file()
    arcpy_standin.install()
    try:
        box = load_pyt(toolbox_path()).Toolbox()
        assert [t.__name__ for t in box.tools] == list(TOOL_NAMES)
        for tool_class in box.tools:
            tool = tool_class()
            assert tool.label and tool.description and tool.isLicensed()
            for p in tool.getParameterInfo():
                assert "password" not in f"{p.name} {p.displayName}".lower()
                assert p.datatype != "GPEncryptedString"
    finally:
        sys.modules.pop("arcpy", None)


#: Each tool's parameters, in order: the names scripts pass them by.
PARAMETERS = {
    "CloseSessions": [
        "source", "features", "idle_hours", "keep_free", "lmutil", "apply", "journal"
    ],
    "ChangeUserTypes": [
        "portal", "users", "from_type", "idle_days", "to_type", "role", "apply", "journal"
    ],
    "ChangeRoles": ["portal", "users", "from_role", "idle_days", "to_role", "apply", "journal"],
    "AssignProLicenses": ["portal", "users", "action", "entitlements", "add", "apply", "journal"],
    "ReleaseOfflineLicenses": ["portal", "users", "apply", "journal"],
    "UndoJournal": ["undo", "portal", "users", "apply", "journal"],
    "LicenseReport": ["portal", "csv", "table"],
    "UsageReport": [
        "history", "report", "by", "feature", "since_days", "idle_days", "entitlement",
        "user_type", "csv", "table", "html",
    ],
}  # fmt: skip


def test_every_tool_plans_unless_apply_is_checked_and_signs_in_through_pro(
    arcpy: ModuleType,
) -> None:
    for name in TOOL_NAMES:
        found = {p.name: p for p in getattr(tools, name)().getParameterInfo()}
        assert list(found) == PARAMETERS[name]
        if "apply" in found:
            assert found["apply"].datatype == "GPBoolean" and found["apply"].value is False
            assert found["journal"].direction == "Output"
            assert found["journal"].parameterType == "Optional"
        if "portal" in found:
            assert found["portal"].value == "pro"
        for multi in ("users", "features", "entitlements"):
            if multi in found:
                assert found[multi].multiValue
    assert {p.name: p for p in tools.ChangeUserTypes().getParameterInfo()}["role"].value == "auto"


def test_the_command_line_copies_the_toolbox_for_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gislicense.cli.main(["toolbox"]) == 0
    assert capsys.readouterr().out.strip() == str(toolbox_path())
    assert gislicense.cli.main(["toolbox", "--copy-to", str(tmp_path / "project")]) == 0
    copied = tmp_path / "project" / "gislicense.pyt"
    assert capsys.readouterr().out.strip() == str(copied)
    assert copied.read_bytes() == toolbox_path().read_bytes()


# --- validation ----------------------------------------------------------------------------


def test_choice_lists_come_from_the_portal_pro_is_signed_in_to(
    arcpy: ModuleType, sb: gislicense.Sandbox
) -> None:
    found = {p.name: p for p in params(tools.ChangeUserTypes(), to_type="Viewer")}
    gis = admin_of(sb)
    assert found["to_type"].filter.list == [t.name for t in gis.users.license_types]
    assert found["from_type"].filter.list == found["to_type"].filter.list
    assert found["role"].filter.list == ["auto", *(r.name for r in gis.users.roles)]
    assert found["portal"].filter.list[0] == "pro"
    entitlements = {p.name: p for p in params(tools.AssignProLicenses())}["entitlements"]
    assert entitlements.filter.list == list(gis.admin.license.get("pro").entitlements)


def test_validation_says_what_is_wrong_before_running(arcpy: ModuleType) -> None:
    found = errors(params(tools.ChangeUserTypes(), to_type="Viewer"))
    assert "name the members, or select them" in found["users"]
    found = errors(params(tools.ChangeUserTypes(), to_type="Viewer", users=["a"], idle_days=30))
    assert "not both" in found["users"]
    found = errors(params(tools.ChangeRoles(), portal="https://gis.example.com/portal"))
    assert "not a URL" in found["portal"]
    found = errors(params(tools.ChangeRoles(), portal="nosuch"))
    assert "no profile 'nosuch'" in found["portal"]
    found = errors(params(tools.CloseSessions(), source="27000@licenses.example.com"))
    assert "source" not in found  # a License Manager: read with lmutil
    assert "every session would close" in found["features"]
    found = errors(params(tools.AssignProLicenses(), users=["a"]))
    assert "entitlements to assign" in found["entitlements"]
    assert "give a CSV file" in errors(params(tools.LicenseReport()))["csv"]


def test_a_portal_that_cannot_be_read_is_a_warning_naming_why(arcpy: ModuleType) -> None:
    arcpy_standin._portal.clear()  # Pro signed in to no portal
    found = {p.name: p for p in params(tools.ChangeUserTypes(), to_type="Viewer")}
    assert found["to_type"].hasWarning()
    assert "not signed in to a portal" in found["to_type"].message
    assert found["to_type"].filter.list == []


def test_a_tool_run_from_a_script_checks_its_values_too(arcpy: ModuleType) -> None:
    tool = tools.ChangeUserTypes()
    found = tool.getParameterInfo()  # no validation, as arcpy.gislicense.ChangeUserTypes()
    {p.name: p for p in found}["to_type"].value = "Viewer"
    with pytest.raises(arcpy_standin.ExecuteError, match="name the members"):
        tool.execute(found, None)
    assert said("error")


def test_a_profile_without_a_stored_password_is_refused_before_running(
    arcpy: ModuleType, sb: gislicense.Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("GISLICENSE_PASSWORD", raising=False)
    monkeypatch.setattr(profiles, "keyring_secret", lambda name, which: None)
    profiles.save(profiles.Profile("prod", "portal", sb.portal_url, username=sb.admin_username))
    found = errors(params(tools.ChangeRoles(), portal="prod", users=["a"], to_role="User"))
    assert "--store-password" in found["portal"]
    assert "GISLICENSE_PASSWORD_PROD" in found["portal"]


def test_an_error_while_running_fails_the_tool_with_its_message(arcpy: ModuleType) -> None:
    tool = tools.ChangeUserTypes()
    found = params(tool, users=["ataylor"], to_type="Viewer")
    arcpy_standin._portal.clear()  # Pro signed out after the form was filled
    with pytest.raises(arcpy_standin.ExecuteError, match="not signed in to a portal"):
        tool.execute(found, None)
    assert any("not signed in to a portal" in line for k, line in arcpy_standin.messages)
