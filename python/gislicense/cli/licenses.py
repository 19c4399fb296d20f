"""``gislicense licenses``: the named-user licenses the organization bought (ArcGIS
Pro...), who holds them, and assigning, revoking and releasing them."""

from __future__ import annotations

from gislicense.cli.common import EXIT_OK, UsageError
from gislicense.cli.members import add_member_options, members, nothing_selected
from gislicense.cli.options import command
from gislicense.cli.running import run_plan, run_read

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gislicense import GIS
    from gislicense.cli.context import Context
    from gislicense.cli.options import Parents


def add_commands(verbs: Any, p: Parents) -> None:
    _add_readers(verbs, p)
    _add_assign_and_revoke(verbs, p)
    _add_release(verbs, p)


def _add_readers(verbs: Any, p: Parents) -> None:
    command(verbs, "list", "the licenses the organization bought", run_list, p.out, p.conn)
    report = command(
        verbs, "report", "bought, assigned and left of each entitlement", run_report, p.out, p.conn
    )
    report.add_argument("--license", help="only this license (pro, drone2map, a title)")
    report.add_argument(
        "--flexnet",
        metavar="PORT@HOST",
        help="an ArcGIS License Manager's features instead (--all-profiles reads saved ones too)",
    )
    report.add_argument("--lmutil", metavar="PATH", help="FlexNet's lmutil (default: on PATH)")
    offline = command(
        verbs,
        "offline",
        "members with a license checked out for offline use",
        run_offline,
        p.out,
        p.conn,
    )
    offline.add_argument("--license", help="only this license (pro, drone2map, a title)")
    holders = command(
        verbs,
        "holders",
        "who holds which entitlement (ArcGIS Pro...), with their last sign-in",
        run_holders,
        p.out,
        p.conn,
    )
    holders.add_argument("--license", help="only this license (pro, drone2map, a title)")
    holders.add_argument(
        "--entitlement",
        "-e",
        action="append",
        metavar="ID",
        help="only holders of this entitlement (desktopAdvN...); repeatable",
    )


def _add_assign_and_revoke(verbs: Any, p: Parents) -> None:
    assign = command(
        verbs, "assign", "give members entitlements", run_assign, p.out, p.conn, p.change
    )
    add_member_options(assign, "give entitlements")
    assign.add_argument("--license", default="pro", help="the license (pro)")
    assign.add_argument(
        "--entitlements",
        "-e",
        nargs="+",
        required=True,
        metavar="ID",
        help="entitlement ids (desktopAdvN, spatialAnalystN...)",
    )
    assign.add_argument(
        "--add",
        action="store_true",
        help="add to what each member holds (default: set exactly these)",
    )
    revoke = command(verbs, "revoke", "take entitlements away", run_revoke, p.out, p.conn, p.change)
    add_member_options(revoke, "take entitlements from")
    revoke.add_argument("--license", default="pro", help="the license (pro)")
    revoke.add_argument(
        "--entitlements",
        "-e",
        nargs="+",
        default=["*"],
        metavar="ID",
        help="entitlement ids (default: all)",
    )


def _add_release(verbs: Any, p: Parents) -> None:
    release = command(
        verbs,
        "release",
        "release licenses checked out for offline use (cannot be undone)",
        run_release,
        p.out,
        p.conn,
        p.change,
    )
    add_member_options(release, "release")
    release.add_argument("--app", default="pro", help="pro (default), drone2map or allsource")
    after = release.add_argument_group("then, for each member released")
    after.add_argument(
        "--user-type",
        metavar="TYPE",
        help="change the user type (the change the check-out was blocking): a departed "
        "employee down to viewer, say",
    )
    after.add_argument(
        "--revoke", action="store_true", help="revoke their entitlements under the license"
    )
    after.add_argument(
        "--role",
        metavar="ROLE",
        help="with --user-type: auto (the role the new type needs), or a role to give",
    )


async def _license_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    return [
        {"license": lic.title, "item_id": lic.item_id, "entitlements": lic.entitlements}
        for lic in await gis.admin.license.all_async()
    ]


def run_list(context: Context) -> int:
    columns = ["license", "item_id", "entitlements"]
    return run_read(context, "portal", _license_rows, columns, None, "licenses")


async def _licenses(context: Context, gis: GIS) -> list[Any]:
    name = context.args.license
    if name:
        return [await gis.admin.license.get_async(name)]
    return await gis.admin.license.all_async()


