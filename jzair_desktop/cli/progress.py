"""targets, figures, air, milestone, progress, warnings."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re

from jzair_desktop.cli import textable
from jzair_desktop.cli.context import CliContext
from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.services import air, air_targets, milestones, monthly, progress, targets
from jzair_desktop.services import scope as read_scope
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
    q = tsub.add_parser("import", help="从表格文件导入任务分解表（逐格校验，有错则不导入）")
    q.add_argument("file", metavar="FILE", help="任务分解表：.xlsx .xls .et .xlsb .ods 或 .csv 文件（空白单元格表示未分解）")
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
    q = asub.add_parser("basis", help="设定县（区、市）的档次和2019年同期基准，推算其空气质量目标（仅市级管理员）")
    q.add_argument("area", metavar="UNIT", help="县（区、市）名称或代码")
    q.add_argument("--grade", metavar="N", help="档次，1 至 6（方案附件1）")
    q.add_argument("--baseline", metavar="YYYY-MM=PM25,DAYS", action="append", default=[],
                   help="2019年同期某月的PM2.5月均浓度和重污染天数，如 2019-10=55,2；可重复")
    q.set_defaults(handler=cmd_air_basis)
    q = asub.add_parser("bases", help="列出各县（区、市）的档次、2019年同期基准和推算的目标")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_air_bases)
    q = asub.add_parser("progress", help="各区域本期空气质量：期间至今与目标、2019年同期对照")
    q.add_argument("--as-of", metavar="YYYY-MM-DD", help="统计截止日期（默认今天）")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_air_progress)

    p = sub.add_parser("milestone", help="节点任务：记录完成日期和依据（如新泰钢铁超低排放改造）")
    msub = p.add_subparsers(dest="milestone_command", metavar="操作", required=True)
    q = msub.add_parser("set", help="记录某县（区、市）（全市节点填“全市”）某项节点任务的完成日期和依据")
    q.add_argument("indicator", metavar="INDICATOR", help="节点任务代码或名称，如 steel.xintai_ultra_low")
    q.add_argument("unit", metavar="UNIT", help="县（区、市）名称或代码，全市节点任务填 全市")
    q.add_argument("date", metavar="YYYY-MM-DD", help="完成日期")
    q.add_argument("evidence", metavar="EVIDENCE", help="完成依据：文号或证明材料名称")
    q.set_defaults(handler=cmd_milestone_set)
    q = msub.add_parser("clear", help="撤销某项节点任务的完成记录")
    q.add_argument("indicator", metavar="INDICATOR", help="节点任务代码或名称")
    q.add_argument("unit", metavar="UNIT", help="县（区、市）名称或代码，或 全市")
    q.set_defaults(handler=cmd_milestone_clear)
    q = msub.add_parser("show", help="列出各节点任务及完成情况")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_milestone_show)

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
    if row.kind in ("limit", "air_quality", "milestone", "problems"):  # problems: overdue 问题清单 items
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
    rows = progress.compute_progress(db, as_of, unit=args.county, actor=ctx.reader())
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
    rows = progress.warnings(db, as_of, actor=ctx.reader())
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


def _own_areas(ctx: CliContext, rows: list) -> list:
    """The rows (of areas) the user given by --user may read: a county user's own unit's only."""
    actor = ctx.reader()
    if not read_scope.is_county_user(actor):
        return rows
    own = read_scope.read_unit(actor, None)
    return [r for r in rows if r.area == own]


def cmd_targets_show(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    table = targets.target_table(db)
    actor = ctx.reader()
    units = reference().units
    if read_scope.is_county_user(actor):  # the own unit's column only
        own = read_scope.read_unit(actor, None)
        keep = [i for i, u in enumerate(units) if u.code == own]
        units = [units[i] for i in keep]
        table = [dataclasses.replace(t, units=tuple(t.units[i] for i in keep)) for t in table]
    if args.json:
        print(to_json([t.as_json() for t in table]))
        return 0
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
    from jzair_desktop.services.targets_excel import export_targets

    db = ctx.open()
    actor = ctx.reader()
    if read_scope.is_county_user(actor):
        raise PermissionDenied(
            f"用户“{actor.name}”只能查看本县（区、市）（{read_scope.own_name(actor)}）的数据：任务分解表包含全市各县"
            "（区、市）的目标，由市级管理员导出。"
            "本县（区、市）的目标可用 jzair targets show 查看。")
    path = export_targets(db, args.file)
    print(f"已导出任务分解表：{path}")
    return 0


def cmd_targets_import(ctx: CliContext, args: argparse.Namespace) -> int:
    from jzair_desktop.services.targets_excel import import_targets

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
    views = monthly.list_figures(db, unit=args.county, indicator=args.indicator, actor=ctx.reader())
    if args.json:
        print(to_json([v.as_json() for v in views]))
        return 0
    if not views:
        print("尚未填报月度数据。")
        return 0
    rows = [(v.name, v.county, v.month, _num(v.value), _num(v.cumulative, missing="")) for v in views]
    print(textable.render(["指标", "县（区、市）", "月份", "数值", "累计"], rows, numeric=(3, 4)))
    return 0


def _air_line(v: air.AirQualityView) -> str:
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
    view = air.set_air_quality(db, ctx.actor(), args.area, args.month, pm25=args.pm25, heavy_days=args.heavy_days)
    print(f"已保存 {view.area_name} {view.month} 空气质量：{_air_line(view)}")
    return 0


def _ok(flag: bool | None) -> str:
    return "" if flag is None else ("达标" if flag else "未达标")


def cmd_air_show(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    views = air.air_quality(db, area=args.area, actor=ctx.reader())
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
    t = air.set_air_quality_target(
        db, ctx.actor(), args.area, args.first_month, args.last_month,
        pm25_max=args.pm25_max, heavy_days_max=args.heavy_days_max,
    )
    print(f"已设定 {t.area_name} {t.first_month} 至 {t.last_month} 的空气质量目标："
          f"PM2.5 ≤{_num(t.pm25_max, missing='—')}，重污染天数 ≤{'—' if t.heavy_days_max is None else t.heavy_days_max}")
    return 0


def _baselines(items: list[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for item in items:
        month, sep, rest = item.partition("=")
        pm, sep2, days = rest.replace("，", ",").partition(",")
        if not sep or not sep2:
            raise JzairError(f"基准格式不正确：“{item}”，应为 年-月=PM2.5,重污染天数，如 2019-10=55,2。")
        out[month.strip()] = (pm.strip(), days.strip())
    return out


def cmd_air_basis(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    basis = air_targets.set_air_basis(db, ctx.actor(), args.area, grade=args.grade, baselines=_baselines(args.baseline))
    periods = reference().plan.air_periods
    print(f"已设定{basis.area_name}的空气质量档次 {basis.grade} 档；推算的目标：")
    for first, last in periods:
        pm, days = basis.limits[first]
        print(f"  {air_targets.period_text(first, last)}：PM2.5 ≤{_num(pm)} 微克/立方米，重污染天数 ≤{days} 天")
    return 0


def cmd_air_bases(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    bases = _own_areas(ctx, air_targets.air_bases(db))
    if args.json:
        print(to_json([b.as_json() for b in bases]))
        return 0
    periods = reference().plan.air_periods
    months = air_targets.all_baseline_months()
    headers = ["县（区、市）", "档次", *(f"{m} PM2.5/天数" for m in months),
               *(f"{air_targets.period_text(f, la)}目标" for f, la in periods)]
    rows = []
    for b in bases:
        base = [f"{_num(b.baselines[m][0])}/{b.baselines[m][1]}" if m in b.baselines else "未录入" for m in months]
        lim = [f"≤{_num(b.limits[f][0])}/≤{b.limits[f][1]}" if f in b.limits and b.limits[f][0] is not None
               else "未设定" for f, _ in periods]
        rows.append((b.area_name, "未设定" if b.grade is None else f"{b.grade}档", *base, *lim))
    print(textable.render(headers, rows))
    return 0


def cmd_air_progress(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    rows = _own_areas(ctx, air_targets.air_progress(db, _as_of(args)))
    if args.json:
        print(to_json([r.as_json() for r in rows]))
        return 0
    body = [(r.area_name, r.period, r.name, _num(r.baseline, missing="—"), _num(r.limit, missing="未设定"),
             _num(r.value, missing="未填报"), "" if r.gap is None else f"{r.gap:+.1f}",
             f"{r.months_reported}/{r.months_total}", r.status_label) for r in rows]
    print(textable.render(["区域", "期间", "指标", "2019年同期", "目标", "期间至今", "差距", "已填报月数", "状态"], body,
                          numeric=(3, 4, 5, 6)))
    return 0


def cmd_milestone_set(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    v = milestones.set_milestone(db, ctx.actor(), args.indicator, args.unit, args.date, args.evidence)
    late = "（逾期完成）" if v.done_date and v.done_date > v.due else ""
    print(f"已记录：{v.county}“{v.name}”于 {v.done_date.isoformat()} 完成{late}，依据：{v.evidence}")
    return 0


def cmd_milestone_clear(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    if milestones.clear_milestone(db, ctx.actor(), args.indicator, args.unit):
        print("已撤销该节点任务的完成记录。")
    else:
        print("该节点任务尚无完成记录，未做改动。")
    return 0


def cmd_milestone_show(ctx: CliContext, args: argparse.Namespace) -> int:
    db = ctx.open()
    items = milestones.list_milestones(db, actor=ctx.reader())
    if args.json:
        print(to_json([i.as_json() for i in items]))
        return 0
    rows = [(i.name, i.county, i.due.isoformat(), "未完成" if i.done_date is None else i.done_date.isoformat(),
             i.evidence or "") for i in items]
    print(textable.render(["节点任务", "县（区、市）", "时限", "完成日期", "依据"], rows))
    return 0
