"""template, import, export: the ledgers as Excel workbooks."""

from __future__ import annotations

import argparse
import sys

from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain.ledgers import LEDGERS, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.exchange.xlsx_common import MAX_DATA_ROWS
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.excel import ImportRejected, ImportReport

LEDGER_HELP = "台账（中文名称或英文代码）：" + "、".join(f"{d.title}（{k}）" for k, d in LEDGERS.items())
MAX_WARNING_LINES = 200


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("template", help="生成台账的 Excel 导入模板（含下拉选项和填表说明）")
    p.add_argument("ledger", metavar="LEDGER", help=LEDGER_HELP)
    p.add_argument("file", metavar="FILE.xlsx", help="保存模板的文件")
    p.set_defaults(handler=cmd_template)

    p = sub.add_parser(
        "import",
        help="从 Excel/WPS/LibreOffice 表格或 CSV 导入台账（全部成功才写入；有错误时一条也不写入）",
        description=(
            "读取第一个含有该台账表头的工作表（表头可在前30行任意位置），逐行检查后在一个事务中全部写入。"
            "已有记录按唯一标识（身份证号、车辆识别代号等）更新；有错误时不写入任何记录，"
            "并在输入文件旁写出“文件名.错误.xlsx”标注错误。"
            f"单个文件最多 {MAX_DATA_ROWS:,} 行数据。"
        ),
    )
    p.add_argument("ledger", metavar="LEDGER", help=LEDGER_HELP)
    p.add_argument(
        "file", metavar="FILE",
        help="要导入的表格文件：.xlsx .xlsm .xls .xlsb .et .ods 或 .csv/.txt（按内容识别格式，不看扩展名）",
    )
    p.add_argument("--county", metavar="UNIT", required=True, help="导入到哪个县（区、市）：名称或行政区划代码")
    p.add_argument("--dry-run", action="store_true", help="只检查并报告结果，不写入数据库")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("export", help="把台账导出为 Excel（与导入模板格式相同，可改后再导入）")
    p.add_argument("ledger", metavar="LEDGER", help=LEDGER_HELP)
    p.add_argument("file", metavar="FILE.xlsx", help="保存导出结果的文件")
    p.add_argument("--county", metavar="UNIT", help="只导出该县（区、市）；不填则导出有权查看的全部记录")
    p.set_defaults(handler=cmd_export)


def cmd_template(ctx: CliContext, args: argparse.Namespace) -> int:
    d = ledger(args.ledger)
    actor = ctx.reader() if ctx.user else None  # a county user's template offers the own unit only
    path = excel_service.save_template(d.key, args.file, actor=actor)
    print(f"已生成“{d.sheet_title}”导入模板：{path}")
    return 0


def cmd_export(ctx: CliContext, args: argparse.Namespace) -> int:
    d = ledger(args.ledger)
    db = ctx.open()
    actor = ctx.actor()
    # The service decides the unit: a county user's own (by default and only), else the one named or all.
    result = excel_service.export_ledger(db, d.key, args.file, actor=actor, unit_code=args.county or None)
    scope = reference().unit_by_code(result.unit_code).name if result.unit_code else "全部"
    print(f"已导出“{d.sheet_title}”（{scope}）{result.rows:,} 条记录：{result.path}")
    if result.masked:
        print("身份证号已按个人信息保护要求隐去中间数字。")
    return 0


def _print_report(report: ImportReport, *, out=None) -> None:  # noqa: ANN001
    out = out or sys.stdout
    d = ledger(report.ledger_key)
    print(
        f"文件：{report.path.name}，工作表“{report.sheet_name}”，表头在第{report.header_row}行，"
        f"数据 {report.total_rows:,} 行 → {d.sheet_title}（{report.unit_name}）",
        file=out,
    )
    for note in report.notes:
        print(note, file=out)
    for row, reason in report.skipped_rows:
        print(f"第{row}行 已跳过（{reason}）", file=out)


def cmd_import(ctx: CliContext, args: argparse.Namespace) -> int:
    d = ledger(args.ledger)
    db = ctx.open()
    try:
        report = excel_service.import_ledger(
            db, d.key, args.file, args.county, actor=ctx.actor(), dry_run=args.dry_run
        )
    except ImportRejected as exc:
        report = exc.report
        _print_report(report)
        for p in report.errors:
            print(p.text())
        _print_warnings(report)
        print(report.summary() + "。")
        if report.error_file is not None:
            print(f"错误已标注在：{report.error_file}")
        elif report.error_file_problem:
            print(report.error_file_problem, file=sys.stderr)
        verb = "检查未通过" if args.dry_run else "导入未执行"
        print(f"错误：{verb}：发现 {len(report.errors):,} 处错误，没有写入任何记录。", file=sys.stderr)
        return 1
    _print_report(report)
    _print_warnings(report)
    if report.dry_run:
        print(f"检查通过（试运行，未写入数据库）：{report.summary()}。")
    else:
        print(f"导入完成：{report.summary()}。")
    return 0


def _print_warnings(report: ImportReport) -> None:
    warnings = report.warnings
    for p in warnings[:MAX_WARNING_LINES]:
        print(f"{p.text()}（提示）")
    if len(warnings) > MAX_WARNING_LINES:
        print(f"……另有 {len(warnings) - MAX_WARNING_LINES:,} 条提示未列出。")
