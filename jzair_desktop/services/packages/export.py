"""Making packages: a county's data for the city (报送包), and the city's targets for the counties (任务包).

A county package is a full snapshot of one unit: every record of the five ledgers (deleted ones as
tombstones), the close-outs of its records, its monthly figures, air quality, milestones, month
submissions and its audit entries. Each export of a unit takes the next sequence number of that unit (kept in
package_counters), so the city can refuse an older or replayed package.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop import __version__
from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange import jzpkg
from jzair_desktop.fsutil import replace_file
from jzair_desktop.services import audit
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.audit_anchor import HEAD_KEY, Head
from jzair_desktop.services.database import Database
from jzair_desktop.services.packages.keys import AUDIT_SUBJECT, ensure_key
from jzair_desktop.services.submission import parse_month
from jzair_desktop.storage import locks, migrate
from jzair_desktop.storage.engine import write_session
from jzair_desktop.storage.models import (
    LEDGER_MODELS,
    AirQualityMonth,
    AirQualityTarget,
    AuditEntry,
    Closeout,
    CountyTarget,
    Milestone,
    MonthlyFigure,
    MonthSubmission,
    PackageCounter,
)
from jzair_desktop.taskstate import NULL_STATE, TaskState

SCOPE_TARGETS = "targets"  # the export counter of targets packages (city machine)
ACTION_EXPORT = "package_export"
BOOKKEEPING = ("uuid", "created_at", "created_by", "updated_at", "updated_by")
TOMBSTONE_KEYS = ("uuid", "deleted_at", "deleted_by")


def encode(value: Any) -> Any:
    """A stored value as JSON: dates and datetimes ISO 8601 (microseconds kept when present)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class ExportResult:
    path: Path
    kind: str
    unit_code: str | None
    unit_name: str | None
    month: str | None
    sequence: int
    counts: dict[str, int]  # ledger key or member (without .jsonl) -> lines; "tombstones" -> deleted records
    fingerprint: str
    manifest_sha256: str
    size: int
    seconds: float

    @property
    def fingerprint_display(self) -> str:
        return jzpkg.format_fingerprint(self.fingerprint)


def _next_sequence(s: Session, scope: str) -> int:
    # On a server database two exports at once must not take the same number: the export appends to the
    # audit chain anyway, so its lock (held to the commit) serializes them; the row lock covers any other
    # writer of the counter.
    locks.lock_chain(s.connection())
    row = s.get(PackageCounter, scope, with_for_update=True)
    if row is None:
        row = PackageCounter(scope=scope, last_sequence=0)
        s.add(row)
    row.last_sequence += 1
    row.updated_at = dt.datetime.now().replace(microsecond=0)
    return row.last_sequence


def _summary(counts: Mapping[str, int]) -> dict[str, int]:
    """Lines per member, keyed by what they hold: a ledger's key (LedgerDef.member), else the member's stem."""
    keys = {d.member: key for key, d in LEDGERS.items()}
    return {keys.get(name, name.removesuffix(".jsonl")): n for name, n in counts.items()}


def _ledger_lines(s: Session, d: LedgerDef, unit_code: str) -> tuple[list[dict[str, Any]], int]:
    """A unit's records of one ledger as package lines (values as stored; jzpkg writes dates as ISO text)."""
    table = LEDGER_MODELS[d.key].__table__
    names = (*BOOKKEEPING, *d.keys)
    cols = [table.c.deleted_at, table.c.deleted_by, *[table.c[k] for k in names]]
    lines: list[dict[str, Any]] = []
    tombstones = 0
    stmt = select(*cols).where(table.c.unit_code == unit_code).order_by(table.c.id)
    for row in s.execute(stmt):
        if row[0] is not None:
            lines.append({"uuid": row[2], "deleted_at": row[0], "deleted_by": row[1]})
            tombstones += 1
        else:
            lines.append(dict(zip(names, row[2:], strict=True)))
    return lines, tombstones


