"""Monthly figures (indicators without an item ledger) and air quality, per unit and month.

Monthly figures: for a count indicator the month's increment (>= 0; whole numbers for countable
units), cumulative = the sum of the months up to and including a month; for a rate indicator the
month's value (a percentage 0 … 100, other units such as 降尘量 0 … 1000).
Air quality: monthly mean PM2.5 (µg/m³, 0 … 1000) and heavy-pollution days (whole, 0 … days of the
month) of an area: a unit (by name or code) or 市城区. Writes are upserts in one transaction.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain.months import days_in, parse_month
from jzair_desktop.domain.reference import (
    CITY_CODE,
    CITY_NAME,
    PM25_RANGE,
    Indicator,
    Reference,
    Unit,
    reference,
)
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.services import audit, installation, scope
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.targets import (
    check_in_range,
    check_in_scope,
    format_number,
    is_integral,
    parse_figure,
    resolve_indicator,
)
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import AirQualityMonth, MonthlyFigure
from jzair_desktop.storage.models import AirQualityTarget as AirQualityTargetRow

CITY_AREA = "市城区"
AUDIT_FIGURES = "monthly_figures"  # the `ledger` of audit entries about monthly figures
AUDIT_AIR = "air_quality"
AUDIT_AIR_TARGETS = "air_quality_targets"
PM25_MAX = PM25_RANGE[1]


def monthly_indicators(ref: Reference | None = None) -> list[Indicator]:
    ref = ref or reference()
    return [i for i in ref.indicators if i.source == "monthly"]


def rate_range(ind: Indicator) -> tuple[float, float]:
    return ind.value_range()


def check_figure_value(ind: Indicator, unit_name: str, month: str, value: object) -> float:
    """One unit's monthly value of `ind`, parsed (domain.validation.parse_number) and checked against the
    indicator's physical range (Indicator.value_range: 0 … 100 %, a count at most ten times the city target)."""
    what = f"“{unit_name}”{month}的“{ind.name}”"
    number = parse_figure(value, what=what)
    if ind.measure == "rate":
        low, high = rate_range(ind)
        if not low <= number <= high:
            raise JzairError(f"{what}应在 {format_number(low)} 至 {format_number(high)}{ind.unit} 之间，收到 {value}。")
        return number
    if number < 0:
        raise JzairError(f"{what}是本月新增数，不能为负数，收到 {value}。")
    if is_integral(ind) and not float(number).is_integer():
        raise JzairError(f"{what}必须是整数（单位：{ind.unit}），收到 {value}。")
    return check_in_range(ind, number, what, value)


def _raise_problems(problems: list[str], what: str) -> None:
    if not problems:
        return
    if len(problems) == 1:
        raise ValidationFailed(problems[0], problems)
    head = "；".join(problems[:5])
    raise ValidationFailed(f"{what}有 {len(problems)} 处错误，未做任何改动：{head}", problems)


# --------------------------------------------------------------------------- monthly figures
@dataclass(frozen=True, slots=True)
class FigureEntry:
    unit: str
    indicator: str
    month: str
    value: object  # None or blank: remove the month's figure
    where: str = ""


@dataclass(frozen=True, slots=True)
class MonthlyFigureView:
    unit_code: str
    county: str
    indicator: str
    name: str
    measure: str
    month: str
    value: float
    cumulative: float | None  # counts: sum of the months up to this one; rates: None

    def as_json(self) -> dict:
        return {
            "county": self.county,
            "unit_code": self.unit_code,
            "indicator": self.indicator,
            "month": self.month,
            "value": self.value,
            "cumulative": self.cumulative,
        }


