"""`audit verify`: is the audit trail intact, and does the data still match it? Reads only: the session
runs with SQLite's query_only switched on, so not a byte can be written (no baseline either).

1. The chain: entries numbered 1, 2, 3, … without gaps; each entry's `prev_hash` is the previous
   entry's `hash`; each `hash` is recomputed from the entry's content. An entry edited, deleted,
   inserted or moved with plain SQL breaks one of these. Each entry's author must be an account known
   at that point of the chain with the role it had (or the built-in administrator before any account,
   or the system's baseline); the start marker must be there once the chain has entries.
2. The data: every row of every audited table equals the state its latest audit entry recorded
   (bookkeeping columns included), every row has an entry and every audited row still exists: ledger
   records (live or deleted, with their close-out), evidence files (also their bytes against their
   SHA-256), month submissions, user accounts, monthly figures, air quality, air-quality targets and
   county targets. Packages exported and imported (package_counters, package_imports) must have their
   entries in the chain.
3. Anchors (`verify(..., against=[...])`): the chain still holds each head recorded outside the
   database (a package, a backup, a report). Without an anchor, removing the newest entries together
   with the rows they describe, or rewriting the whole trail, cannot be told from the file alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, DateTime, String, select, text, type_coerce
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.errors import DatabaseError, JzairError
from jzair_desktop.services import air, audit, monthly, targets
from jzair_desktop.services.accounts import user_state
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.air_targets import AUDIT_AIR_BASIS
from jzair_desktop.services.audit_anchor import Anchor, Head
from jzair_desktop.services.closeout import evidence_state
from jzair_desktop.services.database import Database
from jzair_desktop.services.guards import closeouts_of
from jzair_desktop.services.submission import submission_key, submission_state
from jzair_desktop.storage.engine import translate_operational_error, write_session
from jzair_desktop.storage.migrate import head_revision
from jzair_desktop.storage.models import (
    LEDGER_MODELS,
    AirQualityMonth,
    AirQualityTarget,
    AppMeta,
    AuditEntry,
    CountyTarget,
    EvidenceFile,
    MonthlyFigure,
    MonthSubmission,
    PackageCounter,
    PackageImport,
    UserAccount,
)
from jzair_desktop.taskstate import TaskState

MAX_FINDINGS = 200


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # chain | author | marker | anchor | record | evidence | submission | user | figure | air | …
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
    rows: int = 0  # rows of the other audited tables compared
    head: Head | None = None
    anchors: list[Anchor] = field(default_factory=list)  # checked and found in the chain
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


# Keys an older entry may lack (written before they were audited): then not compared.
_OPTIONAL_KEYS = frozenset((*audit.BOOKKEEPING, "updated_at", "updated_by"))

# Subjects other than ledger records whose rows are compared: ledger -> (kind, what the user reads).
_TABLES = {
    monthly.AUDIT_FIGURES: ("figure", "月度数据"),
    air.AUDIT_AIR: ("air", "空气质量"),
    air.AUDIT_AIR_TARGETS: ("air_target", "空气质量目标"),
    targets.AUDIT_SUBJECT: ("target", "任务目标"),
}
_TABLE_FIELDS = {
    "unit_code": "县（区、市）", "indicator": "指标", "month": "月份", "value": "数值", "area": "区域",
    "pm25": "PM2.5 月均浓度", "heavy_days": "重污染天数", "first_month": "起始月份", "last_month": "结束月份",
    "pm25_max": "PM2.5 目标", "heavy_days_max": "重污染天数目标", "updated_at": "修改时间", "updated_by": "修改人",
}
# Actions written by someone who is not (yet) an account.
_ANONYMOUS_ACTIONS = frozenset(("login_failed",))


def _first_difference(audited: dict, current: dict) -> tuple[str, Any, Any] | None:
    for key in dict.fromkeys([*audited.keys(), *current.keys()]):
        if key not in audited and key in _OPTIONAL_KEYS:
            continue
        if audited.get(key) != current.get(key):
            return key, audited.get(key), current.get(key)
    return None


_jt = audit._json_text


def _content_hash(row: Any) -> str:
    """The entry's hash recomputed (audit.entry_hash), fast: the stored time text is used as it is when it is
    already in the hashed form, and the JSON list is built from its elements as Chain.row builds it."""
    at = row.at
    if not (isinstance(at, str) and len(at) == 26 and at[10] == " " and at[19] == "."):
        parsed = _parse_at(at)
        if parsed is None:
            return ""
        at = audit.format_at(parsed)
    before, after = row.before_json, row.after_json
    content = (
        f"[{int(row.seq)},{_jt(at)},{_jt(row.user_name)},{_jt(row.role)},{_jt(row.action)},{_jt(row.ledger)},"
        f"{_jt(row.record_uuid)},{_jt(row.unit_code)},{_jt(row.detail)}]"
        + ("-" if before is None else f"{len(before)}:{before}")
        + ("-" if after is None else f"{len(after)}:{after}")
    )
    return hashlib.sha256((row.prev_hash + content).encode("utf-8")).hexdigest()


def _at_text(raw: Any) -> str:
    at = _parse_at(raw)
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else str(raw)


def _who(row: Any) -> str:
    return f"第 {row.seq} 条审计记录（{_at_text(row.at)}，用户“{row.user_name}”，{audit.action_label(row.action)}）"


def _iso_text(raw: Any) -> Any:
    """A date-time as SQLite holds it ('2020-12-01 08:30:00.000000') as datetime.isoformat() writes it."""
    if not isinstance(raw, str) or len(raw) != 26 or raw[10] != " ":
        return raw
    return raw[:10] + "T" + (raw[11:19] if raw.endswith(".000000") else raw[11:])


def _stamp(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


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
        self.tables: dict[str, dict[str, tuple[int, str | None]]] = {k: {} for k in _TABLES}
        self.packages: set[tuple[str, str]] = set()  # (action, uuid) of package entries
        self.hashes: dict[int, str] = {}

    # -- 1. the chain ----------------------------------------------------------------------------
    def chain(self) -> None:
        t = AuditEntry.__table__.c
        stmt = select(
            t.seq, type_coerce(t.at, String).label("at"), t.user_name, t.role, t.action, t.ledger, t.record_uuid,
            t.unit_code, t.before_json, t.after_json, t.detail, t.prev_hash, t.hash,
        ).order_by(t.seq)
        expected, prev = 1, audit.GENESIS
        n = 0
        roles: dict[str, str] = {}  # account -> role, as the chain has them so far
        builtin, system = (BUILTIN_ADMIN.name, BUILTIN_ADMIN.role), (SYSTEM_ACTOR.name, SYSTEM_ACTOR.role)
        hashes = self.hashes
        content_hash = _content_hash
        track = self._track
        for row in self.s.execute(stmt.execution_options(yield_per=5000)):
            n += 1
            if n % 20000 == 0:
                self.progress(f"正在校验审计记录链（{n} 条）…")
            seq = row.seq
            if seq != expected:
                if seq > expected:
                    gap = f"第 {expected} 条" if seq == expected + 1 else f"第 {expected} 至 {seq - 1} 条"
                    self._broken(row, f"审计记录{gap}缺失（已被删除）：{_who(row)}之前的记录不连续。")
                else:
                    self._broken(row, f"{_who(row)}的序号不连续（审计记录被插入或调换了顺序）。")
                expected = seq
            elif row.prev_hash != prev:
                self._broken(row, f"{_who(row)}与前一条记录的链接不符：审计记录被删除、插入或调换了顺序。")
            if content_hash(row) != row.hash:
                if _parse_at(row.at) is None:
                    self._broken(row, f"{_who(row)}的时间已被改动，无法识别。")
                else:
                    self._broken(row, f"{_who(row)}的内容已被改动（与其校验值不符）。")
            # The author: an account known at this point with its role, or who may act without one.
            author = (row.user_name, row.role)
            if author != system and not (author == builtin and not roles) and row.action not in _ANONYMOUS_ACTIONS:
                role = roles.get(row.user_name)
                if role is None:
                    self._broken(row, f"{_who(row)}的操作人“{row.user_name}”在此之前不是本数据库的用户"
                                      "（审计记录可能是在程序之外添加的）。", "author")
                elif role != row.role:
                    self._broken(row, f"{_who(row)}记录的角色“{row.role}”与该用户当时的角色“{role}”不符"
                                      "（审计记录可能是在程序之外添加的）。", "author")
            if row.ledger == audit.SUBJECT_USER and row.record_uuid and row.after_json and row.action != "login_failed":
                try:
                    role = json.loads(row.after_json).get("role")
                except (ValueError, AttributeError):
                    role = None
                if isinstance(role, str):
                    roles[row.record_uuid] = role
            hashes[seq] = prev = row.hash
            expected = seq + 1
            track(row)
        self.report.entries = n
        self.report.head = Head(expected - 1, prev) if n else Head(0, audit.GENESIS)

    def _broken(self, row: Any, message: str, kind: str = "chain") -> None:
        self.report.add(Finding(kind, message, seq=row.seq, at=_at_text(row.at), user_name=row.user_name,
                                ledger=row.ledger, record_uuid=row.record_uuid))

    def _track(self, row: Any) -> None:
        ledger = row.ledger
        if ledger == AUDIT_AIR_BASIS and row.after_json and row.unit_code:
            self._basis(row)
            return
        if ledger in self.tables:
            if row.record_uuid:
                self.tables[ledger][row.record_uuid] = (row.seq, row.after_json)
            return
        if ledger == "packages" and row.record_uuid:
            self.packages.add((row.action, row.record_uuid))
        if row.after_json is None:
            return
        if ledger in LEDGERS and row.action in audit.RECORD_STATE_ACTIONS:
            self.records[(ledger, row.record_uuid)] = (row.seq, row.after_json)
        elif row.action == "evidence":
            try:
                evidence_id = int(json.loads(row.after_json)["id"])
            except (ValueError, KeyError, TypeError):
                return  # a broken entry is reported by the chain check
            self.evidence[evidence_id] = (row.seq, row.after_json)
        elif ledger == audit.SUBJECT_SUBMISSION and row.record_uuid:
            self.submissions[row.record_uuid] = (row.seq, row.after_json)
        elif ledger == audit.SUBJECT_USER and row.record_uuid:
            self.users[row.record_uuid] = (row.seq, row.after_json)

    def _basis(self, row: Any) -> None:
        """An area's grade and baselines entry: the air-quality targets derived from it, as audited states of
        the air_quality_targets rows (services.air_targets writes those rows with this one entry)."""
        try:
            limits = json.loads(row.after_json).get("limits") or {}
        except (ValueError, AttributeError):
            return  # a broken entry is reported by the chain check
        from jzair_desktop.domain.reference import reference

        periods = dict(reference().plan.air_periods)
        audited = self.tables[air.AUDIT_AIR_TARGETS]
        for first, value in limits.items():
            if first in periods and isinstance(value, list) and len(value) == 2:
                state = {"area": row.unit_code, "first_month": first, "last_month": periods[first],
                         "pm25_max": value[0], "heavy_days_max": value[1]}
                audited[f"{row.unit_code}@{first}"] = (row.seq, audit.canonical_json(state))

    def marker(self) -> None:
        if self.report.entries and self.s.get(AppMeta, BASELINE_KEY) is None:
            self.report.add(Finding(
                "marker", "启用审计的标记（app_meta 中的 audit_started）缺失：已有审计记录的数据库中它不会消失，"
                "可能是在程序之外被删除的（删除后程序不会自动重新登记）。如确需重新登记，请由市级管理员运行"
                "“jzair audit baseline --reason 原因”。"))

    # -- 2. the data -----------------------------------------------------------------------------
    def _compare(self, kind: str, d: LedgerDef | None, what: str, audited: tuple[int, str] | None,
                 current: dict, *, ledger: str | None, key: str, labels: dict[str, str] | None = None) -> None:
        if audited is None:
            self.report.add(Finding(kind, f"{what}没有任何审计记录（可能是在程序之外写入数据库的）。",
                                    ledger=ledger, record_uuid=key))
            return
        seq, after_json = audited
        if after_json is None:
            self.report.add(Finding(kind, f"{what}在第 {seq} 条审计记录中已被删除，但仍在数据库中"
                                          "（在程序之外被写回）。", seq=seq, ledger=ledger, record_uuid=key))
            return
        if after_json == audit.canonical_json(current):
            return
        try:
            then = json.loads(after_json)
        except ValueError:
            then = {}
        if not isinstance(then, dict):
            then = {}
        current_plain = json.loads(audit.canonical_json(current))
        diff = _first_difference(then, current_plain)
        if diff is None:
            return
        name, old, new = diff
        label = (labels or {}).get(name) or _field_label(d, name)
        self.report.add(Finding(
            kind,
            f"{what}的“{label}”与审计记录不符：第 {seq} 条审计记录为 {_show(old)}，"
            f"数据库中为 {_show(new)}（在程序之外被改动）。",
            seq=seq, ledger=ledger, record_uuid=key, field=name,
        ))

    def ledgers(self) -> None:
        total = 0
        for key, d in LEDGERS.items():
            self.progress(f"正在核对{d.title}台账…")
            table = LEDGER_MODELS[key].__table__
            closeouts = closeouts_of(self.s, key)
            # Dates and times are read as the text SQLite holds (no parsing into objects, 100,000s of them):
            # dates are the ISO text already, date-times become it by _iso_text.
            def raw(c: Any) -> Any:
                return type_coerce(c, String) if isinstance(c.type, Date | DateTime) else c

            cols = [table.c.uuid, raw(table.c.deleted_at), *[raw(table.c[k]) for k in audit.BOOKKEEPING],
                    *[raw(table.c[k]) for k in d.keys]]
            state_json = audit.state_json_maker(d)
            nb = len(audit.BOOKKEEPING)
            label_at = d.keys.index(d.label_field)
            iso = _iso_text
            for row in self.s.execute(select(*cols).order_by(table.c.id).execution_options(yield_per=5000)):
                total += 1
                uuid = row[0]
                values = row[2 + nb:]
                meta = [iso(v) for v in row[2:2 + nb]]
                deleted_at = iso(row[1])
                closeout = closeouts.get(uuid)
                audited = self.records.pop((key, uuid), None)
                if audited is not None and audited[1] == state_json(values, deleted_at, closeout, meta):
                    continue
                state = audit.record_state(d, {**dict(zip(d.keys, values, strict=True)),
                                               **dict(zip(audit.BOOKKEEPING, meta, strict=True))},
                                           closeout=closeout)
                state[audit.STATE_DELETED] = deleted_at
                label = f"{d.title}记录 {uuid}（{d.column(d.label_field).header} {values[label_at] or ''}）"
                self._compare("record", d, label, audited, state, ledger=key, key=uuid)
        for (key, uuid), (seq, _) in sorted(self.records.items(), key=lambda kv: kv[1][0]):
            self.report.add(Finding(
                "record", f"{LEDGERS[key].title}记录 {uuid} 在审计记录中存在（第 {seq} 条），但已从数据库中消失"
                "（在程序之外被删除）。", seq=seq, ledger=key, record_uuid=uuid))
        self.report.records = total

    def _table(self, ledger: str, rows: list[tuple[str, str, dict]]) -> None:
        """Rows of one audited table: (key as in the entries' record_uuid, what it is, its state)."""
        kind, title = _TABLES[ledger]
        audited = self.tables[ledger]
        for key, what, state in rows:
            self.report.rows += 1
            self._compare(kind, None, f"{title} {what}", audited.pop(key, None), state, ledger=ledger, key=key,
                          labels=_TABLE_FIELDS)
        for key, (seq, after) in sorted(audited.items(), key=lambda kv: kv[1][0]):
            if after is not None:
                self.report.add(Finding(kind, f"{title} {key} 在第 {seq} 条审计记录中存在，但已从数据库中消失"
                                              "（在程序之外被删除）。", seq=seq, ledger=ledger, record_uuid=key))

    def tables_(self) -> None:
        self.progress("正在核对月度数据、空气质量和任务目标…")
        self._table(monthly.AUDIT_FIGURES, [
            (f"{r.indicator_key}@{r.unit_code}@{r.month}", f"{r.unit_code} {r.month} {r.indicator_key}",
             {"unit_code": r.unit_code, "indicator": r.indicator_key, "month": r.month, "value": r.value,
              "updated_at": _stamp(r.updated_at), "updated_by": r.updated_by})
            for r in self.s.scalars(select(MonthlyFigure))])
        self._table(air.AUDIT_AIR, [
            (f"{r.area}@{r.month}", f"{r.area} {r.month}",
             {"area": r.area, "month": r.month, "pm25": r.pm25, "heavy_days": r.heavy_days,
              "updated_at": _stamp(r.updated_at), "updated_by": r.updated_by})
            for r in self.s.scalars(select(AirQualityMonth))])
        self._table(targets.AUDIT_SUBJECT, [
            (f"{r.indicator_key}@{r.unit_code}", f"{r.unit_code} {r.indicator_key}",
             {"indicator": r.indicator_key, "unit_code": r.unit_code, "value": r.value,
              "updated_at": _stamp(r.updated_at), "updated_by": r.updated_by})
            for r in self.s.scalars(select(CountyTarget))])
        # The plan's own air-quality targets are loaded with the reference data (not audited) until the
        # city office changes them; a row of the plan's values with no entry is therefore fine.
        from jzair_desktop.domain.reference import reference

        plan_targets = {(a.area, a.first_month): (a.last_month, a.pm25_max, a.heavy_days_max)
                        for a in reference().air_quality_targets}
        rows = []
        audited = self.tables[air.AUDIT_AIR_TARGETS]
        for r in self.s.scalars(select(AirQualityTarget)):
            key = f"{r.area}@{r.first_month}"
            if key not in audited and plan_targets.get((r.area, r.first_month)) == (
                    r.last_month, r.pm25_max, r.heavy_days_max):
                continue
            rows.append((key, f"{r.area} {r.first_month} 至 {r.last_month}",
                         {"area": r.area, "first_month": r.first_month, "last_month": r.last_month,
                          "pm25_max": r.pm25_max, "heavy_days_max": r.heavy_days_max}))
        self._table(air.AUDIT_AIR_TARGETS, rows)

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
                          ledger=row.ledger, key=row.record_uuid, labels=audit.EVIDENCE_FIELDS)
        for evidence_id, (seq, _) in self.evidence.items():
            self.report.add(Finding("evidence", f"佐证材料（编号 {evidence_id}）在第 {seq} 条审计记录中存在，但已从数据库中消失。",
                                    seq=seq))
        for row in self.s.scalars(select(MonthSubmission).order_by(MonthSubmission.id)):
            key = submission_key(row.unit_code, row.month, row.version)
            what = f"上报记录 {row.unit_code} {row.month} 第 {row.version} 版"
            self._compare("submission", None, what, self.submissions.pop(key, None), submission_state(row),
                          ledger=audit.SUBJECT_SUBMISSION, key=key,
                          labels=audit.SUBJECT_FIELDS[audit.SUBJECT_SUBMISSION])
        for key, (seq, _) in self.submissions.items():
            self.report.add(Finding("submission", f"上报记录 {key} 在第 {seq} 条审计记录中存在，但已从数据库中消失。",
                                    seq=seq, ledger=audit.SUBJECT_SUBMISSION, record_uuid=key))
        for row in self.s.scalars(select(UserAccount).order_by(UserAccount.id)):
            self._compare("user", None, f"用户“{row.name}”", self.users.pop(row.name, None), user_state(row),
                          ledger=audit.SUBJECT_USER, key=row.name, labels=audit.SUBJECT_FIELDS[audit.SUBJECT_USER])
        for name, (seq, _) in self.users.items():
            self.report.add(Finding("user", f"用户“{name}”在第 {seq} 条审计记录中存在，但已从数据库中消失。",
                                    seq=seq, ledger=audit.SUBJECT_USER, record_uuid=name))

    def packages_(self) -> None:
        """Every package exported or imported left its entry: a missing one means the newest entries
        were removed (the counters and the import history stay behind)."""
        for c in self.s.scalars(select(PackageCounter).order_by(PackageCounter.scope)):
            for n in range(1, c.last_sequence + 1):
                if ("package_export", f"{c.scope}#{n}") not in self.packages:
                    self.report.add(Finding(
                        "anchor", f"本机导出过的报送包（{c.scope} 第 {n} 号）在审计记录中没有对应的导出记录："
                        "审计记录的末尾可能已被删除（截断）。", ledger="packages", record_uuid=f"{c.scope}#{n}"))
                    break
        for r in self.s.scalars(select(PackageImport).order_by(PackageImport.id)):
            if ("package_import", f"{r.scope}#{r.sequence}") not in self.packages:
                self.report.add(Finding(
                    "anchor", f"已导入的报送包（{r.scope} 第 {r.sequence} 号，{r.imported_at:%Y-%m-%d %H:%M}）在审计记录中"
                    "没有对应的导入记录：审计记录可能已被删除。", ledger="packages", record_uuid=f"{r.scope}#{r.sequence}"))

    # -- 3. anchors ------------------------------------------------------------------------------
    def anchor(self, anchor: Anchor) -> None:
        head = anchor.head
        have = self.hashes.get(head.seq) if head.seq else audit.GENESIS
        last = self.report.head.seq if self.report.head else 0
        if head.seq == 0:
            self.report.anchors.append(anchor)
            return
        if have is None and head.seq > last:
            self.report.add(Finding(
                "anchor", f"{anchor.source}记录的审计链位置是第 {head.seq:,} 条（{head.short}），但当前审计记录只有 "
                f"{last:,} 条：第 {last + 1:,} 至 {head.seq:,} 条审计记录已被删除（截断）。", seq=head.seq))
        elif have is None or not head.matches(have):
            self.report.add(Finding(
                "anchor", f"{anchor.source}记录的审计链位置（{head.short}）与当前审计记录不符：第 {head.seq:,} 条及之前的"
                "审计记录已被改写（或数据库来自另一个安装）。", seq=head.seq))
        else:
            self.report.anchors.append(anchor)


