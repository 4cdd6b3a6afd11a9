"""Air quality, per area and month: monthly mean PM2.5 (µg/m³, 0 … 1000) and heavy-pollution days (whole, 0 …
days of the month) of an area (a unit, by name or code, or 市城区), and the air-quality targets.

Two ways in, with the same checks and the same audit subject (air_quality): `set_air_quality` writes one
area-month per transaction and keeps a value passed as None; `set_air_quality_many` takes a grid (the 月度数据
page): every changed cell checked first, every problem reported at once, the whole grid written in one
transaction, a cell cleared meaning the value is removed.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain.months import days_in, parse_month
from jzair_desktop.domain.reference import (
    PM25_RANGE,
    Reference,
    reference,
)
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.services import audit, installation, scope
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.monthly import check_month_open
from jzair_desktop.services.targets import (
    format_number,
    parse_figure,
)
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import AirQualityMonth
from jzair_desktop.storage.models import AirQualityTarget as AirQualityTargetRow

CITY_AREA = "市城区"
AUDIT_AIR = "air_quality"  # the `ledger` of audit entries about air quality
AUDIT_AIR_TARGETS = "air_quality_targets"
PM25_MAX = PM25_RANGE[1]


def resolve_area(text: str, ref: Reference | None = None) -> tuple[str, str]:
    """(area key stored in the database, display name): a unit's code and name, or 市城区."""
    ref = ref or reference()
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace(" ", "")
    if raw == CITY_AREA:
        return CITY_AREA, CITY_AREA
    unit = ref.find_unit(raw)
    if unit is None:
        names = "、".join([CITY_AREA, *(u.name for u in ref.units)])
        raise JzairError(f"未知的空气质量区域：“{text}”。可选：{names}（县区也可用行政区划代码）")
    return unit.code, unit.name


def area_name(area: str, ref: Reference | None = None) -> str:
    ref = ref or reference()
    if area == CITY_AREA:
        return CITY_AREA
    unit = ref.find_unit(area)
    return unit.name if unit else area


def _check_area_write(actor: Actor, area: str, name: str) -> None:
    if area == CITY_AREA:
        actor.check_city("填报市城区空气质量")
    else:
        actor.check_write(area, unit_name=name)


def check_pm25(value: object, what: str) -> float:
    number = parse_figure(value, what=f"{what}PM2.5月均浓度")
    if not 0 <= number <= PM25_MAX:
        raise JzairError(f"{what}PM2.5月均浓度应在 0 至 {PM25_MAX:.0f} 微克/立方米之间，收到 {value}。")
    return number


def check_heavy_days(value: object, what: str, month: str | None) -> int:
    number = parse_figure(value, what=f"{what}重污染天数")
    limit = days_in(month) if month else 31
    if not float(number).is_integer() or not 0 <= number <= limit:
        raise JzairError(f"{what}重污染天数应为 0 至 {limit} 之间的整数，收到 {value}。")
    return int(number)


@dataclass(frozen=True, slots=True)
class AirQualityView:
    area: str  # unit code or 市城区
    area_name: str
    month: str
    pm25: float | None
    heavy_days: int | None
    pm25_max: float | None
    heavy_days_max: int | None

    @property
    def pm25_ok(self) -> bool | None:
        if self.pm25 is None or self.pm25_max is None:
            return None
        return self.pm25 <= self.pm25_max

    @property
    def heavy_days_ok(self) -> bool | None:
        if self.heavy_days is None or self.heavy_days_max is None:
            return None
        return self.heavy_days <= self.heavy_days_max

    def as_json(self) -> dict:
        return {
            "area": self.area_name,
            "area_code": self.area,
            "month": self.month,
            "pm25": self.pm25,
            "heavy_days": self.heavy_days,
            "pm25_max": self.pm25_max,
            "heavy_days_max": self.heavy_days_max,
            "pm25_ok": self.pm25_ok,
            "heavy_days_ok": self.heavy_days_ok,
        }


@dataclass(frozen=True, slots=True)
class AirQualityTargetView:
    area: str
    area_name: str
    first_month: str
    last_month: str
    pm25_max: float | None
    heavy_days_max: int | None


def _targets(s: Session) -> list[AirQualityTargetRow]:
    return list(s.scalars(select(AirQualityTargetRow)))


def _target_for(targets: list[AirQualityTargetRow], area: str, month: str) -> AirQualityTargetRow | None:
    for t in targets:
        if t.area == area and t.first_month <= month <= t.last_month:
            return t
    return None