def _county_members(s: Session, unit_code: str, state: TaskState) -> tuple[dict[str, bytes], dict[str, int], int]:
    members: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    tombstones = 0
    closeouts: list[dict[str, Any]] = []
    steps = len(LEDGERS) + 5
    for n, (key, d) in enumerate(LEDGERS.items()):
        state.progress(n, steps, f"正在读取{d.title}台账……", force=True)
        lines, dead = _ledger_lines(s, d, unit_code)
        members[d.member] = jzpkg.jsonl_bytes(lines)
        counts[d.member] = len(lines)
        tombstones += dead
        table = LEDGER_MODELS[key].__table__
        unit_uuids = select(table.c.uuid).where(table.c.unit_code == unit_code)
        for c in s.scalars(select(Closeout).where(Closeout.ledger == key, Closeout.record_uuid.in_(unit_uuids))
                           .order_by(Closeout.record_uuid)):
            closeouts.append({"ledger": key, "record_uuid": c.record_uuid, "reviewer": c.reviewer,
                              "closed_at": encode(c.closed_at), "closed_by": c.closed_by})
    state.progress(len(LEDGERS), steps, "正在读取月度数据、空气质量、节点任务和上报记录……", force=True)
    members["closeouts.jsonl"] = jzpkg.jsonl_bytes(closeouts)
    counts["closeouts.jsonl"] = len(closeouts)

    figures = [
        {"unit_code": r.unit_code, "indicator": r.indicator_key, "month": r.month, "value": r.value,
         "updated_at": encode(r.updated_at), "updated_by": r.updated_by}
        for r in s.scalars(select(MonthlyFigure).where(MonthlyFigure.unit_code == unit_code)
                           .order_by(MonthlyFigure.indicator_key, MonthlyFigure.month))
    ]
    air = [
        {"area": r.area, "month": r.month, "pm25": r.pm25, "heavy_days": r.heavy_days,
         "updated_at": encode(r.updated_at), "updated_by": r.updated_by}
        for r in s.scalars(select(AirQualityMonth).where(AirQualityMonth.area == unit_code)
                           .order_by(AirQualityMonth.month))
    ]
    milestones = [
        {"unit_code": r.unit_code, "indicator": r.indicator_key, "done_date": encode(r.done_date),
         "evidence": r.evidence, "updated_at": encode(r.updated_at), "updated_by": r.updated_by}
        for r in s.scalars(select(Milestone).where(Milestone.unit_code == unit_code)
                           .order_by(Milestone.indicator_key))
    ]
    submissions = [
        {"unit_code": r.unit_code, "month": r.month, "version": r.version, "status": r.status,
         "submitted_at": encode(r.submitted_at), "submitted_by": r.submitted_by, "figures_json": r.figures_json,
         "unlocked_at": encode(r.unlocked_at), "unlocked_by": r.unlocked_by, "unlock_reason": r.unlock_reason}
        for r in s.scalars(select(MonthSubmission).where(MonthSubmission.unit_code == unit_code)
                           .order_by(MonthSubmission.month, MonthSubmission.version))
    ]
    state.progress(len(LEDGERS) + 2, steps, "正在读取审计记录……", force=True)
    t = AuditEntry.__table__.c
    entries = [
        {"seq": r.seq, "at": audit.format_at(r.at), "user_name": r.user_name, "role": r.role, "action": r.action,
         "ledger": r.ledger, "record_uuid": r.record_uuid, "unit_code": r.unit_code, "before_json": r.before_json,
         "after_json": r.after_json, "detail": r.detail, "prev_hash": r.prev_hash, "hash": r.hash}
        for r in s.execute(select(AuditEntry.__table__).where(t.unit_code == unit_code).order_by(t.seq))
    ]
    for name, rows in (("monthly_figures.jsonl", figures), ("air_quality.jsonl", air),
                       (jzpkg.MILESTONES_MEMBER, milestones), ("submissions.jsonl", submissions), ("audit.jsonl", entries)):
        members[name] = jzpkg.jsonl_bytes(rows)
        counts[name] = len(rows)
    return members, counts, tombstones


def check_own_trail(db: Database, state: TaskState) -> None:
    """A package carries this installation's chain head to the city: refused while the own audit check
    fails (the head would vouch for a trail already broken)."""
    from jzair_desktop.services.audit_verify import verify

    state.progress(0, 0, "正在校验本机审计记录……", force=True)
    report = verify(db)
    if not report.ok:
        raise JzairError(
            f"本机审计校验未通过（{len(report.findings)}{'+' if report.truncated else ''} 处问题），不能导出报送包。\n"
            f"第一处：{report.first.message}\n请先运行“jzair audit verify”查看全部问题，并联系市级管理员核实。")


def _chain_member(s: Session, members: dict[str, bytes], counts: dict[str, int]) -> Head:
    """The county's whole chain as links (seq and hash of every entry; the contents of the unit's own entries
    are in audit.jsonl), so the city can check that it extends the head it received last. Returns the head."""
    t = AuditEntry.__table__.c
    links = [{"seq": seq, "hash": digest} for seq, digest in s.execute(select(t.seq, t.hash).order_by(t.seq))]
    members[jzpkg.CHAIN_MEMBER] = jzpkg.jsonl_bytes(links)
    counts[jzpkg.CHAIN_MEMBER] = len(links)
    return Head(links[-1]["seq"], links[-1]["hash"]) if links else Head(0, audit.GENESIS)


