"""Messages that say what happened and what to do, for the mistakes administrators make
on an ordinary day: a URL with the wrong scheme or without the web adaptor's name, a role
the user type cannot hold, a plan applied to another server, options repeated where they
are not needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from helpers.sandbox import admin_of

import gislicense
from gislicense import GIS, NotFoundError, ServerError, TransportError
from gislicense.cli.common import in_command_words

pytestmark = pytest.mark.sandbox(sessions=10, portal_members=80)


def member(sb: gislicense.Sandbox, user_type: str, role: str) -> str:
    return next(
        u["username"]
        for u in sb.portal_users()
        if u["userLicenseTypeId"] == user_type and u["roleId"] == role and not u["proOffline"]
    )


def command(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GISLICENSE_PASSWORD"}
    if password is not None:
        env["GISLICENSE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "gislicense", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )


def test_plain_http_to_an_https_portal_says_to_use_https(sb: gislicense.Sandbox) -> None:
    url = sb.portal_url.replace("https://", "http://")
    gis = GIS(url, sb.admin_username, sb.admin_password, allow_insecure_http=True, retries=0)
    with pytest.raises(TransportError) as caught:
        gis.sign_in()
    message = str(caught.value)
    assert "serves HTTPS on this port; use https:// in the URL" in message, message
    assert "invalid HTTP version" not in message


def test_a_url_without_the_web_adaptor_says_to_add_it(sb: gislicense.Sandbox) -> None:
    parts = urllib.parse.urlsplit(sb.portal_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    gis = GIS(origin, sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file)
    with pytest.raises(NotFoundError) as caught:
        gis.sign_in()
    message = str(caught.value)
    assert f"add the portal's web adaptor name to the URL, usually {origin}/portal" in message
    wrong = GIS(origin + "/arcgis", sb.admin_username, sb.admin_password, ca_bundle=sb.ca_file)
    with pytest.raises(NotFoundError, match="check the web adaptor name in the URL"):
        wrong.sign_in()


def test_a_role_the_user_type_cannot_hold_says_to_change_the_type_first(
    sb: gislicense.Sandbox,
) -> None:
    gis = admin_of(sb)
    viewer = gis.users.get(member(sb, "viewerUT", "iAAAAAAAAAAAAAAA"))
    assert viewer is not None
    with pytest.raises(ServerError) as caught:
        viewer.update_role("publisher")
    assert "not compatible" in str(caught.value)  # the portal's words are kept
    assert f"Change {viewer.username}'s user type first" in str(caught.value)
    # The other way round: a Creator publisher moved to Viewer needs the role first.
    creator = gis.users.get(member(sb, "creatorUT", "org_publisher"))
    assert creator is not None
    with pytest.raises(ServerError) as caught:
        creator.update_license_type("viewer")
    said = str(caught.value)
    assert "a role that user type can hold first (user.update_role(...))" in said
    assert (
        f'gis.users.update_license_type(["{creator.username}"], "viewerUT", roles="auto")' in said
    )
    # A bulk change predicts the same failure, and says the same.
    report = gis.users.update_role([viewer], "publisher", dry_run=True)
    assert "user type 'Viewer': change the user type first" in (report[0].reason or "")


def test_set_role_says_to_change_the_user_type_first(sb: gislicense.Sandbox) -> None:
    viewer = member(sb, "viewerUT", "iAAAAAAAAAAAAAAA")
    result = command(
        "users",
        "set-role",
        viewer,
        "--to",
        "publisher",
        "--json",
        "--url",
        sb.portal_url,
        "-u",
        sb.admin_username,
        "--ca-bundle",
        str(sb.ca_file),
        password=sb.admin_password,
    )
    assert result.returncode == 1, result.stderr
    [row] = json.loads(result.stdout)
    assert row["status"] == "failed"
    assert row["reason"].endswith("change the user type first"), row


def test_a_plan_for_another_server_says_how_to_apply_it(
    sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    creator = member(sb, "creatorUT", "org_user")
    portal = ["-u", sb.admin_username, "--ca-bundle", str(sb.ca_file)]
    made = command(
        "users", "set-role", creator, "--to", "publisher", "--save-plan", str(saved),
        "--url", sb.portal_url, *portal, password=sb.admin_password,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    other = sb.portal_url.replace("/portal", "/other")
    applied = command("plan", "apply", str(saved), "--apply", "--url", other, *portal, password="x")
    assert applied.returncode == 2, applied.stderr
    said = applied.stderr.strip().splitlines()[-1]
    assert said.endswith(
        "leave out --url and --profile (the file names its server), or give that server's URL"
    ), said
    assert in_command_words("apply it with a client of that server") != (
        "leave out --url, or give that server's"
    )


def test_journal_show_takes_the_options_repeated_from_undo(
    fresh_sb: gislicense.Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    names = [member(fresh_sb, "creatorUT", "org_user")]
    admin_of(fresh_sb).users.update_role(names, "publisher", journal=journal)
    for extra in (["--url", fresh_sb.portal_url, "-u", fresh_sb.admin_username], ["-u", "admin"]):
        shown = command("journal", "show", str(journal), *extra)
        assert shown.returncode == 0, shown.stderr
        assert "no server or sign-in is needed" in shown.stderr
        assert names[0] in shown.stdout


# --- the library's advice, said in the command's words -------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def library_text() -> str:
    """What the library writes its messages with: the core's Rust (a string continued on the
    next line joined back, quotes unescaped) and the Python package, but not the list of
    hints itself."""
    import re

    sources = [*(ROOT / "src").rglob("*.rs"), *(ROOT / "python" / "gislicense").rglob("*.py")]
    texts = (p.read_text(encoding="utf-8") for p in sources if p.name != "_hints.py")
    return re.sub(r"\\\n\s*", "", "\n".join(texts)).replace('\\"', '"')


def test_every_hint_is_still_advice_the_library_gives() -> None:
    from gislicense._hints import HINTS

    written = library_text()
    # A reworded message would leave the command line speaking of a Python parameter.
    assert [h.words for h in HINTS if h.words not in written] == []


def test_the_command_says_every_hint_with_its_own_options() -> None:
    from gislicense._hints import HINTS
    from gislicense.cli.common import hint_words

    for hint in HINTS:
        said = hint_words(hint)
        assert "=" not in said and hint.words not in said, (hint, said)


def test_errors_carry_the_parameter_their_advice_names() -> None:
    with pytest.raises(gislicense.InvalidInputError) as caught:
        GIS("http://gis.example.com/portal", "admin", "x")
    [hint] = caught.value.hints
    assert (hint.name, hint.form, hint.value) == ("allow_insecure_http", "pass", True)
    assert in_command_words(str(caught.value), caught.value.hints).endswith(
        "Use https, or pass --insecure-http for a test portal"
    )
    with pytest.raises(gislicense.InvalidInputError) as unread:
        GIS("https://gis.example.com/portal", "admin", "x", ca_bundle="/nonexistent/ca.pem")
    assert [h.name for h in unread.value.hints] == ["ca_bundle"]
    assert in_command_words(str(unread.value)).startswith("--ca-bundle: cannot read")
    assert gislicense.GisLicenseError("nothing to advise").hints == ()


def test_the_longest_advice_that_fits_is_the_one_given() -> None:
    from gislicense._hints import hints_in

    message = "Token Required: this needs a signed-in user; pass username= and password=, " \
        "token=, client_id= or cert_file="  # fmt: skip
    [hint] = hints_in(message)
    assert hint.name == "username"
    assert in_command_words(message).endswith("signed-in user; pass --username (or --profile)")
    roles = 'change the role first, or plan with roles="auto" to add that step'
    assert in_command_words(roles) == "change the role first, or pass --role auto to add that step"