def set_air_quality(
    db: Database, actor: Actor, area: str, month: str, *, pm25: object = None, heavy_days: object = None
) -> AirQualityView:
    """Upsert an area's month; a value left None keeps what is stored. At least one value is required."""
    ref = reference()
    key, name = resolve_area(area, ref)
    mon = parse_month(month, ref)
    _check_area_write(actor, key, name)
    if pm25 is None and heavy_days is None:
        raise JzairError("请至少填写 PM2.5 月均浓度或重污染天数中的一项。")
    what = f"“{name}”{mon}"
    pm = check_pm25(pm25, what) if pm25 is not None else None
    hd = check_heavy_days(heavy_days, what, mon) if heavy_days is not None else None
    with write_session(db.engine) as s:
        row = s.get(AirQualityMonth, (key, mon))
        if row is not None:  # a value left None keeps what is stored
            pm = row.pm25 if pm is None else pm
            hd = row.heavy_days if hd is None else hd
        now = dt.datetime.now()
        pending = write_air_month(s, actor, key, name, mon, pm, hd, at=now)
        if pending is not None:
            audit.append_many(s, actor, "update", [pending], at=now)
        else:
            audit.check_actor(s, actor)
        target = _target_for(_targets(s), key, mon)
        return AirQualityView(key, name, mon, pm, hd,
                              target.pm25_max if target else None, target.heavy_days_max if target else None)


def write_air_month(
    s: Session, actor: Actor, key: str, name: str, month: str, pm: float | None, hd: int | None, *,
    at: dt.datetime,
) -> audit.Pending | None:
    """Store one checked area-month as exactly (pm, hd), both None removing it, in the caller's transaction.

    A unit's submitted month is refused like its records. Returns the audit entry to append, or None when
    nothing changed. Both the single-month writer and the 月度数据 grid go through here."""
    row = s.get(AirQualityMonth, (key, month))
    before = None if row is None else {"area": key, "month": month, "pm25": row.pm25, "heavy_days": row.heavy_days}
    after = None if pm is None and hd is None else {"area": key, "month": month, "pm25": pm, "heavy_days": hd}
    if after == before:
        return None
    installation.check_unit_write(s, None if key == CITY_AREA else key)
    if before is not None:
        before.update(audit.row_bookkeeping(row))
    if key != CITY_AREA:
        check_month_open(s, key, month)
    if after is None:
        s.delete(row)
    else:
        if row is None:
            row = AirQualityMonth(area=key, month=month)
            s.add(row)
        row.pm25, row.heavy_days = pm, hd
        row.updated_at, row.updated_by = at, actor.name
        after.update(audit.row_bookkeeping(row))
    return audit.Pending(
        ledger=AUDIT_AIR, uuid=f"{key}@{month}", unit_code=None if key == CITY_AREA else key,
        before=before, after=after,
        detail=f"{name} {month} 空气质量：PM2.5 {format_number(pm, missing='空')}，重污染天数 {'空' if hd is None else hd}",
        action="create" if before is None else ("delete" if after is None else "update"),
    )


def air_quality(db: Database, *, area: str | None = None, actor: Actor | None = None) -> list[AirQualityView]:
    """Stored months (市城区 first, then units in plan order), each with the target that covers it. With an
    `actor`, as that user may read them (a county user: the own unit's, by default and only)."""
    ref = reference()
    stmt = select(AirQualityMonth)
    if area is not None:
        key, name = resolve_area(area, ref)
        scope.check_area(actor, key, name, what="空气质量")
        stmt = stmt.where(AirQualityMonth.area == key)
    elif scope.is_county_user(actor):
        stmt = stmt.where(AirQualityMonth.area == scope.read_unit(actor, None))
    order = {CITY_AREA: -1, **{u.code: u.sort_order for u in ref.units}}
    with read_session(db.engine) as s:
        rows = list(s.scalars(stmt))
        targets = _targets(s)
    rows.sort(key=lambda r: (order.get(r.area, 999), r.month))
    out = []
    for r in rows:
        t = _target_for(targets, r.area, r.month)
        out.append(AirQualityView(r.area, area_name(r.area, ref), r.month, r.pm25, r.heavy_days,
                                  t.pm25_max if t else None, t.heavy_days_max if t else None))
    return out


def air_quality_targets(db: Database) -> list[AirQualityTargetView]:
    ref = reference()
    order = {CITY_AREA: -1, **{u.code: u.sort_order for u in ref.units}}
    with read_session(db.engine) as s:
        rows = _targets(s)
    rows.sort(key=lambda r: (order.get(r.area, 999), r.first_month))
    return [AirQualityTargetView(r.area, area_name(r.area, ref), r.first_month, r.last_month, r.pm25_max,
                                 r.heavy_days_max) for r in rows]


