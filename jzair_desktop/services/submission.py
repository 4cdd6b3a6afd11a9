"""Month submission (上报): freezing a unit's progress figures for a month and locking its records.

A submission of month M by a unit freezes that unit's figures as of M's last day and locks every
record of the unit whose done date (the ledger's done_date_field) falls in M or earlier against edits,
deletes and restores, for every user, until a city administrator unlocks the month with a reason.
Records without a done date (work still open) stay editable: changing them cannot alter a submitted
figure, and giving one a done date inside a locked month is refused like any other locked edit.

Unlocking goes from the latest month backwards: a month cannot be unlocked while a later month of the
same unit is still submitted (that submission's figures include it). Resubmitting adds a new version;
the older versions and their figures stay in `month_submissions` (the history).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jzair_desktop.domain import months
from jzair_desktop.domain.months import month_end, month_of, month_start, plan_months  # noqa: F401
from jzair_desktop.domain.reference import Unit, reference
from jzair_desktop.domain.validation import bad_number_in
from jzair_desktop.errors import JzairError
from jzair_desktop.services import audit, installation
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.progress import progress_rows
from jzair_desktop.storage import locks as dblocks
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import LEDGER_MODELS, MonthSubmission

SUBMITTED = "submitted"
UNLOCKED = "unlocked"
STATUS_LABELS = {SUBMITTED: "已上报", UNLOCKED: "已解锁", None: "未上报"}
FIGURES_SOURCE = "progress"


class MonthLocked(JzairError):
    """An edit of a record in a submitted (locked) month."""


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


# --- months -------------------------------------------------------------------------------------


def parse_month(text: object) -> str:
    """'YYYY-MM' from 2020-11, 2020/11, 2020.11 or 2020年11月, within the plan's reporting months."""
    return months.parse_month(text, outside="不在可上报的范围内（{first} 至 {last}）")


def _unit(text: str) -> Unit:
    return reference().resolve_unit(str(text))


# --- locks --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthLock:
    unit_code: str
    month: str
    version: int
    submitted_at: dt.datetime
    submitted_by: str

    @property
    def unit_name(self) -> str:
        return reference().unit_by_code(self.unit_code).name

    def describe(self) -> str:
        return f"{self.unit_name} {self.month} 已于 {self.submitted_at:%Y-%m-%d %H:%M} 由“{self.submitted_by}”上报并锁定"


Locks = Mapping[str, list[MonthLock]]


def _latest_rows(s: Session, unit_code: str | None = None) -> dict[tuple[str, str], MonthSubmission]:
    stmt = select(MonthSubmission).order_by(MonthSubmission.unit_code, MonthSubmission.month, MonthSubmission.version)
    if unit_code:
        stmt = stmt.where(MonthSubmission.unit_code == unit_code)
    latest: dict[tuple[str, str], MonthSubmission] = {}
    for row in s.scalars(stmt):
        latest[(row.unit_code, row.month)] = row
    return latest


def current_locks(s: Session) -> dict[str, list[MonthLock]]:
    """{unit_code: [locks of its currently submitted months, earliest month first]}.

    On a server database a writer reads them under the submissions lock (shared; storage.locks), so a
    submission or unlock of another clerk waits until this transaction has ended."""
    dblocks.lock_submissions(s.connection(), exclusive=False)
    out: dict[str, list[MonthLock]] = {}
    for (unit_code, month), row in _latest_rows(s).items():
        if row.status == SUBMITTED:
            out.setdefault(unit_code, []).append(
                MonthLock(unit_code, month, row.version, row.submitted_at, row.submitted_by))
    for locks in out.values():
        locks.sort(key=lambda lk: lk.month)
    return out


def lock_for(locks: Locks, unit_code: str | None, day: dt.date | None) -> MonthLock | None:
    """The submission that locks a record of `unit_code` done on `day` (the earliest submitted month ≥ day's)."""
    if day is None or not unit_code:
        return None
    month = month_of(day)
    for lock in locks.get(unit_code, ()):
        if lock.month >= month:
            return lock
    return None


def check_month_open(s: Session, unit_code: str, month: str, what: str = "修改") -> None:
    """Refuse (MonthLocked) a change of a unit's data of `month` while it or a later month is submitted.

    For writers of per-month data other than ledger records (e.g. monthly figures)."""
    for lock in current_locks(s).get(unit_code, ()):
        if lock.month >= month:
            raise MonthLocked(f"{lock.describe()}，不能{what} {month} 的数据。如需更正，请市级管理员先解锁该月份（须填写原因）。")


