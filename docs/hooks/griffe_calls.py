"""A griffe extension: the facade's operations, documented as the methods they are.

The facade writes each network operation once, as a private method returning a pending
call, and makes its two public forms with ``x = blocking(_x)`` and
``x_async = awaiting(_x)`` (``python/gislicense/_calls.py``). Read as text, those are
attributes without a docstring; this extension makes each a method with ``_x``'s
parameters, its docstring, and the result the pending call gives.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_FORM = re.compile(r"(blocking|awaiting)\((_\w+)\)")
#: A Sphinx role (:class:`~gislicense.User`), which Markdown would show as written.
_ROLE = re.compile(r":(?:class|meth|attr|func|mod|exc|data|obj):`~?(?:gislicense\.)?([^`]+)`")


#: reStructuredText's "::" that introduces an indented example.
_LITERAL = re.compile(r"::$", re.MULTILINE)


def markdown_roles(text: str) -> str:
    """The docstrings' Sphinx roles as Markdown code (``:meth:`release``` reads `release`),
    and "::" before an example as ":" (the indented example is code in Markdown too)."""
    return _LITERAL.sub(":", _ROLE.sub(r"`\1`", text))


class SphinxRoles(griffe.Extension):
    """Every docstring's Sphinx roles as Markdown code."""

    def on_instance(self, *, obj: griffe.Object, **_: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_roles(obj.docstring.value)


class PendingCalls(griffe.Extension):
    """Turns ``x = blocking(_x)`` and ``x_async = awaiting(_x)`` into methods."""

    def on_class_members(self, *, cls: griffe.Class, **_: Any) -> None:
        for name, member in list(cls.members.items()):
            if member.is_alias or not isinstance(member, griffe.Attribute):
                continue
            found = _FORM.fullmatch(str(member.value or ""))
            source = cls.members.get(found.group(2)) if found else None
            if found is None or not isinstance(source, griffe.Function):
                continue
            method = griffe.Function(
                name,
                lineno=member.lineno,
                endlineno=member.endlineno,
                parameters=source.parameters,
                returns=_result(source.returns),
                parent=cls,
            )
            if found.group(1) == "awaiting":
                method.labels.add("async")
                text = f"Async form of [`{name.removesuffix('_async')}`][]."
                method.docstring = griffe.Docstring(text, parent=method)
            elif source.docstring is not None:
                method.docstring = griffe.Docstring(
                    markdown_roles(source.docstring.value),
                    lineno=source.docstring.lineno,
                    endlineno=source.docstring.endlineno,
                    parent=method,
                )
            cls.set_member(name, method)


def _result(returns: str | griffe.Expr | None) -> str | griffe.Expr | None:
    """``Pending[T]`` (or the core's ``Call[T]``) is ``T`` once waited for."""
    if isinstance(returns, griffe.ExprSubscript) and str(returns.left) in ("Pending", "Call"):
        return returns.slice
    return returns
