"""Members of a portal: :class:`User` and ``gis.users`` (:class:`UserManager`): reading,
searching and selecting members, and changing their user types, roles and levels.

Names follow the official ArcGIS API for Python (``gis.users.get``, ``gis.users.search``,
``user.update_license_type``) so scripts move over with few changes.
"""

from __future__ import annotations

from gislicense import _core
from gislicense._calls import NoneWhen, Pending, Then, awaiting, blocking
from gislicense._core import Role, UserType
from gislicense._generic import partial
from gislicense._official import Roles
from gislicense._text import check_text, check_whole
from gislicense.exceptions import InvalidInputError, NotFoundError

# typing's names for type checkers only (see _generic.py). The methods that change members
# import plans themselves: reading members does not need it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import Any, Union

    from gislicense._progress import ProgressArg
    from gislicense.bulk import BulkReport
    from gislicense.plans import JournalArg, Plan
    from gislicense.portal import GIS
    from gislicense.selection import Selection

    #: What bulk changes take: user names or :class:`User` objects.
    UserItem = Union[str, "User"]
else:
    # collections.abc's Mapping itself: collections.abc re-exports _collections_abc, which
    # Python loads at start, and importing it would load all of collections.
    from _collections_abc import Mapping

    from gislicense._generic import Any

    def __getattr__(name: str) -> object:
        # UserItem for code that reads it at run time, made on first use.
        if name == "UserItem":
            from typing import Union

            return Union[str, "User"]
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Role", "User", "UserManager", "UserType"]

#: sort_field values, as the official client takes them, and the member field each sorts by.
_SORT_FIELDS = {
    "username": "username",
    "fullname": "fullName",
    "firstname": "firstName",
    "lastname": "lastName",
    "created": "created",
    "modified": "modified",
    "lastlogin": "lastLogin",
    "email": "email",
    "level": "level",
    "role": "role",
    "usertype": "userLicenseTypeId",
}


def _sort_value(value: Any) -> Any:
    # Text without regard to case; numbers (times, levels) as numbers.
    return value.casefold() if isinstance(value, str) else value


def _type_id(user_type: Any) -> Any:
    """A UserType record stands for its id, as the official client's dicts do."""
    return user_type.id if isinstance(user_type, UserType) else user_type


def _role_id(role: Any) -> Any:
    """A Role record stands for its id."""
    return role.id if isinstance(role, Role) else role


def _utc(ms: Any) -> _dt.datetime | None:
    """A time in ms since 1970 as a UTC datetime; None for never (-1), missing or garbage,
    or a time Python's datetime cannot hold (one bad field from a server must not break a
    listing; the value as received stays in ``raw``)."""
    return _core.utc_from_ms(ms)


