"""Importing packages: everything is checked before anything is written, then one transaction writes.

A county package (on the city machine, city_admin only):
  1. the file (exchange.jzpkg.read_package): zip structure, member names and sizes, manifest, signature,
     schema revision, every member's SHA-256;
  2. against this database, reading only: not signed by this installation's own key; the signer's key
     is the one pinned for the unit (or none is pinned yet: the first import pins it); the same package
     imported before (then nothing is written, and the result says so); the sequence number is newer
     than every package of that unit imported before (else: an old or replayed package);
  3. the content: every line's fields and types, every record of the unit's code and valid by
     domain.validation.check_record, no record UUID that belongs to another unit here, monthly figures,
     air quality, submissions and the county's audit entries (each entry's hash recomputed);
  4. one write transaction: records upserted by UUID with the package's values and bookkeeping
     (created/updated/deleted as the county has them), tombstones applied, close-outs, monthly figures
     and air quality replaced by the package's, submissions upserted, the county's audit entries stored
     apart (package_audit_entries), the import recorded in package_imports, and this machine's own audit
     trail told about every change (so `audit verify` keeps matching the data).
Records of other units are never read for writing, let alone changed.

A targets package (on a county machine) goes through 1 and 2 with the city's pin, then replaces the
county's copy of every unit's targets and the air-quality targets in one transaction.

A dry run (preview) stops after 3 and reports, per ledger and table, how many rows are new, changed,
deleted and unchanged.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.exchange import jzpkg
from jzair_desktop.services import audit, authority, installation
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.audit_anchor import Head
from jzair_desktop.services.database import Database
from jzair_desktop.services.packages.common import Change, Plan, refuse, row_titles
from jzair_desktop.services.packages.county import CountyJob
from jzair_desktop.services.packages.keys import (
    AUDIT_SUBJECT,
    SCOPE_CITY,
    own_fingerprint,
    record_pin,
    scope_name,
)
from jzair_desktop.services.packages.targets import TargetsJob
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import (
    PackageImport,
    PackagePin,
)
from jzair_desktop.taskstate import NULL_STATE, TaskState

ACTION_IMPORT = "package_import"


@dataclass(frozen=True)
class ImportPreview:
    path: Path
    kind: str  # county | targets
    scope: str  # the unit's code, or 'city'
    unit_code: str | None
    unit_name: str | None
    month: str | None
    sequence: int
    created_at: str
    created_by: str
    app_version: str
    fingerprint: str
    manifest_sha256: str
    pin: str  # 'pinned': signed by the pinned key; 'first': no key pinned yet, this import pins it
    already_imported: dt.datetime | None  # when this very package was imported before (nothing to do)
    changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = ()
    # The county's audit chain against the head received last: 'first' (none received yet), 'extends',
    # 'legacy' (a package without a head, accepted with a warning while none was received), 'fork'
    # (does not extend it: imported only with a reason); '' for targets packages. `chain_note` says it.
    chain: str = ""
    chain_note: str = ""

    @property
    def kind_label(self) -> str:
        return jzpkg.KIND_LABELS[self.kind]

    @property
    def fingerprint_display(self) -> str:
        return jzpkg.format_fingerprint(self.fingerprint)

    @property
    def source_name(self) -> str:
        return self.unit_name if self.kind == jzpkg.KIND_COUNTY else "市级"

    @property
    def total_changes(self) -> int:
        return sum(c.total_changes for c in self.changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path), "kind": self.kind, "unit_code": self.unit_code, "unit_name": self.unit_name,
            "month": self.month, "sequence": self.sequence, "created_at": self.created_at,
            "created_by": self.created_by, "app_version": self.app_version, "fingerprint": self.fingerprint,
            "manifest_sha256": self.manifest_sha256, "pin": self.pin,
            "already_imported": self.already_imported.isoformat(sep=" ") if self.already_imported else None,
            "changes": [c.as_json() for c in self.changes], "warnings": list(self.warnings),
            "chain": self.chain, "chain_note": self.chain_note,
        }


@dataclass(frozen=True)
class ImportResult:
    preview: ImportPreview
    imported: bool  # False: a dry run, or the same package was imported before
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {**self.preview.as_json(), "imported": self.imported, "seconds": round(self.seconds, 3)}


# --- the checks against this database shared by both kinds ----------------------------------------


def _identical(s: Session, scope: str, manifest_sha256: str) -> PackageImport | None:
    return s.scalar(select(PackageImport).where(PackageImport.scope == scope,
                                                PackageImport.manifest_sha256 == manifest_sha256).limit(1))


def _check_signer(s: Session, pkg: jzpkg.SignedPackage, scope: str) -> str:
    """'pinned' or 'first'; refuses our own key and a key other than the pinned one."""
    if own_fingerprint(s) == pkg.fingerprint:
        raise refuse(pkg, "它是由本机导出的（签名密钥是本机自己的公钥），不能导入本机。")
    pin = s.get(PackagePin, scope)
    if pin is None:
        return "first"
    if pin.fingerprint != pkg.fingerprint:
        who = scope_name(scope)
        how = ("请市级管理员核实后重新绑定：jzair package pin --county 县区 --fingerprint 指纹（或 --from 报送包）"
               if scope != SCOPE_CITY else "请核实后重新绑定：jzair package pin --city --fingerprint 指纹（或 --from 任务包）")
        raise refuse(
            pkg,
            f"签名公钥与本机为{who}绑定的公钥不一致，可能是伪造的报送包，或对方重装了程序。\n"
            f"报送包的公钥指纹：{jzpkg.format_fingerprint(pkg.fingerprint)}\n"
            f"已绑定的公钥指纹：{jzpkg.format_fingerprint(pin.fingerprint)}\n"
            f"请电话核对指纹；确认无误后，{how}。",
        )
    return "pinned"


def _check_installation(s: Session, pkg: jzpkg.SignedPackage, actor: Actor) -> None:
    """A county installation holds its own unit only: it never imports a county package (the city does); the
    city never imports a targets package (it makes them)."""
    if pkg.kind == jzpkg.KIND_COUNTY:
        installation.check_city_only(s, f"导入{scope_name(pkg.unit_code or '')}的报送包")
    authority.check_installation(
        actor, authority.ACT_IMPORT_COUNTY if pkg.kind == jzpkg.KIND_COUNTY else authority.ACT_IMPORT_TARGETS, s)


def _check_sequence(s: Session, pkg: jzpkg.SignedPackage, scope: str) -> None:
    """Newer than every package of the scope signed by the same key (a new key, once pinned, starts afresh)."""
    last = s.scalar(select(func.max(PackageImport.sequence)).where(PackageImport.scope == scope,
                                                                   PackageImport.fingerprint == pkg.fingerprint))
    if last is not None and pkg.sequence <= last:
        kind = "重复发送（序号相同但内容不同）" if pkg.sequence == last else "旧的"
        raise refuse(
            pkg,
            f"序号 {pkg.sequence} 不大于已导入的{scope_name(scope)}报送包的最新序号 {last}："
            f"这是{kind}报送包（可能是重放），已拒绝。请对方重新导出最新的报送包。",
        )


@dataclass(frozen=True)
class ChainCheck:
    status: str  # first | extends | legacy | fork
    note: str  # what the user reads ('' when it simply extends)
    last: Head | None  # the head received last from this unit (same signing key)


def last_head(s: Session, scope: str, fingerprint: str) -> tuple[Head, PackageImport] | None:
    """The county chain head received last from `scope` signed by `fingerprint`, with its import."""
    row = s.scalar(select(PackageImport).where(
        PackageImport.scope == scope, PackageImport.fingerprint == fingerprint, PackageImport.chain_seq.is_not(None),
    ).order_by(PackageImport.id.desc()).limit(1))
    return (Head(row.chain_seq, row.chain_hash or ""), row) if row is not None else None


def _check_chain(s: Session, pkg: jzpkg.SignedPackage, job: CountyJob, scope: str) -> ChainCheck:
    """Does the county's chain extend the head this machine received last from it? Refuses a package that
    drops the head once one was received (a package of an older version only while none was)."""
    got = last_head(s, scope, pkg.fingerprint)
    who = scope_name(scope)
    if job.head is None:
        if got is not None:
            raise refuse(pkg, f"报送包没有审计链位置，但本机已收到过{who}带审计链位置的报送包（第 {got[1].sequence} 号）："
                              "可能由旧版本程序导出，或审计链位置被去掉了。请对方安装最新版本的程序后重新导出。")
        return ChainCheck("legacy", f"该报送包由旧版本程序导出，没有审计链位置：本次导入不核对{who}审计链的衔接；"
                                    "此后的报送包必须带审计链位置。", None)
    if got is None:
        return ChainCheck("first", "", None)
    last, row = got
    if job.extends(last):
        return ChainCheck("extends", "", last)
    have = len(job.links or [])
    how = (f"报送包的审计链只有 {have:,} 条（少于上次收到的第 {last.seq:,} 条）" if have < last.seq
           else f"报送包审计链的第 {last.seq:,} 条与上次收到的不同")
    return ChainCheck("fork", (
        f"{who}的审计链与本机上次收到的不衔接（分叉）：上次收到的报送包第 {row.sequence} 号"
        f"（{row.imported_at:%Y-%m-%d %H:%M} 导入）记录到 {last.short}，{how}（本包 {job.head.short}）。"
        f"可能是{who}从较早的备份恢复了数据库，或审计记录在{who}被删除或改写。请电话核实；确认后须填写原因才能导入，"
        "原因记入审计记录，原有的审计记录予以保留并标记为已被取代。"), last)


# --- the entry points -----------------------------------------------------------------------------


def _job_for(pkg: jzpkg.SignedPackage, actor: Actor) -> tuple[CountyJob | TargetsJob, str]:
    if pkg.kind == jzpkg.KIND_COUNTY:
        actor.check_city("导入县级报送包")
        authority.check_installation(actor, authority.ACT_IMPORT_COUNTY)
        job: CountyJob | TargetsJob = CountyJob(pkg, actor)
        return job, job.unit.code
    # Replacing every unit's targets and trusting the city's key: the installation administrator's act.
    authority.check_administrator(actor, authority.ACT_IMPORT_TARGETS)
    return TargetsJob(pkg, actor), SCOPE_CITY


def _preview(pkg: jzpkg.SignedPackage, scope: str, pin: str, plan: Plan | None,
             already: dt.datetime | None, chain: ChainCheck | None = None) -> ImportPreview:
    m = pkg.manifest
    order = list(row_titles())
    changes = tuple(sorted(plan.changes.values(), key=lambda c: order.index(c.key))) if plan else ()
    return ImportPreview(
        path=pkg.path, kind=pkg.kind, scope=scope, unit_code=pkg.unit_code,
        unit_name=scope_name(scope) if pkg.kind == jzpkg.KIND_COUNTY else None, month=pkg.month,
        sequence=pkg.sequence, created_at=m["created_at"], created_by=m["created_by"], app_version=m["app_version"],
        fingerprint=pkg.fingerprint, manifest_sha256=pkg.manifest_sha256, pin=pin, already_imported=already,
        changes=changes, warnings=tuple(plan.warnings) if plan else (),
        chain=chain.status if chain else "", chain_note=chain.note if chain else "",
    )


def _read(path: str | Path, state: TaskState) -> jzpkg.SignedPackage:
    return jzpkg.read_package(path, schema_revision=migrate.head_revision(),
                              progress=lambda text: state.progress(0, 0, text, force=True))


def preview_package(db: Database, path: str | Path, *, actor: Actor, state: TaskState | None = None) -> ImportPreview:
    """Check a package completely and say what importing it would change. Never writes."""
    return import_package(db, path, actor=actor, dry_run=True, state=state).preview


def import_package(
    db: Database, path: str | Path, *, actor: Actor, dry_run: bool = False, state: TaskState | None = None,
    accept_fork: str | None = None,
) -> ImportResult:
    """Check and (unless `dry_run`) import a package, all or nothing. Raises PackageError (Chinese, naming
    the reason) for anything refused; the database is then untouched. May run on a worker thread.

    A county package whose audit chain does not extend the head received last from that county (a fork)
    is refused unless `accept_fork` gives the reason, which is audited (a dry run shows the fork)."""
    accept_fork = (accept_fork or "").strip() or None
    started = time.perf_counter()
    state = state or NULL_STATE
    pkg = _read(path, state)
    job, scope = _job_for(pkg, actor)
    with read_session(db.engine) as s:
        _check_installation(s, pkg, actor)
        pin = _check_signer(s, pkg, scope)
        before = _identical(s, scope, pkg.manifest_sha256)
        if before is not None:
            return ImportResult(_preview(pkg, scope, pin, None, before.imported_at), False,
                                time.perf_counter() - started)
        _check_sequence(s, pkg, scope)
    job.decode(state)
    if dry_run:
        with read_session(db.engine) as s:
            chain = _check_chain(s, pkg, job, scope) if isinstance(job, CountyJob) else None
            plan = job.plan(s, state, for_write=False)
        return ImportResult(_preview(pkg, scope, pin, plan, None, chain), False, time.perf_counter() - started)

    with write_session(db.engine) as s:
        result = write_import(s, pkg, job, scope, actor, state, started, accept_fork=accept_fork)
    return result


def read_for_import(path: str | Path, *, state: TaskState | None = None) -> jzpkg.SignedPackage:
    """Read and check a package file (structure, signature, members); never touches a database."""
    return _read(path, state or NULL_STATE)


def write_import(
    s: Session, pkg: jzpkg.SignedPackage, job: CountyJob | TargetsJob, scope: str, actor: Actor,
    state: TaskState | None = None, started: float | None = None, *, accept_fork: str | None = None,
) -> ImportResult:
    """The write phase of an import in the caller's transaction (`job` already decoded): the checks against
    this database again, then every change, the history row, the pin on first import and the audit entries.
    The installation set-up imports the city's 任务包 through here, inside its own transaction."""
    state = state or NULL_STATE
    started = time.perf_counter() if started is None else started
    audit.check_actor(s, actor)
    _check_installation(s, pkg, actor)
    # Checked again under the write lock: another import may have run since.
    pin = _check_signer(s, pkg, scope)
    before = _identical(s, scope, pkg.manifest_sha256)
    if before is not None:
        return ImportResult(_preview(pkg, scope, pin, None, before.imported_at), False,
                            time.perf_counter() - started)
    _check_sequence(s, pkg, scope)
    chain = _check_chain(s, pkg, job, scope) if isinstance(job, CountyJob) else None
    if chain is not None and chain.status == "fork" and accept_fork is None:
        raise refuse(pkg, chain.note + "\n（命令行：jzair package import --accept-fork 原因 文件）")
    plan = job.plan(s, state, for_write=True)
    state.progress(0, 0, "正在写入……", force=True)
    for step in plan.apply:
        step(s)
        state.check_cancelled()
    now = dt.datetime.now()
    preview = _preview(pkg, scope, pin, plan, None, chain)
    counts = {c.key: c.as_json() for c in preview.changes}
    head = job.head if isinstance(job, CountyJob) else None
    forked = chain is not None and chain.status == "fork"
    history = PackageImport(
        kind=pkg.kind, scope=scope, unit_code=pkg.unit_code if pkg.kind == jzpkg.KIND_COUNTY else None,
        month=pkg.month, sequence=pkg.sequence, fingerprint=pkg.fingerprint, manifest_sha256=pkg.manifest_sha256,
        created_at=dt.datetime.fromisoformat(pkg.manifest["created_at"]), created_by=pkg.manifest["created_by"],
        app_version=pkg.manifest["app_version"], counts_json=audit.canonical_json(counts),
        imported_at=now.replace(microsecond=0), imported_by=actor.name,
        chain_seq=head.seq if head else None, chain_hash=head.hash if head else None,
        fork_reason=accept_fork if forked else None,
    )
    s.add(history)
    s.flush()
    superseded = job.supersede(s, history.id) if forked and isinstance(job, CountyJob) else 0
    job.store_audit(s, history.id)
    if forked:
        # The re-baseline of the county's chain on this machine: who accepted it, why, old and new heads.
        audit.append(s, actor, "chain_fork", ledger=AUDIT_SUBJECT, uuid=f"{scope}#{pkg.sequence}",
                     unit_code=pkg.unit_code,
                     before={"seq": chain.last.seq, "hash": chain.last.hash},
                     after={"seq": head.seq, "hash": head.hash, "reason": accept_fork},
                     detail=f"接受{scope_name(scope)}审计链分叉（报送包第 {pkg.sequence} 号）：上次收到 {chain.last.short}，"
                            f"本包 {head.short}；原有审计记录 {superseded} 条标记为已被取代。原因：{accept_fork}",
                     at=now)
    if pin == "first":
        record_pin(s, actor, scope, pkg.fingerprint, pkg.public_key, "first_import",
                   detail=f"首次导入{scope_name(scope)}的报送包第 {pkg.sequence} 号")
    audit.append_many(s, actor, "import", plan.pending, at=now)
    totals = [sum(getattr(c, f) for c in preview.changes if c.key in LEDGERS) for f in ("new", "changed", "deleted")]
    what = (f"{preview.unit_name} {pkg.month} 报送包" if pkg.kind == jzpkg.KIND_COUNTY else "市级任务包")
    audit.append(
        s, actor, ACTION_IMPORT, ledger=AUDIT_SUBJECT, uuid=f"{scope}#{pkg.sequence}",
        unit_code=pkg.unit_code if pkg.kind == jzpkg.KIND_COUNTY else None,
        after={"sequence": pkg.sequence, "manifest_sha256": pkg.manifest_sha256, "fingerprint": pkg.fingerprint,
               "counts": counts},
        detail=(f"导入{what}第 {pkg.sequence} 号（公钥指纹 {jzpkg.format_fingerprint(pkg.fingerprint)[:19]}…，"
                f"清单 SHA-256 {pkg.manifest_sha256[:16]}…）" +
                (f"：台账记录新增 {totals[0]} 条、修改 {totals[1]} 条、删除 {totals[2]} 条"
                 if pkg.kind == jzpkg.KIND_COUNTY else "")),
        at=now,
    )
    return ImportResult(preview, True, time.perf_counter() - started)


