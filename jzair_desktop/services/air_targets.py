"""Air quality inside the warning system (plan 一(二) 主要目标 and 二十一).

市城区's limits are the plan's own (plan.toml). A county's form of target is an improvement over 2019 by its
档 (附件1, not in our copy of the plan): the city office enters each county's grade (1–6) and its 2019
baselines, and the absolute limits are derived from them and stored as the county's air-quality targets:

    PM2.5 limit      = the baseline period's day-weighted mean × (1 − the grade's improvement / 100), 1 decimal
    heavy-days limit = the baseline period's heavy days − the grade's reduction, not below 0

The baseline of a period is 2019's same quarter: 2019-10 … 2019-12 for 2020-10 … 2020-12, and 2019-01 …
2019-03 for 2021-01 … 2021-03 (the plan: "根据2019年一季度和四季度污染水平", leaving out 2020's first quarter,
which the epidemic distorted).

Progress of a period at a date (`air_progress`): the period-to-date PM2.5 (day-weighted mean of the reported
months) and heavy days (their sum) against the limits, and the best the period can still end with if every
month still to come were perfect (0 µg/m³, 0 days):
    no_data   nothing reported in the period yet (or no limit);
    not_met   even perfect remaining months cannot bring the period under a limit, or the period is over
              and missed it;
    behind    the period-to-date PM2.5 is above the limit, but the remaining months can still make it;
    on_track  every figure so far is within its limit;
    met       the period is over and every limit held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.months import days_in, month_end, month_of, months_between
from jzair_desktop.domain.reference import Reference, reference
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.services import audit
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.targets import format_number, parse_figure
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import AirQualityBaseline, AirQualityGrade, AirQualityMonth
from jzair_desktop.storage.models import AirQualityTarget as AirQualityTargetRow

CITY_AREA = "市城区"
AUDIT_AIR_BASIS = "air_quality_basis"
PM25_MAX = 1000.0
GRADE_MIN, GRADE_MAX = 1, 6
AIR_KIND = "air_quality"


def heavy_days_word(area: str) -> str:
    """The plan's own words: 重度及以上污染天数 for 市城区, 重污染天数 for the counties."""
    return "重度及以上污染天数" if area == CITY_AREA else "重污染天数"


def baseline_months(first: str, last: str) -> list[str]:
    """2019's same quarter of a period (2020-10…12 → 2019-10…12; 2021-01…03 → 2019-01…03)."""
    months = months_between(first, last)
    return [f"2019-{m[5:]}" for m in months]


def all_baseline_months(ref: Reference | None = None) -> list[str]:
    ref = ref or reference()
    return sorted({m for first, last in ref.plan.air_periods for m in baseline_months(first, last)})


def period_text(first: str, last: str) -> str:
    """2020年10—12月 (the plan's form)."""
    if first[:4] == last[:4]:
        return f"{first[:4]}年{int(first[5:])}—{int(last[5:])}月"
    return f"{first[:4]}年{int(first[5:])}月—{last[:4]}年{int(last[5:])}月"


def weighted_mean(values: Iterable[tuple[str, float]]) -> float | None:
    pairs = list(values)
    days = sum(days_in(m) for m, _ in pairs)
    if not days:
        return None
    return sum(v * days_in(m) for m, v in pairs) / days


# --------------------------------------------------------------------------- checks
def check_grade(value: object, area_name: str) -> int:
    what = f"“{area_name}”的档次"
    number = parse_figure(value, what=what)
    if not float(number).is_integer() or not GRADE_MIN <= number <= GRADE_MAX:
        raise JzairError(f"{what}应为 {GRADE_MIN} 至 {GRADE_MAX} 的整数，收到 {value}。")
    return int(number)


def check_baseline_pm25(value: object, area_name: str, month: str) -> float:
    what = f"“{area_name}”{month} 基准PM2.5月均浓度"
    number = parse_figure(value, what=what)
    if not 0 < number <= PM25_MAX:
        raise JzairError(f"{what}应大于 0、不超过 {PM25_MAX:.0f} 微克/立方米，收到 {value}。")
    return number


