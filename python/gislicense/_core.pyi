"""The Rust extension: protocol clients, records and the sandbox.

Users import these through :mod:`gislicense`; the client classes here are wrapped by the
Python facade (:class:`gislicense.OpenLM`, :class:`gislicense.GIS`), the records and the
sandbox are used directly.
"""

import datetime
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Literal, TypedDict, TypeVar, final

from typing_extensions import Self, disjoint_base

from gislicense.exceptions import GisLicenseError

__all__ = [
    "DEBUG_BUILD",
    "USER_AGENT",
    "ActiveProduct",
    "ApplyProgress",
    "Authorization",
    "Call",
    "Code",
    "CollectorPaused",
    "CorePlan",
    "EntitlementCount",
    "FlexNetClient",
    "FlexNetFeature",
    "FlexNetSession",
    "HttpOptions",
    "LicenseAdmin",
    "LicenseEvent",
    "LicenseStatus",
    "ListedMember",
    "LmgrdLogFile",
    "LmgrdLogParser",
    "OpenLMClient",
    "OpenLMServer",
    "OpenLMVendor",
    "PortalClient",
    "Role",
    "Sandbox",
    "SandboxRequest",
    "UserEntitlement",
    "UserType",
    "__version__",
    "active_product_fields",
    "check_batch_size",
    "check_concurrency",
    "collector_paused",
    "flexnet_create",
    "flexnet_lmutil",
    "flexnet_seeded",
    "flexnet_state",
    "item_statuses",
    "parse_active_products",
    "parse_lmstat",
    "plan_predictions",
    "read_journal",
    "select_items",
    "sign_in_way",
    "step_descriptions",
    "utc_from_ms",
]

__version__: str
#: The User-Agent every request carries.
USER_AGENT: str
#: True for a debug build of the extension (slower; not for benchmarks).
DEBUG_BUILD: bool

_T = TypeVar("_T")
_Scalar = str | int | bool

# The dicts the facade builds for the bindings that take many settings: every key present
# (the facade writes the defaults); a missing or unknown key is a TypeError.

class _HttpSettings(TypedDict):
    timeout: float
    connect_timeout: float
    verify: bool
    ca_bundle: str | None
    retries: int
    backoff: float
    retry_writes: bool
    max_reply_bytes: int
    cert_file: str | None
    key_file: str | None
    cert_password: str | None

class _PortalSettings(TypedDict):
    url: str
    username: str | None
    password: str | None
    token: str | None
    token_expires: int | None
    referer: str
    expiration: int
    allow_insecure_http: bool
    options: HttpOptions
    client_id: str | None
    client_secret: str | None
    code: Code | None
    token_source: Callable[[], tuple[str, int | None]] | None

class _SandboxSettings(TypedDict):
    sessions: int
    users: int | None
    seed: int
    permissions: bool
    openlm_username: str
    openlm_password: str
    login_lifetime: float
    paging: bool
    close_delay: float
    latency: float
    host: str
    openlm_port: int
    openlm_tls: bool
    portal_members: int
    portal_offline: int
    portal_version: str
    token_lifetime: float
    portal_port: int
    portal_tls: bool
    portal_deployment: str
    portal_pki: bool
    admin_password: str | None
    user_password: str | None

class _SessionSettings(TypedDict):
    product: str
    username: str
    workstation: str
    server: str
    vendor: str
    feature: str | None
    version: str
    licenses: int
    borrowed: bool
    full_name: str
    group: str
    project: str
    host_ip: str
    start: datetime.datetime | float | None
    idle: datetime.timedelta | float | None

@final
class HttpOptions:
    """How a client talks HTTP (built by the facade from its keyword arguments)."""

    def __new__(cls, settings: _HttpSettings) -> Self: ...
    @property
    def timeout(self) -> float: ...
    @property
    def verify(self) -> bool: ...

