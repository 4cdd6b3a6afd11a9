"""The ledgers' breakdowns for the dashboard's stacked bars: one SQL GROUP BY per chart, live records.

Charts (breakdowns(), from LedgerDef.breakdown): bars are the values of one column (the category), each bar
is split into stacks by the values of another (the stack):
  * heating: 改造方式 × 状态      trucks: 排放标准 × 淘汰方式
  * boilers: 燃料类型 × 整治方式  vocs:   治理类别 × 状态

"As of" a date follows the progress engine's done rule (services.aggregates.done_condition): a record
in a done status (trucks: every record) whose done date is after the as-of date (or missing) was not
done yet on that day; it is counted in the chart's `after` stack (此后完工/此后淘汰/此后完成), not under
its present status. So on any date the done stacks of a bar add up to what the engine counts as done for that category.
Charts whose stack is not the status (boilers) count every live record whatever its status.
Records are live when not soft-deleted (deleted_at IS NULL), as in the engine.

The records are grouped once with their done day (breakdown_data); the counts at a date are then
computed from those groups in memory (BreakdownData.at), so a change of date needs no query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Date, case, func, literal, null, select

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.reference import reference
from jzair_desktop.services.aggregates import live_condition
from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS

MISSING = "未填写"  # a category or stack cell left empty


@dataclass(frozen=True, slots=True)
class BreakdownSpec:
    key: str
    ledger: str
    title: str
    category_field: str
    stack_field: str
    after: str | None  # the stack of records done after the as-of date; None: every live record as it is


def breakdowns() -> tuple[BreakdownSpec, ...]:
    """The charts, one per ledger whose definition has a breakdown, in the registry's order."""
    return tuple(
        BreakdownSpec(d.key, d.key, b.title, b.category_field, b.stack_field, b.after)
        for d in LEDGERS.values() if (b := d.breakdown) is not None
    )


@dataclass(frozen=True, slots=True)
class Breakdown:
    key: str
    ledger: str
    title: str
    category_header: str  # the column header of the bars, e.g. 改造方式
    stack_header: str
    categories: tuple[str, ...]  # bar labels, in the registry's order of choices
    stacks: tuple[str, ...]  # stack labels, in the registry's order (then the `after` stack, MISSING)
    counts: tuple[tuple[int, ...], ...]  # counts[category][stack]
    after: str | None = None  # the stack of records done after the as-of date (None: no such stack)

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts)

    def category_total(self, category: str) -> int:
        return sum(self.counts[self.categories.index(category)])

    def count(self, category: str, stack: str) -> int:
        return self.counts[self.categories.index(category)][self.stacks.index(stack)]


def spec(key: str) -> BreakdownSpec:
    for s in breakdowns():
        if s.key == key:
            return s
    raise KeyError(key)


def _choices(ledger_key: str, field: str) -> tuple[str, ...]:
    col = LEDGERS[ledger_key].column(field)
    return tuple(reference().choices.get(col.choices_key or "", ())) if col.choices_key else ()


def ledger_breakdown(db: Database, key: str, as_of: dt.date, *, unit_code: str | None = None) -> Breakdown:
    """One chart's counts at `as_of`, for the city or one unit (a code). May run on any thread."""
    return all_breakdowns(db, as_of, unit_code=unit_code, keys=(key,))[0]


def all_breakdowns(
    db: Database, as_of: dt.date, *, unit_code: str | None = None, keys: tuple[str, ...] | None = None
) -> list[Breakdown]:
    """Every chart of breakdowns() (or the given keys) at `as_of`."""
    return [data.at(as_of) for data in breakdown_data(db, unit_code=unit_code, keys=keys)]


@dataclass(frozen=True, slots=True)
class BreakdownData:
    """One chart's records grouped once, whatever the date: (category, stack, done day, count).

    The done day is the day a done-status record counts as done (its done date, or never when it has
    none: date.max), None for other records. `at(as_of)` then needs no query, so a dashboard changing
    its as-of date redraws these charts from memory.
    """

    spec: BreakdownSpec
    category_header: str
    stack_header: str
    categories: tuple[str, ...]  # the registry's choices, then values found outside them
    stacks: tuple[str, ...]
    groups: tuple[tuple[str, str, dt.date | None, int], ...]

    def at(self, as_of: dt.date) -> Breakdown:
        sp = self.spec
        found: dict[tuple[str, str], int] = {}
        for cat, stack, done_day, n in self.groups:
            if sp.after is not None and done_day is not None and done_day > as_of:
                stack = sp.after
            found[(cat, stack)] = found.get((cat, stack), 0) + n
        counts = tuple(tuple(found.get((c, k), 0) for k in self.stacks) for c in self.categories)
        return Breakdown(
            key=sp.key, ledger=sp.ledger, title=sp.title, category_header=self.category_header,
            stack_header=self.stack_header, categories=self.categories, stacks=self.stacks, counts=counts,
            after=sp.after,
        )


def breakdown_data(
    db: Database, *, unit_code: str | None = None, keys: tuple[str, ...] | None = None
) -> list[BreakdownData]:
    """The grouped records of every chart (or the given keys), one GROUP BY each in one read session."""
    wanted = [s for s in breakdowns() if keys is None or s.key in keys]
    out: list[BreakdownData] = []
    with read_session(db.engine) as s:
        for sp in wanted:
            ldef = LEDGERS[sp.ledger]
            model = LEDGER_MODELS[sp.ledger]
            cat_col = func.coalesce(getattr(model, sp.category_field), MISSING)
            stack_col = func.coalesce(getattr(model, sp.stack_field), MISSING)
            if sp.after is not None:
                # The same rule as done_condition: a done status (trucks: any record) and the done date.
                day = func.coalesce(getattr(model, ldef.done_date_field), literal(date_max(), Date))
                if ldef.status_field is None:
                    done_day = day
                else:
                    status = func.coalesce(getattr(model, ldef.status_field), "")
                    done_day = case((status.in_(ldef.done_statuses), day), else_=null())
            else:
                done_day = null()
            # A constant (no done day) is selected but not grouped by: PostgreSQL refuses GROUP BY NULL.
            grouping = (cat_col, stack_col) if sp.after is None else (cat_col, stack_col, done_day)
            stmt = (
                select(cat_col, stack_col, done_day, func.count())
                .where(live_condition(model))
                .group_by(*grouping)
            )
            if unit_code is not None:
                stmt = stmt.where(model.unit_code == unit_code)
            groups = tuple((c, k, _as_date(d), int(n)) for c, k, d, n in s.execute(stmt))
            categories = list(_choices(sp.ledger, sp.category_field))
            stacks = list(_choices(sp.ledger, sp.stack_field))
            if sp.after is not None:
                stacks.append(sp.after)
            for c, k, _d, _n in groups:
                if c not in categories:
                    categories.append(c)
                if k not in stacks:
                    stacks.append(k)
            out.append(
                BreakdownData(
                    spec=sp, category_header=ldef.column(sp.category_field).header,
                    stack_header=ldef.column(sp.stack_field).header,
                    categories=tuple(categories), stacks=tuple(stacks), groups=groups,
                )
            )
    return out


def date_max() -> dt.date:
    """'Never done': later than any as-of date (the engine's COALESCE sentinel is 9999-12-31 too)."""
    return dt.date(9999, 12, 31)


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    return dt.date.fromisoformat(str(value)[:10])
