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

from sqlalchemy import case, func, not_, select
from sqlalchemy.orm import Session

from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.months import month_end, month_of
from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, Indicator, Reference, reference
from jzair_desktop.services import scope
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.aggregates import (
    LedgerCount,
    done_condition,
    filter_condition,
    ledger_counts,
    ledger_rates,
)
from jzair_desktop.services.database import Database
from jzair_desktop.services.targets import rule_of, stored_targets, unit_rate_target
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS, Milestone, MonthlyFigure
from jzair_desktop.storage.portable import float_sum

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
    kind: str = "cumulative"  # cumulative | limit | milestone (plan.toml)
    months_met: int | None = None  # limits: months met in the window (city row: units meeting their limit)
    months_reported: int | None = None  # limits: months reported in the window (city row: units reporting)
    done_date: dt.date | None = None  # milestones: the day it was done
    evidence: str | None = None  # milestones: the document number or file
    in_scope: bool = True  # False: the indicator does not concern this unit (无任务)
    departments: str = ""  # the 牵头单位 the plan names

    @property
    def is_city(self) -> bool:
        return self.unit_code == CITY_CODE

    @property
    def no_task(self) -> bool:
        """Nothing to do here: outside the indicator's scope, or a target of 0."""
        return not self.in_scope or (self.status == "no_target" and self.target is not None)

    @property
    def done_late(self) -> bool:
        return self.kind == "milestone" and self.done_date is not None and self.done_date > self.due

    @property
    def status_label(self) -> str:
        """The kind's own words (已完成/按进度/滞后/逾期, 达标/未达标/未报送, 未到期/逾期未完成); 无任务 where the
        indicator does not concern the unit or its target is 0; 未分解 where a split target is missing."""
        if self.no_task:
            return "无任务"
        if self.status == "done" and self.done_late:
            return "逾期完成"
        return sched.status_label(self.status, self.kind)

    @property
    def met_text(self) -> str:
        """达标月数 4/5 for a unit's limit, 达标 10/12 for the city row; '' otherwise."""
        if self.kind != "limit" or self.months_reported is None:
            return ""
        if self.is_city:
            return f"达标单位 {self.months_met}/{self.months_reported}"
        return f"达标月数 {self.months_met}/{self.months_reported}"

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
            "kind": self.kind,
            "status_label": self.status_label,
            "in_scope": self.in_scope,
            "departments": self.departments,
            **({"value_month": self.value_month, "months_met": self.months_met,
                "months_reported": self.months_reported} if self.kind == "limit" else {}),
            **({"done_date": self.done_date.isoformat() if self.done_date else None, "evidence": self.evidence}
               if self.kind == "milestone" else {}),
        }


@dataclass(frozen=True, slots=True)
class _MonthlyData:
    counts: dict[tuple[str, str], tuple[float, float]]  # (key, unit) -> (cumulative, this month)
    series: dict[tuple[str, str], list[tuple[str, float]]]  # limits: (key, unit) -> [(month, value)] in order


def _monthly_data(s: Session, as_of: dt.date, inds: Sequence[Indicator], window_start: dt.date) -> _MonthlyData:
    month = month_of(as_of)
    mf = MonthlyFigure
    counts: dict[tuple[str, str], tuple[float, float]] = {}
    plain = [i.key for i in inds if i.source == "monthly" and i.measure == "count" and not i.count_from]
    bounded = [i for i in inds if i.source == "monthly" and i.measure == "count" and i.count_from]
    queries = []
    if plain:
        queries.append((plain, None, month))
    for ind in bounded:  # a figure of a stated span (铁路货运量: the months of 2020 up to its due date)
        queries.append(([ind.key], ind.count_from, min(month, month_of(ind.due) if ind.due else month)))
    for keys, first, last in queries:
        stmt = (
            select(
                mf.indicator_key,
                mf.unit_code,
                float_sum(mf.value),
                float_sum(case((mf.month == month, mf.value), else_=0.0)),
            )
            .where(mf.indicator_key.in_(keys), mf.month <= last)
            .group_by(mf.indicator_key, mf.unit_code)
        )
        if first is not None:
            stmt = stmt.where(mf.month >= first)
        for key, unit, total, this_month in s.execute(stmt):
            counts[(key, unit)] = (float(total or 0.0), float(this_month or 0.0))
    series: dict[tuple[str, str], list[tuple[str, float]]] = {}
    rate_keys = [i.key for i in inds if i.source == "monthly" and i.measure == "rate"]
    if rate_keys:
        stmt = (
            select(mf.indicator_key, mf.unit_code, mf.month, mf.value)
            .where(mf.indicator_key.in_(rate_keys), mf.month >= month_of(window_start), mf.month <= month)
            .order_by(mf.month)
        )
        for key, unit, mon, value in s.execute(stmt):
            series.setdefault((key, unit), []).append((mon, float(value)))
    return _MonthlyData(counts, series)


