"""Text and numbers a person gives, checked before anything is sent."""

from __future__ import annotations

from gislicense.exceptions import InvalidInputError


def check_text(**values: object) -> None:
    """Refuse a str that UTF-8 cannot carry (a lone surrogate), naming the argument.

    Python lets a str hold half of a character (``"\\udc80"``, from bytes read with
    ``errors="surrogateescape"`` or a broken ``\\ud83d`` JSON escape); no server can receive
    it, and the encoder would raise a ``UnicodeEncodeError`` that says nothing of where it was.
    """
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            code = ord(value[error.start])
            raise InvalidInputError(
                f"{name} contains a lone surrogate U+{code:04X} at position {error.start}: "
                "half of a character, which is not text and cannot be sent (it often comes "
                'from reading bytes with errors="surrogateescape"); fix or re-decode the text'
            ) from None


#: Larger than any count, size or level gislicense takes; the core checks each one's own range.
_WHOLE_MAX = 2**31 - 1


def check_whole(**values: object) -> None:
    """Refuse a count (concurrency, batch size, page size, level...) that is not a whole
    number from 0 to 2**31 - 1, naming the argument: Python's OverflowError or TypeError from
    the conversion would say neither which argument nor what it takes."""
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _WHOLE_MAX:
            raise InvalidInputError(
                f"{name} must be a whole number from 0 to {_WHOLE_MAX}, not {value!r}"
            )


def check_seconds(**values: object) -> None:
    """Refuse a time in seconds that is not a number (the core checks its range)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(f"{name} must be a number of seconds, not {value!r}")
