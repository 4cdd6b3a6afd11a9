"""Monthly figures (indicators without an item ledger), per unit and month (air quality: services/air_quality.py).

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

from jzair_desktop.domain.months import parse_month
from jzair_desktop.domain.reference import (
    CITY_CODE,
    CITY_NAME,
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
from jzair_desktop.storage.models import MonthlyFigure

AUDIT_FIGURES = "monthly_figures"  # the `ledger` of audit entries about monthly figures


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


def raise_problems(problems: list[str], what: str) -> None:
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
    raise_problems(problems, "月度数据")
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


def unit_name(code: str, ref: Reference) -> str:
    return CITY_NAME if code == CITY_CODE else ref.unit_by_code(code).name


def check_month_open(s, unit_code: str, month: str) -> None:  # noqa: ANN001
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
                check_month_open(s, unit_code, month)
                s.delete(row)
            elif row is not None and row.value == value:
                continue
            else:
                check_month_open(s, unit_code, month)
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
                detail=f"{unit_name(unit_code, ref)} {month}“{ind.name}”：{format_number(old, missing='空')} → "
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
        out.append(MonthlyFigureView(code, unit_name(code, ref), key, ind.name, ind.measure, month,
                                     float(value), cumulative))
    return out
