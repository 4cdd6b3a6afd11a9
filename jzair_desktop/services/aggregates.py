"""Ledger counts per unit and indicator, computed in SQL: one aggregate query per ledger.

Each query scans the ledger's live records once and returns, per unit, for every indicator of that
ledger: the records done by a date, the records done within the date's month, and the records found
(live and matching, whatever their status: the target of 'all_found' indicators).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.domain.reference import Indicator, Reference, Unit, reference
from jzair_desktop.errors import JzairError
from jzair_desktop.storage.models import LEDGER_MODELS

_OPERATORS = {
    "lt": lambda col, v: col < v,
    "le": lambda col, v: col <= v,
    "gt": lambda col, v: col > v,
    "ge": lambda col, v: col >= v,
    "ne": lambda col, v: col != v,
    "in": lambda col, v: col.in_(list(v)),
    "not": lambda col, v: col.is_distinct_from(v),  # NULL-safe: an empty field is "not v"
}
_NEVER = dt.date(9999, 12, 31)


@dataclass(frozen=True, slots=True)
class LedgerCount:
    done: int  # done on or before the as-of date
    month: int  # done within the as-of date's calendar month (up to the as-of date)
    found: int | None  # live matching records, any status ('all_found' indicators only, else None)


def filter_condition(model: Any, filt: dict[str, Any]) -> ColumnElement[bool]:
    """The SQL condition of an indicator's `filter` from plan.toml (field = value | {op = value})."""
    parts: list[ColumnElement[bool]] = []
    for field, spec in filt.items():
        col = getattr(model, field, None)
        if col is None:
            raise JzairError(f"计划基础数据有误：指标筛选字段“{field}”不存在。")
        if isinstance(spec, dict):
            for op, value in spec.items():
                if op not in _OPERATORS:
                    raise JzairError(f"计划基础数据有误：未知的筛选条件“{op}”。")
                parts.append(_OPERATORS[op](col, value))
        else:
            parts.append(col == spec)
    return and_(true(), *parts) if parts else true()


def done_condition(model: Any, ldef: LedgerDef, as_of: dt.date) -> ColumnElement[bool]:
    """A record is done by `as_of`: a done status (trucks: any record) with its done date on or before it.

    The columns are wrapped in COALESCE so that no index is used for this condition: nearly every
    record passes it, and walking ix_*_status_date or ix_*_deleted_at then fetching each row is 2–3
    times slower than one scan of the table (SQLite has no statistics to know that). Same result.
    """
    date_col = getattr(model, ldef.done_date_field)
    cond = func.coalesce(date_col, literal(_NEVER, Date)) <= as_of
    if ldef.status_field is not None:
        status = func.coalesce(getattr(model, ldef.status_field), "")
        cond = and_(status.in_(ldef.done_statuses), cond)
    return cond


def live_condition(model: Any) -> ColumnElement[bool]:
    """Not soft-deleted (deleted_at IS NULL), written so that the planner scans rather than uses the index."""
    return func.coalesce(model.deleted_at, null()).is_(None)


def counted_condition(model: Any, ind: Indicator) -> ColumnElement[bool]:
    """A record that matches the indicator and may count as done (its filter and its done_filter)."""
    if not ind.done_filter:
        return filter_condition(model, ind.filter)
    return and_(filter_condition(model, ind.filter), filter_condition(model, ind.done_filter))


def ledger_indicators(ledger_key: str, indicators: tuple[Indicator, ...] | None = None) -> list[Indicator]:
    inds = indicators if indicators is not None else reference().indicators
    return [i for i in inds if i.source == "ledger" and i.ledger == ledger_key]


def ledger_counts(
    session: Session, as_of: dt.date, *, indicators: tuple[Indicator, ...] | None = None
) -> dict[tuple[str, str], LedgerCount]:
    """{(indicator_key, unit_code): LedgerCount} for every ledger indicator; units without records are absent.

    One aggregate query per ledger: a single scan of its live records, grouped by unit, with a
    CASE/SUM pair per indicator (done, done this month) and, for 'all_found' indicators, a found count.
    Ledgers without 'all_found' indicators keep only done records (WHERE), so the sums stay cheap.
    """
    month_start = as_of.replace(day=1)
    out: dict[tuple[str, str], LedgerCount] = {}
    for ledger_key, ldef in LEDGERS.items():
        all_inds = ledger_indicators(ledger_key, indicators)
        for ind in all_inds:
            if ind.count_by == "enterprise":
                out.update(_enterprise_counts(session, ind, ldef, as_of))
        inds = [i for i in all_inds if i.count_by != "enterprise"]
        if not inds:
            continue
        model = LEDGER_MODELS[ledger_key]
        done = done_condition(model, ldef, as_of)
        in_month = getattr(model, ldef.done_date_field) >= month_start
        found_inds = [i for i in inds if i.target_rule == "all_found"]
        matches = {i.key: filter_condition(model, i.filter) for i in inds}
        counted = {i.key: counted_condition(model, i) for i in inds}
        if found_inds:
            where = and_(live_condition(model), or_(done, *(matches[i.key] for i in found_inds)))
        else:
            where = and_(live_condition(model), done)
        columns: list[Any] = []
        for ind in inds:
            match = counted[ind.key]
            if found_inds:
                columns.append(func.sum(case((and_(match, done), 1), else_=0)))
                columns.append(func.sum(case((and_(match, done, in_month), 1), else_=0)))
            elif not ind.filter:
                columns.append(func.count())
                columns.append(func.sum(case((in_month, 1), else_=0)))
            else:
                columns.append(func.sum(case((match, 1), else_=0)))
                columns.append(func.sum(case((and_(match, in_month), 1), else_=0)))
            if ind.target_rule == "all_found":
                columns.append(func.sum(case((matches[ind.key], 1), else_=0)))
        # Grouping by an expression (not the bare indexed column) keeps the single table scan: walking
        # ix_*_unit_code to skip the sort fetches every row by id, which is slower. The empty string is
        # a literal so that the SELECT and GROUP BY expressions are the same text on every database.
        unit = func.coalesce(model.unit_code, literal_column("''"))
        stmt = select(unit, *columns).where(where).group_by(unit)
        for row in session.execute(stmt):
            unit_code, values = row[0], list(row[1:])
            pos = 0
            for ind in inds:
                d, m = values[pos], values[pos + 1]
                pos += 2
                f = None
                if ind.target_rule == "all_found":
                    f = int(values[pos] or 0)
                    pos += 1
                out[(ind.key, unit_code)] = LedgerCount(int(d or 0), int(m or 0), f)
    return out


