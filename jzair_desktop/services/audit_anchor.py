"""The audit chain's head anchored outside the database.

Anyone with the database file can rewrite the whole audit trail and recompute every hash. What such a
rewrite cannot do is agree with a head (sequence number and hash of the newest entry) that already left
the machine: every county package carries the county's head (signed with the package), every backup's
manifest and every monthly report (a fingerprint line in the footer of the last page, the full head in
the PDF's keywords) record it. `verify --against FILE` proves that the current chain still holds the
head recorded in FILE, so truncation and rewrites older than that file are caught.

The short form printed on paper, ``审计链 #67,419 · 3F2A1B7C…D45E9C01``, keeps 16 of the hash's 64 hex
digits (the first and last 8): forging a chain that matches it takes about 2^64 attempts.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jzair_desktop.errors import JzairError
from jzair_desktop.storage.models import AuditEntry

HEAD_KEY = "audit_head"  # the key in package and backup manifests
PDF_KEYWORD = "jzair-audit-head"  # in a report PDF's keywords: jzair-audit-head:SEQ:HASH
SHORT_DIGITS = 8

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SHORT = re.compile(r"审计链\s*#\s*([\d,，]+)\s*[·・.]\s*([0-9A-Fa-f]{8})\s*[…\.]+\s*([0-9A-Fa-f]{8})")
_KEYWORD = re.compile(PDF_KEYWORD + r":(\d+):([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class Head:
    """A chain head: the newest entry's seq and hash (seq 0: an empty chain). `hash` may be only the
    short form's first and last digits (`prefix`, `suffix`) when read from paper."""

    seq: int
    hash: str = ""
    prefix: str = ""
    suffix: str = ""

    @property
    def short(self) -> str:
        """The line printed on reports: 审计链 #67,419 · 3F2A1B7C…D45E9C01."""
        if self.seq == 0:
            return "审计链 #0（尚无审计记录）"
        first = (self.hash[:SHORT_DIGITS] or self.prefix).upper()
        last = (self.hash[-SHORT_DIGITS:] or self.suffix).upper()
        return f"审计链 #{self.seq:,} · {first}…{last}"

    def matches(self, digest: str) -> bool:
        if self.hash:
            return digest == self.hash
        return digest.startswith(self.prefix.lower()) and digest.endswith(self.suffix.lower())

    def as_json(self) -> dict[str, object]:
        return {"seq": self.seq, "hash": self.hash}


def current_head(s: Session) -> Head:
    row = s.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return Head(row[0], row[1]) if row is not None else Head(0, "0" * 64)


def head_from_json(value: object) -> Head | None:
    """A head as written into a manifest ({"seq": int, "hash": hex}); None when malformed."""
    if not isinstance(value, dict):
        return None
    seq, digest = value.get("seq"), value.get("hash")
    if type(seq) is not int or seq < 0 or not isinstance(digest, str) or not _HEX64.match(digest):
        return None
    return Head(seq, digest)


def parse_short(text: str) -> Head | None:
    """The head in a fingerprint line typed from paper (审计链 #67,419 · 3F2A1B7C…D45E9C01), or None."""
    m = _SHORT.search(text)
    if m is None:
        return None
    seq = int(re.sub(r"[,，]", "", m.group(1)))
    return Head(seq, prefix=m.group(2).lower(), suffix=m.group(3).lower())


@dataclass(frozen=True, slots=True)
class Anchor:
    head: Head
    source: str  # what recorded it, as the user reads it: 报送包“x.jzpkg”（第 3 号）
    fingerprint: str | None = None  # the signer of a package


def _pdf_anchor(path: Path) -> Anchor:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise JzairError(f"无法读取 PDF 文件：{path}（{exc}）") from exc
    try:
        keywords = str(doc.get_metadata_dict().get("Keywords") or "")
        m = _KEYWORD.search(keywords)
        if m is not None:
            return Anchor(Head(int(m.group(1)), m.group(2)), f"月报“{path.name}”")
        if len(doc) > 0:  # the printed line on the last page
            page = doc[len(doc) - 1]
            text = page.get_textpage().get_text_range()
            head = parse_short(text)
            if head is not None:
                return Anchor(head, f"月报“{path.name}”最后一页的审计链指纹")
    finally:
        doc.close()
    raise JzairError(f"该 PDF 中没有审计链指纹（不是本程序生成的月报，或由旧版本程序生成）：{path}")


def read_anchor(path: str | Path) -> Anchor:
    """The head recorded in a county package (.jzpkg), a backup (.jzbak) or a report PDF."""
    path = Path(path)
    if not path.is_file():
        raise JzairError(f"找不到文件：{path}")
    try:
        with path.open("rb") as fh:
            magic = fh.read(5)
    except OSError as exc:
        raise JzairError(f"无法读取文件：{path}（{exc.strerror or exc}）") from exc
    if magic.startswith(b"%PDF"):
        return _pdf_anchor(path)
    if not zipfile.is_zipfile(path):
        raise JzairError(f"无法识别的文件（应为报送包 .jzpkg、备份 .jzbak 或月报 PDF）：{path}")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    if "signature.sig" in names:
        from jzair_desktop.exchange import jzpkg
        from jzair_desktop.storage import migrate

        pkg = jzpkg.read_package(path, schema_revision=migrate.head_revision())
        head = head_from_json(pkg.manifest.get(HEAD_KEY))
        if head is None:
            raise JzairError(f"该报送包中没有审计链位置（由旧版本程序导出，或不是县级报送包）：{path}")
        return Anchor(head, f"报送包“{path.name}”（第 {pkg.sequence} 号）", pkg.fingerprint)
    from jzair_desktop.services import backup

    info = backup.read_manifest(path)
    if info.audit_head is None:
        raise JzairError(f"该备份的清单中没有审计链位置（由旧版本程序制作）：{path}")
    return Anchor(info.audit_head, f"备份“{path.name}”（{info.created_at:%Y-%m-%d %H:%M}）")
