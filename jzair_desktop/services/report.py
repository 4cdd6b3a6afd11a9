"""The monthly report (月报) use case: gather a month's figures for the city or one unit, write the PDF.

Figures are taken as of the month's last day: a record counts when its done date is on or before it,
so regenerating a month later gives the same figures. Where a unit has submitted (上报) the month,
its frozen submission figures are used instead of the live ledgers.

The PDF is written to a temporary file in the target folder and renamed over the target only when it
is complete (os.replace), so a failed or cancelled run never damages an existing report.

Runs on any thread (no Qt); long steps report through a TaskState.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, func, not_, select
from sqlalchemy.orm import Session

from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.domain.months import month_end, month_of, months_between, parse_month
from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, Indicator, Reference, Unit, reference
from jzair_desktop.domain.validation import mask_id_number
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.exchange import pdf_report as pdf
from jzair_desktop.exchange import report_data
from jzair_desktop.fsutil import replace_file
from jzair_desktop.services import audit
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.aggregates import done_condition
from jzair_desktop.services.air_targets import air_progress_rows
from jzair_desktop.services.audit_anchor import PDF_KEYWORD, current_head
from jzair_desktop.services.database import Database
from jzair_desktop.services.info import due_text, target_text
from jzair_desktop.services.problems import (
    MAX_OVERDUE_LISTED,
    overdue_problems,
    problem_figures,
    problem_warning_rows,
)
from jzair_desktop.services.progress import (
    ProgressRow,
    _limit_city,
    _milestone_city,
    air_warning_rows,
    progress_rows,
    sort_warnings,
)
from jzair_desktop.services.sites import failing_sites, site_figures
from jzair_desktop.services.targets import parts_mismatches, rule_of, stored_targets
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS, AirQualityMonth, HeatingRecord
from jzair_desktop.storage.models import AirQualityTarget as AirQualityTargetRow
from jzair_desktop.storage.portable import codepoint
from jzair_desktop.taskstate import NULL_STATE, TaskState

CITY_AREA = "市城区"
MAX_OPEN_ITEMS = 500  # enterprise items listed per ledger in a county report; the rest are counted
MAX_OPEN_HOUSEHOLDS = 300  # more open households than this are summarised per 乡（镇）
_TIE = 1e-12
FROZEN_SOURCE = "progress"  # services.submission.FIGURES_SOURCE of the frozen rows this reads


# =========================================================================== input checks
def parse_report_month(text: object, ref: Reference | None = None) -> str:
    """'YYYY-MM' of a campaign month (plan.first_month … plan.last_month); a Chinese error otherwise."""
    return parse_month(text, ref, example="2020-12", outside="不在攻坚行动期间（{first} 至 {last}），无法生成该月月报")


def resolve_scope(unit: str | None, ref: Reference | None = None) -> Unit | None:
    """None for the city report (no unit, 全市 or the city code), else the unit (a Chinese error if unknown)."""
    ref = ref or reference()
    text = "" if unit is None else str(unit).strip()
    if text in ("", CITY_NAME, CITY_CODE, "市级"):
        return None
    return ref.resolve_unit(text)


def check_output_path(out: Path | str) -> Path:
    """The output file, refused with a Chinese message when it cannot be written."""
    path = Path(out)
    if path.suffix.lower() != ".pdf":
        raise JzairError(f"输出文件应以 .pdf 结尾：{path}")
    if path.is_dir():
        raise JzairError(f"输出路径是一个文件夹，不是文件：{path}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise JzairError(f"输出文件夹不存在：{parent}")
    if not parent.is_dir():
        raise JzairError(f"输出文件夹不是文件夹：{parent}")
    if not os.access(parent, os.W_OK):
        raise JzairError(f"没有写入该文件夹的权限：{parent}")
    if path.exists() and not os.access(path, os.W_OK):
        raise JzairError(f"输出文件是只读的，不能覆盖：{path}")
    return path


def check_actor(actor: Actor, unit: Unit | None, letters: bool) -> None:
    """County clerks make their own unit's report only; warning letters are the city office's."""
    if actor.is_county:
        if unit is None or not actor.can_write(unit.code):
            raise PermissionDenied(f"用户“{actor.name}”只能生成本县（区、市）的月报。")
        if letters:
            raise PermissionDenied("只有市级管理员可以生成预警函。")


# =========================================================================== frozen submissions
def _frozen_figures(db: Database, month: str, codes: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """{unit_code: {indicator key: frozen row}} of the units whose current submission of `month` froze
    progress rows (ProgressRow.as_json); none when the submission feature is absent."""
    try:
        from jzair_desktop.services.submission import frozen_progress
    except ImportError:  # pragma: no cover - submission feature not installed
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for code in codes:
        figures = frozen_progress(db, code, month)
        if figures and figures.get("source") == FROZEN_SOURCE and figures.get("indicators"):
            out[code] = {row["indicator"]: row for row in figures["indicators"]}
    return out


def _frozen_row(row: ProgressRow, frozen: dict[str, dict[str, Any]]) -> ProgressRow:
    """A unit's row with the figures its submission froze (rank is recomputed with the other units)."""
    f = frozen.get(row.indicator)
    if f is None:
        return row
    done = f.get("done")
    return replace(
        row,
        target=f.get("target"),
        done=done,
        completion=f.get("completion"),
        schedule=float(f.get("schedule", row.schedule)),
        status=f.get("status", row.status),
        month_increment=f.get("month_increment"),
        value_month=f.get("value_month", row.value_month if done == row.done else None),
        months_met=f.get("months_met", row.months_met),
        months_reported=f.get("months_reported", row.months_reported),
        done_date=dt.date.fromisoformat(f["done_date"]) if f.get("done_date") else None,
        evidence=f.get("evidence"),
    )