# --- history --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    kind: str
    scope: str
    name: str
    month: str | None
    sequence: int
    fingerprint: str
    manifest_sha256: str
    created_at: dt.datetime
    created_by: str
    imported_at: dt.datetime
    imported_by: str
    counts: dict[str, dict[str, int]]

    @property
    def fingerprint_display(self) -> str:
        return jzpkg.format_fingerprint(self.fingerprint)

    def total(self, what: str, *, ledgers_only: bool = True) -> int:
        return sum(c.get(what, 0) for k, c in self.counts.items() if not ledgers_only or k in LEDGERS)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "scope": self.scope, "name": self.name, "month": self.month,
                "sequence": self.sequence, "fingerprint": self.fingerprint, "manifest_sha256": self.manifest_sha256,
                "created_at": self.created_at.isoformat(sep=" "), "created_by": self.created_by,
                "imported_at": self.imported_at.isoformat(sep=" "), "imported_by": self.imported_by,
                "counts": self.counts}


def import_history(db: Database, *, scope: str | None = None, limit: int | None = None) -> list[HistoryRow]:
    """Imported packages, newest first (of one unit's code or 'city' with `scope`)."""
    stmt = select(PackageImport).order_by(PackageImport.imported_at.desc(), PackageImport.id.desc())
    if scope is not None:
        stmt = stmt.where(PackageImport.scope == scope)
    if limit is not None:
        stmt = stmt.limit(limit)
    with read_session(db.engine) as s:
        rows = list(s.scalars(stmt))
    return [HistoryRow(r.id, r.kind, r.scope, scope_name(r.scope), r.month, r.sequence, r.fingerprint,
                       r.manifest_sha256, r.created_at, r.created_by, r.imported_at, r.imported_by,
                       json.loads(r.counts_json)) for r in rows]
