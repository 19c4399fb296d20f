"""The README and the documentation site's pages, read by the tests that keep them true:
their sections, tables and examples."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def section(title: str, page: str = "README.md") -> str:
    """The text under the heading ``title`` (any level) of ``page`` (the README, or a page
    of the site: ``docs/guide/...``), up to the next heading of the same level or higher."""
    text = (ROOT / page).read_text(encoding="utf-8")
    found = re.search(rf"^(#+) {re.escape(title)}\n", text, re.MULTILINE)
    assert found, f"{page} has no section {title!r}"
    level = len(found.group(1))
    rest = text[found.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def table_rows(text: str) -> list[list[str]]:
    """The cells of each row of the first Markdown table in ``text``, header and rule left
    out."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def python_blocks() -> list[tuple[int, str]]:
    """Every fenced ```python block of the README: (the line its code starts on, its code)."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for found in re.finditer(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        line = text.count("\n", 0, found.start(1)) + 1
        blocks.append((line, found.group(1)))
    return blocks