# --- figures ------------------------------------------------------------------------------------


def compute_figures(s: Session, unit_code: str, month: str) -> dict[str, Any]:
    """The unit's progress figures as of the month's last day, as the progress engine computes them.

    {"source": "progress", "unit_code", "month", "as_of": "YYYY-MM-DD",
     "indicators": [ProgressRow.as_json() of the unit, one per indicator in plan order],
     "records": {ledger key: live records of the unit}}
    """
    as_of = month_end(month)
    rows = [r.as_json() for r in progress_rows(s, as_of) if r.unit_code == unit_code]
    records = {}
    for key, model in LEDGER_MODELS.items():
        records[key] = int(s.scalar(
            select(func.count(model.id)).where(model.unit_code == unit_code, model.deleted_at.is_(None))) or 0)
    return {
        "source": FIGURES_SOURCE,
        "unit_code": unit_code,
        "month": month,
        "as_of": as_of.isoformat(),
        "indicators": rows,
        "records": records,
    }


# --- plain data ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmissionInfo:
    unit_code: str
    month: str
    version: int
    status: str
    submitted_at: dt.datetime
    submitted_by: str
    figures: dict[str, Any]
    unlocked_at: dt.datetime | None
    unlocked_by: str | None
    unlock_reason: str | None

    @property
    def unit_name(self) -> str:
        return reference().unit_by_code(self.unit_code).name

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def _info(row: MonthSubmission) -> SubmissionInfo:
    return SubmissionInfo(row.unit_code, row.month, row.version, row.status, row.submitted_at, row.submitted_by,
                          json.loads(row.figures_json), row.unlocked_at, row.unlocked_by, row.unlock_reason)


def submission_key(unit_code: str, month: str, version: int) -> str:
    return f"{unit_code}/{month}/{version}"


def submission_state(row: MonthSubmission) -> dict[str, Any]:
    """The audited state of a submission row."""
    return {
        "unit_code": row.unit_code,
        "month": row.month,
        "version": row.version,
        "status": row.status,
        "submitted_at": row.submitted_at,
        "submitted_by": row.submitted_by,
        "figures": json.loads(row.figures_json),
        "unlocked_at": row.unlocked_at,
        "unlocked_by": row.unlocked_by,
        "unlock_reason": row.unlock_reason,
    }


# --- submitting and unlocking -------------------------------------------------------------------


def submit_month(
    db: Database, unit: str, month: str, actor: Actor, *, today: dt.date | None = None,
) -> SubmissionInfo:
    """Submit (上报) a unit's month: freeze its figures and lock its records dated in that month or earlier."""
    u = _unit(unit)
    month = parse_month(month)
    actor.check_write(u.code, unit_name=u.name)
    today = today or dt.date.today()
    if month_start(month) > today:
        raise JzairError(f"{month} 尚未开始，不能上报。")
    with write_session(db.engine) as s:
        # A server database: one submission or unlock at a time, after the writes already checked against the
        # old month locks (they hold the lock shared), before any write that would check them again.
        dblocks.lock_submissions(s.connection(), exclusive=True)
        audit.check_actor(s, actor)
        installation.check_unit_write(s, u.code, what="上报")
        latest = _latest_rows(s, u.code).get((u.code, month))
        if latest is not None and latest.status == SUBMITTED:
            raise JzairError(
                f"{u.name} {month} 已于 {latest.submitted_at:%Y-%m-%d %H:%M} 由“{latest.submitted_by}”上报，"
                "不能重复上报。如需更正数据后重新上报，请市级管理员先解锁该月份。"
            )
        version = (latest.version + 1) if latest is not None else 1
        figures = compute_figures(s, u.code, month)
        bad = bad_number_in(figures)
        if bad is not None:  # never freeze Infinity or NaN into a submission (and so into a package)
            raise JzairError(f"{u.name} {month} 的进度数据中 {bad} 不是有效的数值（无穷大、非数字或大得不合理），"
                             "未上报。请检查该月的月度数据和台账数值后重试。")
        row = MonthSubmission(unit_code=u.code, month=month, version=version, status=SUBMITTED,
                              submitted_at=_now(), submitted_by=actor.name,
                              figures_json=audit.canonical_json(figures))
        s.add(row)
        s.flush()
        detail = f"{u.name} {month} 第 {version} 次上报" + ("（解锁后重新上报）" if version > 1 else "")
        audit.append(s, actor, "submit", ledger=audit.SUBJECT_SUBMISSION,
                     uuid=submission_key(u.code, month, version), unit_code=u.code,
                     after=submission_state(row), detail=detail, verify_actor=False)
        return _info(row)


