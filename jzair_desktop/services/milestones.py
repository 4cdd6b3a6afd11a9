"""Milestone indicators (plan.toml kind = "milestone"): a dated event that is done or not.

A unit records the day its event was done and the evidence (a document number or a file name, as for 销号);
a city-level milestone (阳泉煤业铁路专用线开工) is recorded by the city office under 全市. Clearing a record
makes it not done again. Every change is audited; a unit's submitted month is locked like its records.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, Indicator, Reference, Unit, reference
from jzair_desktop.domain.validation import parse_date
from jzair_desktop.errors import JzairError
from jzair_desktop.services import audit
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.targets import check_in_scope, resolve_indicator
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import Milestone

AUDIT_SUBJECT = "milestones"
EVIDENCE_MAX = 200
EARLIEST = dt.date(2020, 1, 1)
KIND_NAMES = {"cumulative": "累计进度类指标", "limit": "限值类指标", "milestone": "节点任务类指标"}


def milestone_indicators(ref: Reference | None = None) -> list[Indicator]:
    ref = ref or reference()
    return [i for i in ref.indicators if i.kind == "milestone"]


@dataclass(frozen=True, slots=True)
class MilestoneView:
    indicator: str
    name: str
    unit_code: str
    county: str
    due: dt.date
    done_date: dt.date | None
    evidence: str | None

    def as_json(self) -> dict:
        return {"indicator": self.indicator, "name": self.name, "county": self.county, "unit_code": self.unit_code,
                "due": self.due.isoformat(), "done_date": self.done_date.isoformat() if self.done_date else None,
                "evidence": self.evidence}


def _unit(text: object, ind: Indicator, actor: Actor, ref: Reference) -> Unit:
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace(" ", "")
    if ind.city_level:
        if raw not in (CITY_NAME, CITY_CODE, ""):
            raise JzairError(f"“{ind.name}”是全市节点任务，由市大气办以“全市”记录，不记到“{text}”。")
        actor.check_city(f"记录“{ind.name}”")
        return Unit(CITY_CODE, CITY_NAME)
    unit = ref.resolve_unit(str(text))
    check_in_scope(ind, unit, ref)
    actor.check_write(unit.code, unit_name=unit.name)
    return unit


def _parse_day(value: object, what: str) -> dt.date:
    """A day as the ledgers read one (domain.validation.parse_date), but never an Excel serial number."""
    day = None
    if not isinstance(value, bool | int | float):
        try:
            day = parse_date(value)
        except ValueError:
            day = None
    if day is None:
        raise JzairError(f"{what}不是有效日期：“{value}”，应为 年-月-日，如 2020-10-28。")
    return day


def check_done_date(ind: Indicator, unit: Unit, done_date: object, *, today: dt.date | None = None) -> dt.date:
    """The day a milestone was done, parsed and checked (not in the future, not before the plan)."""
    what = f"“{unit.name}”的“{ind.name}”完成日期"
    day = _parse_day(done_date, what)
    today = today or dt.date.today()
    if day > today:
        raise JzairError(f"{what} {day.isoformat()} 晚于今天，不能预填。")
    if day < EARLIEST:
        raise JzairError(f"{what} {day.isoformat()} 早于 {EARLIEST.isoformat()}，不是本方案的任务。")
    return day


def check_evidence(ind: Indicator, unit: Unit, evidence: object) -> str:
    """The evidence of a milestone (required, at most EVIDENCE_MAX characters), kept as typed."""
    text = str(evidence or "").strip()  # kept as typed: full-width （） and 〔〕 belong to document numbers
    if not text:
        raise JzairError(f"“{unit.name}”的“{ind.name}”须填写完成依据（文号或证明材料名称）。")
    if len(text) > EVIDENCE_MAX:
        raise JzairError(f"“{unit.name}”的“{ind.name}”完成依据不能超过 {EVIDENCE_MAX} 个字，收到 {len(text)} 个字。")
    return text


def unit_milestone(text: object, unit: Unit, ref: Reference | None = None) -> Indicator:
    """A milestone indicator of `unit` named by key or Chinese name, as a county package carries it: a Chinese
    refusal for an unknown indicator, one that is not a milestone, a city-level one or one outside the unit's scope."""
    ref = ref or reference()
    ind = resolve_indicator(str(text or ""), ref=ref)
    if ind.kind != "milestone":
        raise JzairError(f"“{ind.name}”不是节点任务类指标（而是{KIND_NAMES.get(ind.kind, ind.kind)}），不能作为节点任务记录。")
    if ind.city_level:
        raise JzairError(f"“{ind.name}”是全市节点任务，由市大气办以“全市”记录，不由“{unit.name}”报送。")
    check_in_scope(ind, unit, ref)
    return ind


