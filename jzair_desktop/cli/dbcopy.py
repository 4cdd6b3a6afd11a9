"""db copy: moving a database between SQLite and a PostgreSQL server."""

from __future__ import annotations

import argparse
import sys

from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.services import dbcopy


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="数据库：复制到服务器（或从服务器复制回本机文件）")
    dsub = p.add_subparsers(dest="db_command", metavar="子命令", required=True)
    q = dsub.add_parser(
        "copy",
        help="把当前数据库整个复制到另一个空数据库（SQLite ↔ PostgreSQL），并校验行数和审计链",
        description=(
            "把当前数据库（--db 或 --db-url 指定）的全部数据复制到 --to 指定的空数据库：如 "
            "postgresql+psycopg://账户@服务器:5432/数据库名（先由管理员建好空数据库），或一个新的 SQLite 文件路径。"
            "目标数据库已有数据时拒绝复制。复制在一个事务中完成，之后核对每张表的行数并校验审计链。"
        ),
    )
    q.add_argument("--to", required=True, metavar="URL或文件", help="目标数据库：postgresql+psycopg://… 或 SQLite 文件路径")
    q.set_defaults(handler=cmd_copy)


def _target_url(text: str) -> str:
    from jzair_desktop.services.database import resolve_url

    return text if "://" in text else resolve_url(db_path=text)


def cmd_copy(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    actor = ctx.actor()
    result = dbcopy.copy_database(db, _target_url(args.to), actor=actor)
    dbcopy.audit_copy(db, actor, result)
    print(f"已复制到：{result.target}")
    parts = [f"{LEDGERS[k].title} {n:,}" for k, n in result.records.items() if k in LEDGERS]
    print(f"台账记录：{'，'.join(parts)}（共 {sum(result.records.values()):,} 条，含已删除的）")
    end = result.head[0] if result.head else 0
    if result.inherited:
        print(f"各表共 {sum(result.rows.values()):,} 行，行数与原数据库一致；审计记录 {result.audit_entries:,} 条，"
              f"审计链末端（第 {end} 条）与原数据库相同。")
        print(f"警告：原数据库的审计链本身校验未通过（{len(result.inherited)} 处问题），复制后的数据库有完全相同的问题：",
              file=sys.stderr)
        for text in result.inherited[:10]:
            print(f"  · {text}", file=sys.stderr)
        return 1
    print(f"各表共 {sum(result.rows.values()):,} 行，行数与原数据库一致；审计记录 {result.audit_entries:,} 条，"
          f"复制后的审计链校验通过（末端第 {end} 条）。")
    return 0
