"""Who may read personal data (身份证号, 联系电话) whole, and what everyone else gets: the one rule every
service that returns records, history, exports or search results applies (issue 16 finding 3, issue 22
items 2 and 7).

- a city administrator reads every unit's records whole;
- a county clerk reads the own unit's records whole and no other unit's records at all;
- a viewer reads every unit's records with 身份证号 and phone numbers masked (140702********1234,
  138****5678), and may search those fields only by the digits shown or by the whole exact value.

`actor` None is a trusted caller inside the program (a service working for a checked caller, a test);
every GUI and CLI path passes the logged-in actor.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from jzair_desktop.domain.ledgers import LedgerDef
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import PERSONAL_KINDS
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services.actor import Actor
from jzair_desktop.storage.portable import like_ci

# Keys of personal fields in records and in audited states.
PERSONAL_KEYS = {"id_number": "idcard", "phone": "phone"}


def may_read_unit(actor: Actor | None, unit_code: str | None) -> bool:
    """Whether `actor` may see records of `unit_code` at all (masked or whole)."""
    return actor is None or actor.can_read(unit_code)


def may_read_whole(actor: Actor | None, unit_code: str | None) -> bool:
    """Whether `actor` may see the personal fields of a record of `unit_code` whole."""
    return actor is None or actor.can_read_personal(unit_code)


def check_read(actor: Actor | None, unit_code: str | None) -> None:
    if not may_read_unit(actor, unit_code):
        unit = reference().find_unit(unit_code or "")
        raise PermissionDenied(
            f"用户“{actor.name}”只能查看本县（区、市）的记录，不能查看{unit.name if unit else '其他单位'}的记录。")


def mask(key_or_kind: str, value: Any) -> Any:
    """`value` masked as a viewer sees it when `key_or_kind` is a personal field; else unchanged."""
    if value is None or value == "":
        return value
    kind = PERSONAL_KEYS.get(key_or_kind, key_or_kind)
    fn = PERSONAL_KINDS.get(kind)
    return fn(str(value)) if fn is not None else value


def personal_keys(d: LedgerDef) -> list[str]:
    return [c.key for c in d.columns if c.kind in PERSONAL_KINDS]


def values_for(actor: Actor | None, d: LedgerDef, values: Mapping[str, Any]) -> dict[str, Any]:
    """A record's values as `actor` may see them (checks the unit; masks personal fields)."""
    unit = values.get("unit_code")
    check_read(actor, unit)
    out = dict(values)
    if not may_read_whole(actor, unit):
        for key in personal_keys(d):
            out[key] = mask(key, out.get(key))
    return out


def state_for(actor: Actor | None, state: Any, unit_code: str | None) -> Any:
    """An audited state (dict) as `actor` may see it."""
    if not isinstance(state, dict) or may_read_whole(actor, unit_code):
        return state
    return {k: (mask(k, v) if k in PERSONAL_KEYS else v) for k, v in state.items()}


def search_condition(actor: Actor | None, column: Any, kind: str, text: str, pattern: str) -> ColumnElement:
    """The LIKE condition of a search over `column`, or, for a viewer (who sees the field masked), a
    condition on what they see: the shown head or tail containing `text`, the masked form as shown, or the
    whole value equal to `text`. Extending a prefix digit by digit then finds nothing beyond the shown
    digits (the search oracle). A clerk searches the own unit only, which they see whole."""
    if kind not in PERSONAL_KINDS or actor is None or actor.role != "viewer":
        return like_ci(column, pattern)
    head_len, tail_len, head_from = (6, 4, 10) if kind == "idcard" else (3, 4, 8)
    tail_from = 10 if kind == "idcard" else 5
    length = func.length(column)
    head = func.substr(column, 1, head_len)
    tail = func.substr(column, length - (tail_len - 1), tail_len)  # not substr(x, -n): SQLite only
    alternatives = [
        column == text,
        (length >= head_from) & head.contains(text, autoescape=True),
        (length >= tail_from) & tail.contains(text, autoescape=True),
    ]
    if "*" in text and len(text) > head_len + tail_len:  # the masked form copied from the table
        alternatives.append((length == len(text)) & (head == text[:head_len]) & (tail == text[-tail_len:]))
    return or_(*alternatives)