def set_air_quality_target(
    db: Database, actor: Actor, area: str, first_month: str, last_month: str, *,
    pm25_max: object = None, heavy_days_max: object = None,
) -> AirQualityTargetView:
    """Set an area's air-quality target for the months first … last (city office only; 附件1)."""
    actor.check_city("设定空气质量目标")
    ref = reference()
    key, name = resolve_area(area, ref)
    first, last = parse_month(first_month, ref), parse_month(last_month, ref)
    if first > last:
        raise JzairError(f"目标期间的起始月份 {first} 晚于结束月份 {last}。")
    if pm25_max is None and heavy_days_max is None:
        raise JzairError("请至少填写 PM2.5 目标或重污染天数目标中的一项。")
    what = f"“{name}”目标"
    pm = check_pm25(pm25_max, what) if pm25_max is not None else None
    hd = check_heavy_days(heavy_days_max, what, None) if heavy_days_max is not None else None
    with write_session(db.engine) as s:
        for t in _targets(s):
            if t.area == key and t.first_month != first and not (t.last_month < first or t.first_month > last):
                raise JzairError(
                    f"“{name}”已有 {t.first_month} 至 {t.last_month} 的目标，与 {first} 至 {last} 重叠。"
                )
        row = s.get(AirQualityTargetRow, (key, first))
        before = None if row is None else {"area": key, "first_month": first, "last_month": row.last_month,
                                           "pm25_max": row.pm25_max, "heavy_days_max": row.heavy_days_max}
        if row is None:
            row = AirQualityTargetRow(area=key, first_month=first)
            s.add(row)
        row.last_month = last
        if pm is not None:
            row.pm25_max = pm
        if hd is not None:
            row.heavy_days_max = hd
        after = {"area": key, "first_month": first, "last_month": last, "pm25_max": row.pm25_max,
                 "heavy_days_max": row.heavy_days_max}
        audit.append(s, actor, "create" if before is None else "update", ledger=AUDIT_AIR_TARGETS,
                     uuid=f"{key}@{first}", unit_code=None if key == CITY_AREA else key, before=before, after=after,
                     detail=f"{name} {first} 至 {last} 空气质量目标：PM2.5 ≤{format_number(row.pm25_max, missing='—')}，"
                            f"重污染天数 ≤{'—' if row.heavy_days_max is None else row.heavy_days_max}")
        return AirQualityTargetView(key, name, first, last, row.pm25_max, row.heavy_days_max)


@dataclass(frozen=True, slots=True)
class AirEntry:
    """One area-month as it should be stored: a blank value (None or '') is empty; both blank removes it."""

    area: str
    month: str
    pm25: object
    heavy_days: object
    where: str = ""  # names the cell in messages, e.g. "市城区 2020-11"


FIELD_LABELS = {"pm25": "PM2.5", "heavy_days": "重污染天数"}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_air_entries(
    actor: Actor, entries: Iterable[AirEntry]
) -> list[tuple[str, str, str, float | None, int | None]]:
    """(area key, area name, month, pm25, heavy days) per entry; ValidationFailed lists every problem."""
    ref = reference()
    problems: list[str] = []
    out: list[tuple[str, str, str, float | None, int | None]] = []
    seen: set[tuple[str, str]] = set()
    for e in entries:
        prefix = f"{e.where}：" if e.where else ""
        try:
            key, name = resolve_area(e.area, ref)
            month = parse_month(e.month, ref)
            _check_area_write(actor, key, name)
        except JzairError as exc:
            problems.append(prefix + exc.message)
            continue
        what = f"“{name}”{month}"
        pm = hd = None
        for field, label in FIELD_LABELS.items():
            raw = getattr(e, field)
            if _blank(raw):
                continue
            try:
                if field == "pm25":
                    pm = check_pm25(raw, what)
                else:
                    hd = check_heavy_days(raw, what, month)
            except JzairError as exc:
                problems.append(f"{e.where} {label}：{exc.message}" if e.where else exc.message)
        if (key, month) in seen:
            problems.append(f"{prefix}{what}的空气质量重复出现。")
            continue
        seen.add((key, month))
        out.append((key, name, month, pm, hd))
    if problems:
        if len(problems) == 1:
            raise ValidationFailed(problems[0], problems)
        head = "；".join(problems[:5])
        raise ValidationFailed(f"空气质量有 {len(problems)} 处错误，未做任何改动：{head}", problems)
    return out


def problem_field(problem: str, where: str) -> tuple[str | None, str] | None:
    """Which cell of the entry named `where` a problem concerns: ('pm25' | 'heavy_days' | None for the
    whole area-month, the message without the prefix); None when it is not about that entry."""
    for field, label in FIELD_LABELS.items():
        prefix = f"{where} {label}："
        if problem.startswith(prefix):
            return field, problem[len(prefix):]
    if problem.startswith(f"{where}："):
        return None, problem[len(where) + 1:]
    return None


def set_air_quality_many(db: Database, actor: Actor, entries: Iterable[AirEntry]) -> int:
    """Write every entry in one transaction (nothing if any is refused); returns the area-months changed."""
    items = check_air_entries(actor, entries)
    now = dt.datetime.now()
    pending: list[audit.Pending] = []
    with write_session(db.engine) as s:
        for key, name, month, pm, hd in items:
            entry = write_air_month(s, actor, key, name, month, pm, hd, at=now)
            if entry is not None:
                pending.append(entry)
        if pending:
            audit.append_many(s, actor, "update", pending, at=now)
        else:
            audit.check_actor(s, actor)
    return len(pending)