def _score(row: ProgressRow, ind: Indicator) -> float | None:
    if ind.measure == "rate":
        return sched.rate_score(row.done, row.target, ind.compare)
    return row.completion


def apply_frozen(
    rows: list[ProgressRow], frozen: dict[str, dict[str, dict[str, Any]]], as_of: dt.date, ref: Reference
) -> list[ProgressRow]:
    """Replace the rows of units with a frozen submission, then recompute ranks and the city rows."""
    if not frozen:
        return rows
    out: list[ProgressRow] = []
    for ind in ref.indicators:
        units = [r for r in rows if r.indicator == ind.key and not r.is_city]
        city = next((r for r in rows if r.indicator == ind.key and r.is_city), None)
        if city is None:
            continue
        units = [_frozen_row(r, frozen[r.unit_code]) if r.unit_code in frozen else r for r in units]
        scores = {r.unit_code: _score(r, ind) for r in units}
        given = [v for v in scores.values() if v is not None]
        units = [
            replace(r, rank=None if scores[r.unit_code] is None
                    else 1 + sum(1 for v in given if v > scores[r.unit_code] + _TIE))
            for r in units
        ]
        if ind.kind == "limit":
            city = _limit_city(ind, units, city.due, city.value_month)
        elif ind.kind == "milestone":
            if not ind.city_level:
                city = _milestone_city(ind, units, city.schedule, city.due)
        elif ind.city_level:
            pass  # entered by the city office: no unit figures to add up
        else:
            done = sum(r.done or 0.0 for r in units)
            month_inc = sum(r.month_increment or 0.0 for r in units)
            target = ind.target if rule_of(ind) != "all_found" else sum(r.target or 0.0 for r in units)
            completion = sched.count_completion(done, target)
            city = replace(city, target=target, done=done, month_increment=month_inc, completion=completion,
                           status=sched.status_of(completion, city.schedule, as_of, city.due))
        out.extend(units)
        out.append(city)
    return out