BASELINE_KEY = audit.START_KEY
SYSTEM_ACTOR = Actor(name="系统", role="system")


def _baseline(s: Session, reason: str | None) -> int:
    """Baseline entries for the records that have no entry (in the caller's write transaction)."""
    n = 0
    audited = {(led, uuid) for led, uuid in s.execute(
        select(AuditEntry.ledger, AuditEntry.record_uuid).where(AuditEntry.action.in_(audit.RECORD_STATE_ACTIONS))
    )}
    note = f"（原因：{reason}）" if reason else ""
    for key, d in LEDGERS.items():
        table = LEDGER_MODELS[key].__table__
        cols = [table.c.uuid, table.c.unit_code, table.c.deleted_at, *[table.c[k] for k in audit.BOOKKEEPING],
                *[table.c[k] for k in d.keys]]
        closeouts = closeouts_of(s, key)
        entries = []
        nb = len(audit.BOOKKEEPING)
        for row in s.execute(select(*cols).order_by(table.c.id)):
            if (key, row[0]) in audited:
                continue
            values = {**dict(zip(audit.BOOKKEEPING, row[3:3 + nb], strict=True)),
                      **dict(zip(d.keys, row[3 + nb:], strict=True))}
            entries.append(audit.Pending(key, row[0], row[1], None, audit.record_state(
                d, values, deleted_at=row[2], closeout=closeouts.get(row[0]))))
        if entries:
            n += audit.append_many(s, SYSTEM_ACTOR, "baseline", entries, verify_actor=False)
            audit.append(s, SYSTEM_ACTOR, "baseline", ledger=key, verify_actor=False,
                         detail=f"启用审计前已有的{d.title}记录 {len(entries)} 条登记为初始状态{note}")
    return n


