"""Progress of long operations, shown to a person: a hook called with (done, total).

``progress=`` takes True (a progress bar: tqdm's when it is installed, else a line on
stderr), False, a function of (done, total) (ArcGIS Pro's ``arcpy.SetProgressorPosition``,
say), or None: a bar when a person is watching (a notebook, an interactive interpreter on
a terminal), nothing in scripts, scheduled jobs and logs.
"""

from __future__ import annotations

import sys

from gislicense.exceptions import InvalidInputError

# typing's names for type checkers only: importing typing costs more than gislicense's start
# (see _generic.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any, Union

    ProgressArg = Union[bool, Callable[[int, int], object], None]


def watched() -> bool:
    """Whether a person is watching: a notebook, or an interactive session on a terminal."""
    from gislicense._credentials import in_notebook

    if in_notebook():
        return True
    interactive = hasattr(sys, "ps1") or bool(sys.flags.interactive)
    return interactive and sys.stderr is not None and sys.stderr.isatty()


def check_progress(progress: ProgressArg) -> None:
    """Refuse a ``progress=`` that is none of the things it takes, before anything runs."""
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise InvalidInputError(
            "progress is True, False, None (a bar when someone is watching) or a function "
            f"called with (done, total), not {progress!r}"
        )


def hook_for(progress: ProgressArg) -> Callable[[int, int], object] | None:
    """The hook a ``progress=`` argument means; None for no display."""
    check_progress(progress)
    if progress is None:
        progress = watched()
    if progress is False:
        return None
    if progress is True:
        return bar()
    return progress


def bar() -> Callable[[int, int], object]:
    """tqdm's bar (in a notebook, its widget) when tqdm is installed, else a stderr line."""
    try:
        from tqdm.auto import tqdm  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return line(sys.stderr)
    shown: list[Any] = []

    def show(done: int, total: int) -> None:
        if not shown:
            shown.append(tqdm(total=total, unit="item", desc="applying"))
        shown[0].update(done - shown[0].n)
        if done >= total:
            shown[0].close()

    return show


def line(stream: IO[str]) -> Callable[[int, int], None]:
    """One line that counts up in place: 'applying: 1,200 of 5,000 items'."""

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r  applying: {done:,} of {total:,} items", end=end, file=stream, flush=True)

    return show