@final
class ActiveProduct:
    """A license in use, from a GetActiveProducts reply.

    Typed attributes for the fields OpenLM reports (found under any of the spellings
    OpenLM versions use); :attr:`attributes` keeps every attribute exactly as received.
    Comparing two products compares their attributes.
    """

    @property
    def product(self) -> str:
        """The product name (for ArcGIS, the feature: ``Editor``, ``Viewer``, ``ARC/INFO``)."""
    @property
    def username(self) -> str:
        """The user holding the license."""
    @property
    def workstation(self) -> str:
        """The workstation the license is used on."""
    @property
    def server(self) -> str | None:
        """The license server's descriptive name in OpenLM (what CloseApplication wants)."""
    @property
    def vendor(self) -> str | None:
        """The vendor daemon: ``ARCGIS``, ``adskflex``, ``MLM``..."""
    @property
    def feature(self) -> str:
        """The license feature; the product name when the server reports no feature."""
    @property
    def version(self) -> str | None:
        """The feature version."""
    @property
    def start_time(self) -> datetime.datetime | None:
        """When the license was checked out, timezone-aware UTC; None when the server sent
        none, or a time Python's datetime cannot hold (the raw value is in ``attributes``)."""
    @property
    def duration(self) -> datetime.timedelta | None:
        """How long the license has been in use, as the server reported it; None when
        missing or beyond what a timedelta holds (the raw value is in ``attributes``)."""
    @property
    def idle_time(self) -> datetime.timedelta | None:
        """How long the application has been idle; None as for :attr:`duration`."""
    @property
    def handle(self) -> str | None:
        """The FlexNet license handle."""
    @property
    def licenses(self) -> int:
        """How many licenses this session holds (1 unless the server says otherwise)."""
    @property
    def borrowed(self) -> bool:
        """Whether the license is borrowed for offline use."""
    @property
    def closable(self) -> bool | None:
        """Whether OpenLM can close it (its Agent is on the workstation); None if not said."""
    @property
    def full_name(self) -> str | None:
        """The user's full name."""
    @property
    def group(self) -> str | None:
        """The user's group in OpenLM."""
    @property
    def project(self) -> str | None:
        """The project the usage is booked to."""
    @property
    def host_ip(self) -> str | None:
        """The workstation's IP address."""
    @property
    def attributes(self) -> dict[str, str]:
        """Every attribute of the PRODUCT element exactly as received, in order."""
    def to_dict(self) -> dict[str, Any]:
        """The typed fields as a dict, for tables and JSON."""
    def _repr_html_(self) -> str:
        """A notebook's view of the session."""
    def __eq__(self, other: object, /) -> bool: ...

def parse_active_products(data: bytes) -> list[ActiveProduct]:
    """Read a GetActiveProducts reply (the XML bytes) into ActiveProduct objects.

    The objects share one buffer of the reply's values (about 150 bytes a row): one kept
    alone keeps that buffer alive; keep ``to_dict()`` of the few kept long.

    Raises:
        UnreadableReplyError: The bytes are not an OpenLM reply.
    """

def active_product_fields() -> list[tuple[str, str]]:
    """The typed fields of ActiveProduct with their kinds (text, time, seconds, int, bool)."""

@final
class Call(Generic[_T]):
    """A call to the core, not yet started: :meth:`wait` runs it and blocks (the GIL
    released, Ctrl-C honoured); ``await call`` runs it on the asyncio loop. Once either."""

    def wait(self, tick: Callable[[], object] | None = None) -> _T:
        """Run and block; ``tick`` is called every tenth of a second meanwhile and once at
        the end (an exception it raises stops the call, as Ctrl-C does)."""
    def __await__(self) -> Generator[Any, Any, _T]: ...

@final
class ApplyProgress:
    """How far an apply has got, counted by the core as it goes."""

    def __new__(cls) -> Self: ...
    def get(self) -> tuple[int, int]:
        """Items finished (applied, failed, or not to be sent) and items in all."""

@final
class CorePlan:
    """A plan the core made, kept as it is: applied or read without JSON in between."""

    def json(self) -> str:
        """The plan as JSON text, as it is saved."""

def plan_predictions(plan: CorePlan | str) -> list[_StepResult]:
    """A plan's predictions (the core's plan, or JSON text), one ``(status, reason, error,
    steps)`` tuple per item, as a dry run reports them: the errors and reasons applying
    gives."""

def read_journal(
    path: str,
) -> tuple[list[tuple[int, str, str, str | None, bool]], str, bool, bool]:
    """A journal's report rows ``(index, item, status, reason, finished)``, its first
    plan's JSON text, whether nothing is left to do, and whether its last run ended."""