class User(Mapping[str, Any]):
    """A member of the organization.

    Attributes are typed views over :attr:`raw`, the user exactly as the portal described
    it; any other portal field is readable as an attribute too (``user.fullName``) or by
    key (``user["fullName"]``), as with the official client. A member is a read-only
    mapping of its portal fields, as the official client's ``User`` (a dict) is: ``dict(user)``,
    ``user.get("email")``, ``pandas.DataFrame(users)`` work.

    A member from a listing keeps the portal's text of it until its fields are first used
    (any attribute, key, comparison or ``repr``), and reads them then: the listing itself
    has already checked every member, so this cannot fail.
    """

    __slots__ = ("_gis", "_listed", "_raw")

    def __init__(self, gis: GIS, raw: dict[str, Any] | _core.ListedMember) -> None:
        self._gis = gis
        if isinstance(raw, dict):
            self._raw = raw
            self._listed: _core.ListedMember | None = None
        else:
            # Listed: `_raw` is left unset, and read from the text on first use.
            self._listed = raw

    @property
    def raw(self) -> dict[str, Any]:
        """Every field as received."""
        return self._raw

    @property
    def username(self) -> str:
        return str(self._raw.get("username", ""))

    @property
    def full_name(self) -> str | None:
        return self._raw.get("fullName")

    @property
    def email(self) -> str | None:
        """Visible to administrators and to the user themself."""
        return self._raw.get("email")

    @property
    def role(self) -> str | None:
        """The role as the official client reads it: a custom role's name ("Viewer",
        "Data Editor", or the organization's own), or a built-in role's id (``org_admin``,
        ``org_publisher``, ``org_user``). A signed-in user who may not read the roles sees
        ids only. ``user["role"]`` reads the same; :attr:`raw` keeps the portal's field."""
        role_id = self.role_id
        return None if role_id is None else self._gis._core.role_name(role_id)

    @property
    def role_id(self) -> str | None:
        """A custom role's id (Viewer ``iAAAAAAAAAAAAAAA``...), else the built-in role's id."""
        return self._raw.get("roleId") or self._raw.get("role")

    @property
    def user_type(self) -> str | None:
        """The user type id (``userLicenseTypeId``), e.g. ``creatorUT``."""
        return self._raw.get("userLicenseTypeId")

    @property
    def level(self) -> int | None:
        level = self._raw.get("level")
        try:
            return int(level) if level is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def last_login(self) -> _dt.datetime | None:
        """Last sign-in (UTC), or None if the member never signed in."""
        return _utc(self._raw.get("lastLogin"))

    @property
    def created(self) -> _dt.datetime | None:
        return _utc(self._raw.get("created"))

    @property
    def modified(self) -> _dt.datetime | None:
        return _utc(self._raw.get("modified"))

    @property
    def disabled(self) -> bool:
        return bool(self._raw.get("disabled", False))

    def __getitem__(self, key: str) -> Any:
        if key == "role" and key in self._raw:
            # As the official client's User reads it: the custom role's name.
            return self.role
        return self._raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes: `_raw` not yet read, and portal
        # fields, arcgis-style.
        if name == "_raw":
            return self._read_listed()
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._raw[name]
        except KeyError:
            raise AttributeError(f"a User has no attribute or portal field {name!r}") from None

    def _read_listed(self) -> dict[str, Any]:
        """A listed member's fields, read from its text once (the same dict every time)."""
        listed = self._listed
        if listed is None:
            # Read meanwhile by another thread, which set `_raw` first.
            raw: dict[str, Any] = object.__getattribute__(self, "_raw")
            return raw
        raw = listed.fields()
        self._raw = raw
        self._listed = None  # lets the page's text go once its members are all read
        return raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self.username.lower())

    def __repr__(self) -> str:
        return f"<User {self.username!r} type={self.user_type!r} role={self.role!r}>"

    def _repr_html_(self) -> str:
        from gislicense import _html

        return _html.fields(
            f"User {self.username}",
            [
                ("full name", self.full_name),
                ("user type", self.user_type),
                ("role", self.role),
                ("level", self.level),
                ("last sign-in", self.last_login or "never"),
                ("created", self.created),
                ("disabled", self.disabled),
            ],
        )

    def _set_raw(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def _done(self, raw: dict[str, Any]) -> bool:
        self._raw = raw
        return True

    def _refresh(self) -> Pending[None]:
        """Read the member again from the portal.

        Raises:
            NotFoundError: The member is no longer there.
        """
        return Then(self._gis._core.get_user(self.username), self._set_raw)

    refresh = blocking(_refresh)
    refresh_async = awaiting(_refresh)

    def _update_license_type(self, user_type: str | UserType) -> Pending[bool]:
        """Change this member's user type, then re-read the member. True once done (as
        the official client returns).

        Args:
            user_type: An id (``creatorUT``) or a name: "viewer", "contributor", "mobile
                worker", "creator", "professional", "professional plus", or the portal's own.

        Raises:
            InvalidInputError: An unknown user type (the valid ones are listed), before sending.
            PermissionDeniedError: The signed-in user is not an administrator.
            ServerError: The portal refused, with its reason (no seats left, a role the user
                type cannot hold, an ArcGIS Pro license checked out for offline use...).
            OutcomeUnknownError: The change was sent and its answer lost, and re-reading the
                member did not show it made.
        """
        type_id = _type_id(user_type)
        check_text(user_type=type_id)
        call = self._gis._core.update_license_type(self.username, type_id)
        return Then(call, self._done)

    update_license_type = blocking(_update_license_type)
    update_license_type_async = awaiting(_update_license_type)

    def _update_role(self, role: str | Role) -> Pending[bool]:
        """Change this member's role, then re-read the member. True once done.

        Args:
            role: ``org_admin``/"administrator", ``org_publisher``/"publisher",
                ``org_user``/"user", "viewer", "data editor", or a custom role's name or id.

        Raises:
            OutcomeUnknownError: The change was sent and its answer lost, and re-reading the
                member did not show it made.
        """
        role_id = _role_id(role)
        check_text(role=role_id)
        return Then(self._gis._core.update_role(self.username, role_id), self._done)

    update_role = blocking(_update_role)
    update_role_async = awaiting(_update_role)

    def _update_level(self, level: int) -> Pending[bool]:
        """Change the user level (1 or 2): portals before 10.7 only; newer ones derive the
        level from the user type and refuse other levels. True once done."""
        check_whole(level=level)
        return Then(self._gis._core.update_level(self.username, level), self._done)

    update_level = blocking(_update_level)
    update_level_async = awaiting(_update_level)


def _member(item: object) -> tuple[object, str | None, str | None]:
    """(username, current user type, current role id) of a bulk item. Anything else comes
    back as it is: the core fails that item alone, saying what it got instead."""
    if type(item) is str:  # the common case, without Mapping's slow isinstance check
        return item, None, None
    if isinstance(item, User):
        return item.username, item.user_type, item.role_id
    return item, None, None


class UserManager:
    """The organization's members: ``gis.users``."""

    def __init__(self, gis: GIS) -> None:
        self._gis = gis

    def _user(self, raw: dict[str, Any]) -> User:
        return User(self._gis, raw)

    def _wrap(self) -> Callable[[_core.ListedMember], User]:
        """How the core makes a member of each listed member, as its page arrives."""
        return partial(User, self._gis)

    def _get(self, username: str) -> Pending[User | None]:
        """A member by user name (or user id); None when the portal has no such member (or
        none the signed-in user may see), as the official client returns. (A member read
        again with :meth:`User.refresh` who is gone raises :class:`NotFoundError`.)"""
        check_text(username=username)
        found = NoneWhen(self._gis._core.get_user(username), NotFoundError)
        return Then(found, self._user_or_none)

    def _user_or_none(self, raw: dict[str, Any] | None) -> User | None:
        return None if raw is None else User(self._gis, raw)

    get = blocking(_get)
    get_async = awaiting(_get)

    def _me(self) -> Pending[User]:
        return Then(self._gis._core.me(), self._user)

    @property
    def me(self) -> User:
        """The signed-in user."""
        return self._me().wait()

    me_async = awaiting(_me)

    def _search(
        self,
        query: str | None = None,
        *,
        user_type: str | UserType | None = None,
        role: str | Role | None = None,
        max_users: int | None = None,
        sort_field: str = "username",
        sort_order: str = "asc",
        outside_org: bool = False,
    ) -> Pending[list[User]]:
        """Members of the organization, in user name order (or ``sort_field``'s).

        Without ``query`` this lists the organization (``portals/self/users``, which needs
        an administrator); after the first page, which tells the total, the other pages are
        fetched concurrently. With ``query`` it searches (``community/users`` syntax:
        ``"smith"``, ``"username:j*"``, ``"fullname:Ann*"``) within the organization.

        Args:
            query: A search; None lists every member.
            user_type: Only members of this user type (id or name, as for
                :meth:`User.update_license_type`).
            role: Only members with this role (id or name).
            max_users: Stop after this many; None for all (the official client's default
                is 100).
            sort_field: ``username``, ``fullname``, ``firstname``, ``lastname``,
                ``created``, ``modified``, ``lastlogin``, ``email``, ``level``, ``role`` or
                ``usertype`` (any letter case), as the official client takes it; members
                without the field come last.
            sort_order: ``asc`` or ``desc``.
            outside_org: Refused: gislicense reads your organization's members only.
        """
        _check_max(max_users)
        type_id, role_id = _type_id(user_type), _role_id(role)
        check_text(query=query, user_type=type_id, role=role_id)
        if outside_org:
            raise InvalidInputError(
                "gislicense searches your organization's members only (outside_org=True "
                "searches every public account in the official client)"
            )
        key = _SORT_FIELDS.get(sort_field.lower().replace("_", ""))
        if key is None:
            raise InvalidInputError(
                f"sort_field {sort_field!r} is not one of {', '.join(sorted(_SORT_FIELDS))}"
            )
        if sort_order.lower() not in ("asc", "desc"):
            raise InvalidInputError(f"sort_order is 'asc' or 'desc', not {sort_order!r}")
        core = self._gis._core
        if key == "username" and sort_order.lower() == "asc":
            return core.search_users(query, type_id, role_id, max_users, self._wrap())
        # Sorted here: every member is read, then sorted, then cut to max_users.
        reverse = sort_order.lower() == "desc"

        def sorted_users(users: list[User]) -> list[User]:
            known = [u for u in users if u._raw.get(key) is not None]
            unknown = [u for u in users if u._raw.get(key) is None]
            known.sort(key=lambda u: _sort_value(u._raw[key]), reverse=reverse)
            return (known + unknown)[:max_users]

        every = core.search_users(query, type_id, role_id, None, self._wrap())
        return Then(every, sorted_users)

    search = blocking(_search)
    search_async = awaiting(_search)

    def _select(
        self,
        *,
        user_type: str | UserType | None = None,
        role: str | Role | None = None,
        idle_days: int | None = None,
        include_admins: bool = False,
        exclude: Iterable[str] = (),
    ) -> Pending[Selection]:
        """Members chosen by what they are, for a change: of ``user_type`` and ``role``, not
        signed in for ``idle_days`` days (and members for that long), less ``exclude``.

        The administrators (the Administrator role, and custom administrator roles) are
        left out unless ``include_admins=True``; the selection's ``notes`` name them, and a
        plan made from the selection lists those notes. Seats are given by the plan,
        longest idle first, then by user name (see :mod:`gislicense.selection`). The command
        line's ``--from``, ``--role`` and ``--idle-days`` selections are this one.

        Returns:
            A :class:`~gislicense.selection.Selection`: a list of :class:`User`, with
            ``notes`` and ``left_out``.
        """
        from gislicense.selection import select

        return select(
            self._gis,
            user_type=user_type,
            role=role,
            idle_days=idle_days,
            include_admins=include_admins,
            exclude=exclude,
        )

    select = blocking(_select)
    select_async = awaiting(_select)

    def _license_types(self) -> Pending[list[UserType]]:
        return self._gis._core.user_types()

    @property
    def license_types(self) -> list[UserType]:
        """The portal's user types, with seats when the signed-in user is an administrator."""
        return self._license_types().wait()

    license_types_async = awaiting(_license_types)

    def _license_type(self, user_type: str) -> Pending[UserType]:
        """One user type, by id or by name ("viewer", "contributor", "mobile worker",
        "creator", "professional", "professional plus", or the portal's own name).

        Raises:
            InvalidInputError: No such user type; the message lists the portal's.
        """
        check_text(user_type=user_type)
        return self._gis._core.user_type(user_type)

    license_type = blocking(_license_type)
    license_type_async = awaiting(_license_type)

    def _role(self, role: str) -> Pending[Role]:
        """One role, by id or name ("administrator", "publisher", "user", "viewer", "data
        editor", or a custom role's name).

        Raises:
            InvalidInputError: No such role; the message lists the organization's.
        """
        check_text(role=role)
        return self._gis._core.role(role)

    role = blocking(_role)
    role_async = awaiting(_role)

    def _roles(self) -> Pending[Roles]:
        return Then(self._gis._core.roles(), Roles)

    @property
    def roles(self) -> Roles:
        """The built-in roles and the organization's custom roles (read once per
        :class:`GIS`). The list also answers the official client's ``roles.all()`` and
        ``roles.get_role(id)``."""
        return self._roles().wait()

    roles_async = awaiting(_roles)

    def _plan_license_type(
        self,
        users: Iterable[UserItem],
        user_type: str | UserType,
        *,
        roles: str | None = None,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[Plan]:
        """Plan changing the user type of many members; nothing is sent.

        Args:
            users: User names or :class:`User` objects.
            user_type: Id or name, as for :meth:`User.update_license_type`; an unknown one
                is refused, with the valid ones listed.
            roles: ``"auto"`` adds the role change a member needs first (a Viewer holds only
                the Viewer role; a Contributor or Mobile Worker no publishing or
                administering role). A role's name or id (custom roles included) gives every
                member that role as well: ``roles="Data Editor"`` with ``"contributor"``
                makes them Contributors with the Data Editor role in one run. Without it
                members whose role the new type cannot hold are predicted to fail, saying so.
            allow_admin_demotion: Let the plan demote the signed-in administrator or the
                organization's last administrator (refused otherwise).
            allow_all: Let the plan change every member of the organization (refused
                otherwise, as an accident).

        Returns:
            A :class:`~gislicense.plans.Plan`: each member's prediction (``would_change``
            with its steps, ``unchanged``, ``skipped``, ``failed`` with the reason) before
            anything is sent; :meth:`~gislicense.plans.Plan.apply` does it.
        """
        user_type = _type_id(user_type)
        check_text(user_type=user_type, roles=roles)
        request = {
            "operation": "update_license_type",
            "user_type": user_type,
            "roles": roles,
            "allow_admin_demotion": allow_admin_demotion,
            "allow_all": allow_all,
        }
        from gislicense.plans import plan_members

        return plan_members(self._gis, users, request)

    plan_license_type = blocking(_plan_license_type)
    plan_license_type_async = awaiting(_plan_license_type)

    def _plan_role(
        self,
        users: Iterable[UserItem],
        role: str | Role,
        *,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[Plan]:
        """Plan changing the role of many members; nothing is sent. A role the member's
        user type cannot hold is predicted to fail; the signed-in administrator and the
        last administrator are not demoted unless ``allow_admin_demotion``."""
        role = _role_id(role)
        check_text(role=role)
        request = {
            "operation": "update_role",
            "role": role,
            "allow_admin_demotion": allow_admin_demotion,
            "allow_all": allow_all,
        }
        from gislicense.plans import plan_members

        return plan_members(self._gis, users, request)

    plan_role = blocking(_plan_role)
    plan_role_async = awaiting(_plan_role)

    def _plan_level(
        self,
        users: Iterable[UserItem],
        level: int,
        *,
        roles: str | None = None,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[Plan]:
        """Plan changing the level (1 or 2) of many members; nothing is sent.

        Levels were the license of a member before user types (Enterprise before 10.7).
        There a level 1 member holds only a custom role whose privileges are all level 1
        privileges, and each level has its seats (``portals/self`` says how many). On a
        portal with user types a member's level follows their user type: a member not
        already at ``level`` is predicted to fail, pointing to :meth:`plan_license_type`.

        Args:
            users: User names or :class:`User` objects.
            level: 1 or 2.
            roles: ``"auto"`` gives a member going to level 1 a level 1 role first (the
                Viewer role when it is one); a role's name or id gives every member that
                role. Without it members whose role the level cannot hold are predicted to
                fail.
            allow_admin_demotion, allow_all: As for :meth:`plan_license_type`.
        """
        check_text(roles=roles)
        # The level (1 or 2) is checked by the core, before anything is read.
        request = {
            "operation": "update_level",
            "level": level,
            "roles": roles,
            "allow_admin_demotion": allow_admin_demotion,
            "allow_all": allow_all,
        }
        from gislicense.plans import plan_members

        return plan_members(self._gis, users, request)

    plan_level = blocking(_plan_level)
    plan_level_async = awaiting(_plan_level)

    def _update_license_type(
        self,
        users: Iterable[UserItem],
        user_type: str | UserType,
        *,
        dry_run: bool = False,
        batch_size: int = 25,
        concurrency: int = 8,
        roles: str | None = None,
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[BulkReport[UserItem]]:
        """Change the user type of many members: plan (:meth:`plan_license_type`), then
        apply, ``batch_size`` users per request, ``concurrency`` requests at a time.

        Args:
            users: User names or :class:`User` objects.
            user_type: Id or name, as for :meth:`User.update_license_type`; an unknown one
                is refused before anything is sent, with the valid ones listed.
            dry_run: Report the plan's predictions; change nothing.
            batch_size: Users per request (1 to 100).
            concurrency: Requests in flight at once (1 to 256).
            roles: ``"auto"``: change the role first where the user type needs it; or a
                role's name or id: give every member that role too (see
                :meth:`plan_license_type`).
            journal: Where the run's journal goes: a path, None for a new file in
                :func:`~gislicense.plans.default_journal_dir`, False for none.
            progress: A progress display while applying: True, False, None (shown
                when someone is watching) or a function of (done, total), as for
                :meth:`~gislicense.plans.Plan.apply`.
            allow_admin_demotion: See :meth:`plan_license_type`.
            allow_all: See :meth:`plan_license_type`.

        Returns:
            One outcome per item, in order: ``changed`` (``would_change`` in a dry run),
            ``unchanged`` (already that type), ``skipped`` (listed before), or ``failed``
            with the reason: predicted ones are not sent. A dry run's statuses are what
            applying gives. The report's ``journal`` is the journal's path.
        """
        _core.check_batch_size("update_license_type", batch_size)
        plan = self._plan_license_type(
            users,
            user_type,
            roles=roles,
            allow_admin_demotion=allow_admin_demotion,
            allow_all=allow_all,
        )
        from gislicense.plans import change

        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            batch_size=batch_size,
            progress=progress,
        )

    update_license_type = blocking(_update_license_type)
    update_license_type_async = awaiting(_update_license_type)

    def _update_role(
        self,
        users: Iterable[UserItem],
        role: str | Role,
        *,
        dry_run: bool = False,
        concurrency: int = 8,
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[BulkReport[UserItem]]:
        """Change the role of many members: plan (:meth:`plan_role`), then apply,
        ``concurrency`` requests at a time (the portal takes one member per request).
        Outcomes as for :meth:`update_license_type`."""
        plan = self._plan_role(
            users, role, allow_admin_demotion=allow_admin_demotion, allow_all=allow_all
        )
        from gislicense.plans import change

        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            progress=progress,
        )

    update_role = blocking(_update_role)
    update_role_async = awaiting(_update_role)

    def _update_level(
        self,
        users: Iterable[UserItem],
        level: int,
        *,
        dry_run: bool = False,
        concurrency: int = 8,
        roles: str | None = None,
        journal: JournalArg = None,
        progress: ProgressArg = None,
        allow_admin_demotion: bool = False,
        allow_all: bool = False,
    ) -> Pending[BulkReport[UserItem]]:
        """Change the level of many members: plan (:meth:`plan_level`), then apply,
        ``concurrency`` requests at a time (the portal takes one member per request).
        Outcomes as for :meth:`update_license_type`."""
        plan = self._plan_level(
            users,
            level,
            roles=roles,
            allow_admin_demotion=allow_admin_demotion,
            allow_all=allow_all,
        )
        from gislicense.plans import change

        return change(
            plan,
            dry_run=dry_run,
            journal=journal,
            concurrency=concurrency,
            progress=progress,
        )

    update_level = blocking(_update_level)
    update_level_async = awaiting(_update_level)


def _check_max(max_users: int | None) -> None:
    if max_users is not None and (isinstance(max_users, bool) or max_users < 0):
        raise InvalidInputError(f"max_users must be None or 0 or more, not {max_users!r}")
    check_whole(max_users=max_users)
