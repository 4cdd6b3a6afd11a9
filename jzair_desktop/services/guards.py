"""Checks every ledger write makes besides validation and the unit permission: submitted-month locks and
the close-out (销号) rules; and the record state the audit trail keeps.

Used by services.ledgers (form saves, deletes, restores, bulk insert/update) and services.closeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LedgerDef
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, PermissionDenied, ValidationFailed
from jzair_desktop.services import audit, installation
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.submission import Locks, MonthLocked, current_locks, lock_for
from jzair_desktop.storage.models import Closeout

CLOSED = "已销号"

CLOSEOUT_HOW = (
    "不能直接把状态改为“已销号”：销号须上传至少一份佐证材料（照片或 PDF）并填写审核人。"
    "请在记录的“历史与销号”窗口中办理，或使用命令 jzair closeout 台账 记录编号 --evidence 文件 --reviewer 审核人。"
)


def has_closed_status(d: LedgerDef) -> bool:
    return d.status_field is not None and CLOSED in d.column(d.status_field).choices


def is_closed(d: LedgerDef, values: Mapping[str, Any] | Any) -> bool:
    if d.status_field is None:
        return False
    get = values.get if type(values) is dict or isinstance(values, Mapping) else lambda k: getattr(values, k, None)
    return get(d.status_field) == CLOSED


def label_of(d: LedgerDef, values: Mapping[str, Any] | Any) -> str:
    get = values.get if isinstance(values, Mapping) else lambda k: getattr(values, k, None)
    return f"{d.column(d.label_field).header} {get(d.label_field) or ''}".strip()


def closeout_of(s: Session, ledger_key: str, record_uuid: str) -> tuple[str, str] | None:
    row = s.get(Closeout, (ledger_key, record_uuid))
    return (row.reviewer, row.closed_by) if row is not None else None


def state_of(s: Session, d: LedgerDef, obj: Any) -> dict[str, Any]:
    """The audited state of an ORM record object (reads its close-out row)."""
    return audit.record_state(d, obj, deleted_at=obj.deleted_at, closeout=closeout_of(s, d.key, obj.uuid))


def guard(s: Session, d: LedgerDef, actor: Actor) -> RecordGuard:
    """The guard of a ledger in this transaction (cached on the session: bulk paths call it per record)."""
    key = ("jzair_guard", d.key, actor)
    g = s.info.get(key)
    if g is None:
        g = s.info[key] = RecordGuard(s, d, actor)
    return g


class RecordGuard:
    """The checks of writes to one ledger within one transaction; loads the month locks once."""

    def __init__(self, s: Session, d: LedgerDef, actor: Actor) -> None:
        self.s = s
        self.d = d
        self.actor = actor
        self._locks: Locks | None = None
        self._units_ok: set[str] = set()

    def check_unit(self, unit_code: str | None) -> None:
        """The actor may write records of this unit (cached per unit)."""
        if unit_code in self._units_ok:
            return
        self.actor.check_write(unit_code, unit_name=unit_name(unit_code))
        installation.check_unit_write(self.s, unit_code)
        if unit_code is not None:
            self._units_ok.add(unit_code)

    @property
    def locks(self) -> Locks:
        if self._locks is None:
            self._locks = current_locks(self.s)
        return self._locks

    def check_lock(self, values: Mapping[str, Any], verb: str) -> None:
        unit_code = values.get("unit_code")
        if unit_code not in self.locks:  # the usual case: the unit has no submitted month (a dict lookup)
            return
        d = self.d
        day = values.get(d.done_date_field)
        lock = lock_for(self.locks, unit_code, day)
        if lock is not None:
            header = d.column(d.done_date_field).header
            raise MonthLocked(
                f"{lock.describe()}，不能{verb}{d.title}记录“{label_of(d, values)}”"
                f"（{header} {day.isoformat()} 在已上报的月份内）。"
                "如需更正，请市级管理员先解锁该月份（须填写原因）。"
            )

    def check_new(self, values: Mapping[str, Any], *, record_uuid: str | None = None, verb: str = "新增") -> None:
        """A record about to be inserted (form or bulk)."""
        if is_closed(self.d, values) and (
            record_uuid is None or closeout_of(self.s, self.d.key, record_uuid) is None
        ):
            raise ValidationFailed(f"{label_of(self.d, values)}：{CLOSEOUT_HOW}")
        self.check_lock(values, verb)

    def check_change(
        self, before: Mapping[str, Any], after: Mapping[str, Any] | None, verb: str, *, reason: str | None = None,
    ) -> None:
        """A change of a record from `before` (registry values) to `after` (None: delete/restore)."""
        d = self.d
        if is_closed(d, before):
            if not self.actor.is_city:
                raise PermissionDenied(
                    f"{d.title}记录“{label_of(d, before)}”已销号，只读；只有市级管理员可以{verb}（须填写原因）。")
            if not (reason or "").strip():
                raise JzairError(f"{d.title}记录“{label_of(d, before)}”已销号，市级管理员{verb}时必须填写原因。")
        elif after is not None and is_closed(d, after):
            raise ValidationFailed(f"{label_of(d, before)}：{CLOSEOUT_HOW}")
        self.check_lock(before, verb)
        if after is not None:
            self.check_lock(after, verb)

    def after_update(self, record_uuid: str, before: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """A city_admin moved a closed record away from 已销号: its close-out no longer applies."""
        if is_closed(self.d, before) and not is_closed(self.d, values):
            row = self.s.get(Closeout, (self.d.key, record_uuid))
            if row is not None:
                self.s.delete(row)
                self.s.flush()

    def new_state(self, values: Mapping[str, Any], record_uuid: str, deleted_at: Any = None) -> dict[str, Any]:
        """The audited state of a record given as registry values (bulk paths)."""
        closeout = closeout_of(self.s, self.d.key, record_uuid) if is_closed(self.d, values) else None
        return audit.record_state(self.d, values, deleted_at=deleted_at, closeout=closeout)


def reason_detail(reason: str | None, text: str | None = None) -> str | None:
    reason = (reason or "").strip()
    parts = [p for p in (text, f"原因：{reason}" if reason else None) if p]
    return "；".join(parts) or None


def values_of(d: LedgerDef, obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in d.keys}


def unit_name(code: str | None) -> str:
    if not code:
        return ""
    unit = reference().find_unit(code)
    return unit.name if unit else code


def closeouts_of(s: Session, ledger_key: str) -> dict[str, tuple[str, str]]:
    return {u: (r, b) for u, r, b in s.execute(
        select(Closeout.record_uuid, Closeout.reviewer, Closeout.closed_by).where(Closeout.ledger == ledger_key))}
