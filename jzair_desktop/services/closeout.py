"""Close-out (销号) of boiler, kiln and VOCs records: evidence files and the reviewer's name.

Setting a record to 已销号 needs at least one evidence file (a JPEG or PNG photo or a PDF, at most
10 MB, its type recognised from its content, stored in the database with its SHA-256) and the name of
the reviewer. A closed record is read-only except for a city administrator, who must give a reason
(services.guards). Every upload and close-out is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jzair_desktop.domain.ledgers import LedgerDef, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, NotFoundError, PermissionDenied, ValidationFailed
from jzair_desktop.services import audit, installation, personal
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.guards import CLOSED, guard, has_closed_status, label_of, state_of, values_of
from jzair_desktop.services.ledgers import now
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import LEDGER_MODELS, Closeout, EvidenceFile

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_REVIEWER_LENGTH = 64

# content type -> (what the user reads, file name endings that may carry it)
EVIDENCE_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "image/jpeg": ("JPEG 照片", (".jpg", ".jpeg")),
    "image/png": ("PNG 图片", (".png",)),
    "application/pdf": ("PDF 文件", (".pdf",)),
}
ALLOWED_TEXT = "JPEG/PNG 照片或 PDF 文件"


def sniff_type(data: bytes) -> str | None:
    """The content type recognised from the leading bytes (magic numbers), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclass(frozen=True, slots=True)