# =========================================================================== figures → report blocks
def _figure(row: ProgressRow, ind: Indicator, month: str) -> report_data.Figure:
    label = row.status_label
    note = ""
    if ind.measure == "rate" and row.value_month and row.value_month != month:
        note = f"{int(row.value_month[5:])}月"
    done_text = ""
    if row.kind == "limit" and row.in_scope and row.met_text:
        value = "" if row.done is None else report_data.fmt_rate(row.done, ind.unit)
        if note and value:
            value = f"{value}（{note}）"
        if row.is_city:
            done_text = row.met_text.replace("达标单位 ", "达标")
        else:
            done_text = f"{value} {row.met_text}".strip()
    elif row.kind == "milestone" and row.in_scope:
        if row.done_date is not None and (not row.is_city or row.target == 1):
            done_text = f"{row.done_date.month}月{row.done_date.day}日完成"
        elif row.is_city and row.target and row.target > 1:
            done_text = f"{pdf.fmt_number(row.done)}/{pdf.fmt_number(row.target)}"
    return report_data.Figure(
        label=row.county,
        target=row.target,
        month=row.month_increment,
        done=row.done,
        completion=row.completion,
        schedule=row.schedule,
        status=row.status,
        status_label=label,
        rank=row.rank,
        note=note,
        kind=row.kind,
        done_text=done_text,
    )


def _target_text(ind: Indicator, city: ProgressRow) -> str:
    if ind.target_rule == "all_found":
        return f"排查出的全部（{pdf.fmt_number(city.target, missing='0')}）"
    return target_text(ind)


def _indicator_block(
    ind: Indicator, rows: list[ProgressRow], unit: Unit | None, month: str, ref: Reference
) -> report_data.IndicatorBlock:
    own = [r for r in rows if r.indicator == ind.key]
    city = next(r for r in own if r.is_city)
    units = [r for r in own if not r.is_city]
    overall = city if unit is None else next(r for r in units if r.unit_code == unit.code)
    return report_data.IndicatorBlock(
        key=ind.key,
        name=ind.name,
        unit=ind.unit,
        measure=ind.measure,
        compare=ind.compare,
        target_text=_target_text(ind, city),
        due_text=due_text(ind.due, ind.due_rule, ref.plan.campaign_end),
        plan_item=ind.plan_item,
        department=ind.department_text,
        overall=_figure(overall, ind, month),
        units=tuple(_figure(r, ind, month) for r in units) if unit is None else (),
        ranked=sum(1 for r in units if r.rank is not None),
    )


def _warning(row: ProgressRow, ind: Indicator | None, ref: Reference) -> report_data.WarningItem:
    if ind is None:  # air quality (services.air_targets) or overdue 问题清单 items (services.problems)
        return report_data.WarningItem(
            county=row.county, unit_code=row.unit_code, indicator=row.indicator, name=row.name, unit=row.unit,
            measure=row.measure, compare="le", target=row.target, done=row.done, completion=row.completion,
            schedule=row.schedule, status=row.status, status_label=row.status_label, due=row.due,
            due_text=row.due.isoformat(), kind=row.kind, departments=row.departments,
        )
    return report_data.WarningItem(
        county=row.county,
        unit_code=row.unit_code,
        indicator=row.indicator,
        name=row.name,
        unit=row.unit,
        measure=row.measure,
        compare=ind.compare,
        target=row.target,
        done=row.done,
        completion=row.completion,
        schedule=row.schedule,
        status=row.status,
        status_label=row.status_label,
        due=row.due,
        due_text=due_text(ind.due, ind.due_rule, ref.plan.campaign_end),
        kind=row.kind,
        departments=ind.department_text,
    )


# =========================================================================== queries of the report
def township_figures(s: Session, unit_code: str, as_of: dt.date) -> tuple[tuple[str, ...], list[report_data.TownshipFigure]]:
    """Heating per 乡（镇） of one unit: registered households (the ledger's live records), done by `as_of`,
    done within its month, and done per 改造方式."""
    ldef = LEDGERS["heating"]
    m = HeatingRecord
    methods = tuple(reference().choices["heating_method"])
    done = done_condition(m, ldef, as_of)
    in_month = and_(done, m.done_date >= as_of.replace(day=1))
    stmt = (
        select(
            m.township,
            func.count(m.id),
            func.sum(case((done, 1), else_=0)),
            func.sum(case((in_month, 1), else_=0)),
            *[func.sum(case((and_(done, m.method == meth), 1), else_=0)) for meth in methods],
        )
        .where(m.deleted_at.is_(None), m.unit_code == unit_code)
        .group_by(m.township)
        .order_by(codepoint(m.township))
    )
    out = []
    for row in s.execute(stmt):
        out.append(
            report_data.TownshipFigure(
                township=row[0] or "（未填乡镇）",
                registered=int(row[1] or 0),
                done=int(row[2] or 0),
                month=int(row[3] or 0),
                by_method=tuple(int(v or 0) for v in row[4:]),
            )
        )
    return methods, out


