"""report: the monthly PDF report (月报) of the city or one unit."""

from __future__ import annotations

import argparse
import sys

from jzair_desktop.cli.context import CliContext
from jzair_desktop.exchange.pdf_common import fmt_month_cn
from jzair_desktop.services import report as report_service
from jzair_desktop.taskstate import TaskState


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="生成月报 PDF（全市或某县（区、市）），数据截至该月最后一天",
        description="生成晋中市秋冬季大气污染综合治理攻坚行动进展月报（PDF）。数据按该月最后一天统计，"
        "已上报的月份采用上报时锁定的数据。",
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="月份，如 2020-12")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件（已存在时在生成成功后替换）")
    p.add_argument("--county", metavar="UNIT", help="县（区、市）名称或代码；不填为全市月报")
    p.add_argument("--letters", action="store_true", help="附预警函：每个进度滞后的县（区、市）一页")
    p.set_defaults(handler=cmd_report)


def cmd_report(ctx: CliContext, args: argparse.Namespace) -> int:
    # Check what can be checked before opening the database, so bad input fails fast.
    month = report_service.parse_report_month(args.month)
    report_service.resolve_scope(args.county)
    out = report_service.check_output_path(args.out)
    db = ctx.open()
    actor = ctx.actor()  # once set up (or accounts exist) a login, as the report names units and people
    interactive = sys.stderr is not None and sys.stderr.isatty()

    def show(done: int, total: int, text: str) -> None:
        if interactive:
            print(f"\r{text} {done * 100 // max(total, 1):3d}%", end="", file=sys.stderr, flush=True)

    result = report_service.write_report(
        db, out, month, args.county, letters=args.letters, actor=actor, state=TaskState(show)
    )
    if interactive:
        print(file=sys.stderr)
    print(f"已生成{result.unit_name}{fmt_month_cn(result.month)}月报：{result.path}")
    print(f"共 {result.pages} 页，{result.size / 1024:,.0f} KB；预警 {result.warnings} 条", end="")
    print(f"，预警函 {result.letters} 份。" if args.letters else "。")
    if result.frozen_units:
        print(f"已上报本月数据的单位（采用上报时锁定的数据）：{'、'.join(result.frozen_units)}")
    return 0
