"""targets, figures, air, progress, warnings."""

from __future__ import annotations

import argparse
import datetime as dt
import re

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError
from jzair_desktop.services import monthly, progress, targets
from jzair_desktop.services.info import to_json

_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


def parse_date(text: str) -> dt.date:
    m = _DATE.match(text.strip())
    try:
        if not m:
            raise ValueError
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise JzairError(f"日期格式不正确：“{text}”，应为 年-月-日，如 2020-11-30。") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("targets", help="任务分解：各县（区、市）目标的设定、查看、导出和导入")
    tsub = p.add_subparsers(dest="targets_command", metavar="操作", required=True)
    q = tsub.add_parser("set", help="设定某县（区、市）某项指标的目标（仅市级管理员）")
    q.add_argument("indicator", metavar="INDICATOR", help="指标代码或名称，如 trucks.eliminated")
    q.add_argument("unit", metavar="UNIT", help="县（区、市）名称或代码")
    q.add_argument("value", metavar="VALUE", help="目标数值（不小于0）")
    q.set_defaults(handler=cmd_targets_set)
    q = tsub.add_parser("show", help="列出各指标的分解情况及与市级目标的核对")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_targets_show)
    q = tsub.add_parser("export", help="把任务分解表导出为 .xlsx")
    q.add_argument("file", metavar="FILE.xlsx", help="要写入的 .xlsx 文件")
    q.set_defaults(handler=cmd_targets_export)
    q = tsub.add_parser("import", help="从 .xlsx 导入任务分解表（逐格校验，有错则不导入）")
    q.add_argument("file", metavar="FILE.xlsx", help="任务分解表 .xlsx 文件（空白单元格表示未分解）")
    q.set_defaults(handler=cmd_targets_import)

    p = sub.add_parser("figures", help="月度数据：无台账指标的各县（区、市）每月数值")
    fsub = p.add_subparsers(dest="figures_command", metavar="操作", required=True)
    q = fsub.add_parser("set", help="填报某县（区、市）某月某项指标的数值（计数类为本月新增，比率类为当月数值）")
    q.add_argument("unit", metavar="UNIT", help="县（区、市）名称或代码")
    q.add_argument("indicator", metavar="INDICATOR", help="月度指标代码或名称，如 bus.new_energy")
    q.add_argument("month", metavar="YYYY-MM", help="月份，如 2020-11")
    q.add_argument("value", metavar="VALUE", help="计数类填本月新增数，比率类填当月数值")
    q.set_defaults(handler=cmd_figures_set)
    q = fsub.add_parser("show", help="列出已填报的月度数据")
    q.add_argument("--county", metavar="UNIT", help="只列该县（区、市）")
    q.add_argument("--indicator", metavar="INDICATOR", help="只列该指标")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_figures_show)

    p = sub.add_parser("air", help="空气质量：各区域每月 PM2.5 月均浓度和重污染天数")
    asub = p.add_subparsers(dest="air_command", metavar="操作", required=True)
    q = asub.add_parser("set", help="填报某区域某月的空气质量")
    q.add_argument("area", metavar="AREA", help="县（区、市）名称或代码，或 市城区")
    q.add_argument("month", metavar="YYYY-MM", help="月份，如 2020-11")
    q.add_argument("--pm25", metavar="X", help="PM2.5 月均浓度（微克/立方米，0–1000）")
    q.add_argument("--heavy-days", metavar="N", help="重污染天数（整数）")
    q.set_defaults(handler=cmd_air_set)
    q = asub.add_parser("show", help="列出已填报的空气质量及目标")
    q.add_argument("--area", metavar="AREA", help="只列该区域")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_air_show)
    q = asub.add_parser("target", help="设定某区域某期间的空气质量目标（仅市级管理员）")
    q.add_argument("area", metavar="AREA", help="县（区、市）名称或代码，或 市城区")
    q.add_argument("first_month", metavar="FIRST", help="起始月份 YYYY-MM")
    q.add_argument("last_month", metavar="LAST", help="结束月份 YYYY-MM")
    q.add_argument("--pm25-max", metavar="X", help="PM2.5 目标上限")
    q.add_argument("--heavy-days-max", metavar="N", help="重污染天数目标上限")
    q.set_defaults(handler=cmd_air_target)

    p = sub.add_parser("progress", help="各县（区、市）各指标的完成情况与时序进度")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="统计截止日期（默认今天）")
    p.add_argument("--county", metavar="UNIT", help="只列该县（区、市）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(handler=cmd_progress)

    p = sub.add_parser("warnings", help="进度滞后或逾期的县（区、市）与指标（预警），最严重的在前")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="统计截止日期（默认今天）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(handler=cmd_warnings)


# --------------------------------------------------------------------------- formatting
def _num(value: float | None, *, missing: str = "") -> str:
    return targets.format_number(value, missing=missing)


def _compare(row: progress.ProgressRow) -> str:
    if row.kind == "air_quality":
        return "le"
    return reference().indicator(row.indicator).compare


def target_text(row: progress.ProgressRow) -> str:
    if row.no_task:
        return "无任务"
    if row.kind == "milestone":
        return f"{row.due.isoformat()}前完成" if not row.is_city or row.target == 1 else f"{_num(row.target)}个单位"
    if row.target is None:
        return "未分解" if row.kind == "cumulative" else "未设定"
    if row.measure == "rate":
        sign = "≤" if _compare(row) == "le" else "≥"
        return f"{sign}{_num(row.target)}"
    return _num(row.target)


def done_text(row: progress.ProgressRow) -> str:
    if row.no_task:
        return ""
    if row.kind == "milestone":
        if row.done_date is None:
            return "未完成" if not row.is_city or row.target == 1 else f"{_num(row.done)}个单位已完成"
        return f"{row.done_date.isoformat()}完成（{row.evidence}）" if row.evidence else f"{row.done_date.isoformat()}完成"
    if row.kind == "limit" and row.is_city:
        return row.met_text
    if row.measure == "rate":
        if row.done is None:
            return "未报送"
        text = f"{_num(round(row.done, 2))}（{row.value_month}）" if row.value_month else _num(row.done)
        return f"{text} {row.met_text}" if row.met_text else text
    return _num(row.done, missing="0")


def completion_text(row: progress.ProgressRow) -> str:
    if row.no_task:
        return "无任务"
    if row.kind in ("limit", "air_quality", "milestone"):
        return ""
    if row.completion is None:
        return "未分解"
    return sched.format_percent(row.completion)


def progress_table(rows: list[progress.ProgressRow]) -> str:
    headers = ["指标", "单位", "县（区、市）", "目标", "完成", "完成率", "时序进度", "状态", "本月新增", "排名"]
    body = [
        (
            r.name,
            r.unit,
            r.county,
            target_text(r),
            done_text(r),
            completion_text(r),
            sched.format_percent(r.schedule) if r.kind in ("cumulative", "milestone") and not r.no_task else "",
            r.status_label,
            "" if r.month_increment is None else _num(r.month_increment),
            "" if r.rank is None else r.rank,
        )
        for r in rows
    ]
    return textable.render(headers, body, numeric=(3, 4, 5, 6, 8, 9))


def _progress_json(rows: list[progress.ProgressRow]) -> str:
    return to_json([r.as_json() for r in rows])


def _as_of(args: argparse.Namespace) -> dt.date:
    return parse_date(args.as_of) if args.as_of else dt.date.today()


# --------------------------------------------------------------------------- handlers
def cmd_progress(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    as_of = _as_of(args)
    rows = progress.compute_progress(db, as_of, unit=args.county)
    if args.json:
        print(_progress_json(rows))
        return 0
    plan = reference().plan
    print(f"截至 {as_of.isoformat()} 的任务进度（时序进度自 {plan.window_start.isoformat()} 起按各指标时限计算）")
    print(progress_table(rows))
    return 0


def cmd_warnings(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    as_of = _as_of(args)
    rows = progress.warnings(db, as_of)
    if args.json:
        print(_progress_json(rows))
        return 0
    if not rows:
        print(f"截至 {as_of.isoformat()}，没有进度滞后或逾期的县（区、市）。")
        return 0
    n_air = sum(1 for r in rows if r.kind == "air_quality")
    n_over = sum(1 for r in rows if r.status == "overdue")
    n_not_met = sum(1 for r in rows if r.status == "not_met" and r.kind != "air_quality")
    n_behind = len(rows) - n_air - n_over - n_not_met
    units = len({r.unit_code for r in rows})
    print(f"截至 {as_of.isoformat()} 的预警：{units} 个县（区、市）共 {len(rows)} 项——空气质量 {n_air} 项，"
          f"逾期 {n_over} 项，未达标 {n_not_met} 项，滞后 {n_behind} 项（空气质量在前，再按严重程度排列）")
    print(progress_table(rows))
    return 0


def cmd_targets_set(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    result = targets.set_target(db, ctx.actor(), args.indicator, args.unit, args.value)
    ind = targets.resolve_indicator(args.indicator)
    print(f"已设定 {result.county} 的“{ind.name}”目标：{_num(result.value)} {ind.unit}")
    split = next(t for t in targets.target_table(db) if t.indicator == ind.key)
    print(f"各县（区、市）合计 {_num(split.total, missing='0')} {ind.unit}，市级目标 {_num(split.city_target)} {ind.unit}"
          f"（{split.state_text}）")
    return 0


def cmd_targets_show(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    table = targets.target_table(db)
    if args.json:
        print(to_json([t.as_json() for t in table]))
        return 0
    units = reference().units
    headers = ["指标", "单位", "市级目标", "分解合计", "核对", *(u.name for u in units)]
    rows = []
    for t in table:
        if t.rule == "rate":
            check = "各县统一"
        elif t.rule == "all_found":
            check = "按台账"
        else:
            check = t.state_text if t.state != "partial" else "不一致"
        rows.append([t.name, t.unit, _num(t.city_target, missing="—"), _num(t.total, missing="—"), check,
                     *(_num(u.value, missing="未分解") for u in t.units)])
    print(textable.render(headers, rows, numeric=(2, 3, *range(5, 5 + len(units)))))
    bad = [t for t in table if t.mismatch]
    if bad:
        print(f"\n注意：{len(bad)} 项指标的分解合计与市级目标不一致：" + "、".join(t.name for t in bad))
    return 0


def cmd_targets_export(ctx: CliContext, args: argparse.Namespace) -> int:
    from jzair_desktop.exchange.targets_xlsx import export_targets

    db = ctx.open()
    path = export_targets(db, args.file)
    print(f"已导出任务分解表：{path}")
    return 0


def cmd_targets_import(ctx: CliContext, args: argparse.Namespace) -> int:
    from jzair_desktop.exchange.targets_xlsx import import_targets

    db = ctx.open()
    result = import_targets(db, ctx.actor(), args.file)
    print(f"已导入任务分解表：{result.path.name}（设定 {result.set} 项，清除 {result.cleared} 项，未变 {result.unchanged} 项）")
    bad = [t for t in targets.target_table(db) if t.mismatch]
    if bad:
        print("注意：以下指标的分解合计与市级目标不一致：" + "、".join(t.name for t in bad))
    return 0


def cmd_figures_set(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    view = monthly.set_figure(db, ctx.actor(), args.unit, args.indicator, args.month, args.value)
    if view is None:  # pragma: no cover - argparse never passes a blank value
        print("已删除该月数据。")
        return 0
    ind = reference().indicator(view.indicator)
    gap = "" if ind.unit == "%" else " "
    text = f"已保存 {view.county} {view.month} “{view.name}”：{_num(view.value)}{gap}{ind.unit}"
    if view.cumulative is not None:
        text += f"（本月新增；累计 {_num(view.cumulative)}{gap}{ind.unit}）"
    print(text)
    return 0


def cmd_figures_show(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    views = monthly.list_figures(db, unit=args.county, indicator=args.indicator)
    if args.json:
        print(to_json([v.as_json() for v in views]))
        return 0
    if not views:
        print("尚未填报月度数据。")
        return 0
    rows = [(v.name, v.county, v.month, _num(v.value), _num(v.cumulative, missing="")) for v in views]
    print(textable.render(["指标", "县（区、市）", "月份", "数值", "累计"], rows, numeric=(3, 4)))
    return 0


def _air_line(v: monthly.AirQualityView) -> str:
    parts = []
    if v.pm25 is not None:
        target = "" if v.pm25_max is None else f"，目标 ≤{_num(v.pm25_max)}，{'达标' if v.pm25_ok else '未达标'}"
        parts.append(f"PM2.5 {_num(v.pm25)} 微克/立方米{target}")
    if v.heavy_days is not None:
        target = "" if v.heavy_days_max is None else f"，目标 ≤{v.heavy_days_max}，{'达标' if v.heavy_days_ok else '未达标'}"
        parts.append(f"重污染天数 {v.heavy_days} 天{target}")
    return "；".join(parts)


def cmd_air_set(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    view = monthly.set_air_quality(db, ctx.actor(), args.area, args.month, pm25=args.pm25, heavy_days=args.heavy_days)
    print(f"已保存 {view.area_name} {view.month} 空气质量：{_air_line(view)}")
    return 0


def _ok(flag: bool | None) -> str:
    return "" if flag is None else ("达标" if flag else "未达标")


def cmd_air_show(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    views = monthly.air_quality(db, area=args.area)
    if args.json:
        print(to_json([v.as_json() for v in views]))
        return 0
    if not views:
        print("尚未填报空气质量数据。")
        return 0
    rows = [
        (v.area_name, v.month, _num(v.pm25), _num(v.pm25_max), _ok(v.pm25_ok),
         "" if v.heavy_days is None else v.heavy_days, "" if v.heavy_days_max is None else v.heavy_days_max,
         _ok(v.heavy_days_ok))
        for v in views
    ]
    headers = ["区域", "月份", "PM2.5", "PM2.5目标", "PM2.5达标", "重污染天数", "重污染天数目标", "天数达标"]
    print(textable.render(headers, rows, numeric=(2, 3, 5, 6)))
    return 0


def cmd_air_target(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    t = monthly.set_air_quality_target(
        db, ctx.actor(), args.area, args.first_month, args.last_month,
        pm25_max=args.pm25_max, heavy_days_max=args.heavy_days_max,
    )
    print(f"已设定 {t.area_name} {t.first_month} 至 {t.last_month} 的空气质量目标："
          f"PM2.5 ≤{_num(t.pm25_max, missing='—')}，重污染天数 ≤{'—' if t.heavy_days_max is None else t.heavy_days_max}")
    return 0
