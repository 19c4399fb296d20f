"""The documentation site's pages, read by the tests that keep them true: their code
examples, and which of those cannot run here (marked, with a reason)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

#: Put just before a code block that cannot run against the sandbox (a real server's
#: address, a pipe into another program): ``<!-- docs-test: skip (why) -->``.
SKIP = re.compile(r"<!-- docs-test: skip \((?P<why>[^)]+)\) -->\s*$")

_FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>\w*)[^\n]*\n(?P<code>.*?)^(?P=indent)```$", re.M | re.S
)


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str  # relative to docs/
    line: int  # where its code starts (1-based)
    lang: str
    code: str
    skipped: str | None  # the reason it is marked not to run, if it is

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the site."""
    return sorted(DOCS.rglob("*.md"))


def blocks(page: Path) -> list[Block]:
    """The page's fenced code blocks, top to bottom."""
    text = page.read_text(encoding="utf-8")
    found = []
    for fence in _FENCE.finditer(text):
        line = text.count("\n", 0, fence.start("code")) + 1
        indent = len(fence.group("indent"))
        code = "\n".join(row[indent:] for row in fence.group("code").split("\n"))
        before = text[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marked = SKIP.search(before)
        found.append(
            Block(
                page=page.relative_to(DOCS).as_posix(),
                line=line,
                lang=fence.group("lang"),
                code=code,
                skipped=marked.group("why") if marked else None,
            )
        )
    return found


@dataclass(frozen=True)
class Command:
    """A ``$ gislicense ...`` line of a console block, with the output shown under it."""

    argv: list[str]
    status: int  # the exit status it shows (``# exit status 1``), else 0
    shown: list[str]


_STATUS = re.compile(r"\s+# exit status (\d+)$")


def commands(block: Block) -> list[Command]:
    """The commands of a console block. A line ending in ``\\`` goes on on the next one."""
    import shlex

    found: list[Command] = []
    lines = iter(block.code.rstrip("\n").split("\n"))
    for line in lines:
        if not line.startswith("$ "):
            if not found:
                raise AssertionError(f"{block.where}: output before any command: {line!r}")
            if line.strip():
                found[-1].shown.append(line)
            continue
        command = line[2:]
        while command.endswith("\\"):
            command = command[:-1] + next(lines).strip()
        status = _STATUS.search(command)
        if status:
            command = command[: status.start()]
        argv = shlex.split(command, comments=True)
        found.append(Command(argv, int(status.group(1)) if status else 0, []))
    return found
