"""The README's ```python example runs, as written, against the sandbox, and prints what its
comments say it prints. (The manual's examples are on the documentation site and run in
test_docs_examples.py; the README's commands in test_cli.py.) So the front door cannot go
stale."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from helpers.readme import python_blocks

#: What a comment says a print shows: ``print(x)   # "64 items: ..."``.
PROMISE = re.compile(r'^\s*print\(.*#\s*"(?P<shown>[^"]+)"', re.MULTILINE)


def test_the_readme_has_its_one_example() -> None:
    blocks = python_blocks()
    assert len(blocks) == 1, [line for line, _ in blocks]
    assert PROMISE.search(blocks[0][1]), "the example's prints say what they show"


def test_every_python_example_of_the_readme_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for line, code in python_blocks():
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
        except Exception as error:
            pytest.fail(f"the README's example at line {line} fails: {error!r}")
        for promise in PROMISE.finditer(code):
            assert promise.group("shown") in printed.getvalue(), (
                f"README.md:{line}: the example does not print {promise.group('shown')!r}"
            )
