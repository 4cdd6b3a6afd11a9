"""Air quality entered as a grid: many area-months at once, all or nothing (the 月度数据 page).

services.monthly.set_air_quality writes one area-month per transaction and keeps a value passed as
None. A grid needs more: every changed cell checked first, every problem reported at once, and the
whole grid written in one transaction, with a cell cleared meaning the value is removed. This module
does that with monthly's own checks (area, month, permission, PM2.5 0–1000, heavy days 0–days of the
month) and the same audit subject (air_quality), so either path leaves the same trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.services import audit
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.monthly import _check_area_write as check_area_write
from jzair_desktop.services.monthly import (
    check_heavy_days,
    check_pm25,
    parse_month,
    resolve_area,
    write_air_month,
)
from jzair_desktop.storage.engine import write_session


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
            check_area_write(actor, key, name)
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