def open_items(
    s: Session, unit_code: str, as_of: dt.date, ref: Reference, *,
    household_limit: int = MAX_OPEN_HOUSEHOLDS, item_limit: int = MAX_OPEN_ITEMS,
) -> list[report_data.OpenItemGroup]:
    """A unit's items not done by `as_of` whose planned date (heating: the task's due date) has passed.

    Enterprise items are listed (the longest overdue first, at most `item_limit`). Households are listed
    when there are at most `household_limit` of them, else summarised per 乡（镇）. 身份证号 are masked.
    """
    groups: list[report_data.OpenItemGroup] = []
    heating_due = sched.due_date(ref.indicator("heating.total"), ref.plan.campaign_end)
    methods = tuple(ref.choices["heating_method"])
    for key, ldef in LEDGERS.items():
        model = LEDGER_MODELS[key]
        base = [model.deleted_at.is_(None), model.unit_code == unit_code, not_(done_condition(model, ldef, as_of))]
        if ldef.open_items == "household":
            groups.append(_open_households(s, ldef, base, as_of, heating_due, methods, household_limit))
            continue
        if ldef.open_items is None or ldef.planned_date_field is None:
            continue  # trucks: a record is an elimination, nothing is open
        planned = getattr(model, ldef.planned_date_field)
        where = [*base, planned < as_of]
        total = int(s.scalar(select(func.count(model.id)).where(*where)) or 0)
        recs = s.scalars(select(model).where(*where).order_by(planned, model.id).limit(item_limit))
        items = tuple(
            report_data.OpenItem(
                label=getattr(r, ldef.label_field),
                detail=ldef.item_detail(r),
                planned=getattr(r, ldef.planned_date_field),
                overdue_days=(as_of - getattr(r, ldef.planned_date_field)).days,
            )
            for r in recs
        )
        groups.append(report_data.OpenItemGroup(key, ldef.sheet_title, "item", total, items))
    return groups


def _open_households(
    s: Session, ldef: LedgerDef, base: list, as_of: dt.date, due: dt.date, methods: tuple[str, ...], limit: int
) -> report_data.OpenItemGroup:
    """The open households of a ledger listed per household (LedgerDef.open_items == "household": its
    records have township, village, householder, method and id_number)."""
    m = LEDGER_MODELS[ldef.key]
    if as_of <= due:
        return report_data.OpenItemGroup(ldef.key, ldef.sheet_title, "household", 0, ())
    rule = f"清洁取暖改造应于{due.isoformat()}前完成；下列农户截至数据截至日仍未完工（或未验收）。"
    total = int(s.scalar(select(func.count(m.id)).where(*base)) or 0)
    if total > limit:
        stmt = (
            select(
                m.township,
                func.count(func.distinct(m.village)),
                func.count(m.id),
                *[func.sum(case((m.method == meth, 1), else_=0)) for meth in methods],
            )
            .where(*base)
            .group_by(m.township)
            .order_by(func.count(m.id).desc(), codepoint(m.township))
        )
        summary = tuple(
            report_data.PlaceSummary(r[0] or "（未填乡镇）", int(r[1]), int(r[2]), tuple(int(v or 0) for v in r[3:]))
            for r in s.execute(stmt)
        )
        return report_data.OpenItemGroup(ldef.key, ldef.sheet_title, "household", total, (), rule, summary, methods)
    recs = s.scalars(select(m).where(*base).order_by(codepoint(m.township), codepoint(m.village),
                                                          codepoint(m.householder), m.id))
    items = tuple(
        report_data.OpenItem(
            label=r.householder,
            detail=r.method,
            planned=due,
            overdue_days=(as_of - due).days,
            id_masked=mask_id_number(r.id_number),
            place=f"{r.township}/{r.village}",
        )
        for r in recs
    )
    return report_data.OpenItemGroup(ldef.key, ldef.sheet_title, "household", total, items, rule, (), methods)