def ensure_started(db: Database) -> int:
    """Kept for the callers at opening: writes nothing. The start marker is written with the chain's first
    entry (services.audit); a database whose trail was emptied while it holds records, or whose marker
    went missing, is never re-baselined silently: `verify` reports it, and `baseline` with a reason, by a
    city administrator, is the recorded way out. Returns 0."""
    return 0


def baseline(db: Database, actor: Actor, reason: str) -> int:
    """Register unaudited records as they are and set the start marker again: an audited act of a city
    administrator with a reason (a database from before the audit trail, or a marker deleted from outside).
    Returns how many records were registered."""
    actor.check_city("重新登记审计起点")
    reason = (reason or "").strip()
    if not reason:
        raise JzairError("重新登记审计起点时必须填写原因。")
    with write_session(db.engine) as s:
        audit.check_actor(s, actor)
        n = _baseline(s, reason)
        marker = s.get(AppMeta, BASELINE_KEY)
        if marker is None:
            s.add(AppMeta(key=BASELINE_KEY, value=dt.datetime.now().isoformat(timespec="seconds")))
        audit.append(s, actor, "rebaseline", detail=f"重新登记审计起点：登记记录 {n} 条"
                     f"{'，恢复启用审计的标记' if marker is None else ''}。原因：{reason}")
    return n


def _check_schema(s: Session) -> None:
    rev = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if rev != head_revision():
        raise DatabaseError(f"数据库的架构版本（{rev}）不是本程序的最新版本（{head_revision()}）。"
                            "审计校验不改动数据库，请先用程序打开一次数据库（自动升级）后再校验。")


def verify(db: Database, *, state: TaskState | None = None, against: list[Anchor] | None = None) -> VerifyReport:
    """Check the audit chain, the data against it and the chain against `against` (heads recorded
    outside the database). Reads only: the connection is switched to query_only for the duration."""
    report = VerifyReport()

    def progress(text: str) -> None:
        if state is not None:
            state.progress(0, 0, text)

    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA query_only=1")
        try:
            with Session(bind=conn) as s:
                _check_schema(s)
                v = _Verifier(s, report, progress)
                v.chain()
                v.marker()
                for anchor in against or ():
                    v.anchor(anchor)
                v.ledgers()
                v.tables_()
                v.others()
                v.packages_()
                s.rollback()
        except OperationalError as exc:
            raise translate_operational_error(exc) from exc
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA query_only=0")
            conn.rollback()
    return report
