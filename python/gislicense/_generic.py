"""Stand-ins for ``typing.Generic``, ``Protocol``, ``TypeVar`` and ``Any`` at run time, and
``functools.partial`` without functools.

Importing :mod:`typing` costs more than all of gislicense's own start: it pulls in ``re``,
``enum``, ``collections``, ``contextlib`` and ``functools`` (issue 33: the first use cost
+33 ms over bare Python, mostly these). So the modules loaded at start import typing's
names only for type checkers, and these at run time::

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import Generic, TypeVar
    else:
        from gislicense._generic import Generic, TypeVar

mypy, pyright and IDEs read the name ``TYPE_CHECKING`` as true wherever it comes from and
never look at the ``else``: they check against typing's own. At run time a class made
generic this way still takes subscripts as typing's do (``Outcome[str]``, a
``types.GenericAlias``), so annotations evaluated at run time and ``isinstance`` checks
against the class itself behave as before.

``functools.partial`` is the C type of ``_functools``, which functools re-exports; functools
itself also imports ``collections``, ``reprlib`` and ``types`` at once.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from functools import partial as partial
    from types import GenericAlias
    from typing import Any
else:
    from _functools import partial as partial

    # types.GenericAlias, without importing types (not loaded when Python starts).
    GenericAlias = type(list[int])
    # Any where a class statement reads it at run time (`class User(Mapping[str, Any])`):
    # there it only fills a subscript that makes no difference to the class.
    Any = object


class Generic:
    """``class Outcome(Generic[T])``: a plain base class that takes subscripts."""

    __slots__ = ()

    def __class_getitem__(cls, params: Any) -> Any:
        # In a class statement's bases (`Generic[T]`, `Protocol[T_co]`): this class itself.
        if cls is Generic:
            return Generic
        # On a class made from it (`Outcome[str]`): what `list[str]` is for a list.
        return GenericAlias(cls, params)


#: Protocols are only read by type checkers; at run time one is a plain class.
Protocol = Generic


class TypeVar:
    """A type variable's name, all a class statement needs of it at run time."""

    __slots__ = ("__name__",)

    def __init__(self, name: str, *constraints: Any, **options: Any) -> None:
        self.__name__ = name

    def __repr__(self) -> str:
        return f"~{self.__name__}"
