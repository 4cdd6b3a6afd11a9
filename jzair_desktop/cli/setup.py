"""setup: what this installation is (the city office or one unit) and its first administrator."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from jzair_desktop.cli.context import PASSWORD_ENV, CliContext


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "setup",
        help="设置本机：市大气办（全市汇总）或某个县（区、市），并创建第一个管理员账户（只能设置一次）",
        description=(
            "设置本机是市大气办（--unit city，保存全市数据）还是某个县（区、市）（如 --unit 榆次区，只保存本县数据），"
            f"并创建本机的第一个管理员账户。管理员的密码取自环境变量 {PASSWORD_ENV}；未设置时，标准输入不是终端则读取其"
            "第一行，否则提示输入两次。密码至少 8 个字符，不能全是数字，不能与用户名相同，不能是常见的弱密码。"
            "设置后不再有内置的系统管理员：修改数据或查看个人信息的命令都需要 --user 登录。"
        ),
    )
    p.add_argument("--unit", required=True, metavar="UNIT", help="city（市大气办）或县（区、市）的名称或代码，如 榆次区")
    p.add_argument("--admin", required=True, metavar="NAME", help="第一个管理员的用户名")
    p.add_argument("--display-name", metavar="TEXT", help="管理员的显示名称（如真实姓名，可不填）")
    p.add_argument("--targets", metavar="FILE.jzpkg", type=Path,
                   help="县（区、市）安装：同时导入市大气办发来的任务包（也可以以后在“数据报送”页导入）")
    p.add_argument("--city-key", metavar="FINGERPRINT",
                   help="市大气办公钥指纹（电话核对得到）；给出时任务包的签名公钥必须与之一致")
    p.set_defaults(handler=cmd_setup)


def cmd_setup(ctx: CliContext, args: argparse.Namespace) -> int:
    from jzair_desktop.services import accounts, installation, passwords

    db = ctx.open()
    # Refuse what can be refused before asking for a password.
    with_accounts = accounts.has_accounts(db)
    installation.check_not_set_up(db)
    code = installation.resolve_unit(args.unit)
    name = accounts.check_name(args.admin)
    accounts.check_display_name(args.display_name)
    actor = ctx.actor() if with_accounts else None
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = ctx.read_new_password(f"管理员“{name}”的密码")
    passwords.check(name, password)
    kwargs = {"actor": actor} if actor is not None else {}
    result = installation.set_up(
        db, unit=code, admin=name, password=password, display_name=args.display_name,
        targets_package=args.targets, city_fingerprint=args.city_key, **kwargs,
    )
    from jzair_desktop.exchange.jzpkg import format_fingerprint
    from jzair_desktop.services.actor import ROLES

    inst = result.installation
    print(f"已设置本机为：{inst.label}。")
    print(f"已创建管理员“{result.admin}”（{ROLES[result.admin_role]}）。")
    if inst.is_city:
        print(f"本机报送包签名公钥指纹：{format_fingerprint(result.fingerprint)}")
        print("请把这个指纹读给各县（区、市）：他们设置或导入任务包时用它核对任务包确实来自市大气办。")
    else:
        print(f"本机报送包签名公钥指纹：{format_fingerprint(result.fingerprint)}（报送时市大气办用它核对）")
        if result.targets_imported:
            print(f"已导入市大气办的任务包（{result.targets_count} 项目标有变化）。")
        else:
            print("任务包尚未导入：收到市大气办的任务包后，在“数据报送”页或用 jzair package import 导入。")
    print(f"今后修改数据或查看个人信息的命令需要在命令前加 --user {result.admin}（密码取自 {PASSWORD_ENV} 或提示输入）；"
          "打开主窗口时需要登录。")
    return 0
