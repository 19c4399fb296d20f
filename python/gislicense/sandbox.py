"""The sandbox: emulated OpenLM and ArcGIS Enterprise servers on loopback.

The servers run in the Rust core (``_core.Sandbox``); this class gives them their public
keywords and defaults and hands the core one dict of settings.
"""

from __future__ import annotations

from gislicense import _core
from gislicense._flexnet_sandbox import LicenseManagerSandbox

__all__ = ["LicenseManagerSandbox", "Sandbox"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime


class Sandbox(_core.Sandbox):
    """Emulated license servers on loopback, speaking the same wire as the real ones.

    A script written against a real OpenLM server works against :attr:`openlm_url`
    unchanged. The site is seeded (the same ``seed`` gives the same people, workstations and
    sessions): several license servers, ArcGIS, AutoCAD and MATLAB sessions open from
    minutes to two weeks, a good share idle for hours (some for days: forgotten sessions),
    and some workstations without the OpenLM Agent, where closing fails.

    Beside it runs an ArcGIS Enterprise portal (:attr:`portal_url`, HTTPS with a CA made at
    start: ``ca_bundle=sb.ca_file``), or with ``portal_deployment="online"`` an ArcGIS Online
    organization, with a seeded organization: members across the user
    types and roles, seats per user type, and some members whose ArcGIS Pro license is
    checked out for offline use. It enforces what a real portal does: seat limits, roles
    compatible with user types, offline members blocked, administrators only for changes,
    expiring tokens. Accounts: :attr:`admin_username` (an administrator) and
    :attr:`user_username` (an ordinary member).

    It starts when made and stops with :meth:`stop` or at the end of a ``with`` block::

        with gislicense.Sandbox(sessions=1000) as sb:
            openlm = gislicense.OpenLM(sb.openlm_url)

    Args:
        sessions: Licenses in use at start.
        users: People at the site (default: enough for the sessions, at least 300).
        seed: Seed of the generated site and of random faults.
        permissions: OpenLM wants a login (``openlm_username`` / ``openlm_password``).
        login_lifetime: Seconds an idle OpenLM login session lasts.
        paging: Whether OpenLM understands the paged GetActiveProducts2.
        close_delay: Seconds the OpenLM Agent takes to close an application once OpenLM
            has acknowledged the close (a real server queues it for the Agent); until then
            the session is still listed. 0 closes at once.
        latency: Seconds added to every request.
        host: Address to listen on. Anything but loopback (``"0.0.0.0"``, a LAN address)
            makes the sandbox reachable from other machines: it logs a warning, and each
            password left at its well-known default (``openlm_password``, ``admin_password``,
            ``user_password``) is replaced by a random one; read them from the properties.
        openlm_port: Port for OpenLM; 0 picks a free one.
        openlm_tls: Serve OpenLM over HTTPS (as behind a TLS proxy) with a certificate from a
            CA made at start; trust it with ``ca_bundle=sb.ca_file``.
        portal_members: Members of the portal's organization (the two accounts included).
        portal_offline: Members with an ArcGIS Pro license checked out for offline use.
        portal_version: The portal's ``currentVersion``. Below ``"7.1"`` (10.7) the portal
            is one from before user types: members have a level (1 or 2) as their license,
            ``portals/self`` states the seats per level, and the user-type endpoints and
            ``portaladmin/license`` are not served. What each release serves is the "Portal
            versions" table (in the README and the documentation); from ``"6.1"`` (10.6)
            on, and Kubernetes from ``"9.2"`` (10.9); others are refused.
        token_lifetime: The longest a portal token lasts, in seconds, whatever the client
            asks for (short ones test renewal).
        portal_port: Port for the portal; 0 picks a free one.
        portal_tls: Serve the portal over HTTPS (plain HTTP when False).
        portal_deployment: ``"classic"`` (Portal Administrator API under ``/portaladmin``),
            ``"kubernetes"`` (Enterprise Administrator API under ``/admin``) or ``"online"``:
            an ArcGIS Online organization, served at the root of its host
            (:attr:`portal_url` has no ``/portal``), with ``isPortal: false``, a ``urlKey``, its
            seats per user type in ``portals/self/subscriptionInfo``, members' credits, and no
            administrator API (so no ``releaseLicense``). What differs is the "ArcGIS Online"
            column of the "Portal versions" table and *ArcGIS Online* in the documentation.
        portal_pki: PKI: the portal requires a client certificate from the sandbox's client
            CA (``client_certificate()``, ``client_pkcs12()``), and a request without a token
            is the member the certificate names.
        admin_password: The portal administrator's password (default
            ``"sandbox-admin-password"``; random beyond loopback).
        user_password: The portal member's password (default ``"sandbox-member-password"``;
            random beyond loopback).
    """

    def __new__(
        cls,
        *,
        sessions: int = 500,
        users: int | None = None,
        seed: int = 1,
        permissions: bool = False,
        openlm_username: str = "admin",
        openlm_password: str = "sandbox-password",
        login_lifetime: float = 1800.0,
        paging: bool = True,
        close_delay: float = 0.2,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        openlm_port: int = 0,
        openlm_tls: bool = False,
        portal_members: int = 300,
        portal_offline: int = 5,
        portal_version: str = "2024.1",
        token_lifetime: float = 1_209_600.0,
        portal_port: int = 0,
        portal_tls: bool = True,
        portal_deployment: str = "classic",
        portal_pki: bool = False,
        admin_password: str | None = None,
        user_password: str | None = None,
    ) -> Sandbox:
        return super().__new__(
            cls,
            {
                "sessions": sessions,
                "users": users,
                "seed": seed,
                "permissions": permissions,
                "openlm_username": openlm_username,
                "openlm_password": openlm_password,
                "login_lifetime": login_lifetime,
                "paging": paging,
                "close_delay": close_delay,
                "latency": latency,
                "host": host,
                "openlm_port": openlm_port,
                "openlm_tls": openlm_tls,
                "portal_members": portal_members,
                "portal_offline": portal_offline,
                "portal_version": portal_version,
                "token_lifetime": token_lifetime,
                "portal_port": portal_port,
                "portal_tls": portal_tls,
                "portal_deployment": portal_deployment,
                "portal_pki": portal_pki,
                "admin_password": admin_password,
                "user_password": user_password,
            },
        )

    def add_openlm_session(
        self,
        *,
        product: str,
        username: str,
        workstation: str,
        server: str = "GIS License Server",
        vendor: str = "ARCGIS",
        feature: str | None = None,
        version: str = "10.1",
        licenses: int = 1,
        borrowed: bool = False,
        full_name: str = "",
        group: str = "",
        project: str = "",
        host_ip: str = "",
        start: datetime.datetime | float | None = None,
        idle: datetime.timedelta | float | None = None,
    ) -> int:
        """Add a license in use (the feature defaults to the product); returns its handle.

        ``start`` is when it was taken: a timezone-aware datetime, or seconds ago (now when
        not given). ``idle`` is how long the application has been idle: a timedelta or
        seconds (in use when not given or 0). Like a real server's, the listing's
        ``duration`` and ``idle_time`` then grow with the clock. A session no server could
        list (starting in the future, idle for longer than it has been open, a naive
        datetime) raises InvalidInputError.
        """
        return self._add_openlm_session(
            {
                "product": product,
                "username": username,
                "workstation": workstation,
                "server": server,
                "vendor": vendor,
                "feature": feature,
                "version": version,
                "licenses": licenses,
                "borrowed": borrowed,
                "full_name": full_name,
                "group": group,
                "project": project,
                "host_ip": host_ip,
                "start": start,
                "idle": idle,
            }
        )
