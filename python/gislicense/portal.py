"""ArcGIS Portal / Enterprise: signing in (:class:`GIS`). Members, user types and roles
are in :mod:`gislicense.users` (``gis.users``).

Names follow the official ArcGIS API for Python (``GIS``, ``gis.users.get``,
``user.update_license_type``) so scripts move over with few changes.
"""

from __future__ import annotations

import os

from gislicense import _core
from gislicense._calls import Pending, awaiting, blocking
from gislicense._core import Role, UserType
from gislicense._credentials import password_for
from gislicense._http import (
    DEFAULT_BACKOFF,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_REPLY_BYTES,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    http_options,
)
from gislicense._text import check_text
from gislicense.exceptions import InvalidInputError
from gislicense.users import User, UserManager

# typing's names for type checkers only (see _generic.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from gislicense.licenses import AdminManager

__all__ = ["GIS", "Role", "User", "UserManager", "UserType"]


def _from_arcgis_pro() -> tuple[str, str, int | None, str]:
    """The portal ArcGIS Pro is signed in to: (url, token, expires in ms or None, referer)."""
    try:
        import arcpy  # type: ignore[import-not-found]
    except ImportError:
        raise InvalidInputError(
            'GIS("pro") takes the portal and sign-in of ArcGIS Pro, so it works only in '
            "ArcGIS Pro's Python (where arcpy can be imported). Elsewhere pass the portal "
            "URL with username= and password=, or token="
        ) from None
    url = arcpy.GetActivePortalURL()
    info = arcpy.GetSigninToken()
    if not url or not info or not info.get("token"):
        raise InvalidInputError(
            "ArcGIS Pro is not signed in to a portal: sign in from Pro's Settings > Portals"
        )
    expires = info.get("expires")
    expires_ms = int(expires * 1000) if isinstance(expires, (int, float)) else None
    return str(url), str(info["token"]), expires_ms, str(info.get("referer") or "")


def _from_profile(profile: str, given: dict[str, Any]) -> dict[str, Any]:
    """A saved connection's settings, with those given here winning."""
    from gislicense import profiles

    chosen = profiles.resolve(profile, "portal", given)
    if chosen["client_id"] is not None and given["username"] is None:
        # Signing in with OAuth: the profile's user name and password are not used.
        chosen["username"] = chosen["password"] = None
    return chosen


def _arcgis_pro_tokens() -> tuple[str, int | None]:
    """A new token from ArcGIS Pro, which renews its own sign-in: asked when one runs out."""
    _, token, expires_ms, _ = _from_arcgis_pro()
    return token, expires_ms


def _oauth_code(
    url: str,
    client_id: str,
    profile: str | None,
    browser: bool | None,
    allow_insecure_http: bool,
    sign_in_timeout: float,
) -> Any:
    """The code of a person's sign-in on the portal's own page (OAuth 2.0 with PKCE)."""
    from gislicense._oauth import sign_in_code

    try:
        return sign_in_code(
            url,
            client_id,
            browser=browser,
            allow_insecure_http=allow_insecure_http,
            timeout=sign_in_timeout,
        )
    except InvalidInputError as nobody:
        if profile is None:
            raise
        from gislicense import profiles

        variable = profiles.secret_variable(profile, "client_secret")
        raise InvalidInputError(
            f"{nobody}. For the profile {profile!r}: set {variable}, or store the "
            f"secret with `gislicense profile add {profile} ... --store-client-secret`"
        ) from None


