"""建筑工地 (plan item 十七) as the monthly report shows it: per unit, the sites under dynamic supervision,
the sites 在建 and how many of them meet every item of 六个百分之百, and the sites failing an item.

Read from the 建筑工地 ledger as it stands (the ledger keeps no history of the six items); a site counts
from its 开工日期 on and while its status is 在建, 停工 or 完工.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import SITE_ACTIVE, SITE_SIX, SITE_STATUSES_SUPERVISED, SITES
from jzair_desktop.domain.reference import Reference, reference
from jzair_desktop.services.aggregates import counts_per_unit
from jzair_desktop.storage.models import LEDGER_MODELS

MAX_FAILING_LISTED = 40  # failing sites listed in the report; the rest are counted


@dataclass(frozen=True, slots=True)
class SiteUnitFigure:
    unit_code: str
    county: str
    supervised: int  # 在建 + 停工 + 完工, started by the date
    active: int  # 在建
    meeting: int  # 在建 and every item of 六个百分之百 是
    online: int  # supervised with 在线监测
    video: int  # supervised with 视频监控

    @property
    def rate(self) -> float | None:
        """六个百分之百达标率 (fraction); None without a site 在建."""
        return self.meeting / self.active if self.active else None


@dataclass(frozen=True, slots=True)
class FailingSite:
    county: str
    project_name: str
    contractor: str
    failing: tuple[str, ...]  # the items of 六个百分之百 not met (their headers)


def _model():
    return LEDGER_MODELS[SITES.key]


def site_figures(s: Session, as_of: dt.date, unit_code: str | None = None,
                 ref: Reference | None = None) -> list[SiteUnitFigure]:
    """Per unit (plan order; only `unit_code` when given), every unit listed even without sites."""
    ref = ref or reference()
    m = _model()
    supervised = and_(m.status.in_(SITE_STATUSES_SUPERVISED), m.start_date <= as_of)
    active = and_(m.status == SITE_ACTIVE, m.start_date <= as_of)
    meets = and_(active, *(getattr(m, key) == "是" for key, _h, _a in SITE_SIX))
    stmt = (
        select(
            m.unit_code,
            func.sum(case((supervised, 1), else_=0)),
            func.sum(case((active, 1), else_=0)),
            func.sum(case((meets, 1), else_=0)),
            func.sum(case((and_(supervised, m.online_monitor == "是"), 1), else_=0)),
            func.sum(case((and_(supervised, m.video == "是"), 1), else_=0)),
        )
        .where(m.deleted_at.is_(None))
        .group_by(m.unit_code)
    )
    if unit_code is not None:
        stmt = stmt.where(m.unit_code == unit_code)
    return [SiteUnitFigure(u.code, u.name, *counts) for u, counts in counts_per_unit(s, stmt, ref, unit_code, 5)]


def failing_sites(s: Session, as_of: dt.date, unit_code: str | None = None, ref: Reference | None = None,
                  *, limit: int = MAX_FAILING_LISTED) -> tuple[int, list[FailingSite]]:
    """Sites 在建 that fail an item of 六个百分之百: (how many, the first `limit` by unit and name)."""
    ref = ref or reference()
    m = _model()
    fails = [getattr(m, key).is_distinct_from("是") for key, _h, _a in SITE_SIX]
    where = [m.deleted_at.is_(None), m.status == SITE_ACTIVE, m.start_date <= as_of, func.coalesce(*[
        case((f, 1)) for f in fails]).is_not(None)]
    if unit_code is not None:
        where.append(m.unit_code == unit_code)
    total = int(s.scalar(select(func.count()).select_from(m).where(*where)) or 0)
    order = {u.code: u.sort_order for u in ref.units}
    names = {u.code: u.name for u in ref.units}
    recs = sorted(s.scalars(select(m).where(*where)), key=lambda r: (order.get(r.unit_code, 999), r.project_name))
    out = [
        FailingSite(names.get(r.unit_code, r.unit_code), r.project_name, r.contractor,
                    tuple(h for key, h, _a in SITE_SIX if getattr(r, key) != "是"))
        for r in recs[:limit]
    ]
    return total, out