def _check_figure_entries(actor: Actor, entries: Iterable[FigureEntry]) -> list[tuple[str, str, str, float | None]]:
    ref = reference()
    allowed = monthly_indicators(ref)
    problems: list[str] = []
    out: list[tuple[str, str, str, float | None]] = []
    seen: set[tuple[str, str, str]] = set()
    for e in entries:
        prefix = f"{e.where}：" if e.where else ""
        try:
            ind = resolve_indicator(e.indicator, allowed=allowed, ref=ref)
            unit = _figure_unit(e.unit, ind, actor, ref)
            month = parse_month(e.month, ref, first=ind.count_from)
            if ind.count_from and ind.due and month > f"{ind.due.year:04d}-{ind.due.month:02d}":
                raise JzairError(f"“{ind.name}”只统计 {ind.count_from} 至 {ind.due.year:04d}-{ind.due.month:02d} "
                                 f"的月份（方案的时限为 {ind.due.isoformat()}），不能填报 {month}。")
            blank = e.value is None or (isinstance(e.value, str) and not e.value.strip())
            value = None if blank else check_figure_value(ind, unit.name, month, e.value)
        except JzairError as exc:
            problems.append(prefix + exc.message)
            continue
        key = (unit.code, ind.key, month)
        if key in seen:
            problems.append(f"{prefix}“{unit.name}”{month}的“{ind.name}”重复出现。")
            continue
        seen.add(key)
        out.append((unit.code, ind.key, month, value))
    _raise_problems(problems, "月度数据")
    return out


def check_figures(actor: Actor, entries: Iterable[FigureEntry]) -> None:
    """Check entries as set_figures does (values, units, the actor's right to them) without writing:
    a paste into the grid checks its cells with this before taking any. Raises ValidationFailed."""
    _check_figure_entries(actor, entries)


def _figure_unit(text: object, ind: Indicator, actor: Actor, ref: Reference) -> Unit:
    """The unit a figure is for: a unit the indicator concerns, or 全市 for a city-level indicator
    (entered by the city office only)."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace(" ", "")
    if raw in (CITY_NAME, CITY_CODE):
        if not ind.city_level:
            raise JzairError(f"“{ind.name}”由各县（区、市）填报，全市数为各县之和，不能直接填报全市数。")
        actor.check_city(f"填报全市“{ind.name}”")
        return Unit(CITY_CODE, CITY_NAME)
    unit = ref.resolve_unit(str(text))
    if ind.city_level:
        raise JzairError(f"“{ind.name}”是全市指标，由市大气办以“全市”填报，不分解到“{unit.name}”。")
    actor.check_write(unit.code, unit_name=unit.name)
    check_in_scope(ind, unit, ref)
    return unit


def _unit_name(code: str, ref: Reference) -> str:
    return CITY_NAME if code == CITY_CODE else ref.unit_by_code(code).name


def _check_month_open(s, unit_code: str, month: str) -> None:  # noqa: ANN001
    """A unit's figures of a submitted month (or an earlier one) are locked like its records."""
    from jzair_desktop.services.submission import check_month_open  # submission imports the progress engine

    check_month_open(s, unit_code, month, "修改")


def set_figures(db: Database, actor: Actor, entries: Iterable[FigureEntry]) -> int:
    """Upsert (or, with a blank value, remove) monthly figures, all or nothing, each change audited.
    Returns rows changed."""
    items = _check_figure_entries(actor, entries)
    ref = reference()
    now = dt.datetime.now()
    pending: list[audit.Pending] = []
    with write_session(db.engine) as s:
        for unit_code in {item[0] for item in items}:
            installation.check_unit_write(s, unit_code)
        for unit_code, key, month, value in items:
            row = s.get(MonthlyFigure, (unit_code, key, month))
            old = row.value if row is not None else None
            old_meta = audit.row_bookkeeping(row)
            if value is None:
                if row is None:
                    continue
                _check_month_open(s, unit_code, month)
                s.delete(row)
            elif row is not None and row.value == value:
                continue
            else:
                _check_month_open(s, unit_code, month)
                if row is None:
                    row = MonthlyFigure(unit_code=unit_code, indicator_key=key, month=month)
                    s.add(row)
                row.value, row.updated_at, row.updated_by = value, now, actor.name
            state = {"unit_code": unit_code, "indicator": key, "month": month}
            ind = ref.indicator(key)
            pending.append(audit.Pending(
                ledger=AUDIT_FIGURES, uuid=f"{key}@{unit_code}@{month}", unit_code=unit_code,
                before=None if old is None else {**state, "value": old, **old_meta},
                after=None if value is None else {**state, "value": value, **audit.row_bookkeeping(row)},
                detail=f"{_unit_name(unit_code, ref)} {month}“{ind.name}”：{format_number(old, missing='空')} → "
                       f"{format_number(value, missing='空')}",
                action="create" if old is None else ("delete" if value is None else "update"),
            ))
        audit.append_many(s, actor, "update", pending, at=now)
    return len(pending)


