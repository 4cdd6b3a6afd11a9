"""`audit verify`: is the audit trail intact, and does the data still match it?

1. The chain: entries numbered 1, 2, 3, … without gaps; each entry's `prev_hash` is the previous
   entry's `hash`; each `hash` is recomputed from the entry's content. An entry edited, deleted,
   inserted or moved with plain SQL breaks one of these.
2. The data: every ledger record (live or deleted) equals the state its latest audit entry recorded,
   and every record has an entry; likewise evidence files (also their bytes against their SHA-256),
   month submissions (status and frozen figures) and user accounts (role, unit, disabled, password).

Limits (said plainly): the chain has no secret key, so someone who rewrites the whole tail of the
trail and recomputes every hash is not detected by the chain alone; removing only the newest entries
is detected when they recorded a change of data (check 2), not when they were logins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.services import audit
from jzair_desktop.services.accounts import user_state
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.closeout import evidence_state
from jzair_desktop.services.database import Database
from jzair_desktop.services.guards import closeouts_of
from jzair_desktop.services.submission import submission_key, submission_state
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import (
    LEDGER_MODELS,
    AppMeta,
    AuditEntry,
    EvidenceFile,
    MonthSubmission,
    UserAccount,
)
from jzair_desktop.taskstate import TaskState

MAX_FINDINGS = 200


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # chain | record | evidence | submission | user
    message: str  # Chinese, names the entry or the record and field
    seq: int | None = None
    at: str | None = None
    user_name: str | None = None
    ledger: str | None = None
    record_uuid: str | None = None
    field: str | None = None


@dataclass
class VerifyReport:
    entries: int = 0
    records: int = 0
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def add(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.truncated = True


def _parse_at(raw: Any) -> dt.datetime | None:
    if isinstance(raw, dt.datetime):
        return raw
    try:
        return dt.datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def _show(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    return str(value)


def _field_label(d: LedgerDef | None, key: str) -> str:
    if d is not None:
        try:
            return d.column(key).header
        except KeyError:
            pass
    return audit.STATE_LABELS.get(key, key)


def _first_difference(audited: dict, current: dict) -> tuple[str, Any, Any] | None:
    for key in dict.fromkeys([*audited.keys(), *current.keys()]):
        if audited.get(key) != current.get(key):
            return key, audited.get(key), current.get(key)
    return None


class _Verifier:
    def __init__(self, s: Session, report: VerifyReport, progress: Callable[[str], None]) -> None:
        self.s = s
        self.report = report
        self.progress = progress
        # latest audited state per subject: key -> (seq, after_json)
        self.records: dict[tuple[str, str], tuple[int, str]] = {}
        self.evidence: dict[int, tuple[int, str]] = {}
        self.submissions: dict[str, tuple[int, str]] = {}
        self.users: dict[str, tuple[int, str]] = {}

    # -- 1. the chain ----------------------------------------------------------------------------
    def chain(self) -> None:
        t = AuditEntry.__table__.c
        stmt = select(
            t.seq, type_coerce(t.at, String).label("at"), t.user_name, t.role, t.action, t.ledger, t.record_uuid,
            t.unit_code, t.before_json, t.after_json, t.detail, t.prev_hash, t.hash,
        ).order_by(t.seq)
        expected, prev = 1, audit.GENESIS
        n = 0
        for row in self.s.execute(stmt.execution_options(yield_per=5000)):
            n += 1
            if n % 20000 == 0:
                self.progress(f"正在校验审计记录链（{n} 条）…")
            at = _parse_at(row.at)
            at_text = at.strftime("%Y-%m-%d %H:%M:%S") if at else str(row.at)
            who = f"第 {row.seq} 条审计记录（{at_text}，用户“{row.user_name}”，{audit.action_label(row.action)}）"

            def broken(message: str, row: Any = row, at_text: str = at_text) -> None:
                self.report.add(Finding("chain", message, seq=row.seq, at=at_text, user_name=row.user_name,
                                        ledger=row.ledger, record_uuid=row.record_uuid))

            if row.seq != expected:
                if row.seq > expected:
                    gap = f"第 {expected} 条" if row.seq == expected + 1 else f"第 {expected} 至 {row.seq - 1} 条"
                    broken(f"审计记录{gap}缺失（已被删除）：{who}之前的记录不连续。")
                else:
                    broken(f"{who}的序号不连续（审计记录被插入或调换了顺序）。")
                expected = row.seq
            elif row.prev_hash != prev:
                broken(f"{who}与前一条记录的链接不符：审计记录被删除、插入或调换了顺序。")
            if at is None:
                broken(f"{who}的时间已被改动，无法识别。")
            elif audit.entry_hash(row.prev_hash, row.seq, at, row.user_name, row.role, row.action, row.ledger,
                                  row.record_uuid, row.unit_code, row.before_json, row.after_json,
                                  row.detail) != row.hash:
                broken(f"{who}的内容已被改动（与其校验值不符）。")
            prev = row.hash
            expected = row.seq + 1
            self._track(row)
        self.report.entries = n

    def _track(self, row: Any) -> None:
        if row.after_json is None:
            return
        if row.ledger in LEDGERS and row.action in audit.RECORD_STATE_ACTIONS:
            self.records[(row.ledger, row.record_uuid)] = (row.seq, row.after_json)
        elif row.action == "evidence":
            try:
                evidence_id = int(json.loads(row.after_json)["id"])
            except (ValueError, KeyError, TypeError):
                return  # a broken entry is reported by the chain check
            self.evidence[evidence_id] = (row.seq, row.after_json)
        elif row.ledger == audit.SUBJECT_SUBMISSION and row.record_uuid:
            self.submissions[row.record_uuid] = (row.seq, row.after_json)
        elif row.ledger == audit.SUBJECT_USER and row.record_uuid:
            self.users[row.record_uuid] = (row.seq, row.after_json)

    # -- 2. the data -----------------------------------------------------------------------------
    def _compare(self, kind: str, d: LedgerDef | None, what: str, audited: tuple[int, str] | None,
                 current: dict, *, ledger: str | None, key: str) -> None:
        if audited is None:
            self.report.add(Finding(kind, f"{what}没有任何审计记录（可能是在程序之外写入数据库的）。",
                                    ledger=ledger, record_uuid=key))
            return
        seq, after_json = audited
        if after_json == audit.canonical_json(current):
            return
        try:
            then = json.loads(after_json)
        except ValueError:
            then = {}
        current_plain = json.loads(audit.canonical_json(current))
        diff = _first_difference(then, current_plain)
        if diff is None:
            return
        name, old, new = diff
        self.report.add(Finding(
            kind,
            f"{what}的“{_field_label(d, name)}”与审计记录不符：第 {seq} 条审计记录为 {_show(old)}，"
            f"数据库中为 {_show(new)}（在程序之外被改动）。",
            seq=seq, ledger=ledger, record_uuid=key, field=name,
        ))

    def ledgers(self) -> None:
        total = 0
        for key, d in LEDGERS.items():
            self.progress(f"正在核对{d.title}台账…")
            table = LEDGER_MODELS[key].__table__
            closeouts = closeouts_of(self.s, key)
            cols = [table.c.uuid, table.c.deleted_at, *[table.c[k] for k in d.keys]]
            for row in self.s.execute(select(*cols).order_by(table.c.id).execution_options(yield_per=5000)):
                total += 1
                uuid = row[0]
                values = dict(zip(d.keys, row[2:], strict=True))
                state = audit.record_state(d, values, deleted_at=row[1], closeout=closeouts.get(uuid))
                label = f"{d.title}记录 {uuid}（{d.column(d.label_field).header} {values.get(d.label_field) or ''}）"
                self._compare("record", d, label, self.records.pop((key, uuid), None), state, ledger=key, key=uuid)
        for (key, uuid), (seq, _) in sorted(self.records.items(), key=lambda kv: kv[1][0]):
            self.report.add(Finding(
                "record", f"{LEDGERS[key].title}记录 {uuid} 在审计记录中存在（第 {seq} 条），但已从数据库中消失"
                "（在程序之外被删除）。", seq=seq, ledger=key, record_uuid=uuid))
        self.report.records = total

    def others(self) -> None:
        self.progress("正在核对佐证材料、上报记录和用户…")
        for row in self.s.scalars(select(EvidenceFile).order_by(EvidenceFile.id)):
            title = LEDGERS[row.ledger].title if row.ledger in LEDGERS else row.ledger
            what = f"佐证材料“{row.file_name}”（编号 {row.id}，{title}记录 {row.record_uuid}）"
            data = bytes(row.data or b"")
            if hashlib.sha256(data).hexdigest() != row.sha256 or len(data) != row.size:
                self.report.add(Finding("evidence", f"{what}的文件内容与其 SHA-256 校验值不符（在程序之外被改动）。",
                                        ledger=row.ledger, record_uuid=row.record_uuid, field="data"))
            self._compare("evidence", None, what, self.evidence.pop(row.id, None), evidence_state(row),
                          ledger=row.ledger, key=row.record_uuid)
        for evidence_id, (seq, _) in self.evidence.items():
            self.report.add(Finding("evidence", f"佐证材料（编号 {evidence_id}）在第 {seq} 条审计记录中存在，但已从数据库中消失。",
                                    seq=seq))
        for row in self.s.scalars(select(MonthSubmission).order_by(MonthSubmission.id)):
            key = submission_key(row.unit_code, row.month, row.version)
            what = f"上报记录 {row.unit_code} {row.month} 第 {row.version} 版"
            self._compare("submission", None, what, self.submissions.pop(key, None), submission_state(row),
                          ledger=audit.SUBJECT_SUBMISSION, key=key)
        for key, (seq, _) in self.submissions.items():
            self.report.add(Finding("submission", f"上报记录 {key} 在第 {seq} 条审计记录中存在，但已从数据库中消失。",
                                    seq=seq, ledger=audit.SUBJECT_SUBMISSION, record_uuid=key))
        for row in self.s.scalars(select(UserAccount).order_by(UserAccount.id)):
            self._compare("user", None, f"用户“{row.name}”", self.users.pop(row.name, None), user_state(row),
                          ledger=audit.SUBJECT_USER, key=row.name)
        for name, (seq, _) in self.users.items():
            self.report.add(Finding("user", f"用户“{name}”在第 {seq} 条审计记录中存在，但已从数据库中消失。",
                                    seq=seq, ledger=audit.SUBJECT_USER, record_uuid=name))


BASELINE_KEY = "audit_started"
SYSTEM_ACTOR = Actor(name="系统", role="system")


def ensure_started(db: Database) -> int:
    """Once per database: records written before the audit trail existed get a 'baseline' entry.

    Runs on opening the database from the CLI and the GUI; afterwards (marked in app_meta) never
    again, so a record slipped in later with plain SQL stays unaudited and `verify` reports it.
    """
    with read_session(db.engine) as s:
        if s.get(AppMeta, BASELINE_KEY) is not None:
            return 0
    n = 0
    with write_session(db.engine) as s:
        if s.get(AppMeta, BASELINE_KEY) is not None:
            return 0
        audited = {(led, uuid) for led, uuid in s.execute(
            select(AuditEntry.ledger, AuditEntry.record_uuid).where(AuditEntry.action.in_(audit.RECORD_STATE_ACTIONS))
        )}
        for key, d in LEDGERS.items():
            table = LEDGER_MODELS[key].__table__
            cols = [table.c.uuid, table.c.unit_code, table.c.deleted_at, *[table.c[k] for k in d.keys]]
            entries = []
            for row in s.execute(select(*cols).order_by(table.c.id)):
                if (key, row[0]) in audited:
                    continue
                values = dict(zip(d.keys, row[3:], strict=True))
                entries.append(audit.Pending(key, row[0], row[1], None, audit.record_state(d, values, deleted_at=row[2])))
            if entries:
                n += audit.append_many(s, SYSTEM_ACTOR, "baseline", entries, verify_actor=False)
                audit.append(s, SYSTEM_ACTOR, "baseline", ledger=key, verify_actor=False,
                             detail=f"启用审计前已有的{d.title}记录 {len(entries)} 条登记为初始状态")
        s.add(AppMeta(key=BASELINE_KEY, value=dt.datetime.now().isoformat(timespec="seconds")))
    return n


def verify(db: Database, *, state: TaskState | None = None) -> VerifyReport:
    """Check the audit chain and the data against it. Reads only; never changes the database."""
    report = VerifyReport()

    def progress(text: str) -> None:
        if state is not None:
            state.progress(0, 0, text)

    with read_session(db.engine) as s:
        v = _Verifier(s, report, progress)
        v.chain()
        v.ledgers()
        v.others()
    return report