def select_items(plan: CorePlan | str, keep: list[str] | None, exclude: list[str]) -> CorePlan:
    """The plan with only the items ``keep`` names (all when None), less those ``exclude``
    names: by user name, or a session's user or workstation, in any letter case."""

def item_statuses(plan: CorePlan | str) -> list[str]:
    """Each item's status in the core's words: ``would_change`` (``would_assign``,
    ``would_release``...), ``unchanged``, ``skipped`` or ``failed``."""

def check_batch_size(operation: str, batch_size: object) -> int:
    """The batch size, refused unless a whole number from 1 to what one request of
    ``operation`` carries (100 user types, 25 entitlements)."""

@final
class CollectorPaused:
    """Python's cycle collector paused for a ``with`` block: the pause the core's listings
    and readers take, so that pauses from Python and from the core nest; the collector
    comes back when the last ends, if it was on when the first began."""

    def __enter__(self) -> CollectorPaused: ...
    def __exit__(self, kind: object, error: object, trace: object) -> bool: ...

def collector_paused() -> CollectorPaused:
    """``with collector_paused():`` pauses the cycle collector for the block."""

def check_concurrency(concurrency: object) -> int:
    """The concurrency (requests in flight at once), refused unless a whole number from 1
    to 256."""

def step_descriptions(plan: CorePlan | str) -> list[list[str]]:
    """Each item's steps for people (the core's one wording of a step), in the names the plan
    knows the ids by: ``[["role User → Viewer", "user type Creator → Viewer"], ...]``."""

def utc_from_ms(ms: object) -> datetime.datetime | None:
    """A Portal time (ms since 1970) as a UTC datetime; None for never (-1), missing,
    garbage, or a time Python's datetime cannot hold."""

