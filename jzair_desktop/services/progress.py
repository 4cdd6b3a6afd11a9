"""The progress engine: target, done, completion, 时序进度 and status per unit and indicator (domain.md §5).

Rules (the pure ones live in domain.schedule):
  * Ledger indicators: done = live records (deleted_at IS NULL) matching the indicator's filter whose
    ledger done rule holds by the as-of date (done status and done date <= as_of; trucks: every record on
    its eliminated_date). Counted in SQL, one aggregate query per ledger.
  * Monthly count indicators: done = the sum of the monthly increments of the months up to and including
    the as-of date's month; the month's increment is that month's figure.
  * Monthly rate indicators: done = the latest reported value of a month up to the as-of date's month.
  * Targets: 'split' indicators use the city office's split (missing = 未分解 → no_target); 'all_found'
    ones the unit's live matching records; rates the plan's county target (or target).
  * City rows (全市, 140700): counts are the sum of the units with the plan's city target ('all_found':
    the sum of the units' targets); rates are the mean of the units' latest values against the city
    target. City rows have no rank.
  * Rank: among units with a target, 1 = best completion (rates: best value against target); equal
    completions share a rank (1, 1, 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import and_, case, func, not_, select
from sqlalchemy.orm import Session

from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, Indicator, Reference, reference
from jzair_desktop.services.aggregates import LedgerCount, done_condition, filter_condition, ledger_counts
from jzair_desktop.services.database import Database
from jzair_desktop.services.targets import rule_of, stored_targets, unit_rate_target
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS, MonthlyFigure

_TIE = 1e-12


@dataclass(frozen=True, slots=True)
class ProgressRow:
    unit_code: str  # a unit's code, or 140700 for the city
    county: str  # the unit's Chinese name, or 全市
    indicator: str  # the plan's key, e.g. trucks.eliminated
    name: str  # the indicator's Chinese name
    unit: str  # unit of measure (户, 辆, %, …)
    measure: str  # 'count' | 'rate'
    target: float | None  # None: 未分解
    done: float | None  # counts: done so far; rates: latest value (None: nothing reported)
    completion: float | None  # fraction (0.5 = 50 %); None where there is no target
    schedule: float  # fraction 0 … 1
    status: str  # done | on_track | behind | overdue | no_target
    month_increment: float | None  # counts: done within the as-of date's month; rates: None
    rank: int | None  # among units, 1 = best; None for the city and without a target
    due: dt.date
    value_month: str | None = None  # rates: the month of `done`

    @property
    def is_city(self) -> bool:
        return self.unit_code == CITY_CODE

    @property
    def status_label(self) -> str:
        """已完成/按进度/滞后/逾期/未分解; 无任务 where the target is 0 (nothing to do)."""
        if self.status == "no_target" and self.target is not None:
            return "无任务"
        return sched.status_label(self.status)

    @property
    def colour(self) -> str:
        return sched.status_colour(self.status)

    @property
    def gap(self) -> float:
        """How far completion lags the schedule (positive = behind); 0 without a target."""
        return 0.0 if self.completion is None else self.schedule - self.completion

    def as_json(self) -> dict:
        return {
            "county": self.county,
            "unit_code": self.unit_code,
            "indicator": self.indicator,
            "name": self.name,
            "unit": self.unit,
            "target": self.target,
            "done": self.done,
            "completion": self.completion,
            "schedule": self.schedule,
            "status": self.status,
            "month_increment": self.month_increment,
            "rank": self.rank,
            "due": self.due.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class _MonthlyData:
    counts: dict[tuple[str, str], tuple[float, float]]  # (key, unit) -> (cumulative, this month)
    rates: dict[tuple[str, str], tuple[str, float]]  # (key, unit) -> (month, latest value)


def _monthly_data(s: Session, as_of: dt.date, inds: Sequence[Indicator]) -> _MonthlyData:
    month = sched.month_of(as_of)
    count_keys = [i.key for i in inds if i.source == "monthly" and i.measure == "count"]
    rate_keys = [i.key for i in inds if i.source == "monthly" and i.measure == "rate"]
    mf = MonthlyFigure
    counts: dict[tuple[str, str], tuple[float, float]] = {}
    if count_keys:
        stmt = (
            select(
                mf.indicator_key,
                mf.unit_code,
                func.sum(mf.value),
                func.sum(case((mf.month == month, mf.value), else_=0.0)),
            )
            .where(mf.indicator_key.in_(count_keys), mf.month <= month)
            .group_by(mf.indicator_key, mf.unit_code)
        )
        for key, unit, total, this_month in s.execute(stmt):
            counts[(key, unit)] = (float(total or 0.0), float(this_month or 0.0))
    rates: dict[tuple[str, str], tuple[str, float]] = {}
    if rate_keys:
        latest = (
            select(mf.indicator_key, mf.unit_code, func.max(mf.month).label("month"))
            .where(mf.indicator_key.in_(rate_keys), mf.month <= month)
            .group_by(mf.indicator_key, mf.unit_code)
            .subquery()
        )
        stmt = select(mf.indicator_key, mf.unit_code, mf.month, mf.value).join(
            latest,
            and_(
                mf.indicator_key == latest.c.indicator_key,
                mf.unit_code == latest.c.unit_code,
                mf.month == latest.c.month,
            ),
        )
        for key, unit, mon, value in s.execute(stmt):
            rates[(key, unit)] = (mon, float(value))
    return _MonthlyData(counts, rates)


def _assign_ranks(rows: list[ProgressRow], scores: dict[str, float | None]) -> list[ProgressRow]:
    """Competition ranks (1 = best score) for the rows that have a score."""
    scored = [v for v in scores.values() if v is not None]
    out = []
    for row in rows:
        score = scores.get(row.unit_code)
        rank = None if score is None else 1 + sum(1 for v in scored if v > score + _TIE)
        out.append(replace(row, rank=rank))
    return out


def _count_row(
    ind: Indicator, code: str, name: str, target: float | None, done: float, month_inc: float,
    schedule: float, as_of: dt.date, due: dt.date,
) -> ProgressRow:
    completion = sched.count_completion(done, target)
    status = sched.status_of(completion, schedule, as_of, due)
    return ProgressRow(code, name, ind.key, ind.name, ind.unit, ind.measure, target, done, completion,
                       schedule, status, month_inc, None, due)


def _rate_row(
    ind: Indicator, code: str, name: str, target: float | None, value: float | None, month: str | None,
    as_of: dt.date, due: dt.date, window_start: dt.date,
) -> ProgressRow:
    completion = sched.rate_completion(value, target, ind.compare)
    schedule = sched.rate_schedule(as_of, window_start, reported=value is not None)
    status = sched.status_of(completion, schedule, as_of, due)
    return ProgressRow(code, name, ind.key, ind.name, ind.unit, ind.measure, target, value, completion,
                       schedule, status, None, None, due, month)


def progress_rows(
    s: Session, as_of: dt.date, *, ref: Reference | None = None, indicators: Iterable[str] | None = None
) -> list[ProgressRow]:
    """Every unit and the city for every indicator (or the given indicator keys), inside a session.

    Order: indicators in plan order; within one, the units in plan order, then the city row.
    """
    ref = ref or reference()
    inds = tuple(ref.indicators if indicators is None else (ref.indicator(k) for k in indicators))
    window_start, campaign_end = ref.plan.window_start, ref.plan.campaign_end
    stored = stored_targets(s)
    ledger = ledger_counts(s, as_of, indicators=inds)
    monthly = _monthly_data(s, as_of, inds)
    zero = LedgerCount(0, 0, 0)
    out: list[ProgressRow] = []
    for ind in inds:
        due = sched.due_date(ind, campaign_end)
        rule = rule_of(ind)
        rows: list[ProgressRow] = []
        scores: dict[str, float | None] = {}
        if ind.measure == "rate":
            unit_target = unit_rate_target(ind)
            values: list[float] = []
            for u in ref.units:
                month, value = monthly.rates.get((ind.key, u.code), (None, None))
                if value is not None:
                    values.append(value)
                row = _rate_row(ind, u.code, u.name, unit_target, value, month, as_of, due, window_start)
                rows.append(row)
                scores[u.code] = sched.rate_score(value, unit_target, ind.compare)
            city_value = sum(values) / len(values) if values else None
            latest = max((m for (k, _u), (m, _v) in monthly.rates.items() if k == ind.key), default=None)
            city = _rate_row(ind, CITY_CODE, CITY_NAME, ind.target, city_value, latest, as_of, due, window_start)
        else:
            schedule = sched.schedule_share(as_of, window_start, due)
            total_done = total_month = 0.0
            found_total = 0.0
            for u in ref.units:
                if ind.source == "ledger":
                    c = ledger.get((ind.key, u.code), zero)
                    done, month_inc, found = float(c.done), float(c.month), float(c.found or 0)
                else:
                    done, month_inc = monthly.counts.get((ind.key, u.code), (0.0, 0.0))
                    found = 0.0
                target = found if rule == "all_found" else stored.get((ind.key, u.code))
                total_done += done
                total_month += month_inc
                found_total += found
                row = _count_row(ind, u.code, u.name, target, done, month_inc, schedule, as_of, due)
                rows.append(row)
                scores[u.code] = row.completion
            city_target = found_total if rule == "all_found" else ind.target
            city = _count_row(ind, CITY_CODE, CITY_NAME, city_target, total_done, total_month, schedule, as_of, due)
        out.extend(_assign_ranks(rows, scores))
        out.append(city)
    return out


def compute_progress(db: Database, as_of: dt.date, unit: str | None = None) -> list[ProgressRow]:
    """The progress table at `as_of`: every unit × indicator plus the city rows (全市).

    With `unit` (name or code), only that unit's rows (ranks are still among all units).
    """
    ref = reference()
    code = ref.resolve_unit(unit).code if unit is not None else None
    with read_session(db.engine) as s:
        rows = progress_rows(s, as_of, ref=ref)
    if code is not None:
        rows = [r for r in rows if r.unit_code == code]
    return rows


def sort_warnings(rows: Iterable[ProgressRow], ref: Reference | None = None) -> list[ProgressRow]:
    """Behind or overdue rows, worst first: overdue before behind, then the larger lag, then plan order."""
    ref = ref or reference()
    ind_order = {i.key: i.sort_order for i in ref.indicators}
    unit_order = {u.code: u.sort_order for u in ref.units}
    picked = [r for r in rows if r.status in ("overdue", "behind")]
    return sorted(
        picked,
        key=lambda r: (
            sched.STATUS_SEVERITY[r.status],
            -round(r.gap, 9),
            ind_order.get(r.indicator, 999),
            unit_order.get(r.unit_code, 999),
        ),
    )


def warnings(db: Database, as_of: dt.date, *, include_city: bool = False) -> list[ProgressRow]:
    """Every unit × indicator that is behind or overdue at `as_of`, worst first (预警)."""
    rows = compute_progress(db, as_of)
    if not include_city:
        rows = [r for r in rows if not r.is_city]
    return sort_warnings(rows)


# --------------------------------------------------------------------------- per-record plans
@dataclass(frozen=True, slots=True)
class OverdueItem:
    """An open item of a per-record indicator whose planned completion date has passed."""

    ledger: str
    record_id: int
    uuid: str
    unit_code: str
    county: str
    indicator: str
    indicator_name: str
    label: str  # the enterprise (or what names the record)
    planned_date: dt.date
    status: str | None
    days_overdue: int

    def as_json(self) -> dict:
        return {
            "ledger": self.ledger,
            "record_id": self.record_id,
            "county": self.county,
            "indicator": self.indicator,
            "label": self.label,
            "planned_date": self.planned_date.isoformat(),
            "status": self.status,
            "days_overdue": self.days_overdue,
        }


def overdue_items(db: Database, as_of: dt.date, unit: str | None = None) -> list[OverdueItem]:
    """Live records of per-record indicators not done by `as_of` whose planned_date < as_of.

    Ordered by unit, then the longest overdue first. With `unit`, that unit's items only.
    """
    ref = reference()
    code = ref.resolve_unit(unit).code if unit is not None else None
    names = {u.code: u.name for u in ref.units}
    unit_order = {u.code: u.sort_order for u in ref.units}
    out: list[OverdueItem] = []
    with read_session(db.engine) as s:
        for ind in ref.indicators:
            if ind.due_rule != "per_record" or ind.source != "ledger":
                continue
            ldef = LEDGERS[ind.ledger]
            if ldef.planned_date_field is None:
                continue
            model = LEDGER_MODELS[ind.ledger]
            planned = getattr(model, ldef.planned_date_field)
            status_col = getattr(model, ldef.status_field) if ldef.status_field else None
            stmt = select(
                model.id, model.uuid, model.unit_code, getattr(model, ldef.label_field), planned,
                status_col if status_col is not None else model.id,
            ).where(
                model.deleted_at.is_(None),
                filter_condition(model, ind.filter),
                planned < as_of,
                not_(done_condition(model, ldef, as_of)),
            )
            if code is not None:
                stmt = stmt.where(model.unit_code == code)
            for rid, uuid, unit_code, label, pdate, status in s.execute(stmt):
                out.append(
                    OverdueItem(
                        ledger=ind.ledger, record_id=rid, uuid=uuid, unit_code=unit_code,
                        county=names.get(unit_code, unit_code), indicator=ind.key, indicator_name=ind.name,
                        label=str(label), planned_date=pdate,
                        status=status if status_col is not None else None,
                        days_overdue=(as_of - pdate).days,
                    )
                )
    out.sort(key=lambda i: (unit_order.get(i.unit_code, 999), -i.days_overdue, i.indicator, i.record_id))
    return out


# --------------------------------------------------------------------------- history
def _same_day(day: dt.date) -> dt.date:
    return day


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    day: dt.date
    done: float
    target: float | None
    completion: float | None
    schedule: float


def progress_history(
    db: Database, indicator: str, days: Sequence[dt.date], unit: str | None = None
) -> list[ProgressPoint]:
    """Cumulative progress of one count indicator on each of `days` (e.g. weekly) for a unit or the city.

    One grouped query (per done date or per month), accumulated over the sorted days. Targets are
    today's (the split as it stands; 'all_found': the records found now).
    """
    ref = reference()
    ind = ref.indicator(indicator)
    code = ref.resolve_unit(unit).code if unit is not None else None
    due = sched.due_date(ind, ref.plan.campaign_end)
    ordered = sorted(days)
    if not ordered:
        return []
    with read_session(db.engine) as s:
        last = progress_rows(s, ordered[-1], ref=ref, indicators=[ind.key])
        target = next(r.target for r in last if r.unit_code == (code or CITY_CODE))
        if ind.measure == "rate":
            return [
                ProgressPoint(d, r.done or 0.0, r.target, r.completion, r.schedule)
                for d in ordered
                for r in progress_rows(s, d, ref=ref, indicators=[ind.key])
                if r.unit_code == (code or CITY_CODE)
            ]
        if ind.source == "ledger":
            ldef = LEDGERS[ind.ledger]
            model = LEDGER_MODELS[ind.ledger]
            date_col = getattr(model, ldef.done_date_field)
            stmt = (
                select(date_col, func.count())
                .where(
                    model.deleted_at.is_(None),
                    filter_condition(model, ind.filter),
                    done_condition(model, ldef, ordered[-1]),
                )
                .group_by(date_col)
            )
            if code is not None:
                stmt = stmt.where(model.unit_code == code)
            steps = sorted((d, float(n)) for d, n in s.execute(stmt))
            key_of = _same_day
        else:
            mf = MonthlyFigure
            stmt = select(mf.month, func.sum(mf.value)).where(mf.indicator_key == ind.key).group_by(mf.month)
            if code is not None:
                stmt = stmt.where(mf.unit_code == code)
            steps = sorted((m, float(v or 0.0)) for m, v in s.execute(stmt))
            key_of = sched.month_of
    points = []
    running, i = 0.0, 0
    for d in ordered:
        k = key_of(d)
        while i < len(steps) and steps[i][0] <= k:
            running += steps[i][1]
            i += 1
        points.append(
            ProgressPoint(d, running, target, sched.count_completion(running, target),
                          sched.schedule_share(d, ref.plan.window_start, due))
        )
    return points