def _milestones(s: Session, inds: Sequence[Indicator]) -> dict[tuple[str, str], tuple[dt.date, str]]:
    keys = [i.key for i in inds if i.kind == "milestone"]
    if not keys:
        return {}
    stmt = select(Milestone.indicator_key, Milestone.unit_code, Milestone.done_date, Milestone.evidence).where(
        Milestone.indicator_key.in_(keys))
    return {(k, u): (d, e) for k, u, d, e in s.execute(stmt)}


def _ledger_series(judged_met: tuple[int, int] | None, as_of: dt.date) -> list[tuple[str, float]]:
    """A ledger rate as a limit's series: one value (met ÷ judged, %) for the as-of month; none when nothing
    is judged (no record matches: 未报送 / no data)."""
    if not judged_met or judged_met[0] == 0:
        return []
    judged, met = judged_met
    return [(month_of(as_of), 100.0 * met / judged)]


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
    schedule: float, as_of: dt.date, due: dt.date, *, in_scope: bool = True,
) -> ProgressRow:
    completion = sched.count_completion(done, target) if in_scope else None
    status = sched.status_of(completion, schedule, as_of, due)
    return ProgressRow(code, name, ind.key, ind.name, ind.unit, ind.measure, target if in_scope else None, done,
                       completion, schedule, status, month_inc, None, due, kind=ind.kind, in_scope=in_scope,
                       departments=ind.department_text)


def _limit_row(
    ind: Indicator, code: str, name: str, target: float | None, series: list[tuple[str, float]],
    due: dt.date, *, in_scope: bool = True,
) -> ProgressRow:
    """A unit's limit: the latest month's value and status; met / reported months in the window."""
    if not in_scope:
        return ProgressRow(code, name, ind.key, ind.name, ind.unit, ind.measure, None, None, None, 1.0, "no_target",
                           None, None, due, None, kind="limit", in_scope=False, departments=ind.department_text)
    judged = [(m, v) for m, v in series if ind.judge_month is None or m == ind.judge_month]
    month, value = series[-1] if series else (None, None)
    status_value = judged[-1][1] if judged else None
    status = sched.limit_status(status_value, target, ind.compare)
    met = sum(1 for _m, v in judged if sched.meets(v, target, ind.compare))
    completion = sched.rate_completion(value, target, ind.compare) if value is not None else None
    return ProgressRow(code, name, ind.key, ind.name, ind.unit, ind.measure, target, value, completion, 1.0,
                       status, None, None, due, month, kind="limit", months_met=met, months_reported=len(judged),
                       departments=ind.department_text)


def _limit_city(ind: Indicator, rows: list[ProgressRow], due: dt.date, latest: str | None) -> ProgressRow:
    """全市 for a limit: how many units in scope meet their own limit (not an average against one limit)."""
    scoped = [r for r in rows if r.in_scope]
    reported = [r for r in scoped if r.status in ("met", "not_met")]
    met = sum(1 for r in reported if r.status == "met")
    if not reported:
        status = "no_data"
    elif met < len(reported):
        status = "not_met"
    else:
        status = "met"
    completion = met / len(scoped) if scoped else None
    return ProgressRow(CITY_CODE, CITY_NAME, ind.key, ind.name, ind.unit, ind.measure, ind.target, None, completion,
                       1.0, status, None, None, due, latest, kind="limit", months_met=met,
                       months_reported=len(reported), departments=ind.department_text)


def _milestone_row(
    ind: Indicator, code: str, name: str, event: tuple[dt.date, str] | None, schedule: float, as_of: dt.date,
    due: dt.date, *, in_scope: bool = True,
) -> ProgressRow:
    if not in_scope:
        return ProgressRow(code, name, ind.key, ind.name, ind.unit, ind.measure, None, 0.0, None, schedule,
                           "no_target", None, None, due, kind="milestone", in_scope=False,
                           departments=ind.department_text)
    day, evidence = event if event is not None else (None, None)
    status = sched.milestone_status(day, as_of, due)
    done = 1.0 if status == "done" else 0.0
    return ProgressRow(code, name, ind.key, ind.name, ind.unit, ind.measure, 1.0, done, done, schedule, status,
                       None, None, due, kind="milestone", done_date=day if status == "done" else None,
                       evidence=evidence if status == "done" else None, departments=ind.department_text)


