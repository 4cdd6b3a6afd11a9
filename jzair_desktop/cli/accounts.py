"""user add / passwd / list / disable / enable."""

from __future__ import annotations

import argparse

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext
from jzair_desktop.services import accounts
from jzair_desktop.services.actor import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="用户账户：添加、修改密码、列出、停用、启用")
    usub = p.add_subparsers(dest="user_command", metavar="子命令", required=True, parser_class=type(p))

    roles = "、".join(f"{k}（{v}）" for k, v in ROLES.items())
    q = usub.add_parser(
        "add", help="添加用户（第一个账户无需登录且必须是 city_admin；之后需以市级管理员 --user 操作）",
        description="新账户的密码：标准输入不是终端时读取其第一行，否则提示输入两次。",
    )
    q.add_argument("name", metavar="NAME", help="用户名")
    q.add_argument("--role", required=True, choices=tuple(ROLES), metavar="ROLE", help=f"角色：{roles}")
    q.add_argument("--county", metavar="UNIT", help="县级管理员或县级填报员所属的县（区、市），名称或代码")
    q.add_argument("--display-name", metavar="TEXT", help="显示名称（如真实姓名，可不填）")
    q.set_defaults(handler=cmd_user_add)

    q = usub.add_parser("passwd", help="修改密码（本人，或市级管理员重置他人密码并解除锁定）")
    q.add_argument("name", metavar="NAME", help="用户名")
    q.set_defaults(handler=cmd_user_passwd)

    q = usub.add_parser("list", help="列出用户")
    q.set_defaults(handler=cmd_user_list)

    q = usub.add_parser("disable", help="停用用户（市级管理员）")
    q.add_argument("name", metavar="NAME", help="用户名")
    q.set_defaults(handler=cmd_user_disable)

    q = usub.add_parser("enable", help="重新启用用户（市级管理员）")
    q.add_argument("name", metavar="NAME", help="用户名")
    q.set_defaults(handler=cmd_user_enable)


def cmd_user_add(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    actor = ctx.actor()
    first = not accounts.has_accounts(db)
    accounts.resolve_role_unit(args.role, args.county)  # refuse a bad role/unit before asking for a password
    if first and args.role != "city_admin":
        accounts.check_first_role(args.role)
    accounts.check_name(args.name)
    password = ctx.read_new_password(f"新用户“{args.name}”的密码")
    info = accounts.add_user(db, actor, args.name, args.role, password, unit=args.county,
                             display_name=args.display_name)
    where = f"，{info.unit_name}" if info.unit_code else ""
    print(f"已添加用户“{info.name}”（{info.role_label}{where}）。")
    if first:
        print("这是第一个账户：今后修改数据的命令需要在命令前加 --user 用户名，打开主窗口时需要登录。")
    return 0


def cmd_user_passwd(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    actor = ctx.actor()
    accounts.get_user(db, args.name)
    password = ctx.read_new_password(f"用户“{args.name}”的新密码")
    accounts.change_password(db, actor, args.name, password)
    print(f"已修改用户“{args.name}”的密码。")
    return 0


def cmd_user_list(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    ctx.actor()  # the accounts of this installation: a login once there are any
    users = accounts.list_users(db)
    if not users:
        print("还没有任何用户账户（程序以内置的系统管理员身份运行）。")
        return 0
    rows = [(u.name, u.display_name or "", u.role_label, u.unit_name, u.status_text(),
             f"{u.created_at:%Y-%m-%d %H:%M}", u.created_by) for u in users]
    print(textable.render(["用户名", "显示名称", "角色", "县（区、市）", "状态", "创建时间", "创建人"], rows))
    return 0


def cmd_user_disable(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    info = accounts.disable_user(db, ctx.actor(), args.name)
    print(f"已停用用户“{info.name}”。")
    return 0


def cmd_user_enable(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    info = accounts.enable_user(db, ctx.actor(), args.name)
    print(f"已启用用户“{info.name}”。")
    return 0
