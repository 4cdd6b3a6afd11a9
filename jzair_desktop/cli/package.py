"""package: data packages (报送包) between the county machines and the city office."""

from __future__ import annotations

import argparse
import sys

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.exchange.jzpkg import KIND_LABELS, format_fingerprint
from jzair_desktop.services.info import to_json
from jzair_desktop.services.packages import export as package_export
from jzair_desktop.services.packages import importer as package_import
from jzair_desktop.services.packages import keys as package_keys
from jzair_desktop.taskstate import TaskState


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "package",
        help="数据报送包：县级导出、市级导入（校验签名和内容），市级任务包",
        description=(
            "县（区、市）每月把本单位的全部数据导出为签名的报送包（.jzpkg），用U盘等方式交给市里；"
            "市里导入前逐项校验（文件结构、签名、校验值、序号、公钥绑定和每条记录），全部通过才在一个事务中写入。"
            "市里导出的任务包（各县目标）在县里导入，使双方计算的进度一致。"
        ),
    )
    psub = p.add_subparsers(dest="package_command", metavar="操作", required=True)

    q = psub.add_parser("key", help="显示本机的报送包公钥指纹（电话核对用）")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_key)

    q = psub.add_parser("export", help="导出某县（区、市）的报送包（该县填报员或市级管理员）")
    q.add_argument("--county", metavar="UNIT", required=True, help="县（区、市）名称或行政区划代码")
    q.add_argument("--month", metavar="YYYY-MM", required=True, help="报送的月份，如 2020-11")
    q.add_argument("--out", metavar="FILE.jzpkg", required=True, help="要写入的报送包文件")
    q.set_defaults(handler=cmd_export)

    q = psub.add_parser("targets", help="导出市级任务包：各县（区、市）的任务目标和空气质量目标（仅市级管理员）")
    q.add_argument("--out", metavar="FILE.jzpkg", required=True, help="要写入的任务包文件")
    q.set_defaults(handler=cmd_targets)

    q = psub.add_parser(
        "import",
        help="导入报送包或任务包（先全部校验，通过后一次写入；同一个包重复导入不会改动任何数据）",
    )
    q.add_argument("file", metavar="FILE.jzpkg", help="报送包或任务包文件")
    q.add_argument("--dry-run", action="store_true", help="只校验并列出将新增、修改、删除的数量，不写入")
    q.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    q.add_argument("--accept-fork", metavar="原因",
                   help="县级报送包的审计链与上次收到的不衔接（分叉，如县里从较早的备份恢复了数据库）时，"
                        "电话核实后填写原因导入（原因记入审计记录）")
    q.set_defaults(handler=cmd_import)

    q = psub.add_parser(
        "pin",
        help="重新绑定某县（区、市）或市级的公钥（对方重装程序后；会记入审计记录）",
        description="绑定后，只接受用该公钥签名的报送包。指纹请通过电话与对方核对。",
    )
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--county", metavar="UNIT", help="县（区、市）名称或代码（在市级电脑上，仅市级管理员）")
    who.add_argument("--city", action="store_true", help="市级任务包的公钥（在县级电脑上）")
    how = q.add_mutually_exclusive_group(required=True)
    how.add_argument("--fingerprint", metavar="XXXX", help="公钥指纹（64位十六进制，可带空格）")
    how.add_argument("--from", dest="from_file", metavar="FILE.jzpkg", help="从该报送包中读取公钥（会校验签名）")
    q.add_argument("--reason", metavar="TEXT", help="原因（记入审计记录）")
    q.set_defaults(handler=cmd_pin)

    q = psub.add_parser("pins", help="列出已绑定的公钥")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_pins)

    q = psub.add_parser("history", help="列出已导入的报送包")
    q.add_argument("--county", metavar="UNIT", help="只列该县（区、市）")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_history)


def _progress() -> TaskState | None:
    if sys.stderr is None or not sys.stderr.isatty():
        return None

    def show(done: int, total: int, text: str) -> None:
        share = f"{done * 100 // total:3d}%  " if total > 0 else ""
        print(f"\r{share}{textable.pad(text, 52)}", end="", file=sys.stderr, flush=True)

    return TaskState(show)


def _clear(state: TaskState | None) -> None:
    if state is not None:
        print("\r" + " " * 64 + "\r", end="", file=sys.stderr, flush=True)


def cmd_key(ctx: CliContext, args: argparse.Namespace) -> int:
    me = package_keys.identity(ctx.open())
    if args.json:
        print(to_json({"fingerprint": me.fingerprint, "display": me.display, "public_key": me.public_key.hex(),
                       "created_at": me.created_at.isoformat(sep=" ")}))
        return 0
    print(f"本机报送包公钥指纹：{me.display}")
    print(f"（生成于 {me.created_at:%Y-%m-%d %H:%M}；请对方按每组4个字符逐组核对。）")
    return 0