class GIS:
    """A connection to an ArcGIS Enterprise portal or ArcGIS Online organization.

    Args:
        url: The portal, as ``https://host/portal`` (a browser URL with ``/home`` or
            ``/sharing/rest`` is trimmed), or ``"pro"`` for the portal ArcGIS Pro is signed
            in to (inside ArcGIS Pro's Python).
        username: Signs in with generateToken. Without ``password``, the password is asked
            for on the terminal (an error when there is none).
        password: Its password.
        token: A token or API key made elsewhere, instead of username and password. It
            cannot be renewed here: when it expires, calls raise :class:`TokenExpiredError`.
        referer: The Referer the token is made for and sent with.
        expiration: Minutes a token should last (1 to 20160). Tokens are renewed before they
            expire, and once more if the portal rejects one (498/499), so long jobs go on.
        allow_insecure_http: Accept an ``http://`` portal, where the password would travel
            in clear. For test portals only.
        max_reply_bytes: With ``verify``, ``ca_bundle``, ``timeout``, ``connect_timeout``,
            ``retries``, ``backoff`` and ``retry_writes``: as for
            :class:`gislicense.OpenLM`. Setting a user type or role is safe to repeat, so it
            is retried like a read.
        api_key: The official client's name for ``token=`` (an API key is used as one).
        use_gen_token: Taken as the official client takes it, and changes nothing here: a
            user name and password always sign in with generateToken (the official
            client's default is its sign-in page; gislicense's is ``client_id=``).
        verify_cert: The official client's name for ``verify=``.
        profile: A saved connection (see :mod:`gislicense.profiles`; the command line's
            ``gislicense profile add``): its URL, user name or OAuth app (``client_id``),
            client certificate, CA bundle and timeouts, and its secrets (password, client
            secret, PKCS#12 password) from the environment or the system keyring. Arguments
            given here win.
        client_id: Signs in through OAuth 2.0 with this registered app. Alone, a person
            signs in on the portal's own page (any identity provider it federates: SAML,
            OIDC...): opened in the browser, or, where none can open here (a notebook, a
            server), shown as a link whose page gives a code to paste. The session is then
            renewed with its refresh token, for long jobs. With ``client_secret``: app
            credentials, for scheduled jobs, renewed as tokens expire.
        client_secret: The app's secret (app credentials).
        browser: For ``client_id`` alone: ``True`` opens the browser, ``False`` shows a link
            and asks for the code, ``None`` (default) opens one when one can open here.
        sign_in_timeout: Seconds to wait for the browser to come back from the sign-in page.
        cert_file: A client certificate presented on every request, for a portal behind PKI
            (smart cards, the web adaptor asking for a certificate): PEM, with its key in
            ``key_file`` or in the same file, or a PKCS#12 file (``.p12``/``.pfx``) opened
            with ``cert_password``. Without other credentials the portal knows the user by
            the certificate. An expired certificate is refused before anything is sent.
        key_file: The certificate's private key (PEM, not encrypted).
        cert_password: The PKCS#12 file's password.

    Nothing is sent until the first call (or :meth:`sign_in`). Every network method has an
    ``_async`` twin.
    """

    def __init__(
        self,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        profile: str | None = None,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        browser: bool | None = None,
        sign_in_timeout: float = 300.0,
        cert_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        cert_password: str | None = None,
        api_key: str | None = None,
        use_gen_token: bool = False,
        referer: str = "gislicense",
        expiration: int = 60,
        allow_insecure_http: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        verify: bool = True,
        verify_cert: bool | None = None,
        ca_bundle: str | os.PathLike[str] | None = None,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        retry_writes: bool = False,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        # The official client's names for the same things.
        if verify_cert is not None:
            verify = verify_cert
        if api_key is not None:
            if token is not None:
                raise InvalidInputError("pass token= or api_key= (the same thing), not both")
            token = api_key
        if isinstance(url, str) and url.strip().lower() == "home":
            raise InvalidInputError(
                'GIS("home") is the official client\'s sign-in inside ArcGIS Notebooks, which '
                "gislicense cannot reuse: pass the portal's URL (with username= or token=), "
                'GIS("pro") inside ArcGIS Pro, or profile= a saved connection'
            )
        if profile is not None:
            chosen = _from_profile(
                profile,
                {
                    "url": url,
                    "username": username,
                    "password": password,
                    "token": token,
                    "ca_bundle": ca_bundle,
                    "timeout": timeout,
                    "connect_timeout": connect_timeout,
                    "allow_insecure_http": allow_insecure_http,
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "cert_file": cert_file,
                    "key_file": key_file,
                    "cert_password": cert_password,
                },
            )
            url, username, password = chosen["url"], chosen["username"], chosen["password"]
            client_id, client_secret = chosen["client_id"], chosen["client_secret"]
            cert_file, key_file = chosen["cert_file"], chosen["key_file"]
            cert_password, ca_bundle = chosen["cert_password"], chosen["ca_bundle"]
            timeout, connect_timeout = chosen["timeout"], chosen["connect_timeout"]
            allow_insecure_http = chosen["allow_insecure_http"]
        if url is None:
            raise InvalidInputError("give the portal's url, or profile= a saved connection")
        if not isinstance(url, str):
            raise InvalidInputError(f"url must be a string, not {type(url).__name__}")
        check_text(
            url=url,
            username=username,
            password=password,
            token=token,
            referer=referer,
            client_id=client_id,
            client_secret=client_secret,
            cert_password=cert_password,
        )
        # The core chooses the one way to sign in (or refuses), before any page opens.
        way = _core.sign_in_way(
            username=username,
            password=password,
            token=token,
            client_id=client_id,
            client_secret=client_secret,
        )
        if isinstance(expiration, bool) or not 1 <= expiration <= 20160:
            raise InvalidInputError(
                f"expiration must be 1 to 20160 minutes (14 days), not {expiration!r}"
            )
        token_expires: int | None = None
        token_source: Callable[[], tuple[str, int | None]] | None = None
        if url.strip().lower() == "pro":
            if any(v is not None for v in (username, password, token, client_id)):
                raise InvalidInputError(
                    'GIS("pro") takes no username, password, token or client_id'
                )
            url, token, token_expires, pro_referer = _from_arcgis_pro()
            referer = pro_referer or referer
            token_source = _arcgis_pro_tokens

        for name, path in (("cert_file", cert_file), ("key_file", key_file)):
            if path is not None and not os.fspath(path).strip():
                raise InvalidInputError(f"{name} is empty: give the file's path")
        options = http_options(
            timeout=timeout,
            connect_timeout=connect_timeout,
            verify=verify,
            ca_bundle=ca_bundle,
            retries=retries,
            backoff=backoff,
            retry_writes=retry_writes,
            max_reply_bytes=max_reply_bytes,
            cert_file=cert_file,
            key_file=key_file,
            cert_password=cert_password,
        )
        password = password_for(username, password, url)
        code = None
        if way == "oauth" and client_id is not None:
            code = _oauth_code(
                url, client_id, profile, browser, allow_insecure_http, sign_in_timeout
            )
        self._core = _core.PortalClient(
            {
                "url": url,
                "username": username,
                "password": password,
                "token": token,
                "token_expires": token_expires,
                "referer": referer,
                "expiration": expiration,
                "allow_insecure_http": allow_insecure_http,
                "options": options,
                "client_id": client_id,
                "client_secret": client_secret,
                "code": code,
                "token_source": token_source,
            }
        )
        if code is not None:
            # A code lasts minutes: exchange it now, not at the first call.
            self._core.sign_in().wait()
        self.users = UserManager(self)
        self._admin: AdminManager | None = None

    @property
    def admin(self) -> AdminManager:
        """Administration: ``gis.admin.license`` for ArcGIS Pro and other named-user
        licenses, offline check-outs and releasing them."""
        if self._admin is None:
            from gislicense.licenses import AdminManager

            self._admin = AdminManager(self)
        return self._admin

    @property
    def url(self) -> str:
        """The portal URL in use (``https://host/portal``)."""
        return self._core.url

    @property
    def username(self) -> str | None:
        """The user signing in with a password, or signed in through OAuth."""
        return self._core.username

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username else ""
        return f"GIS({self.url!r}{user})"

    def _repr_html_(self) -> str:
        from gislicense import _html

        # What is known without a request: a view never calls the portal.
        return _html.fields("GIS", [("portal", self.url), ("signed in as", self.username)])

    def _sign_in(self) -> Pending[None]:
        """Check the credentials now (otherwise the first call signs in).

        Raises:
            AuthenticationError: Wrong user name or password, with the portal's reason.
        """
        return self._core.sign_in()

    sign_in = blocking(_sign_in)
    sign_in_async = awaiting(_sign_in)

    def _properties(self) -> Pending[dict[str, Any]]:
        return self._core.properties()

    @property
    def properties(self) -> dict[str, Any]:
        """The organization (``portals/self``), with the signed-in user under ``user``.
        Read once and kept."""
        return self._properties().wait()

    properties_async = awaiting(_properties)

    def _version(self) -> Pending[str]:
        return self._core.version()

    @property
    def version(self) -> str:
        """The portal's REST API version (``currentVersion``), e.g. ``"2024.1"``."""
        return self._version().wait()

    version_async = awaiting(_version)

    def _org_id(self) -> Pending[str]:
        return self._core.org_id()

    @property
    def org_id(self) -> str:
        """The organization id."""
        return self._org_id().wait()

    org_id_async = awaiting(_org_id)