def air_rows(
    s: Session, month: str, areas: Sequence[tuple[str, str]], ref: Reference
) -> tuple[list[report_data.AirRow], dict[str, list[report_data.AirHistoryRow]]]:
    """This month's air quality per area against the target period covering it, and each area's history
    from the campaign window's first month to `month`."""
    window_first = month_of(ref.plan.window_start)
    data = {(r.area, r.month): r for r in s.scalars(select(AirQualityMonth).where(AirQualityMonth.month <= month))}
    targets = list(s.scalars(select(AirQualityTargetRow)))

    def target_for(area: str, mon: str) -> AirQualityTargetRow | None:
        for t in targets:
            if t.area == area and t.first_month <= mon <= t.last_month:
                return t
        return None

    rows: list[report_data.AirRow] = []
    history: dict[str, list[report_data.AirHistoryRow]] = {}
    for key, name in areas:
        t = target_for(key, month)
        period_source = t or target_for(CITY_AREA, month)
        cur = data.get((key, month))
        mean = heavy = None
        period = ""
        if period_source is not None:
            months = months_between(period_source.first_month, month)
            pms = [data[(key, mo)].pm25 for mo in months if (key, mo) in data and data[(key, mo)].pm25 is not None]
            hds = [data[(key, mo)].heavy_days for mo in months
                   if (key, mo) in data and data[(key, mo)].heavy_days is not None]
            mean = sum(pms) / len(pms) if pms else None
            heavy = sum(hds) if hds else None
            period = f"{period_source.first_month}至{period_source.last_month}"
        rows.append(
            report_data.AirRow(
                area=name,
                pm25=cur.pm25 if cur else None,
                heavy_days=cur.heavy_days if cur else None,
                pm25_max=t.pm25_max if t else None,
                heavy_max=t.heavy_days_max if t else None,
                pm25_period_mean=mean,
                heavy_period=heavy,
                period=period,
            )
        )
        hist = []
        for mo in months_between(window_first, month):
            rec = data.get((key, mo))
            tt = target_for(key, mo)
            hist.append(report_data.AirHistoryRow(mo, rec.pm25 if rec else None, rec.heavy_days if rec else None,
                                          tt.pm25_max if tt else None, tt.heavy_days_max if tt else None))
        history[name] = hist
    return rows, history


def _with_air_progress(
    air: list[report_data.AirRow], progress: list[Any], areas: Sequence[tuple[str, str]], s: Session
) -> list[report_data.AirRow]:
    """The rows with the period's baseline, limit, period-to-date value and status (services.air_targets)."""
    from jzair_desktop.storage.models import AirQualityGrade

    grades = {g.area: g.grade for g in s.scalars(select(AirQualityGrade))}
    by = {(p.area, p.key): p for p in progress}
    out = []
    for (key, _name), row in zip(areas, air, strict=True):
        pm, hd = by.get((key, "air.pm25")), by.get((key, "air.heavy_days"))
        if pm is None or hd is None:
            out.append(row)
            continue
        out.append(replace(
            row, grade=grades.get(key), pm25_baseline=pm.baseline, heavy_baseline=hd.baseline,
            pm25_max=pm.limit, heavy_max=None if hd.limit is None else int(hd.limit),
            pm25_period_mean=pm.value, heavy_period=None if hd.value is None else int(hd.value),
            pm25_status=pm.status, heavy_status=hd.status, pm25_status_label=pm.status_label,
            heavy_status_label=hd.status_label, period=pm.period,
        ))
    return out