def check_baseline_days(value: object, area_name: str, month: str) -> int:
    what = f"“{area_name}”{month} 基准重污染天数"
    number = parse_figure(value, what=what)
    limit = days_in(month)
    if not float(number).is_integer() or not 0 <= number <= limit:
        raise JzairError(f"{what}应为 0 至 {limit} 之间的整数，收到 {value}。")
    return int(number)


def derived_limits(grade: int, baselines: Mapping[str, tuple[float, int]], first: str, last: str,
                   ref: Reference | None = None) -> tuple[float, int]:
    """(PM2.5 limit, heavy-days limit) of a period from a grade and the 2019 baselines (see module doc)."""
    ref = ref or reference()
    g = next((x for x in ref.plan.air_grades if x.grade == grade), None)
    if g is None:
        raise JzairError(f"档次 {grade} 不在计划基础数据中。")
    months = baseline_months(first, last)
    mean = weighted_mean((m, baselines[m][0]) for m in months)
    days = sum(baselines[m][1] for m in months)
    return round(mean * (1 - g.pm25_improvement / 100), 1), max(0, days - g.heavy_days_reduction)


# --------------------------------------------------------------------------- writing
@dataclass(frozen=True, slots=True)
class AirBasis:
    area: str
    area_name: str
    grade: int | None
    baselines: dict[str, tuple[float, int]]  # month → (PM2.5, heavy days)
    limits: dict[str, tuple[float, int]]  # period first month → (PM2.5 limit, heavy-days limit)

    def as_json(self) -> dict:
        return {
            "area": self.area_name,
            "area_code": self.area,
            "grade": self.grade,
            "baselines": {m: {"pm25": p, "heavy_days": d} for m, (p, d) in sorted(self.baselines.items())},
            "limits": {m: {"pm25_max": p, "heavy_days_max": d} for m, (p, d) in sorted(self.limits.items())},
        }


def _resolve_county(area: str, ref: Reference) -> tuple[str, str]:
    unit = ref.find_unit(area)
    if unit is None:
        if str(area).strip() == CITY_AREA:
            raise JzairError("市城区的空气质量目标由方案直接规定，不按档次和基准推算；如需改动请用“空气质量目标”。")
        names = "、".join(u.name for u in ref.units)
        raise JzairError(f"未知的县（区、市）：“{area}”。可选：{names}")
    return unit.code, unit.name