def set_milestone(
    db: Database, actor: Actor, indicator: str, unit: str, done_date: object, evidence: object, *,
    today: dt.date | None = None,
) -> MilestoneView:
    """Record that a milestone was done on `done_date`, with its evidence (required)."""
    ref = reference()
    ind = resolve_indicator(indicator, allowed=milestone_indicators(ref), ref=ref)
    u = _unit(unit, ind, actor, ref)
    day = check_done_date(ind, u, done_date, today=today)
    text = check_evidence(ind, u, evidence)
    due = ind.effective_due(ref.plan.campaign_end)
    now = dt.datetime.now()
    with write_session(db.engine) as s:
        if u.code != CITY_CODE:
            from jzair_desktop.services.submission import check_month_open

            check_month_open(s, u.code, f"{day.year:04d}-{day.month:02d}", "记录")
        row = s.get(Milestone, (ind.key, u.code))
        before = None if row is None else {"done_date": row.done_date.isoformat(), "evidence": row.evidence}
        after = {"done_date": day.isoformat(), "evidence": text}
        if before == after:
            audit.check_actor(s, actor)
        else:
            if row is None:
                row = Milestone(indicator_key=ind.key, unit_code=u.code)
                s.add(row)
            row.done_date, row.evidence, row.updated_at, row.updated_by = day, text, now, actor.name
            late = "（逾期完成）" if day > due else ""
            audit.append(s, actor, "create" if before is None else "update", ledger=AUDIT_SUBJECT,
                         uuid=f"{ind.key}@{u.code}", unit_code=None if u.code == CITY_CODE else u.code,
                         before=before, after=after,
                         detail=f"{u.name}“{ind.name}”于 {day.isoformat()} 完成{late}，依据：{text}")
    return MilestoneView(ind.key, ind.name, u.code, u.name, due, day, text)


def clear_milestone(db: Database, actor: Actor, indicator: str, unit: str) -> bool:
    """Make a milestone not done again; False when nothing was recorded."""
    ref = reference()
    ind = resolve_indicator(indicator, allowed=milestone_indicators(ref), ref=ref)
    u = _unit(unit, ind, actor, ref)
    with write_session(db.engine) as s:
        row = s.get(Milestone, (ind.key, u.code))
        if row is None:
            audit.check_actor(s, actor)
            return False
        before = {"done_date": row.done_date.isoformat(), "evidence": row.evidence}
        s.delete(row)
        audit.append(s, actor, "delete", ledger=AUDIT_SUBJECT, uuid=f"{ind.key}@{u.code}",
                     unit_code=None if u.code == CITY_CODE else u.code, before=before, after=None,
                     detail=f"{u.name}“{ind.name}”的完成记录已撤销")
    return True


def list_milestones(db: Database, *, actor: Actor | None = None) -> list[MilestoneView]:
    """Every milestone of every unit it concerns (and 全市 for city-level ones), recorded or not; with an
    `actor`, those that user may read (a county user: the own unit's)."""
    from jzair_desktop.services import scope

    if scope.is_county_user(actor):
        own = scope.read_unit(actor, None)
        return [v for v in list_milestones(db) if v.unit_code == own]
    ref = reference()
    with read_session(db.engine) as s:
        rows = {(r.indicator_key, r.unit_code): r for r in s.scalars(select(Milestone))}
    out = []
    for ind in milestone_indicators(ref):
        due = ind.effective_due(ref.plan.campaign_end)
        units = [Unit(CITY_CODE, CITY_NAME)] if ind.city_level else [u for u in ref.units if ind.in_scope(u.code)]
        for u in units:
            r = rows.get((ind.key, u.code))
            out.append(MilestoneView(ind.key, ind.name, u.code, u.name, due, r.done_date if r else None,
                                     r.evidence if r else None))
    return out
