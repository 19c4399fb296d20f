"""Named-user licenses: ArcGIS Pro and other apps bought for the organization, who holds
which entitlements, and releasing licenses checked out for offline use.

Reached as ``gis.admin.license``, as in the official ArcGIS API for Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Union

from gislicense import _core
from gislicense._calls import Pending, Then, awaiting, blocking
from gislicense._core import EntitlementCount, UserEntitlement
from gislicense._official import missing
from gislicense._text import check_text
from gislicense.bulk import BulkReport
from gislicense.exceptions import InvalidInputError
from gislicense.plans import DEFAULT_CONCURRENCY, Plan, change, plan_members

if TYPE_CHECKING:
    from gislicense._progress import ProgressArg
    from gislicense.plans import JournalArg
    from gislicense.portal import GIS
    from gislicense.users import User

__all__ = [
    "AdminManager",
    "EntitlementCount",
    "License",
    "LicenseManager",
    "UserEntitlement",
]

#: What bulk license operations take: user names or :class:`~gislicense.User` objects.
UserItem = Union[str, "User"]

#: Apps whose license can be checked out for offline use, by appId.
APPS = ("arcgisprodesktop", "drone2map", "arcgisallsource")


def _username(user: UserItem) -> str:
    from gislicense.users import User

    if isinstance(user, User):
        return user.username
    if isinstance(user, str):
        check_text(username=user)
        return user
    raise InvalidInputError(f"expected a user name or a User, not {type(user).__name__}")


def _entitlement_list(entitlements: str | Sequence[str]) -> list[str]:
    if isinstance(entitlements, str):
        check_text(entitlements=entitlements)
        return [e.strip() for e in entitlements.split(",") if e.strip()]
    listed = [str(e) for e in entitlements]
    check_text(**{f"entitlement {i}": e for i, e in enumerate(listed)})
    return listed


class License:
    """A license the organization bought (``ArcGIS Pro``, ``ArcGIS Drone2Map``...).

    Attributes:
        title: The listing's title.
        item_id: The listing's item id.
        entitlements: Entitlement id to the number bought, in the portal's order.
        raw: The purchase as received.
    """

    def __init__(self, admin: LicenseManager, data: dict[str, Any]) -> None:
        self._admin = admin
        self.title: str = data["title"]
        self.item_id: str = data["item_id"]
        self.entitlements: dict[str, int] = dict(data["entitlements"])
        self.raw: dict[str, Any] = data["raw"]

    def __repr__(self) -> str:
        return f"<License {self.title!r} item_id={self.item_id!r}>"

    def _repr_html_(self) -> str:
        from gislicense import _html

        bought = [(f"{entitlement} (bought)", n) for entitlement, n in self.entitlements.items()]
        return _html.fields(f"License {self.title}", [("item id", self.item_id), *bought])

    @property
    def _core(self) -> _core.LicenseAdmin:
        return self._admin._core

    def _users(self) -> Pending[list[UserEntitlement]]:
        """Every member holding an entitlement (or the app offline); pages after the first
        are fetched concurrently."""
        return self._core.users(self.item_id)

    users = blocking(_users)
    users_async = awaiting(_users)

    def _all(self) -> Pending[list[UserEntitlement]]:
        """The official client's name for :meth:`users`."""
        return self._users()

    all = blocking(_all)
    all_async = awaiting(_all)

    def _user_entitlement(self, username: UserItem) -> Pending[UserEntitlement | None]:
        """One member's entitlements; None when they hold none."""
        return self._core.user(self.item_id, _username(username))

    user_entitlement = blocking(_user_entitlement)
    user_entitlement_async = awaiting(_user_entitlement)

    def _report(self) -> Pending[list[EntitlementCount]]:
        return self._core.report(self.item_id)

    @property
    def report(self) -> list[EntitlementCount]:
        """Bought, assigned and left of each entitlement, read now.
        ``pandas.DataFrame(r.as_dict() for r in lic.report)`` makes a table of it."""
        return self._report().wait()

    report_async = awaiting(_report)

    def _offline(self) -> Pending[list[UserEntitlement]]:
        return Then(self._users(), _disconnected)

    @property
    def offline(self) -> list[UserEntitlement]:
        """Members who have this app checked out for offline use."""
        return self._offline().wait()

    offline_async = awaiting(_offline)

    def _plan_provision(
        self, users: Iterable[UserItem], mode: str, entitlements: list[str], allow_all: bool
    ) -> Pending[Plan]:
        request = {
            "operation": "provision",
            "license": self.item_id,
            "mode": mode,
            "entitlements": entitlements,
            "allow_all": allow_all,
        }
        return plan_members(self._admin._gis, users, request)

    @staticmethod
    def _assign_mode(entitlements: str | Sequence[str], overwrite: bool) -> tuple[str, list[str]]:
        wanted = _entitlement_list(entitlements)
        if not wanted:
            raise InvalidInputError("name at least one entitlement to assign (revoke() takes away)")
        return ("set" if overwrite else "add"), wanted

    def _assign(
        self,
        users: Iterable[UserItem],
        entitlements: str | Sequence[str],
        *,
        overwrite: bool = True,
        dry_run: bool = False,
        batch_size: int = 25,
        concurrency: int = 8,
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_all: bool = False,
    ) -> Pending[BulkReport[UserItem]]:
        """Give members entitlements.

        Args:
            users: User names or :class:`~gislicense.User` objects.
            entitlements: Entitlement ids (``["desktopAdvN", "spatialAnalystN"]`` or
                ``"desktopAdvN,spatialAnalystN"``); unknown ones are refused before anything
                is sent, with the license's listed.
            overwrite: True (as the official client) makes these a member's only
                entitlements; False adds them to what the member has.
            dry_run: Report the plan's predictions; change nothing.
            batch_size: Members per request (at most 25, the portal's limit).
            concurrency: Requests at once.
            journal: Where the run's journal goes: a path, None for a new file in
                :func:`~gislicense.plans.default_journal_dir`, False for none.
            progress: A progress display while applying: True, False, None (shown
                when someone is watching) or a function of (done, total), as for
                :meth:`~gislicense.plans.Plan.apply`.
            allow_all: Let the plan change every member of the organization.

        Returns:
            One outcome per member: ``assigned`` (``would_assign``), ``unchanged`` (already
            has them), ``skipped`` (listed before) or ``failed`` with the reason. Members
            with the app checked out for offline use, and members beyond the seats left,
            fail before anything is sent; one member the portal refuses does not fail the
            others of their request.
        """
        _core.check_batch_size("provision", batch_size)
        mode, wanted = self._assign_mode(entitlements, overwrite)
        plan = self._plan_provision(users, mode, wanted, allow_all)
        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            batch_size=batch_size,
            progress=progress,
        )

    assign = blocking(_assign)
    assign_async = awaiting(_assign)

    def _plan_assign(
        self,
        users: Iterable[UserItem],
        entitlements: str | Sequence[str],
        *,
        overwrite: bool = True,
        allow_all: bool = False,
    ) -> Pending[Plan]:
        """Plan :meth:`assign`; nothing is sent. Members with the app checked out and
        members beyond the seats left are predicted to fail."""
        mode, wanted = self._assign_mode(entitlements, overwrite)
        return self._plan_provision(users, mode, wanted, allow_all)

    plan_assign = blocking(_plan_assign)
    plan_assign_async = awaiting(_plan_assign)

    @staticmethod
    def _revoke_mode(entitlements: str | Sequence[str]) -> tuple[str, list[str]]:
        if entitlements == "*":
            return "set", []
        wanted = _entitlement_list(entitlements)
        if not wanted:
            raise InvalidInputError('name the entitlements to revoke, or "*" for all')
        return "remove", wanted

    def _revoke(
        self,
        users: Iterable[UserItem],
        entitlements: str | Sequence[str] = "*",
        *,
        dry_run: bool = False,
        batch_size: int = 25,
        concurrency: int = 8,
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_all: bool = False,
    ) -> Pending[BulkReport[UserItem]]:
        """Take entitlements away: ``"*"`` (the default) all of this license, or the ones
        named. Outcomes as for :meth:`assign` (``revoked`` / ``would_revoke``)."""
        _core.check_batch_size("provision", batch_size)
        mode, wanted = self._revoke_mode(entitlements)
        plan = self._plan_provision(users, mode, wanted, allow_all)
        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            batch_size=batch_size,
            progress=progress,
        )

    revoke = blocking(_revoke)
    revoke_async = awaiting(_revoke)

    def _plan_revoke(
        self,
        users: Iterable[UserItem],
        entitlements: str | Sequence[str] = "*",
        *,
        allow_all: bool = False,
    ) -> Pending[Plan]:
        """Plan :meth:`revoke`; nothing is sent."""
        mode, wanted = self._revoke_mode(entitlements)
        return self._plan_provision(users, mode, wanted, allow_all)

    plan_revoke = blocking(_plan_revoke)
    plan_revoke_async = awaiting(_plan_revoke)