def _milestone_city(ind: Indicator, rows: list[ProgressRow], schedule: float, due: dt.date) -> ProgressRow:
    scoped = [r for r in rows if r.in_scope]
    done = sum(1 for r in scoped if r.status == "done")
    if scoped and done == len(scoped):
        status = "done"
    elif any(r.status == "overdue" for r in scoped):
        status = "overdue"
    else:
        status = "pending"
    day = max((r.done_date for r in scoped if r.done_date), default=None) if status == "done" else None
    evidence = scoped[0].evidence if status == "done" and len(scoped) == 1 else None
    target = float(len(scoped))
    return ProgressRow(CITY_CODE, CITY_NAME, ind.key, ind.name, ind.unit, ind.measure, target, float(done),
                       sched.count_completion(done, target), schedule, status, None, None, due, kind="milestone",
                       done_date=day, evidence=evidence, departments=ind.department_text)


def progress_rows(
    s: Session, as_of: dt.date, *, ref: Reference | None = None, indicators: Iterable[str] | None = None
) -> list[ProgressRow]:
    """Every unit and the city for every indicator (or the given indicator keys), inside a session.

    Order: indicators in plan order; within one, the units in plan order, then the city row. A unit outside
    an indicator's scope gets a row marked not in scope (无任务): no target, no status of its own.
    """
    ref = ref or reference()
    inds = tuple(ref.indicators if indicators is None else (ref.indicator(k) for k in indicators))
    window_start, campaign_end = ref.plan.window_start, ref.plan.campaign_end
    stored = stored_targets(s)
    ledger = ledger_counts(s, as_of, indicators=inds)
    rates = ledger_rates(s, as_of, indicators=inds)
    monthly = _monthly_data(s, as_of, inds, window_start)
    events = _milestones(s, inds)
    zero = LedgerCount(0, 0, 0)
    out: list[ProgressRow] = []
    for ind in inds:
        due = sched.due_date(ind, campaign_end)
        rule = rule_of(ind)
        rows: list[ProgressRow] = []
        scores: dict[str, float | None] = {}
        if ind.kind == "milestone":
            schedule = sched.schedule_share(as_of, window_start, due)
            for u in ref.units:
                rows.append(_milestone_row(ind, u.code, u.name, events.get((ind.key, u.code)), schedule, as_of, due,
                                           in_scope=ind.in_scope(u.code)))
            if ind.city_level:
                city = _milestone_row(ind, CITY_CODE, CITY_NAME, events.get((ind.key, CITY_CODE)), schedule, as_of, due)
            else:
                city = _milestone_city(ind, rows, schedule, due)
            out.extend(rows)
            out.append(city)
            continue
        if ind.measure == "rate":
            unit_target = unit_rate_target(ind)
            for u in ref.units:
                if ind.source == "ledger":
                    series = _ledger_series(rates.get((ind.key, u.code)), as_of)
                else:
                    series = monthly.series.get((ind.key, u.code), [])
                row = _limit_row(ind, u.code, u.name, unit_target, series, due, in_scope=ind.in_scope(u.code))
                if ind.source == "ledger":  # judged as the ledger stands: no months to count
                    row = replace(row, months_met=None, months_reported=None)
                rows.append(row)
                if row.in_scope:
                    scores[u.code] = sched.rate_score(row.done, unit_target, ind.compare)
            latest = max((r.value_month for r in rows if r.value_month), default=None)
            city = _limit_city(ind, rows, due, latest)
        else:
            schedule = sched.schedule_share(as_of, window_start, due)
            total_done = total_month = 0.0
            found_total = 0.0
            for u in ref.units:
                in_scope = ind.in_scope(u.code)
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
                row = _count_row(ind, u.code, u.name, target, done, month_inc, schedule, as_of, due,
                                 in_scope=in_scope)
                rows.append(row)
                if in_scope:
                    scores[u.code] = row.completion
            if ind.city_level:  # entered by the city office, not split
                total_done, total_month = monthly.counts.get((ind.key, CITY_CODE), (0.0, 0.0))
            city_target = found_total if rule == "all_found" else ind.target
            city = _count_row(ind, CITY_CODE, CITY_NAME, city_target, total_done, total_month, schedule, as_of, due)
        out.extend(_assign_ranks(rows, scores))
        out.append(city)
    return out


