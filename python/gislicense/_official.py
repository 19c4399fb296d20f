"""Where a script written for the official ArcGIS API for Python (2.4.x) uses a name that
gislicense takes otherwise, the error names the gislicense way (one table, raised by a
property of that name on the class concerned); and the roles list that answers to the
official client's ``RoleManager``."""

from __future__ import annotations

from gislicense._core import Role

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

#: (class, the official client's attribute) -> what to use in gislicense.
_INSTEAD = {
    ("LicenseManager", "release_license"): (
        "gis.admin.license.release(username) (app= for Drone2Map or AllSource), which names "
        "the member on every deployment and raises when the portal refuses"
    ),
    ("AdminManager", "system"): (
        "gis.admin.license: release(username) frees a license checked out for offline use, "
        "all() and get(name) list the licenses"
    ),
}


def missing(owner: object, name: str) -> AttributeError:
    """The AttributeError for ``owner.name``, naming the gislicense way when ``name`` is
    the official client's."""
    kind = type(owner).__name__
    text = f"{kind!r} object has no attribute {name!r}"
    instead = _INSTEAD.get((kind, name))
    if instead is not None:
        text += f" (the official client's name): in gislicense use {instead}"
    return AttributeError(text)


#: Roles the official client's ``gis.users.roles.all()`` leaves out: every organization has
#: them, and they are not among ``portals/self/roles``.
_BASE_ROLES = frozenset({"org_admin", "org_publisher", "org_user"})


class Roles(list[Role]):
    """The organization's roles (``gis.users.roles``): the built-in ones, then the
    organization's. Also what the official client's ``RoleManager`` answers to:
    :meth:`all` and :meth:`get_role`."""

    def __init__(self, roles: Iterable[Role] = ()) -> None:
        super().__init__(roles)

    def all(self, max_roles: int = 1000) -> list[Role]:
        """As the official client's ``gis.users.roles.all()``: the Viewer and Data Editor
        roles and the custom ones, without ``org_admin``, ``org_publisher``, ``org_user``."""
        return [role for role in self if role.id not in _BASE_ROLES][:max_roles]

    def get_role(self, role_id: str) -> Role | None:
        """As the official client's: a role other than the built-in three, by id or name
        (exactly), or None."""
        return next((r for r in self.all() if role_id in (r.id, r.name)), None)

    def exists(self, role_name: str) -> bool:
        """Whether :meth:`all` has a role of this name, in any letter case."""
        return any(r.name.lower() == role_name.lower() for r in self.all())