def _write(
    db: Database, out: Path, actor: Actor, scope: str, build: Any, state: TaskState,
) -> tuple[jzpkg.Written, int, dict[str, int], int]:
    """Take the next sequence, build and sign the package, audit the export: one transaction; the file
    appears under its name (os.replace) only once that transaction has committed."""
    part = out.with_name(f".{out.name}.{uuidlib.uuid4().hex[:8]}.part")
    try:
        with write_session(db.engine) as s:
            audit.check_actor(s, actor)
            key = ensure_key(s)
            sequence = _next_sequence(s, scope)
            manifest, members, counts, tombstones, detail, unit_code = build(s, sequence)
            state.progress(0, 0, "正在压缩并签名……", force=True)
            written = jzpkg.write_package(part, manifest, members, private_key=bytes(key.private_key),
                                          records=counts)
            audit.append(s, actor, ACTION_EXPORT, ledger=AUDIT_SUBJECT, uuid=f"{scope}#{sequence}",
                         unit_code=unit_code,
                         after={"sequence": sequence, "manifest_sha256": written.manifest_sha256,
                                "fingerprint": key.fingerprint},
                         detail=f"{detail}，清单 SHA-256 {written.manifest_sha256[:16]}…")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            replace_file(part, out)
        except OSError as exc:
            raise JzairError(f"无法保存报送包：{out}（{exc.strerror or exc}）。") from exc
    finally:
        part.unlink(missing_ok=True)
    return written, sequence, counts, tombstones


def _manifest(kind: str, sequence: int, actor: Actor, counts: Mapping[str, int], **fields: Any) -> dict[str, Any]:
    return {
        "format": jzpkg.FORMAT,
        "format_version": jzpkg.FORMAT_VERSION,
        "kind": kind,
        "app_version": __version__,
        "schema_revision": migrate.head_revision(),
        "sequence": sequence,
        "created_at": dt.datetime.now().replace(microsecond=0).isoformat(),
        "created_by": actor.name,
        "counts": dict(counts),
        **fields,
    }


def export_county_package(
    db: Database, unit: str, month: str, out: str | Path, *, actor: Actor, state: TaskState | None = None,
) -> ExportResult:
    """Write the package of `unit` for reporting month `month` to `out` (a county clerk of that unit or a
    city_admin). May run on a worker thread."""
    started = time.perf_counter()
    state = state or NULL_STATE
    u = reference().resolve_unit(unit)
    mon = parse_month(month)
    actor.check_write(u.code, unit_name=u.name)
    out = Path(out)

    check_own_trail(db, state)

    def build(s: Session, sequence: int) -> tuple:
        members, counts, tombstones = _county_members(s, u.code, state)
        head = _chain_member(s, members, counts)
        summary = _summary(counts)
        summary["tombstones"] = tombstones
        manifest = _manifest(jzpkg.KIND_COUNTY, sequence, actor, summary, unit_code=u.code, unit_name=u.name,
                             month=mon, **{HEAD_KEY: head.as_json()})
        records = sum(counts[name] for name in jzpkg.ledger_members()) - tombstones
        detail = f"导出{u.name} {mon} 报送包第 {sequence} 号：台账记录 {records} 条（另有已删除 {tombstones} 条）"
        return manifest, members, counts, tombstones, detail, u.code

    written, sequence, counts, tombstones = _write(db, out, actor, u.code, build, state)
    summary = _summary(counts)
    summary["tombstones"] = tombstones
    return ExportResult(out, jzpkg.KIND_COUNTY, u.code, u.name, mon, sequence, summary,
                        written.manifest["signer"]["fingerprint"], written.manifest_sha256, written.size,
                        time.perf_counter() - started)


def export_targets_package(
    db: Database, out: str | Path, *, actor: Actor, state: TaskState | None = None,
) -> ExportResult:
    """Write the city's targets package (every unit's targets and the air-quality targets) to `out`
    (city_admin only)."""
    started = time.perf_counter()
    state = state or NULL_STATE
    actor.check_city("导出任务包")
    out = Path(out)

    def build(s: Session, sequence: int) -> tuple:
        targets = [
            {"indicator": r.indicator_key, "unit_code": r.unit_code, "value": r.value,
             "updated_at": encode(r.updated_at), "updated_by": r.updated_by}
            for r in s.scalars(select(CountyTarget).order_by(CountyTarget.indicator_key, CountyTarget.unit_code))
        ]
        air = [
            {"area": r.area, "first_month": r.first_month, "last_month": r.last_month, "pm25_max": r.pm25_max,
             "heavy_days_max": r.heavy_days_max}
            for r in s.scalars(select(AirQualityTarget).order_by(AirQualityTarget.area, AirQualityTarget.first_month))
        ]
        members = {"county_targets.jsonl": jzpkg.jsonl_bytes(targets),
                   "air_quality_targets.jsonl": jzpkg.jsonl_bytes(air)}
        counts = {"county_targets.jsonl": len(targets), "air_quality_targets.jsonl": len(air)}
        manifest = _manifest(jzpkg.KIND_TARGETS, sequence, actor,
                             {"county_targets": len(targets), "air_quality_targets": len(air)},
                             unit_code=None, unit_name=None, month=None)
        detail = f"导出市级任务包第 {sequence} 号：任务目标 {len(targets)} 项，空气质量目标 {len(air)} 项"
        return manifest, members, counts, 0, detail, None

    written, sequence, counts, _ = _write(db, out, actor, SCOPE_TARGETS, build, state)
    summary = _summary(counts)
    return ExportResult(out, jzpkg.KIND_TARGETS, None, None, None, sequence, summary,
                        written.manifest["signer"]["fingerprint"], written.manifest_sha256, written.size,
                        time.perf_counter() - started)
