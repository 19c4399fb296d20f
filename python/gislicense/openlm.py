"""The OpenLM client: which licenses are in use, and closing the applications that hold them."""

from __future__ import annotations

import os

from gislicense import _core
from gislicense._calls import Pending, Then, awaiting, blocking
from gislicense._core import ActiveProduct, OpenLMServer, OpenLMVendor
from gislicense._credentials import password_for
from gislicense._http import (
    DEFAULT_BACKOFF,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_REPLY_BYTES,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    http_options,
)
from gislicense._text import check_text, check_whole
from gislicense.bulk import BulkReport
from gislicense.exceptions import InvalidInputError
from gislicense.plans import DEFAULT_CONCURRENCY, Plan, change

# typing's names for type checkers only (see _generic.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Callable, Union

    from gislicense._progress import ProgressArg
    from gislicense.plans import JournalArg

    Scalar = Union[str, int, bool]
    #: A filter: a value, several values (any matches), or a function of the field's value.
    FilterValue = Union[Scalar, Iterable[Scalar], Callable[[Any], bool]]
    #: What :meth:`OpenLM.close_applications` takes: products, or mappings with the five keys.
    CloseItem = Union[ActiveProduct, Mapping[str, Any]]
else:
    # collections.abc's Iterable itself (see users.py's Mapping).
    from _collections_abc import Iterable

    def __getattr__(name: str) -> object:
        # The aliases above for code that reads them at run time, made on first use.
        if name not in ("Scalar", "FilterValue", "CloseItem"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from collections.abc import Callable, Mapping
        from typing import Any, Union

        scalar = Union[str, int, bool]
        return {
            "Scalar": scalar,
            "FilterValue": Union[scalar, Iterable[scalar], Callable[[Any], bool]],
            "CloseItem": Union[ActiveProduct, Mapping[str, Any]],
        }[name]


__all__ = ["ActiveProduct", "OpenLM", "OpenLMServer", "OpenLMVendor"]

_FIELDS = dict(_core.active_product_fields())


def _split_filters(
    filters: Mapping[str, FilterValue],
) -> tuple[list[tuple[str, list[Scalar]]], list[tuple[str, Callable[[Any], bool]]]]:
    """Equality filters for the core (fast, before Python objects exist) and predicates."""
    fields: list[tuple[str, list[Scalar]]] = []
    predicates: list[tuple[str, Callable[[Any], bool]]] = []
    for name, value in filters.items():
        if callable(value):
            if name not in _FIELDS:
                raise InvalidInputError(
                    f"cannot filter on {name!r}: not a field of an active product. "
                    f"Fields: {', '.join(_FIELDS)}"
                )
            predicates.append((name, value))
        elif isinstance(value, (str, int, bool)):
            fields.append((name, [value]))
        elif isinstance(value, Iterable):
            fields.append((name, list(value)))
        else:
            raise InvalidInputError(
                f"the filter on {name} must be a value, a list of values or a function, "
                f"not {type(value).__name__}"
            )
    return fields, predicates


def _attribute_filters(
    attributes: Mapping[str, str | Iterable[str]] | None,
) -> list[tuple[str, list[str]]]:
    if attributes is None:
        return []
    return [(name, [v] if isinstance(v, str) else list(v)) for name, v in attributes.items()]


def _apply(
    products: list[ActiveProduct], predicates: list[tuple[str, Callable[[Any], bool]]]
) -> list[ActiveProduct]:
    for name, predicate in predicates:
        products = [p for p in products if predicate(getattr(p, name))]
    return products


class OpenLM:
    """A client for OpenLM Server's XML API (OpenLM 1.x to 4.x, port 7014).

    Args:
        url: The server, as ``http://host:7014/OpenLMServer``; ``host`` or ``host:port``
            alone are completed to that.
        username: OpenLM user, when the server has permissions on. Without ``password``,
            the password is asked for on the terminal.
        password: Its password.
        timeout: Seconds to wait for a whole request.
        connect_timeout: Seconds to wait for the connection.
        verify: Check TLS certificates (OpenLM behind an HTTPS proxy). Turn off only for tests.
        ca_bundle: A PEM file of extra CAs to trust beside the operating system's store.
        retries: Further attempts after a failure that is safe to retry.
        backoff: First pause between attempts, in seconds; it doubles each time.
        retry_writes: Also retry CloseApplication after timeouts, dropped connections and
            HTTP 500/502/503/504, where the server may already have acted. A close whose
            answer was lost is reported ``"unknown"`` (or ``"closed"`` when the session is
            gone on a second look), never "failed".
        max_reply_bytes: The largest reply read, in bytes (default 256 MiB). A longer one
            is an :class:`UnreadableReplyError` as soon as it passes the limit; ``timeout``
            covers reading the whole reply.
        close_wait: Seconds to watch closed sessions end (0 to 3600, default 30). OpenLM
            acknowledges a close once it has queued it for the OpenLM Agent on the
            workstation, which closes the application a little later. A close counts as
            ``"closed"`` only when its session is seen gone; one still open after
            ``close_wait`` is ``"unknown"``, saying the Agent has not acted (yet).
        profile: A saved connection (see :mod:`gislicense.profiles`; the command line's
            ``gislicense profile add --kind openlm``). Arguments given here win.

    The client logs in when the server asks for it and logs in again once when its session
    expires. Every method has an ``_async`` twin for asyncio.
    """

    def __init__(
        self,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        profile: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        verify: bool = True,
        ca_bundle: str | os.PathLike[str] | None = None,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        retry_writes: bool = False,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
        close_wait: float = 30.0,
    ) -> None:
        if profile is not None:
            from gislicense import profiles

            given = {
                "url": url,
                "username": username,
                "password": password,
                "ca_bundle": ca_bundle,
                "timeout": timeout,
                "connect_timeout": connect_timeout,
            }
            chosen = profiles.resolve(profile, "openlm", given)
            url, username, password = chosen["url"], chosen["username"], chosen["password"]
            ca_bundle, timeout = chosen["ca_bundle"], chosen["timeout"]
            connect_timeout = chosen["connect_timeout"]
        if url is None:
            raise InvalidInputError("give the OpenLM server's url, or profile= a saved connection")
        options = http_options(
            timeout=timeout,
            connect_timeout=connect_timeout,
            verify=verify,
            ca_bundle=ca_bundle,
            retries=retries,
            backoff=backoff,
            retry_writes=retry_writes,
            max_reply_bytes=max_reply_bytes,
        )
        check_text(url=url, username=username, password=password)
        password = password_for(username, password, url)
        self._client = _core.OpenLMClient(url, username, password, options, close_wait)

    @property
    def url(self) -> str:
        """The server URL in use."""
        return self._client.url

    @property
    def username(self) -> str | None:
        return self._client.username

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username else ""
        return f"OpenLM({self.url!r}{user})"

    def _repr_html_(self) -> str:
        from gislicense import _html

        return _html.fields("OpenLM", [("server", self.url), ("login", self.username)])

    def _get_active_products(
        self,
        /,
        *,
        page_size: int = 5000,
        attributes: Mapping[str, str | Iterable[str]] | None = None,
        **filters: FilterValue,
    ) -> Pending[list[ActiveProduct]]:
        """The licenses in use right now.

        Args:
            page_size: Rows per request when the server pages (GetActiveProducts2); pages
                after the first are fetched concurrently. 0 asks for everything in one
                GetActiveProducts request.
            attributes: Filters on raw attributes by their wire name, e.g.
                ``{"group_name": "Planning"}``.
            **filters: Filters on fields: a value (``product="Editor"``; text is compared
                without regard to case), several values (``vendor=["ARCGIS", "MLM"]``), or a
                function of the field's value (``start_time=lambda t: t < cutoff``).

        Raises:
            InvalidInputError: An unknown field or a value of the wrong kind, before sending.
            AuthenticationError: The server wants a login that failed or was not given.
        """
        fields, predicates = _split_filters(filters)
        check_whole(page_size=page_size)
        call = self._client.get_active_products(page_size, fields, _attribute_filters(attributes))
        if not predicates:
            return call
        return Then(call, lambda products: _apply(products, predicates))

    get_active_products = blocking(_get_active_products)
    get_active_products_async = awaiting(_get_active_products)

    def _get_servers(self) -> Pending[list[OpenLMServer]]:
        """The license servers OpenLM watches (the Open API's GetServerList).

        Each has its ``name`` in OpenLM (what :meth:`close_application` takes as
        ``server``), ``host``, ``port``, ``vendor``, ``status`` and the licenses it
        ``issued`` and has ``in_use`` where the reply gives them. OpenLM publishes no reply
        shape for this operation: a field the reply did not give is None, and every
        attribute not read into a field is kept in ``extra`` as received.

        Raises:
            AuthenticationError: The server wants a login that failed or was not given.
            ServerError: OpenLM refused (a version without this operation answers
                "Unknown message type").
        """
        return self._client.get_servers()

    get_servers = blocking(_get_servers)
    get_servers_async = awaiting(_get_servers)

    def _get_vendors(self) -> Pending[list[OpenLMVendor]]:
        """The vendors (license manager daemons) OpenLM watches (GetVendorList).

        Each has its ``name`` (``ARCGIS`` for Esri), how many ``servers`` serve it, and the
        licenses ``issued`` and ``in_use`` where the reply gives them; unknown attributes
        are kept in ``extra``, as for :meth:`get_servers`.

        Raises:
            AuthenticationError: The server wants a login that failed or was not given.
            ServerError: OpenLM refused.
        """
        return self._client.get_vendors()

    get_vendors = blocking(_get_vendors)
    get_vendors_async = awaiting(_get_vendors)

    def _close_application(
        self, *, username: str, workstation: str, server: str, vendor: str, feature: str
    ) -> Pending[None]:
        """Ask the OpenLM Agent on a workstation to close the application holding a license.

        Args:
            username: The user holding the license.
            workstation: The workstation it is used on.
            server: The license server's descriptive name as configured in OpenLM (not
                ``port@host``).
            vendor: The vendor daemon, ``ARCGIS`` for Esri.
            feature: The feature, e.g. ``Editor``.

        The Agent must be installed on the workstation. OpenLM acknowledges the close once
        it has queued it for the Agent; this returns when the session is seen gone, watching
        the open sessions for up to ``close_wait`` seconds (see :class:`OpenLM`).

        Raises:
            InvalidInputError: An empty value, or one XML cannot carry, before sending.
            ServerError: OpenLM refused (no such session, no Agent on the workstation...).
            OutcomeUnknownError: The session is still listed after ``close_wait``: the Agent
                has not acted (yet), or the close was sent and its answer lost before the
                server got it.
        """
        check_text(
            username=username,
            workstation=workstation,
            server=server,
            vendor=vendor,
            feature=feature,
        )
        return self._client.close_application(username, workstation, server, vendor, feature)

    close_application = blocking(_close_application)
    close_application_async = awaiting(_close_application)

    def _plan_close(
        self,
        products: Iterable[CloseItem],
        *,
        server: str | None = None,
        vendor: str | None = None,
        allow_all: bool = False,
    ) -> Pending[Plan]:
        """Plan closing the applications holding many licenses; nothing is sent.

        The sessions open now are listed: a session no longer open is ``unchanged``, one on
        a workstation the listing marks not closable (no OpenLM Agent) is predicted to fail,
        the same session named twice is ``skipped``, the rest ``would_close``. A plan that
        would close every open session is refused unless ``allow_all``.

        Args:
            products: ActiveProduct objects (from :meth:`get_active_products`), or mappings
                with ``username``, ``workstation``, ``server``, ``vendor``, ``feature``.
            server: Use this license server name instead of each product's own.
            vendor: Use this vendor instead of each product's own.
            allow_all: Let the plan close every open session.
        """
        check_text(server=server, vendor=vendor)
        items = list(products)
        call = self._client.plan_close(items, server, vendor, allow_all)
        return Then(call, lambda made: Plan._of(self, made, items, "close_applications"))

    plan_close = blocking(_plan_close)
    plan_close_async = awaiting(_plan_close)

    def _close_applications(
        self,
        products: Iterable[CloseItem],
        *,
        server: str | None = None,
        vendor: str | None = None,
        dry_run: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY["close_applications"],
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_all: bool = False,
    ) -> Pending[BulkReport[CloseItem]]:
        """Close the applications holding many licenses: plan (:meth:`plan_close`), then
        apply, ``concurrency`` at a time, journaled.

        Args:
            products: ActiveProduct objects (from :meth:`get_active_products`), or mappings
                with ``username``, ``workstation``, ``server``, ``vendor``, ``feature``.
            server: Use this license server name instead of each product's own.
            vendor: Use this vendor instead of each product's own.
            dry_run: Report the plan's predictions; send nothing.
            concurrency: Requests in flight at once (1 to 256).
            journal: Where the run's journal goes: a path, None for a new file in
                :func:`~gislicense.plans.default_journal_dir`, False for none.
            progress: A progress display while applying: True, False, None (shown
                when someone is watching) or a function of (done, total), as for
                :meth:`~gislicense.plans.Plan.apply`.
            allow_all: Let the plan close every open session.

        Returns:
            One outcome per product, in order: ``closed`` (seen gone; ``would_close`` in a
            dry run), ``unchanged`` (no longer open), ``skipped`` (the same session as an
            earlier item), ``failed`` with the reason (no OpenLM Agent on the
            workstation...), or ``unknown`` (still open after ``close_wait``, or its answer
            lost). One failure never stops the others; closes cannot be undone.
        """
        plan = self._plan_close(products, server=server, vendor=vendor, allow_all=allow_all)
        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            progress=progress,
        )

    close_applications = blocking(_close_applications)
    close_applications_async = awaiting(_close_applications)