def set_air_basis(
    db: Database, actor: Actor, area: str, *, grade: object = None,
    baselines: Mapping[str, tuple[object, object]] | None = None,
) -> AirBasis:
    """Set a county's grade and/or 2019 baselines and store the derived limits of every period, in one
    transaction (city office only). With what is stored merged in, every baseline month of every period must
    be there; any problem (each named by unit, month and field) refuses the whole call, writing nothing."""
    actor.check_city("设定县（区、市）空气质量档次和基准")
    ref = reference()
    code, name = _resolve_county(area, ref)
    wanted = all_baseline_months(ref)
    problems: list[str] = []
    g = None
    if grade is not None and not (isinstance(grade, str) and not grade.strip()):
        try:
            g = check_grade(grade, name)
        except JzairError as exc:
            problems.append(exc.message)
    given: dict[str, tuple[float, int]] = {}
    for month, (pm, hd) in (baselines or {}).items():
        month = str(month).strip()
        if month not in wanted:
            problems.append(f"“{name}”的基准月份 {month} 不是方案比较的月份（{'、'.join(wanted)}）。")
            continue
        try:
            p = check_baseline_pm25(pm, name, month)
        except JzairError as exc:
            problems.append(exc.message)
            p = None
        try:
            d = check_baseline_days(hd, name, month)
        except JzairError as exc:
            problems.append(exc.message)
            d = None
        if p is not None and d is not None:
            given[month] = (p, d)
    if problems:
        _raise(problems)
    now = dt.datetime.now()
    with write_session(db.engine) as s:
        stored = {r.month: (r.pm25, r.heavy_days) for r in
                  s.scalars(select(AirQualityBaseline).where(AirQualityBaseline.area == code))}
        grade_row = s.get(AirQualityGrade, code)
        before = {"grade": grade_row.grade if grade_row else None,
                  "baselines": {m: list(v) for m, v in sorted(stored.items())}}
        merged = {**stored, **given}
        final_grade = g if g is not None else (grade_row.grade if grade_row else None)
        if final_grade is None:
            problems.append(f"“{name}”尚未设定档次（1 至 {GRADE_MAX}），无法推算空气质量目标。")
        for month in wanted:
            if month not in merged:
                problems.append(f"“{name}”缺少 {month} 的基准PM2.5月均浓度和基准重污染天数。")
        if problems:
            _raise(problems)
        for month, (p, d) in given.items():
            row = s.get(AirQualityBaseline, (code, month)) or AirQualityBaseline(area=code, month=month)
            row.pm25, row.heavy_days, row.updated_at, row.updated_by = p, d, now, actor.name
            s.add(row)
        if grade_row is None:
            grade_row = AirQualityGrade(area=code)
        grade_row.grade, grade_row.updated_at, grade_row.updated_by = final_grade, now, actor.name
        s.add(grade_row)
        limits: dict[str, tuple[float, int]] = {}
        for first, last in ref.plan.air_periods:
            pm_max, hd_max = derived_limits(final_grade, merged, first, last, ref)
            limits[first] = (pm_max, hd_max)
            row = s.get(AirQualityTargetRow, (code, first)) or AirQualityTargetRow(area=code, first_month=first)
            row.last_month, row.pm25_max, row.heavy_days_max = last, pm_max, hd_max
            s.add(row)
        after = {"grade": final_grade, "baselines": {m: list(v) for m, v in sorted(merged.items())},
                 "limits": {m: list(v) for m, v in limits.items()}}
        if after["grade"] != before["grade"] or after["baselines"] != before["baselines"]:
            audit.append(s, actor, "update" if grade_row is not None and before["grade"] else "create",
                         ledger=AUDIT_AIR_BASIS, uuid=f"{code}@basis", unit_code=code, before=before, after=after,
                         detail=f"{name} 空气质量档次 {final_grade}，" + "；".join(
                             f"{period_text(f, la)} PM2.5 ≤{format_number(limits[f][0])}，重污染天数 ≤{limits[f][1]}"
                             for f, la in ref.plan.air_periods))
        else:
            audit.check_actor(s, actor)
    return AirBasis(code, name, final_grade, merged, limits)


def _raise(problems: list[str]) -> None:
    if len(problems) == 1:
        raise ValidationFailed(problems[0], problems)
    raise ValidationFailed(f"空气质量档次和基准有 {len(problems)} 处错误，未做任何改动：" + "；".join(problems[:5]),
                           problems)


def air_bases(db: Database) -> list[AirBasis]:
    """Every county's grade, baselines and derived limits (a county with nothing entered has empty ones)."""
    ref = reference()
    with read_session(db.engine) as s:
        grades = {r.area: r.grade for r in s.scalars(select(AirQualityGrade))}
        base: dict[str, dict[str, tuple[float, int]]] = {}
        for r in s.scalars(select(AirQualityBaseline)):
            base.setdefault(r.area, {})[r.month] = (r.pm25, r.heavy_days)
        targets = {(t.area, t.first_month): (t.pm25_max, t.heavy_days_max) for t in s.scalars(select(AirQualityTargetRow))}
    out = []
    for u in ref.units:
        limits = {f: targets[(u.code, f)] for f, _ in ref.plan.air_periods if (u.code, f) in targets}
        out.append(AirBasis(u.code, u.name, grades.get(u.code), base.get(u.code, {}), limits))
    return out


# --------------------------------------------------------------------------- progress
@dataclass(frozen=True, slots=True)
class AirProgress:
    """One area's period: baseline, limit, period-to-date value and status, for PM2.5 or heavy days."""

    area: str  # a unit's code, or 市城区
    area_name: str
    key: str  # air.pm25 | air.heavy_days
    name: str  # PM2.5平均浓度 / 重污染天数 / 重度及以上污染天数
    unit: str  # 微克/立方米 | 天
    first_month: str
    last_month: str
    baseline: float | None  # 2019's same period (PM2.5 day-weighted mean; heavy days summed)
    limit: float | None
    value: float | None  # period to date
    months_reported: int
    months_total: int
    best: float | None  # the period's value if every month to come were perfect
    status: str  # on_track | behind | not_met | met | no_data | no_target (no limit set)

    @property
    def period(self) -> str:
        return period_text(self.first_month, self.last_month)

    @property
    def gap(self) -> float | None:
        """value − limit (positive: above the limit)."""
        if self.value is None or self.limit is None:
            return None
        return self.value - self.limit

    @property
    def status_label(self) -> str:
        if self.status == "not_met" and self.months_reported < self.months_total:
            return "已无法达标"
        if self.status == "no_target":
            return "未设定"
        return sched.status_label(self.status)

    def as_json(self) -> dict:
        return {
            "area": self.area_name, "area_code": self.area, "indicator": self.key, "name": self.name,
            "kind": AIR_KIND, "period": [self.first_month, self.last_month], "baseline": self.baseline,
            "limit": self.limit, "value": self.value, "gap": self.gap, "best": self.best,
            "months_reported": self.months_reported, "months_total": self.months_total, "status": self.status,
            "status_label": self.status_label,
        }


