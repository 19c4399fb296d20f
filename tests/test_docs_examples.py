"""Every code example of the documentation site runs, as written, against the sandbox.

Page by page, top to bottom, as a reader would run them: a page's ```python blocks share
one namespace, and its ```console blocks (``$ gislicense ...``) run the command, through
``gislicense.cli.main``, in the same folder and against the same sandbox. The servers the
pages name stand for the sandbox's: the example portal and OpenLM server, and the saved
connections ``prod`` (the portal) and ``lm`` (OpenLM) that the how-to pages use. A command
must end with the exit status it shows (``# exit status 1``; 0 otherwise), and each line of
output shown under it must be in what it printed (``...`` stands for anything). So no
example can go stale.

A block that cannot run here is marked just above it, ``<!-- docs-test: skip (why) -->``;
the marks are counted, so one cannot be added unnoticed.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.docs import DOCS, Block, Command, blocks, commands, pages

import gislicense
from gislicense import profiles
from gislicense.bulk import BulkReport
from gislicense.sandbox import LicenseManagerSandbox

#: How many blocks are marked not to run, and must stay so few.
SKIPPED = 3

#: The example servers' addresses; each stands for the sandbox's server of its kind.
EXAMPLE_PORTAL = "https://gis.example.com/portal"
EXAMPLE_OPENLM = (
    "openlm01",
    "http://openlm01:7014/OpenLMServer",
    "https://openlm01:7014/OpenLMServer",
)
#: The example License Manager; it stands for the sandbox's (with its stand-in lmutil).
EXAMPLE_FLEXNET = "27000@licsrv"
#: The example administrator's user name.
EXAMPLE_ADMIN = "admin"

RUNNABLE = ("python", "console")


def _runnable(page: Path) -> bool:
    return any(b.lang in RUNNABLE and b.skipped is None for b in blocks(page))


def test_every_command_example_is_a_console_block() -> None:
    """Commands are shown as ``$ gislicense ...`` in console blocks, which run; a command in
    a bash or plain block would not be."""
    for page in pages():
        for block in blocks(page):
            if block.lang in RUNNABLE or block.skipped:
                continue
            for line in block.code.splitlines():
                assert not re.match(r"(\$ )?gislicense ", line), (
                    f"{block.where}: a command outside a console block: {line!r}"
                )


def test_the_blocks_that_do_not_run_are_few_and_say_why() -> None:
    skipped = [b for page in pages() for b in blocks(page) if b.skipped]
    assert len(skipped) == SKIPPED, [(b.where, b.skipped) for b in skipped]


@dataclass
class Reader:
    """A reader of one page: the sandbox standing for their servers, their folder, and the
    namespace their Python examples share."""

    sb: gislicense.Sandbox
    folder: Path
    scope: dict[str, Any]
    license_manager: LicenseManagerSandbox

    def argv(self, argv: list[str]) -> list[str]:
        """The command as written, its example servers and administrator the sandbox's."""
        sb, out = self.sb, []
        for before, word in zip(["", *argv], argv):
            if before == "--url" and word == EXAMPLE_PORTAL:
                out += [sb.portal_url, "--ca-bundle", str(sb.ca_file)]
            elif before == "--url" and word in EXAMPLE_OPENLM:
                out += [sb.openlm_url, "--ca-bundle", str(sb.ca_file)]
            elif before == "--flexnet" and word == EXAMPLE_FLEXNET:
                lm = self.license_manager
                out += [lm.server, "--lmutil", str(lm.lmutil_path)]
            elif before in ("-u", "--username") and word == EXAMPLE_ADMIN:
                out.append(sb.admin_username)
            else:
                out.append(word)
        return out


@pytest.fixture
def reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reader]:
    # The branch office's portal: the inventory across portals has a second one to read.
    branch = gislicense.Sandbox(seed=2, sessions=50, portal_members=120)
    with gislicense.Sandbox(openlm_tls=True) as sb, branch, LicenseManagerSandbox() as lm:
        folder = tmp_path / "work"
        folder.mkdir()
        monkeypatch.chdir(folder)
        _saved_connections(sb, branch, tmp_path / "config", monkeypatch)
        _example_servers(sb, monkeypatch)
        yield Reader(sb, folder, {"__name__": "__docs__"}, lm)


