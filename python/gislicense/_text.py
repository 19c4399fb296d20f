"""Text a person gives, checked before anything is sent."""

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