async def _report_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    return [
        {"license": lic.title, **count.as_dict()}
        for lic in await _licenses(context, gis)
        for count in await lic.report_async()
    ]


async def _feature_rows(context: Context, flexnet: Any) -> list[dict[str, Any]]:
    """A License Manager's features in the report's columns: issued, in use, free (None
    where the server gives an error instead of totals)."""
    return [
        {
            "license": f"License Manager {flexnet.server}",
            "entitlement": f.name,
            "total": f.issued,
            "assigned": f.in_use,
            "remaining": f.free,
        }
        for f in await flexnet.get_features_async()
    ]


async def _any_report_rows(context: Context, client: Any) -> list[dict[str, Any]]:
    from gislicense.flexnet import FlexNet

    if isinstance(client, FlexNet):
        return await _feature_rows(context, client)
    return await _report_rows(context, client)


def run_report(context: Context) -> int:
    columns = ["license", "entitlement", "total", "assigned", "remaining"]
    if context.args.flexnet:
        return run_read(context, "flexnet", _feature_rows, columns, None, "features")
    return run_read(
        context, "portal", _any_report_rows, columns, None, "entitlements", also="flexnet"
    )


async def _offline_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    return [
        {
            "license": lic.title,
            "username": held.username,
            "entitlements": held.entitlements,
            "last_login": held.last_login,
        }
        for lic in await _licenses(context, gis)
        for held in await lic.offline_async()
    ]


def run_offline(context: Context) -> int:
    columns = ["license", "username", "entitlements", "last_login"]
    return run_read(
        context, "portal", _offline_rows, columns, None, "licenses checked out for offline use"
    )


async def _holder_rows(context: Context, gis: GIS) -> list[dict[str, Any]]:
    wanted = set(context.args.entitlement or [])
    return [
        {
            "license": lic.title,
            "username": held.username,
            "entitlements": ", ".join(held.entitlements),
            "offline": held.disconnected,
            "last_login": held.last_login,
        }
        for lic in await _licenses(context, gis)
        for held in await lic.users_async()
        if held.entitlements and (not wanted or wanted & set(held.entitlements))
    ]


def run_holders(context: Context) -> int:
    columns = ["license", "username", "entitlements", "offline", "last_login"]
    return run_read(context, "portal", _holder_rows, columns, None, "holders")


def run_assign(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = members(context, gis)
    if not names:
        return nothing_selected(context, names)
    plan = gis.admin.license.get(args.license).plan_assign(
        names, args.entitlements, overwrite=not args.add, allow_all=args.allow_all
    )
    return run_plan(context, plan)


def run_revoke(context: Context) -> int:
    args = context.args
    gis = context.portal()
    names = members(context, gis)
    if not names:
        return nothing_selected(context, names)
    entitlements = "*" if args.entitlements == ["*"] else args.entitlements
    plan = gis.admin.license.get(args.license).plan_revoke(
        names, entitlements, allow_all=args.allow_all
    )
    return run_plan(context, plan)


#: Which license an app's check-out is under, for ``release --all``.
_APP_LICENSE = {"arcgisprodesktop": "pro", "arcgisallsource": "allsource"}


def run_release(context: Context) -> int:
    args = context.args
    gis = context.portal()
    named = bool(args.users or args.users_file or args.idle_days is not None)
    if args.allow_all and named:
        raise UsageError("name the members or release --all, not both")
    if args.allow_all:
        # --all alone: everyone who has the app checked out now.
        license = gis.admin.license.get(_APP_LICENSE.get(args.app.lower(), args.app))
        names = [held.username for held in license.offline]
        excluded = {name.casefold() for name in args.exclude}
        names = [n for n in names if n.casefold() not in excluded]
    else:
        names = members(context, gis)
    if not names:
        context.say("No one has it checked out: nothing to release.")
        return EXIT_OK
    if args.role and not args.user_type:
        raise UsageError("--role goes with --user-type")
    if args.user_type or args.revoke:
        # Release, then the changes the check-out was blocking: one plan, one journal.
        plan = gis.admin.license.plan_release_and_update(
            names,
            user_type=args.user_type,
            entitlements="*" if args.revoke else None,
            license=_APP_LICENSE.get(args.app.lower(), args.app),
            app=args.app,
            roles=args.role,
            allow_all=args.allow_all,
        )
    else:
        plan = gis.admin.license.plan_release(names, args.app, allow_all=args.allow_all)
    return run_plan(context, plan)
