"""Where the library's messages tell the caller what to do in its own names, as data.

A message such as "... if that is meant, pass allow_all=True" gives its advice in the Python
API's names. :class:`Hint` says which words of the message those are, which parameter (or
method) they name and with what value, so that a front end with names of its own (the
command line's ``--all``) can say the same advice in them without knowing the library's
sentences. Exceptions carry their hints (:attr:`GisLicenseError.hints`); a plan's notes and
an item's reason are read with :func:`hints_in`.

The core writes its messages whole, so the hints are the words its messages (and this
package's) give advice in, listed once here; a test checks that each is still written by the
library, so a reworded message cannot leave a front end speaking of a parameter.
"""

from __future__ import annotations

# Not `from typing import ...` (see exceptions.py): this module is imported with every error.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Hint:
    """Words of a message that name a parameter or method of the library.

    Attributes:
        words: The words as the message has them: ``'plan with roles="auto"'``.
        name: The parameter or method they name: ``"roles"``.
        value: The value the advice gives it (``"auto"``, True), or None.
        form: How the words use the name: ``"pass"`` (advice to give it, with the value),
            ``"with"`` (a condition: with it given), ``"label"`` (the message is about that
            parameter's value), ``"call"`` (advice to call that method, or to use that
            argument).
    """

    __slots__ = ("form", "name", "value", "words")

    def __init__(self, words: str, name: str, form: str, value: Any = None) -> None:
        self.words = words
        self.name = name
        self.form = form
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hint):
            return NotImplemented
        return (self.words, self.name, self.form, self.value) == (
            other.words,
            other.name,
            other.form,
            other.value,
        )

    def __hash__(self) -> int:
        return hash((self.words, self.name, self.form))

    def __repr__(self) -> str:
        return f"Hint({self.words!r}, name={self.name!r}, form={self.form!r}, value={self.value!r})"


#: Every piece of advice the library's messages give in its own names. The longer of two
#: that start alike comes first: a message holds the longest that fits.
HINTS: tuple[Hint, ...] = (
    # Guards a plan keeps unless told otherwise.
    Hint("pass allow_all=True", "allow_all", "pass", True),
    Hint("pass allow_admin_demotion=True", "allow_admin_demotion", "pass", True),
    Hint('plan with roles="auto"', "roles", "pass", "auto"),
    Hint("select with include_admins=True (--include-admins)", "include_admins", "pass", True),
    Hint("gis.admin.license.release_and_update", "release_and_update", "call"),
    Hint("apply it with a client of that server", "client", "call"),
    # Connecting and signing in.
    Hint("pass ca_bundle=", "ca_bundle", "pass"),
    Hint("ca_bundle: ", "ca_bundle", "label"),
    Hint("pass allow_insecure_http=True", "allow_insecure_http", "pass", True),
    Hint("with allow_insecure_http=True", "allow_insecure_http", "with", True),
    Hint("pass password=", "password", "pass"),
    Hint(
        "pass username= and password=, token=, client_id= or a client certificate (cert_file=)",
        "username",
        "pass",
    ),
    Hint("pass username= and password=, token=, client_id= or cert_file=", "username", "pass"),
    Hint("pass username= and password=", "username", "pass"),
)


def hints_in(text: str | None) -> tuple[Hint, ...]:
    """The hints a message gives, in the order they stand in it."""
    if not text:
        return ()
    found: list[tuple[int, Hint]] = []
    taken: list[tuple[int, int]] = []
    for hint in HINTS:
        start = text.find(hint.words)
        while start >= 0:
            end = start + len(hint.words)
            if all(end <= s or start >= e for s, e in taken):
                found.append((start, hint))
                taken.append((start, end))
            start = text.find(hint.words, end)
    return tuple(hint for _, hint in sorted(found, key=lambda pair: pair[0]))