def _saved_connections(
    sb: gislicense.Sandbox, branch: gislicense.Sandbox, config: Path, monkeypatch: Any
) -> None:
    """``prod``, ``branch`` (portals) and ``lm`` (OpenLM), as ``gislicense profile add``
    would have saved them, with the passwords in the environment as a scheduled job has
    them."""
    monkeypatch.setenv("GISLICENSE_CONFIG_DIR", str(config))
    for name, site in (("prod", sb), ("branch", branch)):
        portal = profiles.Profile(
            name,
            "portal",
            site.portal_url,
            username=site.admin_username,
            ca_bundle=str(site.ca_file),
        )
        profiles.save(portal)
        monkeypatch.setenv(profiles.password_variable(name), site.admin_password)
    profiles.save(profiles.Profile("lm", "openlm", sb.openlm_url, ca_bundle=str(sb.ca_file)))
    # What `export GISLICENSE_PASSWORD=...` gives a command with --url and -u.
    monkeypatch.setenv("GISLICENSE_PASSWORD", sb.admin_password)


def _example_servers(sb: gislicense.Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example servers lead to the sandbox (their administrator's password is what the
    example would ask for)."""
    real_openlm, real_gis = gislicense.OpenLM, gislicense.GIS

    def openlm(*args: Any, **kw: Any) -> gislicense.OpenLM:
        if (args[0] if args else kw.get("url")) not in EXAMPLE_OPENLM:
            return real_openlm(*args, **kw)
        kw.update(ca_bundle=sb.ca_file, close_wait=5)
        kw.pop("url", None)
        return real_openlm(sb.openlm_url, *args[1:], **kw)

    def gis(*args: Any, **kw: Any) -> gislicense.GIS:
        if (args[0] if args else kw.get("url")) != EXAMPLE_PORTAL:
            return real_gis(*args, **kw)
        kw.update(ca_bundle=sb.ca_file, password=sb.admin_password)
        kw.pop("username", None)
        return real_gis(sb.portal_url, sb.admin_username, *args[3:], **kw)

    monkeypatch.setattr(gislicense, "OpenLM", openlm)
    monkeypatch.setattr(gislicense, "GIS", gis)


def _run_python(block: Block, reader: Reader) -> None:
    before = {id(value) for value in reader.scope.values()}
    try:
        exec(compile(block.code, block.where, "exec"), reader.scope)
    except Exception as error:
        pytest.fail(f"the example at {block.where} fails: {error!r}")
    made = [value for value in reader.scope.values() if id(value) not in before]
    for marker, check in CHECKS.items():
        if marker in block.code:
            check(made, reader.scope)


def _run_command(block: Block, command: Command, reader: Reader) -> None:
    from gislicense.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(reader.argv(command.argv[1:]))
        except SystemExit as exit:  # argparse's usage errors
            status = exit.code if isinstance(exit.code, int) else 2
    printed = out.getvalue() + err.getvalue()
    said = f"{block.where}: $ {' '.join(command.argv)}\n{printed[-3000:]}"
    assert command.argv[0] == "gislicense", said
    assert status == command.status, f"exit status {status}, not {command.status}: {said}"
    flat = " ".join(printed.split())
    for line in command.shown:
        pattern = ".*?".join(re.escape(" ".join(part.split())) for part in line.split("..."))
        assert re.search(pattern, flat), f"not printed: {line!r}: {said}"


@pytest.mark.parametrize("page", [p.relative_to(DOCS).as_posix() for p in pages() if _runnable(p)])
def test_every_example_of_the_page_runs(page: str, reader: Reader) -> None:
    ran = 0
    for block in blocks(DOCS / page):
        if block.skipped or block.lang not in RUNNABLE:
            continue
        if block.lang == "python":
            _run_python(block, reader)
        else:
            for command in commands(block):
                _run_command(block, command, reader)
        ran += 1
    assert ran


def test_the_checked_examples_are_on_the_pages() -> None:
    code = [b.code for p in pages() for b in blocks(p) if b.lang == "python"]
    for marker in CHECKS:
        assert any(marker in c for c in code), f"no example has {marker!r}"


# Checks of what an example's comments promise, by a line of code that tells the example.


def _members_example(made: list[Any], scope: dict[str, Any]) -> None:
    # Its dry run predicts no failure (roles="auto" adds the role step a Viewer needs), and
    # the member ends a Viewer with the Viewer role.
    [report] = [value for value in made if isinstance(value, BulkReport)]
    assert report and not report.failed, str(report)
    assert str(report) == f"{len(report)} items: {len(report)} would change"
    assert (scope["joe"].user_type, scope["joe"].role) == ("viewerUT", "Viewer")


CHECKS: dict[str, Callable[[list[Any], dict[str, Any]], None]] = {
    'joe = gis.users.get("agarcia")': _members_example,
}
