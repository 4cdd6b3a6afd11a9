"""backup, restore."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.errors import JzairError
from jzair_desktop.services import backup as backup_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.database import open_database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backup",
        help="备份数据库（程序运行时也可以备份；默认存入用户数据文件夹的 backups 并按保留规则轮换）",
        description=(
            "为数据库做一份经过完整性检查的压缩备份（.jzbak，ZIP 格式）。不加 --out 时存入备份文件夹，"
            "按备份设置复制到附加文件夹（如 U 盘），并只保留最近 14 天每天最新的一份和最近 12 个月每月最新的一份。"
        ),
    )
    p.add_argument("--out", metavar="FILE", type=Path, help="备份文件（或文件夹）；给定时不做轮换")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="用备份文件恢复数据库（先检查备份，并把当前数据库另存一份）",
        description="检查备份文件后用它替换当前数据库；当前数据库会先另存为“<文件名>.恢复前-<时间>”。",
    )
    p.add_argument("file", metavar="FILE", type=Path, help="备份文件（.jzbak）")
    p.add_argument("--yes", action="store_true", help="不再询问，直接恢复（非交互使用时必须加）")
    p.add_argument("--other-installation", action="store_true",
                   help="确认恢复另一台安装（其他签名公钥或其他市级公钥）的备份；否则拒绝")
    p.set_defaults(handler=cmd_restore)


def _size_text(n: int) -> str:
    for unit in ("字节", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "字节" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def _describe(info: backup_service.BackupInfo) -> list[str]:
    lines = [
        f"备份时间：{info.created_at.astimezone().strftime('%Y-%m-%d %H:%M:%S')}",
        f"程序版本：{info.app_version}，架构版本：{info.schema_revision}",
        f"原数据库：{info.source}",
        f"大小：{_size_text(info.size)}（数据库 {_size_text(info.db_size)}）",
    ]
    if info.records:
        parts = [f"{LEDGERS[k].title} {n:,}" for k, n in info.records.items() if k in LEDGERS]
        lines.append(f"台账记录：{'，'.join(parts)}（共 {sum(info.records.values()):,} 条）")
    return lines


def cmd_backup(ctx: CliContext, args: argparse.Namespace) -> int:
    # Back up the database as it is: no schema upgrade first.
    db, _ = open_database(ctx.url, create=False, upgrade=False)
    ctx._db = db
    # The whole database, personal data and the private signing key included: an administrator's act, audited.
    actor = ctx.actor()
    if args.out is not None:
        info = backup_service.make_backup(db, args.out, actor=actor)
        print(f"已备份到：{info.path}")
        print("\n".join(_describe(info)))
        print("备份已通过完整性检查。")
        return 0
    result = backup_service.auto_backup(db, actor=actor)
    print(f"已备份到：{result.backup.path}")
    print("\n".join(_describe(result.backup)))
    print("备份已通过完整性检查。")
    if result.extra_copy is not None:
        print(f"已复制到附加备份文件夹：{result.extra_copy}")
    if result.pruned:
        print(f"按保留规则删除了 {len(result.pruned)} 份较早的备份。")
    for _path, reason in result.prune_failed:
        print(f"警告：{reason}", file=sys.stderr)
    if result.extra_error is not None:
        print(f"警告：{result.extra_error}\n主备份已完成。", file=sys.stderr)
        return 1
    return 0


def _restoring_actor(ctx: CliContext) -> Actor | None:
    """Who restores. Only a database file that is missing or really damaged (not merely busy or locked:
    the service tells) is restored without a login, since restoring is how it gets repaired; any other
    asks for an administrator's login, and the service checks the rest. A server database: its administrator."""
    if backup_service.is_server_url(ctx.url):
        try:
            ctx.open(create=True)
            actor = ctx.actor()
        finally:
            ctx.close()
        if actor != BUILTIN_ADMIN:
            backup_service.check_may_restore(actor)
        return actor
    condition = backup_service.database_condition(backup_service.restore_target_file(ctx.url))
    if condition != backup_service.SOUND:
        what = "不存在" if condition == backup_service.MISSING else "已损坏"
        print(f"当前数据库{what}，恢复不需要登录。", file=sys.stderr)
        return None
    try:
        ctx.open()
        actor = ctx.actor()
    finally:
        ctx.close()  # the restore needs the only connection to the file
    if actor != BUILTIN_ADMIN:
        backup_service.check_may_restore(actor)
    return actor


def cmd_restore(ctx: CliContext, args: argparse.Namespace) -> int:
    target = ctx.url
    if not args.yes and not sys.stdin.isatty():
        raise JzairError("恢复会替换当前数据库，需要确认；但当前不是在终端中运行，无法询问。若确定要恢复，请加上 --yes 参数。")
    actor = _restoring_actor(ctx)
    info = backup_service.verify_backup(args.file)
    print(f"备份文件：{info.path}（检查通过）")
    print("\n".join(_describe(info)))
    shown = (backup_service.server_label(target) if backup_service.is_server_url(target)
             else backup_service.restore_target_file(target))
    print(f"将替换数据库：{shown}")
    if not args.yes:
        try:
            answer = input("当前数据库会先另存一份，然后被该备份替换。确定恢复吗？请输入“是”或 y 确认：").strip().lower()
        except EOFError:
            answer = ""
        if answer not in ("是", "y", "yes"):
            print("已取消，数据库没有改动。")
            return 1
    result = backup_service.restore_backup(target, args.file, actor=actor,
                                            allow_foreign=args.other_installation)
    print(f"已恢复数据库：{result.database}")
    if result.previous_copy is not None:
        what = "恢复前的数据已备份为" if backup_service.is_server_url(target) else "恢复前的数据库已另存为"
        print(f"{what}：{result.previous_copy}")
    if result.migrated:
        print(f"备份的架构版本 {result.revision_restored} 已升级到 {result.revision}。")
    return 0