class EvidenceFileData:
    """A checked file, ready to store."""

    file_name: str
    mime: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_evidence(path: str | Path) -> EvidenceFileData:
    """Read and check an evidence file: exists, at most 10 MB, really a JPEG/PNG/PDF matching its name."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise JzairError(f"佐证材料文件不存在：{path}")
    try:
        size = path.stat().st_size
        if size > MAX_EVIDENCE_BYTES:
            raise JzairError(
                f"佐证材料“{name}”太大（{size / 1024 / 1024:.1f} MB），单个文件不能超过 "
                f"{MAX_EVIDENCE_BYTES // 1024 // 1024} MB。请压缩照片或拆分 PDF 后再上传。")
        with path.open("rb") as fh:
            data = fh.read(MAX_EVIDENCE_BYTES + 1)
    except OSError as exc:
        raise JzairError(f"无法读取佐证材料：{path}（{exc.strerror}）") from exc
    return check_evidence(name, data)


def check_evidence(name: str, data: bytes) -> EvidenceFileData:
    """Check bytes given with a file name (the GUI and tests use this directly)."""
    if len(data) > MAX_EVIDENCE_BYTES:
        raise JzairError(
            f"佐证材料“{name}”太大（{len(data) / 1024 / 1024:.1f} MB），单个文件不能超过 "
            f"{MAX_EVIDENCE_BYTES // 1024 // 1024} MB。")
    if not data:
        raise JzairError(f"佐证材料“{name}”是空文件。")
    mime = sniff_type(data)
    suffix = Path(name).suffix.lower()
    if mime is None:
        raise JzairError(f"佐证材料“{name}”不是有效的{ALLOWED_TEXT}（按文件内容识别，与扩展名无关）。")
    label, suffixes = EVIDENCE_TYPES[mime]
    if suffix not in suffixes:
        raise JzairError(
            f"佐证材料“{name}”的内容是{label}，与扩展名“{suffix or '（无）'}”不符。"
            f"请使用正确扩展名的文件（{'、'.join(suffixes)}）。")
    return EvidenceFileData(name, mime, data)


@dataclass(frozen=True, slots=True)
class EvidenceInfo:
    id: int
    ledger: str
    record_uuid: str
    file_name: str
    mime: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str

    @property
    def type_label(self) -> str:
        return EVIDENCE_TYPES.get(self.mime, (self.mime, ()))[0]


def _info(row: EvidenceFile) -> EvidenceInfo:
    return EvidenceInfo(row.id, row.ledger, row.record_uuid, row.file_name, row.mime, row.size, row.sha256,
                        row.uploaded_at, row.uploaded_by)


def evidence_state(row: EvidenceFile) -> dict[str, Any]:
    """The audited state of an evidence file (its content only by SHA-256)."""
    return {
        "id": row.id, "ledger": row.ledger, "record_uuid": row.record_uuid, "file_name": row.file_name,
        "mime": row.mime, "size": row.size, "sha256": row.sha256,
        "uploaded_at": row.uploaded_at, "uploaded_by": row.uploaded_by,
    }


@dataclass(frozen=True, slots=True)
class CloseoutInfo:
    ledger: str
    record_uuid: str
    reviewer: str
    closed_at: dt.datetime
    closed_by: str
    evidence: tuple[EvidenceInfo, ...]


# --- in a transaction ---------------------------------------------------------------------------


def _closable_ledger(ledger_key: str) -> LedgerDef:
    d = ledger(ledger_key)
    if not has_closed_status(d):
        raise JzairError(f"{d.title}台账没有“{CLOSED}”状态，不需要销号。")
    return d


def _load_record(s: Session, d: LedgerDef, record_uuid: str, actor: Actor) -> Any:
    model = LEDGER_MODELS[d.key]
    obj = s.scalar(select(model).where(model.uuid == record_uuid))
    if obj is None:
        raise NotFoundError(f"找不到该记录（{d.title}，编号 {record_uuid}）。")
    installation.check_write(s, actor, obj.unit_code, unit_name=reference().unit_by_code(obj.unit_code).name)
    if obj.deleted_at is not None:
        raise JzairError(f"{d.title}记录“{label_of(d, obj)}”已删除，请先恢复。")
    return obj


def _store(s: Session, d: LedgerDef, obj: Any, f: EvidenceFileData, actor: Actor) -> EvidenceInfo:
    if obj.status == CLOSED and not actor.is_city:
        raise JzairError(f"{d.title}记录“{label_of(d, obj)}”已销号，只读；只有市级管理员可以补充佐证材料。")
    row = EvidenceFile(ledger=d.key, record_uuid=obj.uuid, file_name=f.file_name[:255], mime=f.mime, size=f.size,
                       sha256=f.sha256, data=f.data, uploaded_at=now(), uploaded_by=actor.name)
    s.add(row)
    s.flush()
    audit.append(s, actor, "evidence", ledger=d.key, uuid=obj.uuid, unit_code=obj.unit_code,
                 after=evidence_state(row), detail=f"{f.file_name}（{f.size} 字节，SHA-256 {f.sha256[:12]}…）")
    return _info(row)


def _evidence_count(s: Session, ledger_key: str, record_uuid: str) -> int:
    return int(s.scalar(select(func.count(EvidenceFile.id)).where(
        EvidenceFile.ledger == ledger_key, EvidenceFile.record_uuid == record_uuid)) or 0)


# --- public -------------------------------------------------------------------------------------


def attach_evidence(db: Database, ledger_key: str, record_uuid: str, path: str | Path, actor: Actor) -> EvidenceInfo:
    """Store one checked evidence file for a record (nothing is stored when a check fails)."""
    d = _closable_ledger(ledger_key)
    f = read_evidence(path)
    return attach_evidence_data(db, d.key, record_uuid, f, actor)


def attach_evidence_data(
    db: Database, ledger_key: str, record_uuid: str, f: EvidenceFileData, actor: Actor,
) -> EvidenceInfo:
    d = _closable_ledger(ledger_key)
    with write_session(db.engine) as s:
        obj = _load_record(s, d, record_uuid, actor)
        return _store(s, d, obj, f, actor)


def close_out(
    db: Database, ledger_key: str, record_uuid: str, reviewer: str, actor: Actor, *,
    evidence: Sequence[str | Path | EvidenceFileData] = (),
) -> CloseoutInfo:
    """Set a record to 已销号 with the reviewer's name, storing `evidence` files first (one transaction).

    Needs at least one evidence file in total and an actual (done) date. A record whose work is already
    done may be closed out even in a submitted month (the submitted figures count 已完成 and 已销号 alike);
    an open record in a locked month is refused like any other edit.
    """
    d = _closable_ledger(ledger_key)
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise JzairError("销号必须填写审核人姓名（--reviewer）。")
    if len(reviewer) > MAX_REVIEWER_LENGTH:
        raise JzairError(f"审核人姓名太长（最多 {MAX_REVIEWER_LENGTH} 个字）。")
    files = [f if isinstance(f, EvidenceFileData) else read_evidence(f) for f in evidence]
    with write_session(db.engine) as s:
        obj = _load_record(s, d, record_uuid, actor)
        label = label_of(d, obj)
        if obj.status == CLOSED:
            raise JzairError(f"{d.title}记录“{label}”已经销号。")
        done_col = d.column(d.done_date_field)
        if getattr(obj, d.done_date_field) is None:
            raise ValidationFailed(f"{d.title}记录“{label}”还没有{done_col.header}，销号前请先填写并把状态改为已完成。")
        g = guard(s, d, actor)
        if obj.status not in d.done_statuses:
            g.check_lock(values_of(d, obj), "销号")
        for f in files:
            _store(s, d, obj, f, actor)
        total = _evidence_count(s, d.key, obj.uuid)
        if total == 0:
            raise ValidationFailed(
                f"{d.title}记录“{label}”没有佐证材料，不能销号。请至少上传一份现场照片（JPEG/PNG）或 PDF 文件"
                "（命令行：--evidence 文件）。")
        before = state_of(s, d, obj)
        stamp = now()
        row = s.get(Closeout, (d.key, obj.uuid))
        if row is None:
            row = Closeout(ledger=d.key, record_uuid=obj.uuid, reviewer=reviewer, closed_at=stamp, closed_by=actor.name)
            s.add(row)
        else:
            row.reviewer, row.closed_at, row.closed_by = reviewer, stamp, actor.name
        obj.status = CLOSED
        obj.updated_at, obj.updated_by = stamp, actor.name
        s.flush()
        audit.append(s, actor, "closeout", ledger=d.key, uuid=obj.uuid, unit_code=obj.unit_code, before=before,
                     after=state_of(s, d, obj), detail=f"审核人：{reviewer}；佐证材料 {total} 份")
        all_files = [_info(r) for r in s.scalars(select(EvidenceFile).where(
            EvidenceFile.ledger == d.key, EvidenceFile.record_uuid == obj.uuid).order_by(EvidenceFile.id))]
        return CloseoutInfo(d.key, obj.uuid, reviewer, stamp, actor.name, tuple(all_files))


def _record_unit(s: Session, ledger_key: str, record_uuid: str) -> str | None:
    model = LEDGER_MODELS.get(ledger_key)
    return s.scalar(select(model.unit_code).where(model.uuid == record_uuid)) if model is not None else None


def list_evidence(db: Database, ledger_key: str, record_uuid: str, *, actor: Actor | None = None) -> list[EvidenceInfo]:
    """The evidence files of a record (names, sizes); refused for a unit `actor` may not read."""
    with read_session(db.engine) as s:
        personal.check_read(actor, _record_unit(s, ledger_key, record_uuid))
        rows = s.scalars(select(EvidenceFile).where(
            EvidenceFile.ledger == ledger_key, EvidenceFile.record_uuid == record_uuid).order_by(EvidenceFile.id))
        return [_info(r) for r in rows]


def evidence_bytes(db: Database, evidence_id: int, *, actor: Actor | None = None) -> tuple[EvidenceInfo, bytes]:
    """An evidence file's content: photos and scans show a household's personal data, which cannot be
    masked, so only for an actor who may read that record's personal data whole."""
    with read_session(db.engine) as s:
        row = s.get(EvidenceFile, evidence_id)
        if row is None:
            raise NotFoundError(f"找不到佐证材料（编号 {evidence_id}）。")
        unit = _record_unit(s, row.ledger, row.record_uuid)
        personal.check_read(actor, unit)
        if not personal.may_read_whole(actor, unit):
            raise PermissionDenied("佐证材料原件中可能有个人信息，只读用户不能打开。")
        return _info(row), bytes(row.data)


def closeout_info(db: Database, ledger_key: str, record_uuid: str) -> CloseoutInfo | None:
    with read_session(db.engine) as s:
        row = s.get(Closeout, (ledger_key, record_uuid))
        if row is None:
            return None
        files = tuple(_info(r) for r in s.scalars(select(EvidenceFile).where(
            EvidenceFile.ledger == ledger_key, EvidenceFile.record_uuid == record_uuid).order_by(EvidenceFile.id)))
        return CloseoutInfo(row.ledger, row.record_uuid, row.reviewer, row.closed_at, row.closed_by, files)