def set_figure(
    db: Database, actor: Actor, unit: str, indicator: str, month: str, value: object
) -> MonthlyFigureView | None:
    """Set one unit's figure of one monthly indicator for one month; returns it with its cumulative
    (None when a blank value removed it)."""
    [(unit_code, key, mon, _)] = _check_figure_entries(actor, [FigureEntry(unit, indicator, month, value)])
    set_figures(db, actor, [FigureEntry(unit_code, key, mon, value)])
    for v in list_figures(db, unit=unit_code, indicator=key):
        if v.month == mon:
            return v
    return None


def list_figures(db: Database, *, unit: str | None = None, indicator: str | None = None,
                 actor: Actor | None = None) -> list[MonthlyFigureView]:
    """Stored monthly figures, by indicator, unit and month, with cumulative sums for counts. With an `actor`,
    as that user may read them (a county user: the own unit's, by default and only)."""
    ref = reference()
    inds = {i.key: i for i in monthly_indicators(ref)}
    stmt = select(MonthlyFigure.unit_code, MonthlyFigure.indicator_key, MonthlyFigure.month, MonthlyFigure.value)
    if unit in (CITY_CODE, CITY_NAME):
        scope.check_area(actor, CITY_CODE, CITY_NAME, what="月度数据")
        stmt = stmt.where(MonthlyFigure.unit_code == CITY_CODE)
    elif unit is not None or scope.is_county_user(actor):
        stmt = stmt.where(MonthlyFigure.unit_code == scope.read_unit(actor, unit, what="月度数据"))
    if indicator is not None:
        stmt = stmt.where(MonthlyFigure.indicator_key == resolve_indicator(indicator, allowed=inds.values()).key)
    with read_session(db.engine) as s:
        rows = s.execute(stmt).all()
    unit_order = {u.code: u.sort_order for u in ref.units}
    rows.sort(key=lambda r: (inds[r[1]].sort_order if r[1] in inds else 999, unit_order.get(r[0], 999), r[2]))
    out: list[MonthlyFigureView] = []
    running: dict[tuple[str, str], float] = {}
    for code, key, month, value in rows:
        ind = inds.get(key)
        if ind is None:
            continue
        cumulative = None
        if ind.measure == "count":
            cumulative = running.get((code, key), 0.0) + value
            running[(code, key)] = cumulative
        out.append(MonthlyFigureView(code, _unit_name(code, ref), key, ind.name, ind.measure, month,
                                     float(value), cumulative))
    return out


# --------------------------------------------------------------------------- air quality
def resolve_area(text: str, ref: Reference | None = None) -> tuple[str, str]:
    """(area key stored in the database, display name): a unit's code and name, or 市城区."""
    ref = ref or reference()
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace(" ", "")
    if raw == CITY_AREA:
        return CITY_AREA, CITY_AREA
    unit = ref.find_unit(raw)
    if unit is None:
        names = "、".join([CITY_AREA, *(u.name for u in ref.units)])
        raise JzairError(f"未知的空气质量区域：“{text}”。可选：{names}（县区也可用行政区划代码）")
    return unit.code, unit.name


def area_name(area: str, ref: Reference | None = None) -> str:
    ref = ref or reference()
    if area == CITY_AREA:
        return CITY_AREA
    unit = ref.find_unit(area)
    return unit.name if unit else area


def _check_area_write(actor: Actor, area: str, name: str) -> None:
    if area == CITY_AREA:
        actor.check_city("填报市城区空气质量")
    else:
        actor.check_write(area, unit_name=name)


def check_pm25(value: object, what: str) -> float:
    number = parse_figure(value, what=f"{what}PM2.5月均浓度")
    if not 0 <= number <= PM25_MAX:
        raise JzairError(f"{what}PM2.5月均浓度应在 0 至 {PM25_MAX:.0f} 微克/立方米之间，收到 {value}。")
    return number


def check_heavy_days(value: object, what: str, month: str | None) -> int:
    number = parse_figure(value, what=f"{what}重污染天数")
    limit = days_in(month) if month else 31
    if not float(number).is_integer() or not 0 <= number <= limit:
        raise JzairError(f"{what}重污染天数应为 0 至 {limit} 之间的整数，收到 {value}。")
    return int(number)