OTHER_UNIT_RECORD = "其他县（区、市）已登记的记录"


def duplicate_where(actor: Actor | None, unit_code: str, label: Any) -> str:
    """How a duplicate message names the record found: unit and name for an actor who may read it whole,
    else only that it is registered in another unit (so a number cannot be probed for a person)."""
    if may_read_whole(actor, unit_code):
        unit = reference().find_unit(unit_code)
        name = unit.name if unit else unit_code
        return f"已有记录（{name} {label}）" if label else f"已有记录（{name}）"
    return OTHER_UNIT_RECORD


# --- probing other units through duplicate checks ----------------------------------------------------

PROBE_ACTION = "duplicate_probe"
MAX_PROBES_PER_IMPORT = 20  # rows of one import found in records the actor may not read whole
MAX_PROBES_PER_DAY = 50  # the same, over a calendar day, per user


class ProbeLimitReached(PermissionDenied):
    pass


def probes_today(s: Any, actor: Actor, when: dt.datetime | None = None) -> int:
    """Rows found in other units' records by `actor`'s imports today (from the audit trail)."""
    from jzair_desktop.storage.models import AuditEntry

    day = (when or dt.datetime.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    # Summed here rather than with a JSON function of the database (SQLite and PostgreSQL spell it apart);
    # a day holds a few dozen such entries at most (the limit refuses beyond it).
    found = s.scalars(select(AuditEntry.after_json)
                      .where(AuditEntry.action == PROBE_ACTION, AuditEntry.user_name == actor.name,
                             AuditEntry.at >= day))
    total = 0
    for text in found:
        try:
            value = json.loads(text or "{}").get("rows_found", 0)
        except (ValueError, AttributeError):
            continue
        if isinstance(value, int | float):
            total += int(value)
    return total


def check_probe_limit(s: Any, actor: Actor, rows: list[int]) -> None:
    """Refuse a check whose duplicates in other units' records exceed the per-import or per-day limit
    (the rows are audited by the caller either way)."""
    if not rows:
        return
    if len(rows) > MAX_PROBES_PER_IMPORT:
        raise ProbeLimitReached(
            f"本文件有 {len(rows)} 行与{OTHER_UNIT_RECORD}重复，超过每次导入允许的 {MAX_PROBES_PER_IMPORT} 行。"
            "为防止借导入查询其他县（区、市）的登记信息，已停止核对，并记入审计记录。"
            "请核实这些记录后分批导入，或联系市级管理员。")
    used = probes_today(s, actor)
    if used + len(rows) > MAX_PROBES_PER_DAY:
        raise ProbeLimitReached(
            f"今天的导入核对中与{OTHER_UNIT_RECORD}重复的行已达上限（每天 {MAX_PROBES_PER_DAY} 行，"
            f"已有 {used} 行）。已停止核对，并记入审计记录；请明天再试，或联系市级管理员。")


def audit_probes(db: Any, actor: Actor, path: Any, unit_code: str, rows: list[int]) -> None:
    """One audit entry per import check that found rows in records `actor` may not read whole."""
    if not rows:
        return
    from jzair_desktop.services import audit
    from jzair_desktop.storage.engine import write_session

    rows = sorted(set(rows))
    shown = "、".join(str(r) for r in rows[:30]) + ("……" if len(rows) > 30 else "")
    name = getattr(path, "name", str(path))
    with write_session(db.engine) as s:
        audit.append(s, actor, PROBE_ACTION, unit_code=unit_code,
                     after={"file": name, "rows_found": len(rows), "rows": rows[:200]},
                     detail=f"导入核对“{name}”时有 {len(rows)} 行与{OTHER_UNIT_RECORD}重复（第 {shown} 行）",
                     verify_actor=False)
