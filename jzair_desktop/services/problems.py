"""问题清单 (plan items 十八 and 二十): per unit, the items opened and closed in a month, the open ones and
those past their 整改时限 (overdue); overdue items raise a warning per unit (kind `problems`) that the
warning list, the dashboard and the 预警函 show beside the indicators.

An item is done when 已整改 or 已销号 with its 整改完成日期 on or before the date; it is opened on its
发现（交办）日期 (or, when that is blank, the day it was entered).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, not_, select
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import PROBLEMS
from jzair_desktop.domain.months import month_end, month_start
from jzair_desktop.domain.reference import Reference, reference
from jzair_desktop.services.aggregates import counts_per_unit, done_condition
from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS

PROBLEMS_KIND = "problems"  # the kind of a warning row about overdue items
WARNING_KEY = "problems.overdue"
WARNING_NAME = "逾期未整改问题"
MAX_OVERDUE_LISTED = 40


@dataclass(frozen=True, slots=True)
class ProblemUnitFigure:
    unit_code: str
    county: str
    total: int  # live items opened by the date
    opened: int  # opened within the month
    closed: int  # done within the month
    done: int  # done by the date
    overdue: int  # not done and past their 整改时限

    @property
    def open(self) -> int:
        return self.total - self.done


@dataclass(frozen=True, slots=True)
class OverdueProblem:
    unit_code: str
    county: str
    source: str
    document_no: str
    description: str
    department: str
    due_date: dt.date
    status: str
    overdue_days: int


def _model():
    return LEDGER_MODELS[PROBLEMS.key]


def _opened_on(m):
    return func.coalesce(m.found_date, func.date(m.created_at))


def problem_figures(s: Session, month: str, unit_code: str | None = None,
                    ref: Reference | None = None) -> list[ProblemUnitFigure]:
    """Per unit (plan order; only `unit_code` when given) as of the month's last day."""
    ref = ref or reference()
    first, last = month_start(month), month_end(month)
    m = _model()
    opened_on = _opened_on(m)
    opened = opened_on <= last
    done = done_condition(m, PROBLEMS, last)
    overdue = and_(opened, not_(done), m.due_date < last)
    stmt = (
        select(
            m.unit_code,
            func.sum(case((opened, 1), else_=0)),
            func.sum(case((and_(opened, opened_on >= first), 1), else_=0)),
            func.sum(case((and_(opened, done, m.done_date >= first), 1), else_=0)),
            func.sum(case((and_(opened, done), 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .where(m.deleted_at.is_(None))
        .group_by(m.unit_code)
    )
    if unit_code is not None:
        stmt = stmt.where(m.unit_code == unit_code)
    return [ProblemUnitFigure(u.code, u.name, *counts) for u, counts in counts_per_unit(s, stmt, ref, unit_code, 5)]


def overdue_problems(s: Session, as_of: dt.date, unit_code: str | None = None, ref: Reference | None = None,
                     *, limit: int | None = None) -> tuple[int, list[OverdueProblem]]:
    """Items not done by `as_of` whose 整改时限 has passed: (how many, the longest overdue first)."""
    ref = ref or reference()
    m = _model()
    where = [m.deleted_at.is_(None), m.due_date < as_of, not_(done_condition(m, PROBLEMS, as_of))]
    if unit_code is not None:
        where.append(m.unit_code == unit_code)
    total = int(s.scalar(select(func.count()).select_from(m).where(*where)) or 0)
    order = {u.code: u.sort_order for u in ref.units}
    names = {u.code: u.name for u in ref.units}
    stmt = select(m).where(*where).order_by(m.due_date, m.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    recs = sorted(s.scalars(stmt), key=lambda r: (order.get(r.unit_code, 999), r.due_date, r.id))
    return total, [
        OverdueProblem(r.unit_code, names.get(r.unit_code, r.unit_code), r.source, r.document_no or "",
                       r.description, r.department, r.due_date, r.status, (as_of - r.due_date).days)
        for r in recs
    ]


def problem_warning_rows(s: Session, as_of: dt.date, ref: Reference | None = None) -> list:
    """One warning row (services.progress.ProgressRow, kind `problems`, status overdue) per unit with items
    past their 整改时限: done = the overdue items, target = the items due by now; the due date is the oldest
    overdue item's."""
    from jzair_desktop.services.progress import ProgressRow

    ref = ref or reference()
    m = _model()
    late = and_(m.due_date < as_of, not_(done_condition(m, PROBLEMS, as_of)))
    stmt = (
        select(m.unit_code, func.sum(case((late, 1), else_=0)), func.count(),
               func.min(case((late, m.due_date))))
        .where(m.deleted_at.is_(None), m.due_date < as_of)
        .group_by(m.unit_code)
    )
    names = {u.code: u.name for u in ref.units}
    out = []
    for code, n_late, n_due, oldest in s.execute(stmt):
        if not n_late or code not in names:
            continue
        oldest_day = oldest if isinstance(oldest, dt.date) else dt.date.fromisoformat(str(oldest))
        out.append(ProgressRow(
            code, names[code], WARNING_KEY, WARNING_NAME, "项", "count", float(n_due), float(n_late),
            None, 1.0, "overdue", None, None, oldest_day, kind=PROBLEMS_KIND, departments="市大气办",
        ))
    return out


def problem_warnings(db: Database, as_of: dt.date, ref: Reference | None = None) -> list:
    """problem_warning_rows in a read session of its own (for the dashboard)."""
    with read_session(db.engine) as s:
        return problem_warning_rows(s, as_of, ref)