# =========================================================================== the use case
@dataclass(frozen=True)
class ReportResult:
    path: Path
    pages: int
    size: int
    month: str
    unit_name: str
    warnings: int
    letters: int
    frozen_units: tuple[str, ...]
    data: report_data.ReportData = field(repr=False, compare=False)


def build_report_data(
    db: Database,
    month: str,
    unit: str | None = None,
    *,
    letters: bool = False,
    letter_date: dt.date | None = None,
    actor: Actor = BUILTIN_ADMIN,
    state: TaskState = NULL_STATE,
) -> report_data.ReportData:
    """All figures of the month's report as plain data (see module doc)."""
    ref = reference()
    month = parse_report_month(month, ref)
    scope = resolve_scope(unit, ref)
    check_actor(actor, scope, letters)
    as_of = month_end(month)
    state.progress(5, 100, "正在统计各项任务进度…", force=True)
    with read_session(db.engine) as s:
        head = current_head(s)  # recorded on the report: `audit verify --against` proves the chain keeps it
        rows = progress_rows(s, as_of, ref=ref)
        state.progress(35, 100, "正在统计乡镇和逾期事项…")
        townships: tuple[tuple[str, ...], list[report_data.TownshipFigure]] = ((), [])
        groups: list[report_data.OpenItemGroup] = []
        if scope is not None:
            townships = township_figures(s, scope.code, as_of)
            groups = open_items(s, scope.code, as_of, ref)
        state.progress(45, 100, "正在整理空气质量数据…")
        if scope is None:
            areas = [(CITY_AREA, CITY_AREA), *((u.code, u.name) for u in ref.units)]
        else:
            areas = [(scope.code, scope.name)]
        air, history = air_rows(s, month, areas, ref)
        air = _with_air_progress(air, air_progress_rows(s, as_of, ref), areas, s)
        aq_rows = air_warning_rows(s, as_of, ref) + problem_warning_rows(s, as_of, ref)
        sites = sites_section(s, as_of, scope, ref)
        problems = problems_section(s, month, scope, ref)
        mismatches = parts_mismatches(s, ref)
    frozen = _frozen_figures(db, month, [u.code for u in ref.units])
    rows = apply_frozen(rows, frozen, as_of, ref)
    state.progress(55, 100, "正在整理报告内容…")

    ledger_inds = [i for i in ref.indicators if i.source == "ledger"]
    monthly_inds = [i for i in ref.indicators if i.source in ("monthly", "milestone")]
    blocks = {i.key: _indicator_block(i, rows, scope, month, ref) for i in ref.indicators}
    ledger_blocks = []
    for key, ldef in LEDGERS.items():
        inds = [blocks[i.key] for i in ledger_inds if i.ledger == key]
        if not inds:
            continue
        extra: dict[str, Any] = {}
        if key == "heating" and scope is not None and townships[1]:
            extra = {
                "township_methods": townships[0],
                "townships": tuple(townships[1]),
                "township_schedule": inds[0].overall.schedule,
            }
        ledger_blocks.append(report_data.LedgerBlock(key, _ledger_title(ldef), tuple(inds), inds[0].key, **extra))

    inds_by_key = {i.key: i for i in ref.indicators}
    unit_rows = [r for r in rows + aq_rows if not r.is_city and (scope is None or r.unit_code == scope.code)]
    warn_rows = sort_warnings(unit_rows, ref)
    warning_items = tuple(_warning(r, inds_by_key.get(r.indicator), ref) for r in warn_rows)

    letter_list: list[report_data.Letter] = []
    date = letter_date or as_of
    if letters:
        order = {u.code: u.sort_order for u in ref.units}
        by_unit: dict[str, list[report_data.WarningItem]] = {}
        for w in warning_items:
            by_unit.setdefault(w.unit_code, []).append(w)
        for n, code in enumerate(sorted(by_unit, key=lambda c: order.get(c, 999)), start=1):
            items = by_unit[code]
            letter_list.append(report_data.Letter(code, items[0].county, pdf.letter_number(date, n, ref.plan.letter_prefix),
                                          tuple(items)))

    frozen_names = tuple(ref.unit_by_code(c).name for c in frozen if scope is None or c == scope.code)
    source_note = (
        f"数据说明：各项任务按台账记录的完成日期统计至{pdf.fmt_date_cn(as_of)}（此后完成的不计入），"
        "月度填报指标取截至本月的填报数；各县（区、市）目标为市大气办分解下达的目标，"
        "“排查出的全部”类任务以台账登记数为目标。"
    )
    if frozen_names:
        source_note += f"{'、'.join(frozen_names)}已上报本月数据，采用上报时锁定的数据。"
    extra_notes = tuple(
        f"任务分解核对：{m.text}（应为其气代煤、电代煤、集中供热、其他清洁能源四项目标之和），请市大气办更正。"
        for m in mismatches if scope is None or m.unit_code == scope.code
    )
    history_area = CITY_AREA if scope is None else scope.name
    return report_data.ReportData(
        scope="city" if scope is None else "county",
        unit_code=CITY_CODE if scope is None else scope.code,
        unit_name=CITY_NAME if scope is None else scope.name,
        month=month,
        as_of=as_of,
        issuer=ref.plan.issuer,
        plan_title=ref.plan.title,
        plan_doc_no=ref.plan.document_no,
        source_note=source_note,
        overview=tuple(blocks[i.key] for i in ledger_inds),
        ledgers=tuple(ledger_blocks),
        monthly=tuple(blocks[i.key] for i in monthly_inds),
        air=tuple(air),
        air_history_area=history_area,
        air_history=tuple(history.get(history_area, ())),
        warnings=warning_items,
        open_items=tuple(groups),
        letters=tuple(letter_list),
        letter_date=date,
        letter_prefix=ref.plan.letter_prefix,
        extra_notes=extra_notes,
        frozen_units=frozen_names,
        audit_line=head.short,
        audit_keyword=f"{PDF_KEYWORD}:{head.seq}:{head.hash}",
        sites=sites,
        problems=problems,
    )