def _period_status(value: float | None, best: float | None, limit: float | None, over: bool) -> str:
    if limit is None:
        return "no_target"
    if value is None:
        return "no_data"
    if best is not None and best > limit + 1e-9:
        return "not_met"
    if over:
        return "met" if value <= limit + 1e-9 else "not_met"
    return "on_track" if value <= limit + 1e-9 else "behind"


def air_progress_rows(s: Session, as_of: dt.date, ref: Reference | None = None) -> list[AirProgress]:
    """The period covering `as_of` (or the last one before it) for 市城区 and every unit (see module doc)."""
    ref = ref or reference()
    month = month_of(as_of)
    periods = [p for p in ref.plan.air_periods if p[0] <= month]
    if not periods:
        return []
    first, last = periods[-1]
    elapsed = [m for m in months_between(first, last) if m <= month]
    over = month >= last and as_of >= month_end(last)
    data = {(r.area, r.month): r for r in s.scalars(
        select(AirQualityMonth).where(AirQualityMonth.month >= first, AirQualityMonth.month <= month))}
    targets = {t.area: t for t in s.scalars(select(AirQualityTargetRow).where(AirQualityTargetRow.first_month == first))}
    bmonths = baseline_months(first, last)
    base: dict[str, dict[str, AirQualityBaseline]] = {}
    for r in s.scalars(select(AirQualityBaseline).where(AirQualityBaseline.month.in_(bmonths))):
        base.setdefault(r.area, {})[r.month] = r
    total_days = sum(days_in(m) for m in months_between(first, last))
    out: list[AirProgress] = []
    for code, name in [(CITY_AREA, CITY_AREA), *((u.code, u.name) for u in ref.units)]:
        t = targets.get(code)
        b = base.get(code, {})
        full_base = all(m in b for m in bmonths)
        pms = [(m, data[(code, m)].pm25) for m in elapsed if (code, m) in data and data[(code, m)].pm25 is not None]
        hds = [(m, data[(code, m)].heavy_days) for m in elapsed
               if (code, m) in data and data[(code, m)].heavy_days is not None]
        pm_value = weighted_mean(pms)
        pm_best = sum(v * days_in(m) for m, v in pms) / total_days if pms else None
        pm_limit = t.pm25_max if t else None
        out.append(AirProgress(
            code, name, "air.pm25", "PM2.5平均浓度", "微克/立方米", first, last,
            round(weighted_mean((m, b[m].pm25) for m in bmonths), 1) if full_base else None, pm_limit,
            None if pm_value is None else round(pm_value, 1), len(pms), len(months_between(first, last)),
            None if pm_best is None else round(pm_best, 1),
            _period_status(pm_value, pm_best, pm_limit, over),
        ))
        hd_value = float(sum(v for _m, v in hds)) if hds else None
        hd_limit = None if t is None or t.heavy_days_max is None else float(t.heavy_days_max)
        out.append(AirProgress(
            code, name, "air.heavy_days", heavy_days_word(code), "天", first, last,
            float(sum(b[m].heavy_days for m in bmonths)) if full_base else None, hd_limit, hd_value, len(hds),
            len(months_between(first, last)), hd_value, _period_status(hd_value, hd_value, hd_limit, over),
        ))
    return out


def air_progress(db: Database, as_of: dt.date) -> list[AirProgress]:
    with read_session(db.engine) as s:
        return air_progress_rows(s, as_of)
