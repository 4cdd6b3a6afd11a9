"""What this database is and holds: version, location, schema revision, record counts."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select

from jzair_desktop import __version__
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.domain.reference import CITY_CODE, Indicator, reference
from jzair_desktop.services.database import Database
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS, IndicatorRow, UnitRow


def record_counts(db: Database) -> dict[str, dict[str, int]]:
    """Live (not deleted) records per ledger and unit, every unit listed (zero included)."""
    with read_session(db.engine) as s:
        units = s.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.code != CITY_CODE)
                          .order_by(UnitRow.sort_order)).all()
        out: dict[str, dict[str, int]] = {}
        for key in LEDGERS:
            model = LEDGER_MODELS[key]
            rows = dict(
                s.execute(
                    select(model.unit_code, func.count())
                    .where(model.deleted_at.is_(None))
                    .group_by(model.unit_code)
                ).all()
            )
            out[key] = {name: int(rows.get(code, 0)) for code, name in units}
    return out


def info(db: Database) -> dict:
    from jzair_desktop.services.installation import installation_of

    inst = installation_of(db)
    return {
        "installation": {"unit": inst.json_unit} if inst is not None else None,
        "version": __version__,
        "database": db.location,
        "revision": migrate.current_revision(db.engine),
        "head_revision": migrate.head_revision(),
        "records": record_counts(db),
    }


@dataclass(frozen=True)
class PlanIndicatorView:
    key: str
    name: str
    unit: str
    target: float | None  # None: every matching record found is the target ("all_found")
    target_rule: str
    target_text: str
    due: str  # for people: an ISO date, or how the due date is set
    due_date: dt.date | None  # None when each record carries its own planned date
    due_rule: str  # "fixed" | "campaign_end" | "per_record"
    plan_item: str
    department: str
    source: str  # "ledger" | "monthly"
    measure: str  # "count" | "rate"
    compare: str  # "ge" | "le"
    county_target: float | None
    annual_target: float | None
    kind: str = "cumulative"
    departments: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None  # unit names; None = every unit; () = city-level
    scope_text: str = ""
    subject: str | None = None

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "unit": self.unit,
            "target": self.target,
            "target_rule": self.target_rule,
            "target_text": self.target_text,
            "due": self.due_date.isoformat() if self.due_date else None,
            "due_rule": self.due_rule,
            "due_text": self.due,
            "plan_item": self.plan_item,
            "department": self.department,
            "source": self.source,
            "measure": self.measure,
            "compare": self.compare,
            "county_target": self.county_target,
            "annual_target": self.annual_target,
            "kind": self.kind,
            "departments": list(self.departments),
            "scope": None if self.scope is None else list(self.scope),
            "scope_text": self.scope_text,
            "subject": self.subject,
        }


def due_text(due, due_rule: str, campaign_end) -> str:  # noqa: ANN001
    if due_rule == "per_record":
        return "按台账计划完成日期"
    return (due or campaign_end).isoformat()


def target_text(ind: Indicator | IndicatorRow) -> str:
    if ind.target is None:
        return "全部排查出的"
    value = ind.target
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    if ind.measure == "rate":
        sign = "≥" if ind.compare == "ge" else "≤"
        return f"{sign}{text}"
    return text


def plan_indicators(db: Database) -> list[PlanIndicatorView]:
    """The plan indicators as loaded into this database (those the plan still has), with their kind, lead
    departments and scope from the plan."""
    from jzair_desktop.services.targets import scope_text

    ref = reference()
    campaign_end = ref.plan.campaign_end
    keys = {i.key: i for i in ref.indicators}
    with read_session(db.engine) as s:
        rows = [r for r in s.scalars(select(IndicatorRow).order_by(IndicatorRow.sort_order)).all() if r.key in keys]
        out = []
        for r in rows:
            ind = keys[r.key]
            out.append(PlanIndicatorView(
                key=r.key,
                name=r.name,
                unit=r.unit,
                target=r.target,
                target_rule=r.target_rule,
                target_text=target_text(r) if ind.kind != "milestone" else "按时完成",
                due=due_text(r.due, r.due_rule, campaign_end),
                due_date=None if r.due_rule == "per_record" else (r.due or campaign_end),
                due_rule=r.due_rule,
                plan_item=r.plan_item,
                department=r.department,
                source=r.source,
                measure=r.measure,
                compare=r.compare,
                county_target=r.county_target,
                annual_target=r.annual_target,
                kind=ind.kind,
                departments=ind.departments,
                scope=None if ind.scope is None else tuple(ref.unit_by_code(c).name for c in ind.scope),
                scope_text=scope_text(ind, ref),
                subject=ind.subject,
            ))
        return out


def to_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)
