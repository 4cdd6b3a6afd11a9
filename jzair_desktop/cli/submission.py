"""submit / unlock / submissions (月度上报) and closeout (销号)."""

from __future__ import annotations

import argparse
from pathlib import Path

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext, ledger_key_arg
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.services import closeout, submission
from jzair_desktop.services import scope as read_scope
from jzair_desktop.services.guards import has_closed_status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "submit", help="月度上报：冻结该县（区、市）本月的进度数字，并锁定该月及以前完成的记录",
        description="上报后，完成日期在该月或更早的记录不能再修改、删除或恢复，直到市级管理员解锁。",
    )
    p.add_argument("--county", required=True, metavar="UNIT", help="县（区、市），名称或代码")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="月份，如 2020-11")
    p.set_defaults(handler=cmd_submit)

    p = sub.add_parser("unlock", help="解锁已上报的月份（市级管理员，须填写原因）")
    p.add_argument("--county", required=True, metavar="UNIT", help="县（区、市），名称或代码")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="月份，如 2020-11")
    p.add_argument("--reason", required=True, metavar="TEXT", help="解锁原因")
    p.set_defaults(handler=cmd_unlock)

    p = sub.add_parser("submissions", help="查看上报情况：某月各县（区、市）的状态，或某县的上报历史")
    p.add_argument("--month", metavar="YYYY-MM", help="月份：列出各县（区、市）该月的上报状态")
    p.add_argument("--county", metavar="UNIT", help="县（区、市）：列出其全部上报版本（含解锁前的旧版本）")
    p.set_defaults(handler=cmd_submissions)

    closable = [k for k, d in LEDGERS.items() if has_closed_status(d)]
    p = sub.add_parser(
        "closeout", help="销号：上传佐证材料（照片或 PDF）并填写审核人，把记录状态改为已销号",
        description="佐证材料按文件内容识别类型（JPEG、PNG 或 PDF），单个不超过 10 MB，存入数据库并记录 SHA-256。",
    )
    p.add_argument("ledger", type=ledger_key_arg(closable), metavar="LEDGER", help="台账（中文名称或英文代码）：" + "、".join(
        f"{LEDGERS[k].title}（{k}）" for k in closable))
    p.add_argument("uuid", metavar="UUID", help="记录编号")
    p.add_argument("--evidence", action="append", default=[], type=Path, metavar="FILE",
                   help="佐证材料文件，可重复给出多个")
    p.add_argument("--reviewer", required=True, metavar="NAME", help="审核人姓名")
    p.set_defaults(handler=cmd_closeout)


def cmd_submit(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    info = submission.submit_month(db, args.county, args.month, ctx.actor())
    again = f"（第 {info.version} 次上报，之前的版本保留在历史中）" if info.version > 1 else ""
    print(f"已上报：{info.unit_name} {info.month}{again}。")
    print(f"已冻结截至 {info.figures['as_of']} 的进度数字；完成日期在 {info.month} 及以前的记录已锁定。")
    return 0


def cmd_unlock(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    info = submission.unlock_month(db, args.county, args.month, args.reason, ctx.actor())
    print(f"已解锁：{info.unit_name} {info.month}（原因：{info.unlock_reason}）。该月的记录可以修改，修改后请重新上报。")
    return 0


def cmd_submissions(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    actor = ctx.reader()
    county = read_scope.read_unit(actor, args.county, what="上报情况") if args.county or actor else None
    if county:
        rows = submission.submission_history(db, county, args.month)
        if not rows:
            print("没有上报记录。")
            return 0
        table = [(r.month, r.version, r.status_label, f"{r.submitted_at:%Y-%m-%d %H:%M}", r.submitted_by,
                  f"{r.unlocked_at:%Y-%m-%d %H:%M}" if r.unlocked_at else "", r.unlocked_by or "",
                  r.unlock_reason or "") for r in rows]
        print(f"{rows[0].unit_name}的上报历史：")
        print(textable.render(["月份", "版本", "状态", "上报时间", "上报人", "解锁时间", "解锁人", "解锁原因"], table,
                              numeric=(1,)))
        return 0
    month = args.month or submission.plan_months()[-1]
    table = []
    for st in submission.month_overview(db, month):
        c = st.current
        table.append((st.unit_name, st.status_label, c.version if c else "", f"{c.submitted_at:%Y-%m-%d %H:%M}" if c else "",
                      c.submitted_by if c else ""))
    print(f"{submission.parse_month(month)} 上报情况：")
    print(textable.render(["县（区、市）", "状态", "版本", "上报时间", "上报人"], table, numeric=(2,)))
    return 0


def cmd_closeout(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    info = closeout.close_out(db, args.ledger, args.uuid, args.reviewer, ctx.actor(), evidence=args.evidence)
    print(f"已销号：{LEDGERS[args.ledger].title}记录 {info.record_uuid}，审核人 {info.reviewer}，"
          f"佐证材料 {len(info.evidence)} 份：")
    for e in info.evidence:
        print(f"  {e.file_name}（{e.type_label}，{e.size:,} 字节，SHA-256 {e.sha256}）")
    return 0