def unlock_month(db: Database, unit: str, month: str, reason: str, actor: Actor) -> SubmissionInfo:
    """Unlock a submitted month (city_admin only, with a reason). Later submitted months must be unlocked first."""
    u = _unit(unit)
    month = parse_month(month)
    actor.check_city("解锁已上报的月份")
    reason = (reason or "").strip()
    if not reason:
        raise JzairError("解锁必须填写原因（--reason）。")
    with write_session(db.engine) as s:
        dblocks.lock_submissions(s.connection(), exclusive=True)  # as in submit_month
        audit.check_actor(s, actor)
        latest_all = _latest_rows(s, u.code)
        row = latest_all.get((u.code, month))
        if row is None or row.status != SUBMITTED:
            raise JzairError(f"{u.name} {month} 尚未上报（或已解锁），无需解锁。")
        later = sorted(m for (_, m), r in latest_all.items() if m > month and r.status == SUBMITTED)
        if later:
            raise JzairError(
                f"{u.name} 之后的月份 {'、'.join(later)} 仍处于已上报状态，其数据包含 {month} 的记录。"
                f"请先解锁 {later[-1]}（解锁须从最近的月份开始）。"
            )
        before = submission_state(row)
        row.status, row.unlocked_at, row.unlocked_by, row.unlock_reason = UNLOCKED, _now(), actor.name, reason
        audit.append(s, actor, "unlock", ledger=audit.SUBJECT_SUBMISSION,
                     uuid=submission_key(u.code, month, row.version), unit_code=u.code,
                     before=before, after=submission_state(row), detail=f"原因：{reason}", verify_actor=False)
        return _info(row)


# --- reading ------------------------------------------------------------------------------------


def frozen_progress(db: Database, unit_code: str, month: str) -> dict[str, Any] | None:
    """The figures frozen by the unit's current submission of `month`, or None (not submitted, or unlocked).

    The dict is `compute_figures`'s: "indicators" holds the unit's progress rows (ProgressRow.as_json()).
    """
    with read_session(db.engine) as s:
        row = _latest_rows(s, unit_code).get((unit_code, month))
        if row is None or row.status != SUBMITTED:
            return None
        return json.loads(row.figures_json)


def submission_history(db: Database, unit: str, month: str | None = None) -> list[SubmissionInfo]:
    """Every version of a unit's submissions (of one month, or all), oldest first."""
    u = _unit(unit)
    stmt = select(MonthSubmission).where(MonthSubmission.unit_code == u.code)
    if month:
        stmt = stmt.where(MonthSubmission.month == parse_month(month))
    stmt = stmt.order_by(MonthSubmission.month, MonthSubmission.version)
    with read_session(db.engine) as s:
        return [_info(r) for r in s.scalars(stmt)]


@dataclass(frozen=True, slots=True)
class MonthStatus:
    unit_code: str
    unit_name: str
    month: str
    current: SubmissionInfo | None  # the latest version, None when never submitted
    versions: int

    @property
    def status_label(self) -> str:
        return self.current.status_label if self.current else STATUS_LABELS[None]

    @property
    def locked(self) -> bool:
        return self.current is not None and self.current.status == SUBMITTED


def month_overview(db: Database, month: str) -> list[MonthStatus]:
    """Each unit's state for `month`, in the reference order of units."""
    month = parse_month(month)
    with read_session(db.engine) as s:
        rows = list(s.scalars(
            select(MonthSubmission).where(MonthSubmission.month == month).order_by(MonthSubmission.version)))
    latest: dict[str, MonthSubmission] = {}
    counts: dict[str, int] = {}
    for r in rows:
        latest[r.unit_code] = r
        counts[r.unit_code] = counts.get(r.unit_code, 0) + 1
    return [
        MonthStatus(u.code, u.name, month, _info(latest[u.code]) if u.code in latest else None, counts.get(u.code, 0))
        for u in reference().units
    ]
