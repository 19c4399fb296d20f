"""``gislicense users``: the organization's members, and changing their user types and
roles."""

from __future__ import annotations

from gislicense.cli.members import add_member_options, members, nothing_selected
from gislicense.cli.options import command, days
from gislicense.cli.running import run_plan, run_read

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from gislicense import GIS, User
    from gislicense.cli.context import Context
    from gislicense.cli.options import Parents


def add_commands(verbs: Any, p: Parents) -> None:
    listing = command(verbs, "list", "list the organization's members", run_list, p.out, p.conn)
    listing.add_argument("--type", dest="user_type", help="only this user type")
    listing.add_argument(
        "--role",
        help="only members whose role column reads so (viewer, data editor, user, publisher, "
        "administrator, or a custom role's name or id)",
    )
    listing.add_argument(
        "--idle-days", type=days, metavar="N", help="only members who have not signed in for N days"
    )
    set_type = command(
        verbs, "set-type", "change members' user type", run_set_type, p.out, p.conn, p.change
    )
    add_member_options(set_type, "change")
    set_type.add_argument(
        "--to",
        required=True,
        metavar="TYPE",
        help="the new user type (viewer, creator, GISProfessionalStdUT...)",
    )
    set_type.add_argument(
        "--from", dest="from_type", metavar="TYPE", help="select the members of this user type"
    )
    set_type.add_argument(
        "--role",
        metavar="ROLE",
        help="auto: change the role first where the new type needs it; or a role (viewer, "
        "data editor, a custom role's name or id): give every member that role too",
    )
    _add_admin_guard(set_type)
    set_role = command(
        verbs, "set-role", "change members' role", run_set_role, p.out, p.conn, p.change
    )
    add_member_options(set_role, "change")
    set_role.add_argument(
        "--to",
        required=True,
        metavar="ROLE",
        help="the new role (viewer, user, publisher, or a custom role)",
    )
    set_role.add_argument(
        "--from", dest="from_role", metavar="ROLE", help="select the members with this role"
    )
    _add_admin_guard(set_role)


def _add_admin_guard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-admin-demotion",
        action="store_true",
        help="let the change demote the signed-in or the last administrator",
    )


COLUMNS = ["username", "full_name", "user_type", "role", "last_login", "disabled"]
FIELDS = [
    "username",
    "full_name",
    "email",
    "user_type",
    "role",
    "role_id",
    "level",
    "last_login",
    "created",
    "modified",
    "disabled",
]


def _user_row(member: User) -> dict[str, Any]:
    return {field: getattr(member, field) for field in FIELDS}


async def _user_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    args = context.args
    found = await gis.users.search_async(user_type=args.user_type, role=args.role)
    if args.idle_days is not None:
        from gislicense.selection import is_idle

        found = [m for m in found if is_idle(m, args.idle_days)]
    return [_user_row(m) for m in found]


def run_list(context: Context) -> int:
    return run_read(context, "portal", _user_rows, COLUMNS, FIELDS, "members")


def run_set_type(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = members(context, gis, user_type=args.from_type)
    if not names:
        return nothing_selected(context, names)
    plan = gis.users.plan_license_type(
        names,
        args.to,
        roles=args.role,
        allow_admin_demotion=args.allow_admin_demotion,
        allow_all=args.allow_all,
    )
    return run_plan(context, plan)


def run_set_role(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = members(context, gis, role=args.from_role)
    if not names:
        return nothing_selected(context, names)
    plan = gis.users.plan_role(
        names, args.to, allow_admin_demotion=args.allow_admin_demotion, allow_all=args.allow_all
    )
    return run_plan(context, plan)
