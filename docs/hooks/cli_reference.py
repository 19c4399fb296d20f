"""The command line reference, written from the command's own parsers at build time.

mkdocs runs this hook (``hooks:`` in mkdocs.yml): on the page that holds the marker below,
the marker becomes one section per command, made by walking ``gislicense.cli.build_parser()``.
The reference therefore says what ``--help`` says and cannot drift from it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

#: Where on a page the generated reference goes.
MARKER = "<!-- cli-reference -->"

#: The width usage lines are wrapped to, whatever terminal the build runs in.
WIDTH = "88"


def on_page_markdown(markdown: str, **_: Any) -> str:
    """mkdocs' hook: the marker, wherever it is, becomes the reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference())


def cli_reference() -> str:
    """Markdown for every command, the top-level options first."""
    from gislicense.cli import build_parser

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH  # argparse wraps usage lines to $COLUMNS
    try:
        parser = build_parser(None)  # None: every command group is made
        shared = {action.dest for action in parser._actions if action.option_strings}
        shared.discard("version")
        return "\n".join(
            _section(words, p, set() if p is parser else shared) for words, p in commands(parser)
        )
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ("gislicense",)
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Each parser under ``parser`` (itself first) with the words that reach it."""
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*words, name))


def _section(words: tuple[str, ...], parser: argparse.ArgumentParser, shared: set[str]) -> str:
    """One command: what it does, its usage, and its own options, group by group (the
    options every command takes are listed once, under ``gislicense``)."""
    level = "#" * min(len(words) + 1, 4)
    lines = [f"{level} `{' '.join(words)}`", ""]
    if parser.description:
        lines += [_sentence(parser.description), ""]
    lines += ["```text", _usage(parser), "```", ""]
    for title, actions in _groups(parser):
        rows = [_row(action) for action in actions if action.dest not in shared]
        if rows:
            lines += [f"**{title}**", "", "| | |", "|---|---|", *rows, ""]
    if shared and not _has_commands(parser):
        lines += ["Also the [output and connection options](#gislicense) of every command.", ""]
    if len(words) == 1 and parser.epilog:
        lines += ["```text", parser.epilog, "```", ""]
    return "\n".join(lines)


def _has_commands(parser: argparse.ArgumentParser) -> bool:
    return any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


def _usage(parser: argparse.ArgumentParser) -> str:
    """The usage lines without their "usage: " (continuations indented to match)."""
    prefix = "usage: "
    first, *rest = parser.format_usage().rstrip().splitlines()
    cut = [line[len(prefix) :] if line.startswith(" " * len(prefix)) else line for line in rest]
    return "\n".join([first.removeprefix(prefix), *cut])


def _groups(parser: argparse.ArgumentParser) -> Iterator[tuple[str, list[argparse.Action]]]:
    for group in parser._action_groups:
        shown = [
            action
            for action in group._group_actions
            if action.help != argparse.SUPPRESS
            and not isinstance(action, argparse._SubParsersAction)
        ]
        yield (group.title or "options").capitalize(), shown
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield "Commands", [choice for choice in action._choices_actions]


def _row(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{name}`" for name in action.option_strings)
        if action.nargs != 0:
            names += f" `{_metavar(action)}`"
    else:
        names = f"`{_metavar(action)}`"
    return f"| {names} | {_cell(action.help or '')} |"


def _metavar(action: argparse.Action) -> str:
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return f"{metavar}..." if action.nargs in ("*", "+") else str(metavar)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _cell(text: str) -> str:
    """Text that a Markdown table cell shows as written."""
    text = " ".join(text.replace("%%", "%").split())
    return text.replace("|", "\\|").replace("<", "&lt;")