def _print_export(result: package_export.ExportResult) -> None:
    kind = KIND_LABELS[result.kind]
    what = f"{result.unit_name} {result.month} " if result.unit_name else ""
    print(f"已导出{what}{kind}第 {result.sequence} 号：{result.path}（{result.size / 1024:,.0f} KB）")
    c = result.counts
    if result.unit_name:
        parts = [f"{d.title} {c.get(k, 0):,}" for k, d in LEDGERS.items()]
        print("台账记录（含已删除）：" + "，".join(parts) + f"；其中已删除 {c.get('tombstones', 0):,} 条")
        print(f"销号 {c.get('closeouts', 0):,} 条，月度数据 {c.get('monthly_figures', 0):,} 条，"
              f"空气质量 {c.get('air_quality', 0):,} 条，月度上报 {c.get('submissions', 0):,} 条，"
              f"审计记录 {c.get('audit', 0):,} 条")
    else:
        print(f"任务目标 {c.get('county_targets', 0):,} 项，空气质量目标 {c.get('air_quality_targets', 0):,} 项")
    print(f"签名公钥指纹：{result.fingerprint_display}")


def cmd_export(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    state = _progress()
    try:
        result = package_export.export_county_package(db, args.county, args.month, args.out, actor=ctx.actor(),
                                                      state=state)
    finally:
        _clear(state)
    _print_export(result)
    return 0


def cmd_targets(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    result = package_export.export_targets_package(db, args.out, actor=ctx.actor())
    _print_export(result)
    return 0


def _print_preview(p: package_import.ImportPreview) -> None:
    what = f"{p.unit_name} {p.month} " if p.unit_name else ""
    print(f"{what}{p.kind_label}第 {p.sequence} 号，{p.created_at.replace('T', ' ')} 由“{p.created_by}”导出"
          f"（程序版本 {p.app_version}）")
    pin = "与已绑定的公钥一致" if p.pin == "pinned" else "首次导入，导入后将绑定此公钥"
    print(f"签名公钥指纹：{p.fingerprint_display}（{pin}）")
    if p.already_imported is not None:
        return
    rows = [(c.title, f"{c.new:,}", f"{c.changed:,}", f"{c.deleted:,}", f"{c.unchanged:,}") for c in p.changes]
    print(textable.render(["项目", "新增", "修改", "删除", "不变"], rows, numeric=(1, 2, 3, 4)))
    for w in p.warnings:
        print(f"提示：{w}")
    if p.chain_note:
        print(f"{'警告' if p.chain == 'fork' else '提示'}：{p.chain_note}")


def cmd_import(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    actor = ctx.actor()
    state = None if args.json else _progress()
    try:
        result = package_import.import_package(db, args.file, actor=actor, dry_run=args.dry_run, state=state,
                                               accept_fork=args.accept_fork)
    finally:
        _clear(state)
    p = result.preview
    if args.json:
        print(to_json(result.as_json()))
        return 0
    _print_preview(p)
    if p.already_imported is not None:
        print(f"该报送包已于 {p.already_imported:%Y-%m-%d %H:%M} 导入过，内容完全相同，未做任何改动。")
    elif args.dry_run:
        print(f"校验通过（试运行，未写入数据库）：共 {p.total_changes:,} 处改动。")
    else:
        print(f"导入完成：共 {p.total_changes:,} 处改动，用时 {result.seconds:.1f} 秒。")
    return 0


def cmd_pin(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    scope = package_keys.resolve_scope(args.county, city=args.city)
    result = package_keys.pin_key(db, scope, actor=ctx.actor(), fingerprint=args.fingerprint,
                                  package=args.from_file, reason=args.reason)
    name = result.pin.name
    if not result.changed:
        print(f"{name}已绑定该公钥（{result.pin.display}），未做改动。")
        return 0
    if result.previous:
        print(f"原公钥指纹：{format_fingerprint(result.previous)}")
    print(f"已为{name}绑定公钥：{result.pin.display}（已记入审计记录）")
    return 0


def cmd_pins(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    ctx.actor()  # who pinned which key when: a login once the database has accounts
    pins = package_keys.list_pins(db)
    if args.json:
        print(to_json([{"scope": p.scope, "name": p.name, "fingerprint": p.fingerprint, "source": p.source,
                        "pinned_at": p.pinned_at.isoformat(sep=" "), "pinned_by": p.pinned_by} for p in pins]))
        return 0
    if not pins:
        print("尚未绑定任何公钥（首次导入报送包时自动绑定）。")
        return 0
    rows = [(p.name, p.display, p.source_label, f"{p.pinned_at:%Y-%m-%d %H:%M}", p.pinned_by) for p in pins]
    print(textable.render(["单位", "公钥指纹", "方式", "绑定时间", "操作人"], rows))
    return 0


def cmd_history(ctx: CliContext, args: argparse.Namespace) -> int:
    scope = package_keys.resolve_scope(args.county) if args.county else None
    db = ctx.open()
    ctx.actor()
    rows = package_import.import_history(db, scope=scope)
    if args.json:
        print(to_json([r.as_json() for r in rows]))
        return 0
    if not rows:
        print("尚未导入任何报送包。")
        return 0
    table = [
        (r.name, r.month or "", r.sequence, f"{r.imported_at:%Y-%m-%d %H:%M}", r.imported_by,
         f"{r.total('new'):,}", f"{r.total('changed'):,}", f"{r.total('deleted'):,}", r.fingerprint_display[:19] + "…")
        for r in rows
    ]
    print(textable.render(["单位", "月份", "序号", "导入时间", "导入人", "新增", "修改", "删除", "公钥指纹"], table,
                          numeric=(2, 5, 6, 7)))
    return 0

