"""Ledger counts per unit and indicator, computed in SQL: one aggregate query per ledger.

Each query scans the ledger's live records once and returns, per unit, for every indicator of that
ledger: the records done by a date, the records done within the date's month, and the records found
(live and matching, whatever their status: the target of 'all_found' indicators).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, true
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.domain.reference import Indicator, reference
from jzair_desktop.errors import JzairError
from jzair_desktop.storage.models import LEDGER_MODELS

_OPERATORS = {
    "lt": lambda col, v: col < v,
    "le": lambda col, v: col <= v,
    "gt": lambda col, v: col > v,
    "ge": lambda col, v: col >= v,
    "ne": lambda col, v: col != v,
    "in": lambda col, v: col.in_(list(v)),
}


@dataclass(frozen=True, slots=True)
class LedgerCount:
    done: int  # done on or before the as-of date
    month: int  # done within the as-of date's calendar month (up to the as-of date)
    found: int  # live matching records, any status


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
    """A record is done by `as_of`: a done status (trucks: any record) with its done date on or before it."""
    date_col = getattr(model, ldef.done_date_field)
    cond = and_(date_col.is_not(None), date_col <= as_of)
    if ldef.status_field is not None:
        cond = and_(getattr(model, ldef.status_field).in_(ldef.done_statuses), cond)
    return cond


def ledger_indicators(ledger_key: str, indicators: tuple[Indicator, ...] | None = None) -> list[Indicator]:
    inds = indicators if indicators is not None else reference().indicators
    return [i for i in inds if i.source == "ledger" and i.ledger == ledger_key]


def ledger_counts(
    session: Session, as_of: dt.date, *, indicators: tuple[Indicator, ...] | None = None
) -> dict[tuple[str, str], LedgerCount]:
    """{(indicator_key, unit_code): LedgerCount} for every ledger indicator; units without records are absent."""
    month_start = as_of.replace(day=1)
    out: dict[tuple[str, str], LedgerCount] = {}
    for ledger_key, ldef in LEDGERS.items():
        inds = ledger_indicators(ledger_key, indicators)
        if not inds:
            continue
        model = LEDGER_MODELS[ledger_key]
        done = done_condition(model, ldef, as_of)
        in_month = getattr(model, ldef.done_date_field) >= month_start
        columns = []
        for ind in inds:
            match = filter_condition(model, ind.filter)
            columns.append(func.sum(case((and_(match, done), 1), else_=0)))
            columns.append(func.sum(case((and_(match, done, in_month), 1), else_=0)))
            columns.append(func.sum(case((match, 1), else_=0)))
        stmt = (
            select(model.unit_code, *columns)
            .where(model.deleted_at.is_(None))
            .group_by(model.unit_code)
        )
        for row in session.execute(stmt):
            unit_code = row[0]
            for n, ind in enumerate(inds):
                d, m, f = row[1 + 3 * n: 4 + 3 * n]
                out[(ind.key, unit_code)] = LedgerCount(int(d or 0), int(m or 0), int(f or 0))
    return out


def found_counts(session: Session, indicator: Indicator) -> dict[str, int]:
    """{unit_code: live matching records} of one ledger indicator (the target of an 'all_found' indicator)."""
    model = LEDGER_MODELS[indicator.ledger]
    stmt = (
        select(model.unit_code, func.count(literal(1)))
        .where(model.deleted_at.is_(None), filter_condition(model, indicator.filter))
        .group_by(model.unit_code)
    )
    return {code: int(n) for code, n in session.execute(stmt)}
