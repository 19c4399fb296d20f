"""Each network operation is written once, as a method that returns a pending call;
:func:`blocking` and :func:`awaiting` make its sync and ``_async`` forms.

A pending call is a ``_core.Call`` (``call.wait()`` blocks with the GIL released and
Ctrl-C honoured; ``await call`` runs it on the asyncio loop), or :class:`Then` over one
when the facade shapes the result (pairing outcomes with the items given, say).
"""

from __future__ import annotations

# Not `from typing import ...`, nor functools: each costs more than importing gislicense
# (see _generic.py; type checkers read the name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Generator
    from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

    P = ParamSpec("P")
else:
    from gislicense._generic import Generic, Protocol, TypeVar

T = TypeVar("T")
U = TypeVar("U")
S = TypeVar("S")
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    """A call not yet run: wait for it, or await it, once."""

    def wait(self) -> T_co: ...

    def __await__(self) -> Generator[Any, Any, T_co]: ...


class Then(Generic[T, U]):
    """A pending call whose result ``then`` shapes, in both forms alike."""

    __slots__ = ("_call", "_then")

    def __init__(self, call: Pending[T], then: Callable[[T], U]) -> None:
        self._call = call
        self._then = then

    def wait(self) -> U:
        return self._then(self._call.wait())

    def __await__(self) -> Generator[Any, Any, U]:
        result = yield from self._call.__await__()
        return self._then(result)


class NoneWhen(Generic[T]):
    """A pending call whose ``error`` reads as None, in both forms alike (a member the
    portal does not have: None, as the official client returns)."""

    __slots__ = ("_call", "_error")

    def __init__(self, call: Pending[T], error: type[BaseException]) -> None:
        self._call = call
        self._error = error

    def wait(self) -> T | None:
        try:
            return self._call.wait()
        except self._error:
            return None

    def __await__(self) -> Generator[Any, Any, T | None]:
        try:
            return (yield from self._call.__await__())
        except self._error:
            return None


class Done(Generic[T]):
    """A result already at hand, as a pending call (a dry run's report)."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def wait(self) -> T:
        return self._value

    def __await__(self) -> Generator[Any, Any, T]:
        return self._value
        yield  # pragma: no cover  (makes this a generator)


class Chain(Generic[T, U]):
    """A pending call, then another made from its result (plan, then apply), in both forms."""

    __slots__ = ("_call", "_then")

    def __init__(self, call: Pending[T], then: Callable[[T], Pending[U]]) -> None:
        self._call = call
        self._then = then

    def wait(self) -> U:
        return self._then(self._call.wait()).wait()

    def __await__(self) -> Generator[Any, Any, U]:
        result = yield from self._call.__await__()
        return (yield from self._then(result).__await__())


class Ticking(Generic[T]):
    """A core call that calls ``tick`` about every tenth of a second while it runs, and
    once at the end, in the waiting thread (sync) or on the event loop (async): progress
    displays and ArcGIS Pro's progressor. An exception from ``tick`` stops the call."""

    __slots__ = ("_call", "_tick")

    def __init__(self, call: Any, tick: Callable[[], object]) -> None:
        self._call = call
        self._tick = tick

    def wait(self) -> T:
        return self._call.wait(self._tick)  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, Any, T]:
        return self._ticking().__await__()

    async def _ticking(self) -> T:
        import asyncio

        async def run() -> T:
            return await self._call  # type: ignore[no-any-return]

        task = asyncio.ensure_future(run())
        try:
            while not (await asyncio.wait({task}, timeout=0.1))[0]:
                self._tick()
        except BaseException:
            task.cancel()
            raise
        self._tick()
        return task.result()


def _public(op: Callable[..., Any]) -> str:
    return op.__name__.lstrip("_")


def _name(run: Callable[..., Any], op: Callable[..., Any], name: str) -> None:
    """Make ``run`` look like ``op`` named ``name``, as ``functools.wraps`` would (for
    help(), the docs and inspect.signature, which follows ``__wrapped__``)."""
    run.__module__ = op.__module__
    run.__doc__ = op.__doc__
    run.__annotations__ = op.__annotations__
    run.__dict__.update(op.__dict__)
    run.__wrapped__ = op  # type: ignore[attr-defined]
    run.__name__ = name
    owner = op.__qualname__.rpartition(".")[0]
    run.__qualname__ = f"{owner}.{name}" if owner else name


def blocking(op: Callable[Concatenate[S, P], Pending[T]]) -> Callable[Concatenate[S, P], T]:
    """The sync form of an operation: run it and wait for the result."""

    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return op(self, *args, **kwargs).wait()

    _name(run, op, _public(op))
    return run


def awaiting(
    op: Callable[Concatenate[S, P], Pending[T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """The ``_async`` form of an operation: a coroutine for asyncio."""

    async def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await op(self, *args, **kwargs)

    _name(run, op, _public(op) + "_async")
    run.__doc__ = f"Async form of :meth:`{_public(op)}`."
    return run