def sites_section(s: Session, as_of: dt.date, scope: Unit | None, ref: Reference) -> report_data.SitesSection:
    """建筑工地 (十七): per unit (a county: its own) the sites under supervision, 六个百分之百, the failing sites."""
    code = scope.code if scope is not None else None
    figs = site_figures(s, as_of, code, ref)
    rows = [report_data.SiteRow(f.county, f.supervised, f.active, f.meeting, f.online, f.video) for f in figs]
    if scope is None:
        rows.append(report_data.SiteRow("合计", *(sum(getattr(r, k) for r in rows) for k in (
            "supervised", "active", "meeting", "online", "video"))))
    total, failing = failing_sites(s, as_of, code, ref)
    ind = ref.indicator("dust.construction_sites")
    target = ind.target
    if scope is not None:
        target = stored_targets(s).get((ind.key, scope.code))
    return report_data.SitesSection(
        target, tuple(rows), total,
        tuple(report_data.FailingSiteRow(f.county, f.project_name, f.contractor, f.failing) for f in failing))


def problems_section(s: Session, month: str, scope: Unit | None, ref: Reference) -> report_data.ProblemsSection:
    """问题清单 (十八, 二十): per unit (a county: its own) opened and closed in the month, open and overdue."""
    code = scope.code if scope is not None else None
    figs = problem_figures(s, month, code, ref)
    rows = [report_data.ProblemRow(f.county, f.total, f.opened, f.closed, f.done, f.overdue) for f in figs]
    if scope is None:
        rows.append(report_data.ProblemRow("合计", *(sum(getattr(r, k) for r in rows) for k in (
            "total", "opened", "closed", "done", "overdue"))))
    total, items = overdue_problems(s, month_end(month), code, ref, limit=MAX_OVERDUE_LISTED)
    return report_data.ProblemsSection(tuple(rows), total, tuple(
        report_data.OverdueProblemRow(p.county, p.source, p.document_no, p.description, p.department, p.due_date,
                                      p.status, p.overdue_days) for p in items))


def _ledger_title(ldef: LedgerDef) -> str:
    return ldef.sheet_title.removesuffix("台账")


