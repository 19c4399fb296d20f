"""Choosing members by what they are: one rule for the library, the command line and the
examples.

A change named member by member does what it is told. A change that *selects* members (all
Creators, everyone idle for 90 days) is where accidents happen, so a selection:

- leaves out the administrators (members whose base role is ``org_admin``: the
  Administrator role, and custom roles with administrative privileges, which a portal
  reports under that base role) unless ``include_admins=True``, and says so: the plan made
  from it lists them in its notes;
- counts a member idle when they have not signed in for ``idle_days`` days and joined
  before that (a member added last week who has not signed in yet is not idle);
- leaves out the names in ``exclude`` (any letter case).

Seats are then given by the plan, longest idle first (never signed in first, then the
oldest sign-in), then by user name: members beyond the seats left are predicted to fail
"no seat left", never moved silently or dropped.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gislicense._calls import Pending, Then
from gislicense.exceptions import InvalidInputError

if TYPE_CHECKING:
    from gislicense.portal import GIS
    from gislicense.users import Role, User, UserType

__all__ = ["Selection", "is_idle"]

#: The built-in Administrator role's id.
ADMINISTRATOR = "org_admin"


class Selection(list["User"]):
    """Members chosen by :meth:`~gislicense.users.UserManager.select`: a list of
    :class:`~gislicense.User`, with what was left out.

    Attributes:
        notes: What the selection left out and why; a plan made from it lists them.
        left_out: The administrators left out (without ``include_admins``).
    """

    def __init__(self, members: Iterable[User], notes: list[str], left_out: list[User]) -> None:
        super().__init__(members)
        self.notes = notes
        self.left_out = left_out


def _is_admin(member: User) -> bool:
    """An administrator: the built-in role, or a custom one under the base role org_admin."""
    return member.role_id == ADMINISTRATOR or member.raw.get("role") == ADMINISTRATOR


def is_idle(member: User, idle_days: int, now: _dt.datetime | None = None) -> bool:
    """Not signed in for ``idle_days`` days (or never), and a member for that long."""
    cutoff = (now or _dt.datetime.now(_dt.timezone.utc)) - _dt.timedelta(days=idle_days)
    last, joined = member.last_login, member.created
    return (last is None or last < cutoff) and (joined is None or joined < cutoff)


def select(
    gis: GIS,
    *,
    user_type: str | UserType | None = None,
    role: str | Role | None = None,
    idle_days: int | None = None,
    include_admins: bool = False,
    exclude: Iterable[str] = (),
) -> Pending[Selection]:
    """The members of ``user_type`` and ``role`` idle for ``idle_days`` (each when given),
    less ``exclude`` and, unless ``include_admins``, the administrators."""
    if isinstance(exclude, str):
        raise InvalidInputError("exclude= takes a list of user names, not one string")
    if idle_days is not None and (
        isinstance(idle_days, bool) or not isinstance(idle_days, int) or idle_days < 0
    ):
        raise InvalidInputError(f"idle_days is a whole number of days, 0 or more: {idle_days!r}")
    excluded = {name.casefold() for name in exclude}

    def chosen(members: list[User]) -> Selection:
        kept = [
            m
            for m in members
            if m.username.casefold() not in excluded
            and (idle_days is None or is_idle(m, idle_days))
        ]
        if include_admins:
            return Selection(kept, [], [])
        admins = [m for m in kept if _is_admin(m)]
        notes = []
        if admins:
            names = ", ".join(m.username for m in admins)
            notes.append(
                f"left out {len(admins)} administrator(s) the selection matched ({names}): "
                "name them, or select with include_admins=True (--include-admins), to "
                "change them too"
            )
        return Selection([m for m in kept if not _is_admin(m)], notes, admins)

    return Then(gis.users._search(user_type=user_type, role=role), chosen)