@dataclass(frozen=True, slots=True)
class AirQualityView:
    area: str  # unit code or 市城区
    area_name: str
    month: str
    pm25: float | None
    heavy_days: int | None
    pm25_max: float | None
    heavy_days_max: int | None

    @property
    def pm25_ok(self) -> bool | None:
        if self.pm25 is None or self.pm25_max is None:
            return None
        return self.pm25 <= self.pm25_max

    @property
    def heavy_days_ok(self) -> bool | None:
        if self.heavy_days is None or self.heavy_days_max is None:
            return None
        return self.heavy_days <= self.heavy_days_max

    def as_json(self) -> dict:
        return {
            "area": self.area_name,
            "area_code": self.area,
            "month": self.month,
            "pm25": self.pm25,
            "heavy_days": self.heavy_days,
            "pm25_max": self.pm25_max,
            "heavy_days_max": self.heavy_days_max,
            "pm25_ok": self.pm25_ok,
            "heavy_days_ok": self.heavy_days_ok,
        }


@dataclass(frozen=True, slots=True)
class AirQualityTargetView:
    area: str
    area_name: str
    first_month: str
    last_month: str
    pm25_max: float | None
    heavy_days_max: int | None


def _targets(s: Session) -> list[AirQualityTargetRow]:
    return list(s.scalars(select(AirQualityTargetRow)))


def _target_for(targets: list[AirQualityTargetRow], area: str, month: str) -> AirQualityTargetRow | None:
    for t in targets:
        if t.area == area and t.first_month <= month <= t.last_month:
            return t
    return None


def set_air_quality(
    db: Database, actor: Actor, area: str, month: str, *, pm25: object = None, heavy_days: object = None
) -> AirQualityView:
    """Upsert an area's month; a value left None keeps what is stored. At least one value is required."""
    ref = reference()
    key, name = resolve_area(area, ref)
    mon = parse_month(month, ref)
    _check_area_write(actor, key, name)
    if pm25 is None and heavy_days is None:
        raise JzairError("请至少填写 PM2.5 月均浓度或重污染天数中的一项。")
    what = f"“{name}”{mon}"
    pm = check_pm25(pm25, what) if pm25 is not None else None
    hd = check_heavy_days(heavy_days, what, mon) if heavy_days is not None else None
    with write_session(db.engine) as s:
        row = s.get(AirQualityMonth, (key, mon))
        if row is not None:  # a value left None keeps what is stored
            pm = row.pm25 if pm is None else pm
            hd = row.heavy_days if hd is None else hd
        now = dt.datetime.now()
        pending = write_air_month(s, actor, key, name, mon, pm, hd, at=now)
        if pending is not None:
            audit.append_many(s, actor, "update", [pending], at=now)
        else:
            audit.check_actor(s, actor)
        target = _target_for(_targets(s), key, mon)
        return AirQualityView(key, name, mon, pm, hd,
                              target.pm25_max if target else None, target.heavy_days_max if target else None)


def write_air_month(
    s: Session, actor: Actor, key: str, name: str, month: str, pm: float | None, hd: int | None, *,
    at: dt.datetime,
) -> audit.Pending | None:
    """Store one checked area-month as exactly (pm, hd), both None removing it, in the caller's transaction.

    A unit's submitted month is refused like its records. Returns the audit entry to append, or None when
    nothing changed. Both the single-month writer and the 月度数据 grid go through here."""
    row = s.get(AirQualityMonth, (key, month))
    before = None if row is None else {"area": key, "month": month, "pm25": row.pm25, "heavy_days": row.heavy_days}
    after = None if pm is None and hd is None else {"area": key, "month": month, "pm25": pm, "heavy_days": hd}
    if after == before:
        return None
    installation.check_unit_write(s, None if key == CITY_AREA else key)
    if before is not None:
        before.update(audit.row_bookkeeping(row))
    if key != CITY_AREA:
        _check_month_open(s, key, month)
    if after is None:
        s.delete(row)
    else:
        if row is None:
            row = AirQualityMonth(area=key, month=month)
            s.add(row)
        row.pm25, row.heavy_days = pm, hd
        row.updated_at, row.updated_by = at, actor.name
        after.update(audit.row_bookkeeping(row))
    return audit.Pending(
        ledger=AUDIT_AIR, uuid=f"{key}@{month}", unit_code=None if key == CITY_AREA else key,
        before=before, after=after,
        detail=f"{name} {month} 空气质量：PM2.5 {format_number(pm, missing='空')}，重污染天数 {'空' if hd is None else hd}",
        action="create" if before is None else ("delete" if after is None else "update"),
    )