def write_report(
    db: Database,
    out: Path | str,
    month: str,
    unit: str | None = None,
    *,
    letters: bool = False,
    letter_date: dt.date | None = None,
    actor: Actor = BUILTIN_ADMIN,
    state: TaskState = NULL_STATE,
) -> ReportResult:
    """Build the month's report and write it to `out` atomically (temp file in the same folder, then rename)."""
    path = check_output_path(out)
    data = build_report_data(db, month, unit, letters=letters, letter_date=letter_date, actor=actor, state=state)
    pages = write_pdf_atomic(data, path, state=state)
    scope = resolve_scope(unit)
    audit.record_access(db, actor, "report", f"生成{data.unit_name}{pdf.fmt_month_cn(data.month)}月报：{path}",
                        unit_code=scope.code if scope is not None else None)
    state.progress(100, 100, "报告已生成", force=True)
    return ReportResult(
        path=path,
        pages=pages,
        size=path.stat().st_size,
        month=data.month,
        unit_name=data.unit_name,
        warnings=len(data.warnings),
        letters=len(data.letters),
        frozen_units=data.frozen_units,
        data=data,
    )


def _temp_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file in `path`'s folder (open descriptor and name), for an atomic replace of `path`."""
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".pdf.tmp", dir=parent)
    except OSError as exc:
        raise JzairError(f"无法在该文件夹中写入文件：{parent}（{exc.strerror}）") from exc
    return fd, Path(tmp_name)


def save_copy(src: Path | str, dest: Path | str) -> Path:
    """Copy a generated report to `dest` (e.g. 另存为), atomically: a temporary file beside `dest`, then rename."""
    source = Path(src)
    target = check_output_path(dest)
    fd, tmp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh, source.open("rb") as src_fh:
            shutil.copyfileobj(src_fh, fh)
        replace_file(tmp, target)
    except PermissionError as exc:
        tmp.unlink(missing_ok=True)
        raise JzairError(
            f"无法写入：{target}（{exc.strerror}）。如果该文件正在 PDF 阅读器中打开，请先关闭后重试。"
        ) from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise JzairError(f"保存失败：{target}（{exc.strerror or exc}）。原有文件未被改动。") from exc
    return target


def default_file_name(month: str, unit_name: str) -> str:
    """晋中市攻坚行动月报_2020年12月_全市.pdf"""
    return f"晋中市攻坚行动月报_{pdf.fmt_month_cn(month)}_{unit_name}.pdf"


def write_pdf_atomic(data: report_data.ReportData, path: Path, *, state: TaskState = NULL_STATE) -> int:
    """Render to a temporary file beside `path`, then replace `path` with it; on any failure the temporary
    file is removed and an existing `path` is left as it was."""
    fd, tmp = _temp_beside(path)
    os.close(fd)
    try:
        pages = pdf.render_report(data, tmp, state=_Scaled(state, 60, 99))
        try:
            replace_file(tmp, path)
        except PermissionError as exc:
            raise JzairError(
                f"无法覆盖输出文件：{path}（{exc.strerror}）。如果该文件正在 PDF 阅读器中打开，请先关闭后重试。"
            ) from exc
        except OSError as exc:
            raise JzairError(f"无法写入输出文件：{path}（{exc.strerror}）") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise JzairError(f"写入报告失败：{path}（{exc.strerror or exc}）。原有文件未被改动。") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return pages


class _Scaled(TaskState):
    """Maps a sub-job's progress (done of total) onto lo … hi percent of the outer state."""

    def __init__(self, outer: TaskState, lo: int, hi: int) -> None:
        super().__init__()
        self._outer, self._lo, self._hi = outer, lo, hi

    @property
    def cancelled(self) -> bool:
        return self._outer.cancelled

    def check_cancelled(self) -> None:
        self._outer.check_cancelled()

    def progress(self, done: int, total: int, text: str = "", *, force: bool = False) -> None:
        share = min(1.0, done / total) if total > 0 else 0.0
        self._outer.progress(self._lo + int((self._hi - self._lo) * share), 100, text, force=force)