def ledger_rates(
    session: Session, as_of: dt.date, *, indicators: tuple[Indicator, ...] | None = None
) -> dict[tuple[str, str], tuple[int, int]]:
    """{(indicator_key, unit_code): (judged, met)} for every ledger rate indicator (measure 'rate'): the live
    records matching its filter and registered by `as_of` (the ledger's done rule), and those of them that
    also match its done_filter. The ledger keeps no history of the fields judged: they are read as they are."""
    inds = indicators if indicators is not None else reference().indicators
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for ind in inds:
        if ind.source != "ledger" or ind.measure != "rate" or ind.ledger not in LEDGERS:
            continue
        model = LEDGER_MODELS[ind.ledger]
        judged = and_(live_condition(model), done_condition(model, LEDGERS[ind.ledger], as_of),
                      filter_condition(model, ind.filter))
        met = filter_condition(model, ind.done_filter)
        stmt = (
            select(model.unit_code, func.count(), func.sum(case((met, 1), else_=0)))
            .where(judged)
            .group_by(model.unit_code)
        )
        for unit_code, n, m in session.execute(stmt):
            out[(ind.key, unit_code)] = (int(n or 0), int(m or 0))
    return out


def _enterprise_counts(
    session: Session, ind: Indicator, ldef: LedgerDef, as_of: dt.date
) -> dict[tuple[str, str], LedgerCount]:
    """Distinct enterprises (统一社会信用代码) of an enterprise-counted indicator, per unit.

    An enterprise is done by `as_of` when every live matching row of it is done by then; it was done within
    the as-of month when its last row's done date falls in that month. A row without a code stands alone.
    """
    model = LEDGER_MODELS[ind.ledger]
    month_start = as_of.replace(day=1)
    date_col = getattr(model, ldef.done_date_field)
    done = and_(done_condition(model, ldef, as_of), counted_condition(model, ind))
    enterprise = func.coalesce(model.credit_code, literal("#").concat(cast(model.id, String)))
    unit = func.coalesce(model.unit_code, literal_column("''"))
    sub = (
        select(
            unit.label("unit"),
            enterprise.label("enterprise"),
            func.min(case((done, 1), else_=0)).label("all_done"),
            func.max(date_col).label("last"),
        )
        .where(live_condition(model), filter_condition(model, ind.filter))
        .group_by(unit, enterprise)
        .subquery()
    )
    stmt = select(
        sub.c.unit,
        func.sum(sub.c.all_done),
        func.sum(case((and_(sub.c.all_done == 1, sub.c.last >= month_start), 1), else_=0)),
        func.count(),
    ).group_by(sub.c.unit)
    found_rule = ind.target_rule == "all_found"
    return {
        (ind.key, code): LedgerCount(int(d or 0), int(m or 0), int(n or 0) if found_rule else None)
        for code, d, m, n in session.execute(stmt)
    }


def found_counts(session: Session, indicator: Indicator) -> dict[str, int]:
    """{unit_code: live matching records} of one ledger indicator (the target of an 'all_found' indicator)."""
    model = LEDGER_MODELS[indicator.ledger]
    stmt = (
        select(model.unit_code, func.count(literal(1)))
        .where(live_condition(model), filter_condition(model, indicator.filter))
        .group_by(model.unit_code)
    )
    return {code: int(n) for code, n in session.execute(stmt)}


def counts_per_unit(
    s: Session, stmt: Any, ref: Reference, unit_code: str | None, width: int
) -> list[tuple[Unit, tuple[int, ...]]]:
    """Run `stmt` (rows of unit_code then `width` counts, grouped by unit, already filtered to `unit_code` when
    given) and give every unit of the reference (or the one asked for) its counts, zeros where none were found."""
    got = {row[0]: tuple(int(v or 0) for v in row[1:]) for row in s.execute(stmt)}
    zeros = (0,) * width
    return [(u, got.get(u.code, zeros)) for u in ref.units if unit_code is None or u.code == unit_code]