def air_quality(db: Database, *, area: str | None = None, actor: Actor | None = None) -> list[AirQualityView]:
    """Stored months (市城区 first, then units in plan order), each with the target that covers it. With an
    `actor`, as that user may read them (a county user: the own unit's, by default and only)."""
    ref = reference()
    stmt = select(AirQualityMonth)
    if area is not None:
        key, name = resolve_area(area, ref)
        scope.check_area(actor, key, name, what="空气质量")
        stmt = stmt.where(AirQualityMonth.area == key)
    elif scope.is_county_user(actor):
        stmt = stmt.where(AirQualityMonth.area == scope.read_unit(actor, None))
    order = {CITY_AREA: -1, **{u.code: u.sort_order for u in ref.units}}
    with read_session(db.engine) as s:
        rows = list(s.scalars(stmt))
        targets = _targets(s)
    rows.sort(key=lambda r: (order.get(r.area, 999), r.month))
    out = []
    for r in rows:
        t = _target_for(targets, r.area, r.month)
        out.append(AirQualityView(r.area, area_name(r.area, ref), r.month, r.pm25, r.heavy_days,
                                  t.pm25_max if t else None, t.heavy_days_max if t else None))
    return out


def air_quality_targets(db: Database) -> list[AirQualityTargetView]:
    ref = reference()
    order = {CITY_AREA: -1, **{u.code: u.sort_order for u in ref.units}}
    with read_session(db.engine) as s:
        rows = _targets(s)
    rows.sort(key=lambda r: (order.get(r.area, 999), r.first_month))
    return [AirQualityTargetView(r.area, area_name(r.area, ref), r.first_month, r.last_month, r.pm25_max,
                                 r.heavy_days_max) for r in rows]


def set_air_quality_target(
    db: Database, actor: Actor, area: str, first_month: str, last_month: str, *,
    pm25_max: object = None, heavy_days_max: object = None,
) -> AirQualityTargetView:
    """Set an area's air-quality target for the months first … last (city office only; 附件1)."""
    actor.check_city("设定空气质量目标")
    ref = reference()
    key, name = resolve_area(area, ref)
    first, last = parse_month(first_month, ref), parse_month(last_month, ref)
    if first > last:
        raise JzairError(f"目标期间的起始月份 {first} 晚于结束月份 {last}。")
    if pm25_max is None and heavy_days_max is None:
        raise JzairError("请至少填写 PM2.5 目标或重污染天数目标中的一项。")
    what = f"“{name}”目标"
    pm = check_pm25(pm25_max, what) if pm25_max is not None else None
    hd = check_heavy_days(heavy_days_max, what, None) if heavy_days_max is not None else None
    with write_session(db.engine) as s:
        for t in _targets(s):
            if t.area == key and t.first_month != first and not (t.last_month < first or t.first_month > last):
                raise JzairError(
                    f"“{name}”已有 {t.first_month} 至 {t.last_month} 的目标，与 {first} 至 {last} 重叠。"
                )
        row = s.get(AirQualityTargetRow, (key, first))
        before = None if row is None else {"area": key, "first_month": first, "last_month": row.last_month,
                                           "pm25_max": row.pm25_max, "heavy_days_max": row.heavy_days_max}
        if row is None:
            row = AirQualityTargetRow(area=key, first_month=first)
            s.add(row)
        row.last_month = last
        if pm is not None:
            row.pm25_max = pm
        if hd is not None:
            row.heavy_days_max = hd
        after = {"area": key, "first_month": first, "last_month": last, "pm25_max": row.pm25_max,
                 "heavy_days_max": row.heavy_days_max}
        audit.append(s, actor, "create" if before is None else "update", ledger=AUDIT_AIR_TARGETS,
                     uuid=f"{key}@{first}", unit_code=None if key == CITY_AREA else key, before=before, after=after,
                     detail=f"{name} {first} 至 {last} 空气质量目标：PM2.5 ≤{format_number(row.pm25_max, missing='—')}，"
                            f"重污染天数 ≤{'—' if row.heavy_days_max is None else row.heavy_days_max}")
        return AirQualityTargetView(key, name, first, last, row.pm25_max, row.heavy_days_max)