def compute_progress(db: Database, as_of: dt.date, unit: str | None = None, *, actor: Actor | None = None,
                     ) -> list[ProgressRow]:
    """The progress table at `as_of`: every unit × indicator plus the city rows (全市).

    With `unit` (name or code), only that unit's rows (ranks are still among all units). With an `actor`, read
    as that user may (services.scope): a county user reads the own unit, by default and only.
    """
    ref = reference()
    code = scope.read_unit(actor, unit, what="任务进度")
    with read_session(db.engine) as s:
        rows = progress_rows(s, as_of, ref=ref)
    if code is not None:
        rows = [r for r in rows if r.unit_code == code]
    return rows


def air_warnings(db: Database, as_of: dt.date, ref: Reference | None = None) -> list[ProgressRow]:
    """air_warning_rows in a read session of its own (for the dashboard)."""
    with read_session(db.engine) as s:
        return air_warning_rows(s, as_of, ref)


def air_warning_rows(s: Session, as_of: dt.date, ref: Reference | None = None) -> list[ProgressRow]:
    """The counties' air quality of the period at `as_of` as progress rows (kind air_quality): PM2.5 and
    重污染天数 against the limits derived from their grade and 2019 baselines (services.air_targets)."""
    from jzair_desktop.services.air_targets import AIR_KIND, air_progress_rows

    ref = ref or reference()
    out = []
    for a in air_progress_rows(s, as_of, ref):
        if a.area not in {u.code for u in ref.units}:
            continue  # 市城区 is the city's own target, not a county's
        due = month_end(a.last_month)
        completion = sched.rate_completion(a.value, a.limit, "le") if a.value is not None else None
        out.append(ProgressRow(
            a.area, a.area_name, a.key, f"{a.period}{a.name}", a.unit, "rate", a.limit, a.value, completion, 1.0,
            a.status, None, None, due, a.last_month, kind=AIR_KIND, months_reported=a.months_reported,
            departments="市生态环境局",
        ))
    return out


def sort_warnings(rows: Iterable[ProgressRow], ref: Reference | None = None) -> list[ProgressRow]:
    """Behind, not met or overdue rows, worst first. Air quality comes first (the plan's first reason for a
    预警函, 二十一), then overdue / not met before behind, then the larger lag, then plan order."""
    ref = ref or reference()
    ind_order = {i.key: i.sort_order for i in ref.indicators}
    unit_order = {u.code: u.sort_order for u in ref.units}
    picked = [r for r in rows if r.status in sched.WARNING_STATUSES and r.in_scope]
    air_order = {"air.pm25": 0, "air.heavy_days": 1}  # the plan's order: PM2.5, then heavy days

    def key(r: ProgressRow) -> tuple:
        if r.kind == "air_quality":  # worst first, then by unit, PM2.5 before heavy days
            return (0, sched.STATUS_SEVERITY[r.status], unit_order.get(r.unit_code, 999), air_order.get(r.indicator, 2))
        return (1, sched.STATUS_SEVERITY[r.status], -round(r.gap, 9), ind_order.get(r.indicator, -1),
                unit_order.get(r.unit_code, 999))

    return sorted(picked, key=key)


def warnings(db: Database, as_of: dt.date, *, include_city: bool = False, actor: Actor | None = None,
             ) -> list[ProgressRow]:
    """Every unit × indicator that is behind, not met or overdue at `as_of`, air quality first (预警). With an
    `actor`, the rows that user may read (a county user: the own unit's)."""
    from jzair_desktop.services.problems import problem_warning_rows

    ref = reference()
    with read_session(db.engine) as s:
        rows = progress_rows(s, as_of, ref=ref) + air_warning_rows(s, as_of, ref) + problem_warning_rows(s, as_of, ref)
    if not include_city:
        rows = [r for r in rows if not r.is_city]
    own = scope.read_unit(actor, None) if scope.is_county_user(actor) else None
    if own is not None:
        rows = [r for r in rows if r.unit_code == own]
    return sort_warnings(rows, ref)


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
            stmt = select(mf.month, float_sum(mf.value)).where(mf.indicator_key == ind.key).group_by(mf.month)
            if code is not None:
                stmt = stmt.where(mf.unit_code == code)
            steps = sorted((m, float(v or 0.0)) for m, v in s.execute(stmt))
            key_of = month_of
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