@final
class UserType:
    """A user type (named-user license type) of the portal.

    Attributes:
        id: The id the REST API uses (``creatorUT``).
        name: The name the portal shows ("Creator").
        in_use: Members who have it, when the signed-in user may read the license (admins).
        maximum: Seats bought, likewise.
        raw: Every field as received.
    """

    def __new__(
        cls,
        id: str,
        name: str,
        in_use: int | None = None,
        maximum: int | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> Self: ...
    def __getitem__(self, key: str, /) -> Any:
        """A field by name, as the official client's dicts are read."""
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def in_use(self) -> int | None: ...
    @property
    def maximum(self) -> int | None: ...
    @property
    def raw(self) -> Mapping[str, Any]: ...
    @property
    def available(self) -> int | None:
        """Seats left, when known."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Role:
    """A role: a built-in one (``org_admin``...) or a custom one (Viewer, Data Editor...)."""

    def __new__(cls, id: str, name: str, description: str = "") -> Self: ...
    def __getitem__(self, key: str, /) -> Any:
        """A field by name, as the official client's dicts are read."""
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def role_id(self) -> str:
        """The official client's name for ``id``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class UserEntitlement:
    """One member's entitlements under a license.

    Attributes:
        username: The member.
        entitlements: Entitlement ids (``desktopAdvN``, ``spatialAnalystN``...).
        disconnected: True when the member has the app checked out for offline use.
        raw: Every field as received.
    """

    def __new__(cls, data: Mapping[str, Any]) -> Self:
        """From ``username``, ``entitlements``, ``disconnected``, ``last_login`` (ms since
        1970 or None) and ``raw``."""
    def __getitem__(self, key: str, /) -> Any:
        """A field by name, as the official client's dicts are read."""
    @property
    def username(self) -> str: ...
    @property
    def entitlements(self) -> list[str]: ...
    @property
    def disconnected(self) -> bool: ...
    @property
    def last_login(self) -> datetime.datetime | None:
        """Last sign-in (UTC), or None if never."""
    @property
    def raw(self) -> dict[str, Any]: ...

@final
class EntitlementCount:
    """One row of :attr:`License.report`: bought, assigned and left of an entitlement."""

    def __new__(cls, entitlement: str, total: int, assigned: int, remaining: int) -> Self: ...
    def __getitem__(self, key: str, /) -> Any:
        """A field by name, as the official client's dicts are read."""
    @property
    def entitlement(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def assigned(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    def as_dict(self) -> dict[str, Any]:
        """The row as a dict, for tables: ``pandas.DataFrame(r.as_dict() for r in report)``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

# One step of a multi-step operation: (step name, status, reason, error).
_Step = tuple[str, str, str | None, GisLicenseError | None]
_StepResult = tuple[str, str | None, GisLicenseError | None, list[_Step]]

@final
class OpenLMServer:
    """A license server OpenLM watches, from a GetServerList reply.

    The reply's shape is unverified: fields the reply did not give are None, and every
    attribute not read into a field is in :attr:`extra`, as received.
    """

    @property
    def name(self) -> str:
        """The descriptive name configured in OpenLM (what ``close_application`` wants)."""
    @property
    def host(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def vendor(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def issued(self) -> int | None:
        """Licenses the server issues, over all its features."""
    @property
    def in_use(self) -> int | None:
        """Licenses in use now."""
    @property
    def tag(self) -> str:
        """The reply element's tag, as received."""
    @property
    def extra(self) -> dict[str, str]:
        """Every attribute not read into a field, as received."""
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class OpenLMVendor:
    """A vendor (license manager daemon) OpenLM watches, from a GetVendorList reply.

    The reply's shape is unverified: fields the reply did not give are None, and every
    attribute not read into a field is in :attr:`extra`, as received.
    """

    @property
    def name(self) -> str: ...
    @property
    def servers(self) -> int | None:
        """How many of OpenLM's license servers serve it."""
    @property
    def issued(self) -> int | None: ...
    @property
    def in_use(self) -> int | None: ...
    @property
    def tag(self) -> str: ...
    @property
    def extra(self) -> dict[str, str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class OpenLMClient:
    """The OpenLM protocol client behind :class:`gislicense.OpenLM`. Each operation
    returns a :class:`Call`."""

    def __new__(
        cls,
        url: str,
        username: str | None,
        password: str | None,
        options: HttpOptions,
        close_wait: float = 30.0,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    def get_active_products(
        self,
        page_size: int,
        fields: Sequence[tuple[str, Sequence[_Scalar]]],
        attributes: Sequence[tuple[str, Sequence[str]]],
    ) -> Call[list[ActiveProduct]]: ...
    def get_servers(self) -> Call[list[OpenLMServer]]:
        """GetServerList."""
    def get_vendors(self) -> Call[list[OpenLMVendor]]:
        """GetVendorList."""
    def close_application(
        self, username: str, workstation: str, server: str, vendor: str, feature: str
    ) -> Call[None]: ...
    def plan_close(
        self, items: Sequence[Any], server: str | None, vendor: str | None, allow_all: bool
    ) -> Call[CorePlan]:
        """Plan closing sessions."""
    def plan_resume(self, journal: str) -> Call[CorePlan]:
        """Plan again what a journal left unfinished."""
    def apply_plan(
        self,
        plan: CorePlan | str,
        journal: str | None,
        concurrency: int,
        progress: ApplyProgress | None = None,
        recheck: bool = True,
    ) -> Call[list[_StepResult]]:
        """Apply a plan (the core's, or JSON text), journaled to ``journal`` when given;
        ``recheck``: list the open sessions again before the closes go."""

@final
class Authorization:
    """An OAuth 2.0 sign-in under way: the portal's sign-in page, and its code coming back to
    a loopback listener (``loopback``) or pasted."""

    def __new__(
        cls,
        url: str,
        client_id: str,
        loopback: bool,
        refresh_minutes: int,
        allow_insecure_http: bool,
    ) -> Self: ...
    @property
    def url(self) -> str:
        """The sign-in page to open."""
    @property
    def is_loopback(self) -> bool: ...
    def receive(self, timeout: float) -> Call[Code]:
        """Wait for the browser to bring the code back to the loopback listener."""
    def code_from_text(self, text: str) -> Code:
        """The code from what a person pasted: the code, or the whole redirect URL."""

@final
class Code:
    """An authorization code with its PKCE verifier, exchanged once; never shown."""

def sign_in_way(
    *,
    username: str | None,
    password: str | None,
    token: str | None,
    client_id: str | None,
    client_secret: str | None,
) -> Literal["anonymous", "password", "token", "app", "oauth"]:
    """The way of signing in that these parts choose, or InvalidInputError saying why they
    are not one way: :class:`gislicense.GIS` asks before it opens a sign-in page."""

@final
class ListedMember:
    """A member of a listing as the portal sent it: the slice of its page's text, which
    the listing has read and checked. ``gislicense.User`` reads its dict from it when its
    fields are first used."""

    def fields(self) -> dict[str, Any]:
        """The member's fields as the dict of its JSON: read the first time, the same dict
        every time after."""

@final
class PortalClient:
    """The Portal client behind :class:`gislicense.GIS`. Each operation returns a
    :class:`Call`. Members come back as dicts of the portal's JSON (the facade's ``User``
    wraps them); user types and roles as their records."""

    def __new__(cls, settings: _PortalSettings) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    def license_admin(self) -> LicenseAdmin:
        """The license operations of this connection."""
    def sign_in(self) -> Call[None]: ...
    def properties(self) -> Call[dict[str, Any]]: ...
    def version(self) -> Call[str]: ...
    def org_id(self) -> Call[str]: ...
    def get_user(self, username: str) -> Call[dict[str, Any]]:
        """A member as the raw dict ``gislicense.User`` wraps (the roles read alongside,
        once, for :meth:`role_name`)."""
    def me(self) -> Call[dict[str, Any]]: ...
    def role_name(self, role_id: str) -> str:
        """What a member's role reads as, from its id: a custom role's name (Viewer...),
        or the id of a built-in role. Sends nothing: the calls that return members read
        the roles."""
    def search_users(
        self,
        query: str | None,
        user_type: str | None,
        role: str | None,
        max_users: int | None,
        wrap: Callable[[ListedMember], _T],
    ) -> Call[list[_T]]:
        """Members, each made by ``wrap`` from its :class:`ListedMember` as its page
        arrives (every member checked first: a user name, once)."""
    def user_types(self) -> Call[list[UserType]]: ...
    def roles(self) -> Call[list[Role]]: ...
    def user_type(self, wanted: str) -> Call[UserType]:
        """The user type a name or id stands for, as its record."""
    def role(self, wanted: str) -> Call[Role]:
        """The role a name or id stands for, as its record."""
    def update_license_type(self, username: str, user_type: str) -> Call[dict[str, Any]]:
        """Set a member's user type, then read the member again."""
    def update_role(self, username: str, role: str) -> Call[dict[str, Any]]:
        """Set a member's role, then read the member again."""
    def update_level(self, username: str, level: int) -> Call[dict[str, Any]]:
        """Set a member's level, then read the member again."""
    def plan(
        self,
        request: dict[str, Any],
        items: Sequence[tuple[object, str | None, str | None]],
    ) -> Call[CorePlan]:
        """Plan a change of members: ``request`` names the ``operation`` and what it takes,
        read strictly; items are (username, user type or None, role or None)."""
    def plan_resume(self, journal: str) -> Call[CorePlan]:
        """Plan again what a journal left unfinished."""
    def plan_undo(self, journal: str) -> Call[CorePlan]:
        """Plan undoing what a journal shows done."""
    def apply_plan(
        self,
        plan: CorePlan | str,
        journal: str | None,
        batch_size: int,
        concurrency: int,
        progress: ApplyProgress | None = None,
        recheck: bool = True,
    ) -> Call[list[_StepResult]]:
        """Apply a plan (the core's, or JSON text), journaled to ``journal`` when given;
        ``recheck``: plan its items again from the state now first."""

@final
class LicenseAdmin:
    """Named-user licenses of one portal connection (``gis.admin.license``). Each operation
    returns a :class:`Call`. Licenses come back as dicts ``{item_id, title, entitlements:
    {id: number bought}, raw}``. Bulk items are ``(username, None)``; an item that is not a
    str fails alone."""

    def licenses(self) -> Call[list[dict[str, Any]]]:
        """Active purchases and trials (``portals/self/purchases``)."""
    def license(self, name: str) -> Call[dict[str, Any]]:
        """A license by title, friendly name ("pro", "drone2map", "allsource") or item id."""
    def users(self, item_id: str) -> Call[list[UserEntitlement]]:
        """Every member's entitlements under the listing (pages fetched concurrently)."""
    def user(self, item_id: str, username: str) -> Call[UserEntitlement | None]:
        """One member's entitlements; None when they hold none."""
    def report(self, license: str) -> Call[list[EntitlementCount]]: ...
    def release(self, username: str, app: str) -> Call[None]:
        """releaseLicense on the endpoint of the portal's deployment and version."""

@final
class SandboxRequest:
    """One request the sandbox received."""

    @property
    def time(self) -> float:
        """Seconds since the sandbox started."""
    @property
    def service(self) -> str:
        """Which emulator answered: ``"openlm"`` or ``"portal"``."""
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> str:
        """The query string; secrets show as ``***``."""
    @property
    def operation(self) -> str:
        """The OpenLM message type (``GetActiveProducts``, ``CloseApplication``...), or the
        last part of a portal path (``generateToken``, ``updateUserLicenseType``...)."""
    @property
    def params(self) -> list[tuple[str, str]]:
        """The request's parameters (query and body); secrets show as ``***``."""
    @property
    def session(self) -> str | None:
        """The OpenLM session id the request carried, or the portal user its token is for."""
    @property
    def token_in(self) -> str | None:
        """Where a portal token came in: ``"body"``, ``"query"``, ``"x-esri-authorization"``,
        ``"authorization"``; None without one."""
    @property
    def referer(self) -> str | None:
        """The Referer header."""
    @property
    def status(self) -> int:
        """HTTP status of the reply; 0 when the connection was dropped."""
    @property
    def fault(self) -> str | None:
        """The injected fault, if any: ``error``, ``http500``, ``http503``, ``drop``, ``slow``,
        ``drop_after``."""

# Subclassed by gislicense.Sandbox (a native class: nothing else can join it as a base).
@disjoint_base
class Sandbox:
    """The sandbox's servers in the core: made by :class:`gislicense.Sandbox`, which takes
    the public keywords and passes them here as one dict."""

    def __new__(cls, settings: _SandboxSettings) -> Self: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
    @property
    def running(self) -> bool: ...
    @property
    def openlm_url(self) -> str:
        """``http://127.0.0.1:<port>/OpenLMServer``."""
    @property
    def portal_url(self) -> str:
        """``https://127.0.0.1:<port>/portal``."""
    @property
    def admin_username(self) -> str:
        """An administrator of the portal's organization."""
    @property
    def admin_password(self) -> str:
        """The sandbox's test password (well known on loopback, random beyond it)."""
    @property
    def user_username(self) -> str:
        """An ordinary member (role User) of the portal's organization."""
    @property
    def user_password(self) -> str:
        """The sandbox's test password (well known on loopback, random beyond it)."""
    @property
    def oauth_client_id(self) -> str:
        """The client id of the portal's registered OAuth app (loopback and oob redirects)."""
    @property
    def oauth_client_secret(self) -> str:
        """The registered app's client secret (well known on loopback, random beyond it)."""
    @property
    def ca_file(self) -> os.PathLike[str]:
        """The sandbox CA's certificate, a PEM file: ``ca_bundle=sb.ca_file`` trusts its HTTPS."""
    @property
    def openlm_username(self) -> str: ...
    @property
    def openlm_password(self) -> str:
        """The sandbox's test password (well known on loopback, random beyond it)."""
    @property
    def latency(self) -> float:
        """Seconds added to every request; settable."""
    @latency.setter
    def latency(self, seconds: float) -> None: ...
    def set_faults(
        self,
        *,
        error: float = 0.0,
        http500: float = 0.0,
        http503: float = 0.0,
        drop: float = 0.0,
        slow: float = 0.0,
        slow_seconds: float = 2.0,
    ) -> None:
        """Inject faults at random, each at its rate (0 to 1, adding up to at most 1).

        ``error`` is a protocol error reply, ``http500``/``http503`` an HTML error page with
        that status, ``drop`` a connection closed without reply, ``slow`` a reply
        ``slow_seconds`` late.
        """
    def fail_next(self, fault: str, count: int = 1, *, operation: str | None = None) -> None:
        """Inject ``fault`` into the next ``count`` requests (to ``operation`` only, if given).

        Besides the faults of :meth:`set_faults`, ``drop_after`` does what was asked and
        then closes the connection without a reply: a change made whose answer is lost.
        """
    def clear_faults(self) -> None:
        """No more faults, queued or random."""
    def requests(
        self, *, service: str | None = None, operation: str | None = None
    ) -> list[SandboxRequest]:
        """The requests received so far, oldest first."""
    def clear_requests(self) -> None: ...
    def openlm_sessions(self) -> list[dict[str, Any]]:
        """The licenses in use now, as dicts (``start_ms`` and ``idle_since_ms`` in ms since
        1970; ``idle_since_ms`` is None while in use)."""
    def openlm_session_count(self) -> int: ...
    def _add_openlm_session(self, session: _SessionSettings) -> int: ...
    def workstations_without_agent(self) -> list[str]:
        """Workstations holding licenses where the OpenLM Agent is missing."""
    def set_agent(self, workstation: str, installed: bool = True, acts: bool = True) -> None:
        """Install or remove the OpenLM Agent on a workstation. An installed Agent that does
        not ``act`` acknowledges closes and never carries them out."""
    def expire_openlm_logins(self) -> None:
        """End every OpenLM login session, as a server restart would."""
    def portal_users(self) -> list[dict[str, Any]]:
        """Every portal member as the REST API describes them, plus ``proOffline``,
        ``offlineApps`` (app ids checked out) and ``entitlements`` (listing title to the
        member's entitlement ids)."""
    def portal_user(self, username: str) -> dict[str, Any]:
        """One portal member, by user name or id."""
    def set_pro_offline(self, username: str, offline: bool = True) -> None:
        """Check a member's ArcGIS Pro license out for offline use (or back in)."""
    def set_offline(
        self, username: str, app: str = "arcgisprodesktop", offline: bool = True
    ) -> None:
        """Check a member's license of ``app`` (``arcgisprodesktop``, ``drone2map``,
        ``arcgisallsource``) out for offline use (or back in)."""
    def set_entitlement_seats(self, entitlement: str, seats: int) -> None:
        """Set how many of an entitlement (``desktopAdvN``...) the organization bought."""
    def set_seats(self, user_type: str, seats: int) -> None:
        """Set how many members a user type may have."""
    def set_level_seats(self, level: int, seats: int) -> None:
        """Set how many members a level (1 or 2) may have, on a portal before 10.7."""
    def expire_portal_tokens(self) -> None:
        """Revoke every portal token now: the next request with one gets 498."""
    def revoke_refresh_tokens(self) -> None:
        """Revoke every OAuth refresh token now: the next renewal with one is refused."""
    def client_certificate(
        self, username: str, *, expired: bool = False, untrusted: bool = False
    ) -> tuple[os.PathLike[str], os.PathLike[str]]:
        """A client certificate naming ``username`` (``portal_pki=True``): the paths of its
        PEM certificate (with its CA) and key; ``untrusted`` from a CA the portal does not
        trust, ``expired`` one that ended in 2021."""
    def client_pkcs12(self, username: str, password: str) -> os.PathLike[str]:
        """A client certificate naming ``username`` as a PKCS#12 file opened with
        ``password``."""
    def stop(self) -> None:
        """Stop listening. Safe to call twice."""

@final
class FlexNetFeature:
    """A feature of the ArcGIS License Manager, as ``lmstat -a`` shows it."""

    @property
    def name(self) -> str: ...
    @property
    def vendor(self) -> str | None:
        """The vendor daemon (``ARCGIS``), when the output shows it."""
    @property
    def version(self) -> str | None: ...
    @property
    def issued(self) -> int | None:
        """Licenses issued; None when the server gives an error instead."""
    @property
    def in_use(self) -> int | None: ...
    @property
    def free(self) -> int | None:
        """Issued less in use (None without totals)."""
    @property
    def error(self) -> str | None:
        """The server's words instead of totals (``Error: 48 licenses, unsupported by
        licensed server``)."""
    @property
    def reserved(self) -> int:
        """Licenses held by RESERVATION lines."""
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """A notebook's view (given by :mod:`gislicense.flexnet`): the fields as a
        two-column table, escaped."""

@final
class FlexNetSession:
    """A license checked out from the License Manager: the fields an OpenLM session has
    (``feature``, ``username``, ``workstation``, ``start_time``, ``version``, ``licenses``)
    and FlexNet's own (``display``, ``server``, ``port``, ``handle``, ``borrowed``)."""

    @property
    def feature(self) -> str: ...
    @property
    def product(self) -> str:
        """The feature again (OpenLM's sessions name a product)."""
    @property
    def vendor(self) -> str | None: ...
    @property
    def username(self) -> str: ...
    @property
    def workstation(self) -> str: ...
    @property
    def display(self) -> str:
        """The display field (often the workstation; ArcMap writes an encoded string)."""
    @property
    def version(self) -> str: ...
    @property
    def server(self) -> str:
        """The license server host the handle belongs to."""
    @property
    def port(self) -> int: ...
    @property
    def handle(self) -> str: ...
    @property
    def start_time(self) -> datetime.datetime | None:
        """A naive datetime on the license server's clock (None when the output had no
        date)."""
    @property
    def start_text(self) -> str:
        """The start as lmstat wrote it (``Wed 12/18 8:33``)."""
    @property
    def licenses(self) -> int: ...
    @property
    def borrowed(self) -> bool: ...
    @property
    def pid(self) -> int | None: ...
    @property
    def idle_time(self) -> None:
        """FlexNet keeps no idle time: always None."""
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """A notebook's view (given by :mod:`gislicense.flexnet`): the fields as a
        two-column table, escaped."""

@final
class LicenseStatus:
    """What one ``lmstat -a`` told: ``features`` and ``sessions``."""

    @property
    def features(self) -> list[FlexNetFeature]: ...
    @property
    def sessions(self) -> list[FlexNetSession]: ...
    @property
    def date(self) -> datetime.date | None:
        """The status line's day (None when the output had none)."""
    @property
    def unread(self) -> list[str]:
        """Lines under a feature that were not understood."""

@final
class LicenseEvent:
    """One line of the License Manager's debug log."""

    @property
    def time(self) -> datetime.datetime | None:
        """A naive datetime on the license server's clock; None before the log gave a date."""
    @property
    def kind(self) -> str:
        """``"OUT"``, ``"IN"``, ``"DENIED"``, ``"UNSUPPORTED"``, ``"QUEUED"``,
        ``"DEQUEUED"``, or ``"RAW"`` for any other line."""
    @property
    def feature(self) -> str | None: ...
    @property
    def user(self) -> str | None: ...
    @property
    def workstation(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def licenses(self) -> int: ...
    @property
    def raw(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """A notebook's view (given by :mod:`gislicense.flexnet`): the fields as a
        two-column table, escaped."""

@final
class LmgrdLogFile:
    """Events read from a debug log file, one line at a time."""

    def __new__(cls, path: str | os.PathLike[str]) -> Self: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> LicenseEvent: ...

@final
class LmgrdLogParser:
    """Reads debug log lines handed to it one at a time, carrying the date forward."""

    def __new__(cls) -> Self: ...
    def feed(self, line: str) -> LicenseEvent: ...

def parse_lmstat(text: str, date: tuple[int, int, int] | None = None) -> LicenseStatus:
    """Read saved ``lmstat -a`` output."""

@final
class FlexNetClient:
    """The License Manager client behind :class:`gislicense.FlexNet`. Each operation
    returns a :class:`Call`."""

    def __new__(cls, server: str, lmutil: str | None, timeout: float, max_output: int) -> Self: ...
    @property
    def server(self) -> str: ...
    @property
    def lmutil(self) -> os.PathLike[str]: ...
    def status(self) -> Call[LicenseStatus]: ...
    def remove(self, item: FlexNetSession | Mapping[str, Any]) -> Call[None]: ...
    def plan_close(
        self, items: Sequence[Any], allow_all: bool, keep_free: int | None
    ) -> Call[CorePlan]:
        """Plan taking back sessions."""
    def plan_resume(self, journal: str) -> Call[CorePlan]:
        """Plan again what a journal left unfinished."""
    def apply_plan(
        self,
        plan: CorePlan | str,
        journal: str | None,
        concurrency: int,
        progress: ApplyProgress | None = None,
    ) -> Call[list[_StepResult]]:
        """Apply a plan, journaled to ``journal`` when given."""

def flexnet_seeded(seed: int, sessions: int, now: str) -> str:
    """A seeded sandbox License Manager's settings as JSON."""

def flexnet_create(state: str | os.PathLike[str], settings: str) -> None:
    """Write a sandbox License Manager's state file and start its debug log."""

def flexnet_state(state: str | os.PathLike[str]) -> str:
    """A sandbox License Manager's state as JSON."""

def flexnet_lmutil(state: str | os.PathLike[str], args: Sequence[str]) -> tuple[int, str]:
    """Run the sandbox's stand-in lmutil: (exit code, output)."""