def _disconnected(users: list[UserEntitlement]) -> list[UserEntitlement]:
    return [u for u in users if u.disconnected]


class LicenseManager:
    """The organization's named-user licenses: ``gis.admin.license``."""

    def __init__(self, gis: GIS) -> None:
        self._gis = gis
        self._core = gis._core.license_admin()

    @property
    def release_license(self) -> NoReturn:
        """The official client's name (on ``gis.admin.system.licenses``): an error that
        names :meth:`release`."""
        raise missing(self, "release_license")

    def _license(self, data: dict[str, Any]) -> License:
        return License(self, data)

    def _licenses(self, found: list[dict[str, Any]]) -> list[License]:
        return [License(self, data) for data in found]

    def _all(self) -> Pending[list[License]]:
        """Every active license (purchases and trials)."""
        return Then(self._core.licenses(), self._licenses)

    all = blocking(_all)
    all_async = awaiting(_all)

    def _get(self, name: str) -> Pending[License]:
        """A license by title (``"ArcGIS Pro"``), friendly name (``"pro"``,
        ``"drone2map"``, ``"allsource"``) or listing item id.

        Raises:
            NotFoundError: No such license; the message lists the organization's.
        """
        check_text(name=name)
        return Then(self._core.license(name), self._license)

    get = blocking(_get)
    get_async = awaiting(_get)

    def _release(self, username: UserItem, app: str = "arcgisprodesktop") -> Pending[None]:
        """Release the license of ``app`` that a member checked out for offline use.

        The right endpoint is picked for the deployment: classic ArcGIS Enterprise 10.7+
        (``portaladmin/license/releaseLicense``), before 10.7
        (``portaladmin/system/licenses/releaseLicense``), or Enterprise on Kubernetes
        (``admin/orgs/<orgID>/license/releaseLicense``, the org id found automatically).

        Args:
            username: The member (user name or :class:`~gislicense.User`).
            app: ``arcgisprodesktop`` ("pro"), ``drone2map`` or ``arcgisallsource``
                ("allsource"); refused before sending when unknown or when the portal is
                too old for it.

        Raises:
            InvalidInputError: Unknown app, a portal too old for it, or ArcGIS Online.
            PermissionDeniedError: The signed-in user lacks the "Manage Licenses" privilege.
            NotFoundError: The portal has no such member.
            ServerError: The portal refused otherwise, with its messages.
            OutcomeUnknownError: The release was sent and its answer lost, and a second look
                could not confirm it (the license is still checked out, or unreadable).
        """
        check_text(app=app)
        return self._core.release(_username(username), app)

    release = blocking(_release)
    release_async = awaiting(_release)

    def _release_many(
        self,
        users: Iterable[UserItem],
        app: str = "arcgisprodesktop",
        *,
        dry_run: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY["release"],
        journal: JournalArg = None,
        progress: ProgressArg = None,
    ) -> Pending[BulkReport[UserItem]]:
        """Release the offline licenses of many members, ``concurrency`` (16) at a time:
        plan (:meth:`plan_release`), then apply, journaled (see ``journal`` of
        :meth:`~gislicense.users.UserManager.update_license_type`).

        Returns:
            One outcome per member: ``released`` (``would_release``), ``unchanged`` (the
            license shows nothing checked out), ``skipped`` (listed before) or ``failed``
            with the portal's reason.
        """
        plan = self._plan_release(users, app)
        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            progress=progress,
        )

    release_many = blocking(_release_many)
    release_many_async = awaiting(_release_many)

    def _plan_release(
        self, users: Iterable[UserItem], app: str = "arcgisprodesktop", *, allow_all: bool = False
    ) -> Pending[Plan]:
        """Plan releasing the offline licenses of many members; nothing is sent. Members
        with nothing checked out are ``unchanged``. Releases cannot be undone."""
        check_text(app=app)
        request = {"operation": "release", "app": app, "allow_all": allow_all}
        return plan_members(self._gis, users, request)

    plan_release = blocking(_plan_release)
    plan_release_async = awaiting(_plan_release)

    def _release_and_update(
        self,
        users: Iterable[UserItem],
        *,
        user_type: str | None = None,
        entitlements: str | Sequence[str] | None = None,
        license: str = "ArcGIS Pro",
        app: str = "arcgisprodesktop",
        dry_run: bool = False,
        concurrency: int = 8,
        roles: str | None = None,
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[BulkReport[UserItem]]:
        """Release each member's offline license of ``app``, then change their user type
        and/or set their entitlements under ``license`` (``[]`` or ``"*"`` revokes them
        all): the change the check-out would otherwise block.

        Returns:
            One outcome per member (``changed`` / ``would_change`` / ``unchanged`` /
            ``skipped`` / ``failed``), each with ``steps``: the outcomes of ``release``,
            ``user_type`` and ``entitlements``. The plan comes first
            (:meth:`plan_release_and_update`): a member whose other steps are predicted to
            fail is not released (a release cannot be undone), and a member whose step fails
            goes no further, the report saying which steps went through.
        """
        plan = self._plan_release_and_update(
            users,
            user_type=user_type,
            entitlements=entitlements,
            license=license,
            app=app,
            roles=roles,
            allow_admin_demotion=allow_admin_demotion,
            allow_all=allow_all,
        )
        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            progress=progress,
        )

    release_and_update = blocking(_release_and_update)
    release_and_update_async = awaiting(_release_and_update)

    def _plan_release_and_update(
        self,
        users: Iterable[UserItem],
        *,
        user_type: str | None = None,
        entitlements: str | Sequence[str] | None = None,
        license: str = "ArcGIS Pro",
        app: str = "arcgisprodesktop",
        roles: str | None = None,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[Plan]:
        """Plan :meth:`release_and_update`; nothing is sent. Each member's steps are
        ``role`` (with ``roles="auto"`` when the new user type needs it, or with a role's
        name or id, as for :meth:`~gislicense.users.UserManager.plan_license_type`), ``release``,
        ``user_type``, ``entitlements``; a member is released only if the rest is predicted
        to go through."""
        check_text(user_type=user_type, license=license, app=app, roles=roles)
        request = {
            "operation": "release_and_update",
            "app": app,
            "user_type": user_type,
            "license": license,
            "entitlements": None if entitlements is None else _wanted(entitlements),
            "roles": roles,
            "allow_admin_demotion": allow_admin_demotion,
            "allow_all": allow_all,
        }
        return plan_members(self._gis, users, request)

    plan_release_and_update = blocking(_plan_release_and_update)
    plan_release_and_update_async = awaiting(_plan_release_and_update)


def _wanted(entitlements: str | Sequence[str]) -> list[str]:
    """Entitlements to end with; ``"*"`` or ``[]`` for none."""
    return [] if entitlements == "*" else _entitlement_list(entitlements)


class AdminManager:
    """Administration of the organization: ``gis.admin``."""

    def __init__(self, gis: GIS) -> None:
        self._gis = gis
        self._license: LicenseManager | None = None

    @property
    def system(self) -> NoReturn:
        """The official client's ``gis.admin.system``: an error that names
        :attr:`license`."""
        raise missing(self, "system")

    @property
    def license(self) -> LicenseManager:
        """Named-user licenses: ArcGIS Pro entitlements, offline check-outs, releases."""
        if self._license is None:
            self._license = LicenseManager(self._gis)
        return self._license
