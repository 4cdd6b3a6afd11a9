"""init, plan, info, self-test."""

from __future__ import annotations

import argparse

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.schedule import KIND_LABELS
from jzair_desktop.services import info as info_service
from jzair_desktop.services.database import load_reference_data, open_database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="创建或升级数据库并载入计划基础数据", add_help=True)
    p.add_argument(
        "--demo", action="store_true",
        help="在没有台账记录的数据库中生成演示数据（12个县区的各类台账、任务分解、月度数据和空气质量）",
    )
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("plan", help="列出计划指标（任务、目标、时限、牵头部门）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(handler=cmd_plan)

    p = sub.add_parser("info", help="程序版本、数据库位置、架构版本和各台账记录数")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("self-test", help="在临时数据库上自检（迁移、基础数据、主窗口各页面）")
    p.set_defaults(handler=cmd_self_test)


def cmd_init(ctx: CliContext, args: argparse.Namespace) -> int:
    db, migration = open_database(ctx.url, create=True)
    ctx._db = db
    if migration is None:
        print(f"数据库：{db.location}（架构已是最新版本 {migration_rev(db)}）")
    else:
        verb = "已创建" if migration.before is None else "已升级"
        print(f"{verb}数据库：{db.location}（架构版本 {migration.before or '无'} → {migration.after}）")
        if migration.backup is not None:
            print(f"升级前的数据库副本：{migration.backup}")
    ref = load_reference_data(db)
    if ref.changed:
        print(
            f"已载入计划基础数据：{ref.units} 个县（区、市）、{ref.indicators} 项指标、"
            f"{ref.choices} 个选项值、{ref.air_quality_targets} 条空气质量目标。"
        )
    else:
        print("计划基础数据已是最新，未做改动。")
    for note in ref.scope_notes:
        print(f"注意：{note}。")
    from jzair_desktop.services.packages import keys as package_keys

    if package_keys.identity(db, create=False) is None:
        print(f"已生成本机报送包签名密钥，公钥指纹：{package_keys.identity(db).display}")
    if getattr(args, "demo", False):
        return _init_demo(ctx, db)
    return 0


def _init_demo(ctx: CliContext, db) -> int:  # noqa: ANN001
    import sys

    from jzair_desktop import demo
    from jzair_desktop.taskstate import TaskState

    def show(done: int, total: int, text: str) -> None:
        print(f"\r{done * 100 // max(total, 1):3d}%  {textable.pad(text, 48)}", end="", file=sys.stderr, flush=True)

    interactive = sys.stderr is not None and sys.stderr.isatty()
    existing = demo.count_ledger_records(db)
    if existing:  # nothing to add, so no login needed to say so
        print(f"数据库中已有 {existing:,} 条台账记录，未添加演示数据（演示数据只添加到没有台账记录的数据库）。")
        return 0
    print("正在生成演示数据……", flush=True)
    result = demo.generate_demo(db, state=TaskState(show) if interactive else None, actor=ctx.actor())
    if interactive:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    if not result.added:
        print(f"数据库中已有 {result.existing_records:,} 条台账记录，未添加演示数据（演示数据只添加到没有台账记录的数据库）。")
        return 0
    rows = [(LEDGERS[k].title, LEDGERS[k].sheet_title, f"{n:,}") for k, n in result.counts.items()]
    rows.append(("合计", "", f"{result.total:,}"))
    print(textable.render(["台账", "名称", "记录数"], rows, numeric=(2,)))
    print(
        f"任务分解 {result.targets:,} 项，月度数据 {result.monthly_figures:,} 条，"
        f"空气质量 {result.air_quality_months} 条（2020年10月至2021年3月）。"
    )
    for note in result.notes:
        print(note)
    print(f"演示数据已生成，用时 {result.seconds:.1f} 秒。")
    from jzair_desktop.services import accounts, installation

    if installation.installation_of(db) is None and not accounts.has_accounts(db):
        made = installation.set_up_demo(db)
        print(f"已设置本机为{installation.CITY_LABEL}的安装，并创建演示账户（密码都是 {installation.DEMO_PASSWORD}）：")
        print(textable.render(
            ["用户名", "角色", "县（区、市）", "显示名称"],
            [(a.name, accounts.ROLES[a.role], installation.unit_label(a.unit_code) if a.unit_code else "", a.display_name)
             for a in made]))
        print(f"打开主窗口时以 admin 登录（密码 {installation.DEMO_PASSWORD}）；命令行脚本用 "
              f"jzair --user admin …，密码放在环境变量 JZAIR_PASSWORD 中。")
    return 0


def migration_rev(db) -> str:  # noqa: ANN001
    from jzair_desktop.services.database import schema_revision

    return schema_revision(db) or "无"


def cmd_plan(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    items = info_service.plan_indicators(db)
    if args.json:
        print(info_service.to_json([i.as_json() for i in items]))
        return 0
    rows = [(i.key, i.name, KIND_LABELS[i.kind], i.unit, i.target_text, i.due, i.plan_item, "、".join(i.departments))
            for i in items]
    print(textable.render(["指标代码", "指标", "类型", "单位", "目标", "时限", "方案条目", "牵头单位"], rows, numeric=(4,)))
    return 0


def cmd_info(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    data = info_service.info(db)
    if args.json:
        print(info_service.to_json(data))
        return 0
    print(f"程序版本：{data['version']}")
    print(f"数据库：{data['database']}")
    print(f"架构版本：{data['revision']}")
    from jzair_desktop.services.installation import installation_of

    inst = installation_of(db)
    print(f"本机：{inst.label}" if inst is not None else "本机：尚未设置（jzair setup 或打开主窗口时设置）")
    records = data["records"]
    units = list(next(iter(records.values())).keys())
    headers = ["县（区、市）", *(LEDGERS[k].title for k in records)]
    rows = [[u, *(records[k][u] for k in records)] for u in units]
    rows.append(["合计", *(sum(records[k].values()) for k in records)])
    print(textable.render(headers, rows, numeric=tuple(range(1, len(headers)))))
    return 0


def cmd_self_test(ctx: CliContext, args: argparse.Namespace) -> int:
    from jzair_desktop.selftest import run_self_test

    return run_self_test()
