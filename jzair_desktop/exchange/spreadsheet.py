"""One reader for every spreadsheet the app imports, whatever program saved it.

Formats, recognised by their content (the file name's extension is not trusted):
  xlsx  Office Open XML (.xlsx, .xlsm; also a WPS or LibreOffice file saved as such)
  xlsb  Excel binary workbook (.xlsb)
  xls   Excel 97-2003 (BIFF8 in an OLE compound document: .xls, and WPS's .et, which is the same format)
  ods   OpenDocument spreadsheet (.ods, LibreOffice/WPS)
  csv   text: .csv/.txt (encoding and delimiter detected)

`detect` names the format or refuses the file with a Chinese message naming it (password-protected,
Excel 5/95, a Word document, a picture …). `prescan` checks, streaming and before anything large is built,
what each format can hide: a sheet far over the row limit, a used range too large to hold, one huge text
cell, a huge shared-string table, a zip bomb, a corrupt compound document or BIFF record stream. `open_book`
then gives the sheets as rows of plain Python values (python-calamine for the workbook formats, the csv
module for text). The .xlsx pre-scan of the sheet XML itself (row count, extent, formulas without results)
lives in excel_import; the limits checked here come on top of it.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import os
import re
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jzair_desktop.errors import JzairError
from jzair_desktop.taskstate import NULL_STATE, TaskState

log = logging.getLogger(__name__)


class ExcelFileError(JzairError):
    """The file cannot be imported as a whole (unreadable, no header row, required columns missing …)."""


XLSX, XLSB, XLS, ODS, CSV = "xlsx", "xlsb", "xls", "ods", "csv"
FORMAT_LABELS = {
    XLSX: "Excel 工作簿（.xlsx）",
    XLSB: "Excel 二进制工作簿（.xlsb）",
    XLS: "Excel 97-2003 工作簿（.xls/.et）",
    ODS: "OpenDocument 表格（.ods）",
    CSV: "文本表格（CSV）",
}
# What the file dialogs offer (the import reads every one of them; template and exports stay .xlsx).
IMPORT_PATTERNS = "*.xlsx *.xlsm *.xls *.xlsb *.et *.ods *.csv *.txt"
IMPORT_FILTER = f"所有表格文件 ({IMPORT_PATTERNS});;Excel 工作簿 (*.xlsx *.xlsm);;Excel 97-2003 / WPS 表格 (*.xls *.et);;" \
    "Excel 二进制工作簿 (*.xlsb);;OpenDocument 表格 (*.ods);;文本表格 (*.csv *.txt);;所有文件 (*)"

# --- limits (each checked before the data is loaded) ---------------------------------------------------
MAX_CELL_BYTES = 256 << 10  # one cell's text in a file: Excel allows 32,767 characters (≤ 200 KB as XML)
MAX_SHARED_STRINGS_BYTES = 256 << 20  # an .xlsx's shared-string table, unpacked
MAX_SHARED_STRINGS = 3_000_000  # distinct texts in one workbook (300,000 rows × 10 columns)
MAX_PART_BYTES = 64 << 20  # any other XML/binary part of a zip workbook, unpacked (styles, workbook, …)
MAX_BINARY_BYTES = 64 << 20  # an .xls/.et file (BIFF8 holds at most 65,536 rows a sheet: about 15 MB)
MAX_CSV_BYTES = 100 << 20  # a text file (300,000 rows of the heating ledger are about 36 MB)
MAX_LINE_BYTES = 1 << 20  # one line of a text file
MAX_ODS_XML_BYTES = 2 << 30  # an .ods's content.xml, unpacked
MAX_XLSB_SHEET_BYTES = 1 << 30  # an .xlsb sheet, unpacked

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CHUNK = 1 << 20


def size_text(n: int) -> str:
    return f"{n / (1 << 30):.0f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MB"


def _damaged(name: str, what: str = "") -> ExcelFileError:
    detail = f"（{what}）" if what else ""
    return ExcelFileError(f"文件“{name}”已损坏{detail}，无法读取。请重新保存或重新获取该文件。")


def _resave_hint(name: str, what: str) -> ExcelFileError:
    return ExcelFileError(f"文件“{name}”{what}请在 Excel 或 WPS 中打开，另存为“Excel 工作簿（*.xlsx）”后再导入。")


# --- recognising the format ------------------------------------------------------------------------

_OTHER_TYPES = (
    (b"%PDF", "PDF 文档"), (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"),
    (b"BM", "BMP 图片"), (b"Rar!", "RAR 压缩包"), (b"7z\xbc\xaf", "7z 压缩包"), (b"\x1f\x8b", "gzip 压缩包"),
    (b"SQLite format 3", "SQLite 数据库"), (b"{\\rtf", "RTF 文档"), (b"MZ", "程序文件"),
)


def detect(path: Path) -> str:
    """The format of `path` (XLSX, XLSB, XLS, ODS, CSV) by its content; ExcelFileError for anything else."""
    name = path.name
    if not path.exists():
        raise ExcelFileError(f"找不到文件：{path}")
    if path.is_dir():
        raise ExcelFileError(f"“{name}”是一个文件夹，不是表格文件。")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ExcelFileError(f"无法读取文件“{name}”：{exc.strerror or exc}") from exc
    if size == 0:
        raise ExcelFileError(f"文件“{name}”是空的（0 字节），不是有效的表格文件。")
    if head.startswith(ZIP_MAGIC):
        return _zip_format(path)
    if head.startswith(OLE_MAGIC):
        return XLS  # what kind of compound document it is, prescan tells (it reads the directory)
    for magic, what in _OTHER_TYPES:
        if head.startswith(magic) and not (magic == b"BM" and _looks_like_text(head)):
            raise ExcelFileError(f"文件“{name}”是{what}，不是表格文件。请选择 Excel、WPS 或 CSV 格式的台账文件。")
    if head[:2] in (b"\x09\x00", b"\x09\x02", b"\x09\x04") and len(head) > 8 and not _looks_like_text(head):
        raise _resave_hint(name, "是很旧的 Excel 格式（Excel 4.0 或更早），程序无法读取。")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"mime-version")):
        raise _resave_hint(name, "是网页或 XML 格式的表格（常见于从网站导出的“假 Excel 文件”），不是真正的表格文件。")
    if not _looks_like_text(head):
        raise ExcelFileError(
            f"文件“{name}”不是表格文件（既不是 Excel/WPS/LibreOffice 工作簿，也不是 CSV 文本），无法识别其格式。"
            "请确认选择的是台账文件。"
        )
    return CSV


def _looks_like_text(head: bytes) -> bool:
    """Text in UTF-8/GBK/UTF-16 (with BOM): no NUL outside UTF-16, few control characters."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls <= max(2, len(head) // 100)


def _zip_format(path: Path) -> str:
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            names = {i.filename for i in zf.infolist()}
            lower = {n.lower() for n in names}
            mimetype = b""
            if "mimetype" in names:
                with zf.open("mimetype") as fh:
                    mimetype = fh.read(200)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, zlib.error, EOFError) as exc:
        raise ExcelFileError(f"文件“{name}”已损坏（压缩包不完整或已破损），无法读取。请重新保存或重新获取该文件。") from exc
    if "xl/workbook.xml" in lower:
        return XLSX
    if "xl/workbook.bin" in lower:
        return XLSB
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet") or (
        not mimetype and "content.xml" in names and "meta.xml" in names
    ):
        return ODS
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text") or "word/document.xml" in lower:
        raise ExcelFileError(f"文件“{name}”是 Word/文字处理文档，不是表格文件。")
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        raise ExcelFileError(f"文件“{name}”是 OpenDocument 的演示或其他文档，不是表格文件。")
    if "ppt/presentation.xml" in lower:
        raise ExcelFileError(f"文件“{name}”是演示文稿（PowerPoint），不是表格文件。")
    raise ExcelFileError(f"文件“{name}”是一个压缩包，里面没有表格内容。请先解压，再选择其中的台账文件。")


# --- streaming checks shared by the zip formats ----------------------------------------------------


class RunCheck:
    """The longest stretch without `stop` in a byte stream fed in chunks (one cell's text: text in XML
    holds no '<'), found cheaply: a stretch of `limit` bytes holds one of the chunk's points every
    limit/2 bytes, so only those points are looked at."""

    def __init__(self, limit: int, stop: bytes = b"<") -> None:
        self.limit = limit
        self.stop = stop
        self.run = 0  # bytes without `stop` at the end of what was fed so far

    def feed(self, chunk: bytes) -> bool:
        """False once a stretch longer than the limit was seen."""
        stop, limit = self.stop, self.limit
        first = chunk.find(stop)
        if first < 0:
            self.run += len(chunk)
            return self.run <= limit
        if self.run + first > limit:
            return False
        step = max(1, limit // 2)
        for p in range(first, len(chunk), step):
            i = chunk.rfind(stop, 0, p + 1)
            j = chunk.find(stop, p + 1)
            if j < 0:
                break
            if j - i - 1 > limit:
                return False
        self.run = len(chunk) - chunk.rfind(stop) - 1
        return self.run <= limit


def too_long_cell(name: str, where: str) -> ExcelFileError:
    return ExcelFileError(
        f"文件“{name}”的{where}有一个单元格的文字超过 {MAX_CELL_BYTES // 1024} KB（Excel 一个单元格最多 32,767 个字），"
        "文件可能已损坏或被篡改，程序不读取它。请检查该文件，删除过长的内容后再导入。"
    )


def stream_member(zf: zipfile.ZipFile, member: str, limit: int, name: str, *, cells: bool = True,
                  state: TaskState = NULL_STATE) -> int:
    """Unpack a zip member without keeping it: its real size (the directory's word is not trusted) must stay
    under `limit` and, for XML with cells, no text may be longer than a cell can hold. Returns the size."""
    size = 0
    run = RunCheck(MAX_CELL_BYTES)
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            state.check_cancelled()
            size += len(chunk)
            if size > limit:
                raise ExcelFileError(
                    f"文件“{name}”解压后的内容（{member}）超过 {size_text(limit)}，超过单次导入的上限，"
                    "文件可能已损坏或是“压缩炸弹”。请检查该文件，或拆分成几个文件分别导入。"
                )
            if cells and not run.feed(chunk):
                raise too_long_cell(name, f"“{member}”中")
    return size


_SI = re.compile(rb"<(?:\w+:)?si[\s>/]")


def _count_si(buf: bytes) -> int:
    """<si> elements (string items) in a piece of the shared-string table; bytes.count for the usual
    unprefixed form, the regex only for a table written with a namespace prefix (rare)."""
    n = buf.count(b"<si>") + buf.count(b"<si ") + buf.count(b"<si/>")
    if not n and b":si" in buf:
        n = len(_SI.findall(buf))
    return n


def scan_shared_strings(zf: zipfile.ZipFile, member: str, name: str, state: TaskState = NULL_STATE) -> int:
    """The shared-string table of an .xlsx, streamed: its size, the number of texts and the longest text are
    checked before python-calamine builds it (a 2 MB file can hold a table that takes gigabytes)."""
    size = count = 0
    run = RunCheck(MAX_CELL_BYTES)
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            state.check_cancelled()
            size += len(chunk)
            if size > MAX_SHARED_STRINGS_BYTES:
                raise ExcelFileError(
                    f"文件“{name}”的文字内容解压后超过 {size_text(MAX_SHARED_STRINGS_BYTES)}，超过单次导入的上限。"
                    "请拆分成几个文件分别导入。"
                )
            if not run.feed(chunk):
                raise too_long_cell(name, "文字表（共享字符串）中")
            buf = tail + chunk
            count += _count_si(buf) - _count_si(tail)
            if count > MAX_SHARED_STRINGS:
                raise ExcelFileError(
                    f"文件“{name}”含有超过 {MAX_SHARED_STRINGS:,} 个不同的文字，超过单次导入的上限。"
                    "请拆分成几个文件分别导入。"
                )
            tail = buf[-16:]
    return count


def check_other_parts(zf: zipfile.ZipFile, skip: set[str], name: str, state: TaskState = NULL_STATE) -> None:
    """Every other XML or binary part the reader parses (workbook, styles, relationships …) unpacked under
    MAX_PART_BYTES; pictures and other media are not read by the importer and not checked."""
    for info in zf.infolist():
        low = info.filename.lower()
        if info.filename in skip or info.is_dir() or not low.endswith((".xml", ".rels", ".bin")):
            continue
        if "/media/" in low or "/embeddings/" in low or low.endswith("vbaproject.bin"):
            continue
        stream_member(zf, info.filename, MAX_PART_BYTES, name, cells=False, state=state)


# --- OLE compound documents (.xls, .et, encrypted .xlsx) ------------------------------------------

_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE


class CompoundFile:
    """A minimal, bounds-checked reader of an OLE compound document (MS-CFB): the directory and streams.
    Any inconsistency raises ValueError (the caller says the file is damaged)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512 or data[:8] != OLE_MAGIC:
            raise ValueError("header")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("sector size")
        self.ssize = 1 << shift
        self.nsect = max(0, (len(data) - self.ssize) // self.ssize) if shift == 12 else (len(data) - 512) // 512
        (n_fat, first_dir, _txn, self.cutoff, first_minifat, n_minifat, first_difat, n_difat) = struct.unpack_from(
            "<IIIIIIII", data, 44)
        if n_fat > self.nsect + 1 or n_difat > self.nsect + 1 or n_minifat > self.nsect + 1:
            raise ValueError("counts")
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s < _END][:n_fat]
        per = self.ssize // 4
        d, seen = first_difat, 0
        while d < _END and len(fat_sectors) < n_fat:
            seen += 1
            if seen > n_difat + 1 or d >= self.nsect:
                raise ValueError("difat")
            ids = struct.unpack_from(f"<{per}I", data, self._offset(d))
            fat_sectors += [s for s in ids[:-1] if s < _END]
            d = ids[-1]
        fat: list[int] = []
        for s in fat_sectors[:n_fat]:
            if s >= self.nsect:
                raise ValueError("fat")
            fat.extend(struct.unpack_from(f"<{per}I", data, self._offset(s)))
        self.fat = fat
        self.entries: dict[str, tuple[int, int, int]] = {}  # name -> (type, start, size)
        directory = self._chain_bytes(first_dir, self.fat, self.ssize, None)
        root: tuple[int, int] | None = None
        for k in range(0, len(directory) - 127, 128):
            e = directory[k:k + 128]
            name_len, kind = struct.unpack_from("<HB", e, 64)
            if kind not in (1, 2, 5) or not 2 <= name_len <= 64:
                continue
            ename = e[:name_len - 2].decode("utf-16-le", "replace")
            start, size = struct.unpack_from("<IQ", e, 116)
            if shift == 9:
                size &= 0xFFFFFFFF
            if kind == 5 and root is None:
                root = (start, size)
            elif kind == 2:
                self.entries.setdefault(ename, (kind, start, size))
        self.minifat: list[int] = []
        self.ministream = b""
        if root is not None and root[1]:
            if root[1] > len(data):
                raise ValueError("mini stream")
            self.ministream = self._chain_bytes(root[0], self.fat, self.ssize, root[1])
            if n_minifat:
                raw = self._chain_bytes(first_minifat, self.fat, self.ssize, None)
                self.minifat = list(struct.unpack_from(f"<{len(raw) // 4}I", raw))

    def _offset(self, sector: int) -> int:
        off = (sector + 1) * self.ssize
        if off + self.ssize > len(self.data):
            raise ValueError("sector beyond the end")
        return off

    def _chain_bytes(self, start: int, fat: list[int], ssize: int, size: int | None, *, mini: bool = False) -> bytes:
        parts: list[bytes] = []
        s = start
        need = size if size is not None else None
        got = 0
        limit = len(fat)
        steps = 0
        while s < _END:
            steps += 1
            if steps > limit or s >= len(fat):
                raise ValueError("chain")
            if mini:
                off = s * 64
                if off + 64 > len(self.ministream):
                    raise ValueError("mini sector")
                parts.append(self.ministream[off:off + 64])
            else:
                off = self._offset(s)
                parts.append(self.data[off:off + ssize])
            got += ssize
            if need is not None and got >= need:
                break
            s = fat[s]
        out = b"".join(parts)
        if need is not None:
            if len(out) < need:
                raise ValueError("stream shorter than its size")
            out = out[:need]
        return out

    def has(self, name: str) -> bool:
        return name in self.entries

    def stream(self, name: str) -> bytes:
        _kind, start, size = self.entries[name]
        if size > len(self.data):
            raise ValueError("stream size")
        if size < self.cutoff:
            return self._chain_bytes(start, self.minifat, 64, size, mini=True)
        return self._chain_bytes(start, self.fat, self.ssize, size)


# BIFF8 records the pre-scan looks at
_BOF, _EOF, _FILEPASS, _SST, _DIMENSIONS = 0x0809, 0x000A, 0x002F, 0x00FC, 0x0200
_CELLS = frozenset({0x0006, 0x00FD, 0x0203, 0x027E, 0x0201, 0x0204, 0x0205, 0x00D6, 0x0406})
_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first column … last column


@dataclass(slots=True)
class BiffScan:
    sheets: int = 0
    largest: int = 0  # cells of the largest sheet's used range


def scan_xls(path: Path, max_cells: int, state: TaskState = NULL_STATE) -> BiffScan:
    """Check an OLE compound document before python-calamine reads it: encrypted, Excel 5/95 or not a
    workbook at all; then walk the BIFF8 records: a damaged record stream, and each sheet's used range."""
    name = path.name
    size = path.stat().st_size
    if size > MAX_BINARY_BYTES:
        raise ExcelFileError(
            f"文件“{name}”有 {size_text(size)}，超过 Excel 97-2003 工作簿的导入上限（{size_text(MAX_BINARY_BYTES)}）。"
            "请另存为“Excel 工作簿（*.xlsx）”，或拆分成几个文件分别导入。"
        )
    data = path.read_bytes()
    try:
        cfb = CompoundFile(data)
    except (ValueError, struct.error) as exc:
        raise _damaged(name, "复合文档结构不完整") from exc
    if cfb.has("EncryptedPackage") or cfb.has("EncryptionInfo"):
        raise ExcelFileError(
            f"文件“{name}”设置了打开密码（已加密），程序无法读取。请在 Excel 或 WPS 中打开它，"
            "清除打开密码（“文件 → 信息 → 保护工作簿 → 用密码进行加密”，删去密码）并保存后，再导入。"
        )
    if not cfb.has("Workbook"):
        if cfb.has("Book"):
            raise _resave_hint(name, "是 Excel 5.0/95 格式的旧工作簿，程序无法读取。")
        if cfb.has("WordDocument"):
            raise ExcelFileError(f"文件“{name}”是 Word 文档（.doc），不是表格文件。")
        if cfb.has("PowerPoint Document"):
            raise ExcelFileError(f"文件“{name}”是演示文稿（.ppt），不是表格文件。")
        raise ExcelFileError(f"文件“{name}”不是 Excel 工作簿（可能是其他 Office 文件）。")
    try:
        stream = cfb.stream("Workbook")
    except (ValueError, struct.error, KeyError) as exc:
        raise _damaged(name, "工作簿数据不完整") from exc
    del data, cfb
    return _walk_biff(stream, name, max_cells, state)


def _walk_biff(s: bytes, name: str, max_cells: int, state: TaskState) -> BiffScan:
    n = len(s)
    if n < 8:
        raise _damaged(name, "工作簿数据为空")
    typ, ln, version = struct.unpack_from("<HHH", s, 0)
    if typ != _BOF or ln < 4:
        raise _damaged(name, "工作簿数据的开头不对")
    if version != 0x0600:
        raise _resave_hint(name, "是 Excel 5.0/95 或更早格式的旧工作簿，程序无法读取。")
    scan = BiffScan()
    unpack = struct.unpack_from
    pos = 0
    depth = 0
    max_row = max_col = -1
    count = 0
    while pos + 4 <= n:
        typ, ln = unpack("<HH", s, pos)
        body = pos + 4
        pos = body + ln
        if pos > n:
            raise _damaged(name, "记录被截断")
        if typ in _CELLS:
            if ln < 4:
                raise _damaged(name, "单元格记录不完整")
            row, col = unpack("<HH", s, body)
            if row > max_row:
                max_row = row
            if col > max_col:
                max_col = col
        elif typ in _MULTI:
            if ln < 6:
                raise _damaged(name, "单元格记录不完整")
            row, first = unpack("<HH", s, body)
            (last,) = unpack("<H", s, pos - 2)
            if last < first:
                raise _damaged(name, "单元格记录不正确")
            max_row = max(max_row, row)
            max_col = max(max_col, last)
        elif typ == _BOF:
            if depth == 0 and scan.sheets == 0 and body == 4:
                depth = 1  # the workbook globals
            else:
                depth += 1
                scan.sheets += 1
                max_row = max_col = -1
        elif typ == _EOF:
            if max_col > 255:  # BIFF8 has 256 columns
                raise _damaged(name, "单元格位置超出了 Excel 97-2003 的范围")
            if max_row >= 0:
                cells = (max_row + 1) * (max_col + 1)
                scan.largest = max(scan.largest, cells)
                if cells > max_cells:
                    raise ExcelFileError(
                        f"文件“{name}”有一个工作表的使用范围过大（约 {cells:,} 个单元格），超过了程序能读取的上限。"
                        "请删除表格下方或右侧多余的内容后保存，再导入。"
                    )
            max_row = max_col = -1
            depth -= 1
        elif typ == _DIMENSIONS:
            # The used range the sheet claims; python-calamine reserves room for that many cells at once, so a
            # damaged one (last row before the first, beyond row 65,536 or column 256) would take terabytes.
            if ln >= 14:
                first_row, end_row, first_col, end_col = unpack("<IIHH", s, body)
                if end_row < first_row or end_row > 65_536 or end_col > 256:
                    raise _damaged(name, "工作表的范围记录不正确")
                if (end_row - first_row) * max(0, end_col - first_col) > max_cells:
                    raise ExcelFileError(
                        f"文件“{name}”有一个工作表的使用范围过大，超过了程序能读取的上限。"
                        "请删除表格下方或右侧多余的内容后保存，再导入。"
                    )
        elif typ == _FILEPASS:
            raise ExcelFileError(
                f"文件“{name}”设置了打开密码（已加密），程序无法读取。请在 Excel 或 WPS 中打开它，"
                "清除打开密码后保存，再导入。"
            )
        elif typ == _SST:
            if ln < 8:
                raise _damaged(name, "文字表不完整")
            _total, unique = unpack("<II", s, body)
            if unique * 3 > n:  # each text takes at least 3 bytes
                raise _damaged(name, "文字表的数目不正确")
        count += 1
        if count & 0xFFFF == 0:
            state.check_cancelled()
    if pos != n and any(s[pos:]):
        raise _damaged(name, "记录被截断")
    return scan


# --- .xlsb ------------------------------------------------------------------------------------------

def _xlsb_records(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(type, start of body, length) of the records of an .xlsb part (MS-XLSB 2.1.4)."""
    pos, n = 0, len(data)
    while pos < n:
        typ = data[pos]
        pos += 1
        if typ & 0x80:
            if pos >= n:
                raise ValueError("record type")
            typ = (typ & 0x7F) | ((data[pos] & 0x7F) << 7)
            pos += 1
        size = 0
        for k in range(4):
            if pos >= n:
                raise ValueError("record size")
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << (7 * k)
            if not b & 0x80:
                break
        if pos + size > n:
            raise ValueError("record body")
        yield typ, pos, size
        pos += size


_XLSB_ROW, _XLSB_SST = 0x0000, 0x009F
_XLSB_CELLS = frozenset(range(1, 14))


def scan_xlsb(zf: zipfile.ZipFile, name: str, row_limit: int, max_cells: int, state: TaskState = NULL_STATE) -> None:
    """Each sheet of an .xlsb: its unpacked size, rows, used range and longest record (one cell's text)."""
    try:
        members = [i.filename for i in zf.infolist() if i.filename.lower().startswith("xl/worksheets/")
                   and i.filename.lower().endswith(".bin")]
        for member in members:
            stream_member(zf, member, MAX_XLSB_SHEET_BYTES, name, cells=False, state=state)
            data = zf.read(member)
            rows = 0
            max_row = max_col = -1
            for k, (typ, body, size) in enumerate(_xlsb_records(data)):
                if size > MAX_CELL_BYTES:
                    raise too_long_cell(name, "工作表中")
                if typ == _XLSB_ROW and size >= 4:
                    rows += 1
                    (r,) = struct.unpack_from("<I", data, body)
                    max_row = max(max_row, r)
                elif typ in _XLSB_CELLS and size >= 4:
                    (c,) = struct.unpack_from("<I", data, body)
                    max_col = max(max_col, c)
                if k & 0xFFFF == 0:
                    state.check_cancelled()
            if rows > row_limit:
                raise ExcelFileError(
                    f"文件“{name}”有工作表超过 {row_limit:,} 行，超过单次导入的上限。请按乡镇等拆分成几个文件分别导入。"
                )
            if max_row >= 1_048_576 or max_col >= 16_384:
                raise _damaged(name, "单元格位置超出了 Excel 的范围")
            if (max_row + 1) * (max_col + 1) > max_cells:
                raise ExcelFileError(
                    f"文件“{name}”有一个工作表的使用范围过大，超过了程序能读取的上限。"
                    "请删除表格下方或右侧多余的内容后保存，再导入。"
                )
            del data
        strings = next((i.filename for i in zf.infolist() if i.filename.lower() == "xl/sharedstrings.bin"), None)
        if strings is not None:
            stream_member(zf, strings, MAX_SHARED_STRINGS_BYTES, name, cells=False, state=state)
            data = zf.read(strings)
            for typ, body, size in _xlsb_records(data):
                if size > MAX_CELL_BYTES:
                    raise too_long_cell(name, "文字表中")
                if typ == _XLSB_SST and size >= 8:
                    _total, unique = struct.unpack_from("<II", data, body)
                    if unique > MAX_SHARED_STRINGS:
                        raise ExcelFileError(
                            f"文件“{name}”含有超过 {MAX_SHARED_STRINGS:,} 个不同的文字，超过单次导入的上限。"
                        )
        check_other_parts(zf, set(members) | ({strings} if strings else set()), name, state)
    except ValueError as exc:
        raise _damaged(name, "二进制记录不完整") from exc


# --- .ods -------------------------------------------------------------------------------------------

_ODS_ROWS_REPEATED = re.compile(rb'<table:table-row\b[^>]*?number-rows-repeated="(\d+)"[^>]*?(/?)>')


def scan_ods(zf: zipfile.ZipFile, name: str, row_limit: int, max_cells: int, state: TaskState = NULL_STATE) -> None:
    """content.xml of an .ods, streamed: unpacked size, rows (a row repeated N times counts N times when it
    holds anything: LibreOffice repeats the empty rows under a table a million times), the widest repeated
    cell and the longest text."""
    member = "content.xml"
    if member not in zf.namelist():
        raise _damaged(name, "缺少表格内容")
    size = rows = 0
    widest = 0
    run = RunCheck(MAX_CELL_BYTES)
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            state.check_cancelled()
            size += len(chunk)
            if size > MAX_ODS_XML_BYTES:
                raise ExcelFileError(
                    f"文件“{name}”解压后的表格内容超过 {size_text(MAX_ODS_XML_BYTES)}，超过单次导入的上限，"
                    "文件可能已损坏或是“压缩炸弹”。请拆分成几个文件分别导入。"
                )
            if not run.feed(chunk):
                raise too_long_cell(name, "表格内容中")
            buf = tail + chunk
            rows += chunk.count(b"<table:table-row ") + chunk.count(b"<table:table-row>")
            if b"rows-repeated" in buf:
                for m in _ODS_ROWS_REPEATED.finditer(buf):
                    if m.end() <= len(tail):
                        continue
                    n = int(m.group(1))
                    if n > 1 and not m.group(2) and _ods_row_has_content(buf, m.end()):
                        rows += n - 1
            widest = max(widest, _widest_repeated_cell(buf, len(tail)))
            if rows > row_limit:
                raise ExcelFileError(
                    f"文件“{name}”的表格超过 {row_limit:,} 行，超过单次导入的上限。请按乡镇等拆分成几个文件分别导入。"
                )
            if widest and rows * widest > max_cells or widest > 16_384:
                raise ExcelFileError(
                    f"文件“{name}”有一个工作表的使用范围过大（有内容的单元格被重复了 {widest:,} 列），"
                    "超过了程序能读取的上限。请删除表格右侧多余的内容后保存，再导入。"
                )
            tail = buf[-4096:]
    check_other_parts(zf, {member}, name, state)


_COLS_REPEATED = b'number-columns-repeated="'


def _widest_repeated_cell(buf: bytes, skip: int) -> int:
    """The largest repeat count of a cell that holds something (LibreOffice ends every row with an empty
    self-closing cell repeated to the sheet's last column: not counted). Looks only at the repeat attributes
    (bytes.find), not at every cell, and only at those ending after `skip` (the overlap seen before)."""
    widest = 0
    pos = buf.find(_COLS_REPEATED)
    while pos >= 0:
        digits_at = pos + len(_COLS_REPEATED)
        end = buf.find(b'"', digits_at, digits_at + 12)
        close = buf.find(b">", digits_at)
        if end < 0 or close < 0:
            break
        if close >= skip:
            digits = buf[digits_at:end]
            n = int(digits) if digits.isdigit() else 0
            if n > 1 and n > widest:
                start = buf.rfind(b"<", 0, pos)
                tag = buf[start:close + 1]
                if tag.startswith(b"<table:") and (b"value-type" in tag or not tag.endswith(b"/>")):
                    widest = n
        pos = buf.find(_COLS_REPEATED, close)
    return widest


def _ods_row_has_content(buf: bytes, start: int) -> bool:
    """Whether the repeated row starting at `start` holds a value (up to its end tag, if in the buffer)."""
    end = buf.find(b"</table:table-row>", start)
    body = buf[start:end if end >= 0 else len(buf)]
    return b"value-type" in body or b"<text:p" in body


# --- text files (CSV) -------------------------------------------------------------------------------

_DELIMITERS = (",", "\t", ";")
_EQ_WRAPPED = re.compile(r'^="(.*)"$', re.S)
_APOSTROPHE_NUMBER = re.compile(r"^'(\d[\d ]*[Xx]?)$")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding label): UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (GBK). An
    undecodable byte, or a file mixing UTF-8 and GBK lines, is refused naming the line."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", name, 3, data), "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            line = data[: exc.start].decode("utf-16", "replace").count("\n") + 1
            raise ExcelFileError(
                f"文件“{name}”第{line}行有无法识别的字符（文件按 UTF-16 编码读取），文件可能已损坏。"
                "请在 Excel 或 WPS 中打开，另存为“CSV UTF-8”或“Excel 工作簿（*.xlsx）”后再导入。"
            ) from exc
    utf8_error = _first_bad(data, "utf-8")
    if utf8_error is None:
        return data.decode("utf-8"), "UTF-8"
    before = data[:utf8_error]
    if not before.isascii():  # valid UTF-8 Chinese before, then something else: two encodings, or a bad byte
        start = data.rfind(b"\n", 0, utf8_error) + 1
        end = data.find(b"\n", utf8_error)
        try:
            data[start:end if end >= 0 else len(data)].decode("gb18030")
        except UnicodeDecodeError:
            _strict(data, "utf-8", name, 0, data)
        raise ExcelFileError(
            f"文件“{name}”的编码前后不一致：前面是 UTF-8，第{_line_of(data, utf8_error)}行却不是。"
            "可能是把不同来源的文本拼接在一起了。请在 Excel 或 WPS 中打开，统一另存为“CSV UTF-8”后再导入。"
        )
    # A GBK file with a UTF-8 line may decode as GB18030 without error, wrongly: find such lines first.
    line = _first_utf8_chinese_line(data)
    if line is not None:
        raise ExcelFileError(
            f"文件“{name}”的编码前后不一致：全文是 GBK（GB18030）编码，第{line}行却是 UTF-8 编码。"
            "请在 Excel 或 WPS 中打开，统一另存为“CSV UTF-8”后再导入。"
        )
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as exc:
        raise ExcelFileError(
            f"文件“{name}”第{_line_of(data, exc.start)}行有无法识别的字符"
            "（按 GBK/GB18030 编码读取失败，文件可能混有其他编码或已损坏）。"
            "请在 Excel 或 WPS 中打开，另存为“CSV UTF-8”或“Excel 工作簿（*.xlsx）”后再导入。"
        ) from exc


# A line that is valid UTF-8 as a whole and holds at least two Chinese characters. Searched in the file decoded
# as UTF-8 with surrogateescape, where every byte that is not part of valid UTF-8 became a lone surrogate
# (U+DC80..U+DCFF), so "valid UTF-8 as a whole" is "no surrogate in the line" (UTF-8 resynchronises at
# every newline): one pass of the regex engine instead of a Python step per line.
_UTF8_CHINESE_LINE = re.compile(
    "^[^\n\udc80-\udcff]*[\u4e00-\u9fff][^\n\udc80-\udcff]*[\u4e00-\u9fff][^\n\udc80-\udcff]*$", re.M)


def _first_utf8_chinese_line(data: bytes) -> int | None:
    """The number of the first line of `data` (not valid UTF-8 as a whole) that is UTF-8 Chinese."""
    text = data.decode("utf-8", "surrogateescape")
    m = _UTF8_CHINESE_LINE.search(text)
    return None if m is None else text.count("\n", 0, m.start()) + 1


def _first_bad(data: bytes, encoding: str) -> int | None:
    """The offset of the first byte that does not decode, found a megabyte at a time (nothing kept)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    step = 1 << 20
    for i in range(0, len(data), step):
        pending = len(decoder.getstate()[0])  # bytes of a character begun in the previous piece
        try:
            decoder.decode(data[i:i + step], final=i + step >= len(data))
        except UnicodeDecodeError as exc:
            return max(0, i - pending + exc.start)
    return None


def _strict(body: bytes, encoding: str, name: str, shift: int, whole: bytes) -> str:
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        label = "UTF-8" if encoding == "utf-8" else "GBK/GB18030"
        raise ExcelFileError(
            f"文件“{name}”第{_line_of(whole, exc.start + shift)}行有无法识别的字符"
            f"（按 {label} 编码读取失败，文件可能混有其他编码或已损坏）。"
            "请在 Excel 或 WPS 中打开，另存为“CSV UTF-8”或“Excel 工作簿（*.xlsx）”后再导入。"
        ) from exc


def sniff_delimiter(text: str) -> str:
    """Comma, tab or semicolon: the one that splits most of the first lines into the same, largest number of fields
    (、 is a list mark in Chinese text, never a delimiter)."""
    sample = text[:65536]
    best, best_score = ",", -1
    for delim in _DELIMITERS:
        try:
            rows = list(_take(csv.reader(io.StringIO(sample), delimiter=delim), 40))
        except csv.Error:
            continue
        if len(rows) > 1 and len(sample) == 65536:
            rows = rows[:-1]  # the last one may be cut by the sample
        widths = [len(r) for r in rows if r]
        if not widths:
            continue
        counts: dict[int, int] = {}
        for w in widths:
            counts[w] = counts.get(w, 0) + 1
        mode = max(counts, key=lambda w: (counts[w], w))  # the steadiest width (a stray mark in one cell
        score = (mode - 1) * counts[mode]  # splits that row only)
        if score > best_score:
            best, best_score = delim, score
    return best


def _take(it: Iterator[list[str]], n: int) -> Iterator[list[str]]:
    for k, row in enumerate(it):
        if k >= n:
            return
        yield row


def clean_cell(value: str) -> str:
    """A cell as a spreadsheet export wrote it for a long number: ="140702…" or '140702… → the digits."""
    if value[:2] == '="':
        m = _EQ_WRAPPED.match(value)
        if m and '"' not in m.group(1):
            return m.group(1)
    elif value[:1] == "'":
        m = _APOSTROPHE_NUMBER.match(value)
        if m:
            return m.group(1)
    return value


@dataclass(slots=True)
class TextTable:
    rows: list[list[str]]
    encoding: str
    delimiter: str


def read_csv(path: Path, row_limit: int, state: TaskState = NULL_STATE) -> TextTable:
    """A text file's rows, checked first: file size, line count, longest line, then decoded and split."""
    name = path.name
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise ExcelFileError(
            f"文件“{name}”有 {size_text(size)}，超过文本表格的导入上限（{size_text(MAX_CSV_BYTES)}）。"
            "请按乡镇等拆分成几个文件分别导入。"
        )
    data = path.read_bytes()
    state.check_cancelled()
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    newline = "\n".encode("utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be") if utf16 else b"\n"
    lines = data.count(newline)
    if lines > row_limit + 1:
        raise ExcelFileError(
            f"文件“{name}”超过 {row_limit:,} 行，超过单次导入的上限。请按乡镇等拆分成几个文件分别导入。"
        )
    run = RunCheck(MAX_LINE_BYTES * (2 if utf16 else 1), newline[:1] if not utf16 else b"\n")
    if not utf16 and not run.feed(data):
        raise ExcelFileError(
            f"文件“{name}”有一行超过 {MAX_LINE_BYTES // (1 << 20)} MB，不像是台账，文件可能已损坏。"
            "请检查该文件后再导入。"
        )
    if not utf16 and b"\x00" in data:
        k = _line_of(data, data.index(b"\x00"))
        raise ExcelFileError(
            f"文件“{name}”第{k}行含有空字符（NUL），文件可能已损坏或不是文本表格。请检查该文件，"
            "或在 Excel 或 WPS 中打开后另存为“Excel 工作簿（*.xlsx）”再导入。"
        )
    text, encoding = decode_text(data, name)
    del data
    if "\x00" in text:
        k = text.count("\n", 0, text.index("\x00")) + 1
        raise ExcelFileError(
            f"文件“{name}”第{k}行含有空字符（NUL），文件可能已损坏或不是文本表格。请检查该文件，"
            "或在 Excel 或 WPS 中打开后另存为“Excel 工作簿（*.xlsx）”再导入。"
        )
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[list[str]] = []
    wrapped = '="' in text or "'" in text
    carriage = "\r" in text  # a line break typed in a cell on Windows is \r\n: read as \n, as from .xlsx
    longest = 32_767
    old_limit = csv.field_size_limit(longest)  # the csv module stops at a longer cell, as it reads
    try:
        while chunk := list(itertools.islice(reader, 16_384)):  # the csv module's speed, a chunk at a time
            state.check_cancelled()
            if wrapped:
                chunk = [[clean_cell(c) if c[:1] in "='" else c for c in row] for row in chunk]
            if carriage and "\r" in "\x1f".join(itertools.chain.from_iterable(chunk)):
                chunk = [[c.replace("\r\n", "\n").replace("\r", "\n") if "\r" in c else c for c in row]
                         for row in chunk]
            rows += chunk
            if len(rows) > row_limit:
                raise ExcelFileError(
                    f"文件“{name}”超过 {row_limit:,} 行，超过单次导入的上限。请按乡镇等拆分成几个文件分别导入。"
                )
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ExcelFileError(
                f"文件“{name}”第{reader.line_num}行附近有一个单元格超过 32,767 个字，不像是台账，文件可能已损坏"
                "（例如引号没有配对）。请检查该文件后再导入。"
            ) from exc
        raise ExcelFileError(f"文件“{name}”第{reader.line_num}行的格式不正确（{exc}），无法按 CSV 读取。") from exc
    finally:
        csv.field_size_limit(old_limit)
    return TextTable(rows, encoding, delimiter)


# --- the sheets as rows -----------------------------------------------------------------------------


def calamine_failure(exc: BaseException) -> bool:
    """python-calamine raises several kinds for damaged sheets, and a Rust panic inside it (a date far out
    of range, …) arrives as pyo3's PanicException, which derives from BaseException."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


@dataclass
class Sheet:
    name: str
    start: tuple[int, int] | None  # (row, column) of the first used cell, None for an empty sheet
    height: int
    rows: Iterator[list[Any]]
    # Merged ranges as (first row, first column, last row, last column), 0-based sheet coordinates, where the
    # format tells them (.xlsx, .xls/.et; python-calamine does not give them for .ods and .xlsb).
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


class Book:
    """The sheets of a file, in the order to search them (visible first)."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.format = fmt

    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def sheet(self, name: str) -> Sheet:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- opening the binary formats in a reader process first ----------------------------------------------
#
# python-calamine turns a Rust panic into a Python exception (PanicException), but some failures end the
# process instead: an allocation that fails (a damaged .xls whose DIMENSIONS record claims a used range of
# billions of cells makes calamine reserve terabytes for it; an .xlsb's sheet or extern-sheet counts do the
# same), a stack overflow, a panic while unwinding. No exception reaches Python: the program would vanish
# with the user's work. The pre-scans refuse the shapes known to cause that, but they cannot follow every
# way a damaged record stream is read (a sheet's offset in the BOUNDSHEET record, CONTINUE records,
# calamine's own compound-document reader), so every .xls/.et/.xlsb is first opened, from the same bytes,
# in a separate process. Parsing is deterministic: what that process survives, this one survives too.
# Where it died, the import says so, naming the file. The process is started once (spawn, the same on
# Windows, Linux and in the frozen program, whose entry point calls multiprocessing.freeze_support) and
# reused; a new one replaces it when it died or was stopped.

TRIAL_FORMATS = frozenset({XLS, XLSB})
TRIAL_TIMEOUT = 600.0  # seconds for one file (a 64 MB .xls opens in a few seconds)
_trial_lock = threading.Lock()
_trial_process: tuple[Any, Any] | None = None  # (multiprocessing.Process, its end of the pipe)


def _trial_main(conn: Any) -> None:
    """The reader process: open each workbook sent, build every sheet, answer ("ok" | "password" | "error", detail)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's; this process ends when the pipe does
    try:  # what the Rust side prints when it aborts (in English) is not for the user's console
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        conn.send(_trial_read(data))
        del data


def _trial_read(data: bytes) -> tuple[str, str]:
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        return "password", ""
    except BaseException as exc:
        if not calamine_failure(exc):
            raise
        return "error", f"{type(exc).__name__}: {str(exc)[:200]}"
    try:
        for meta in wb.sheets_metadata:
            try:
                wb.get_sheet_by_name(meta.name)  # builds the sheet's cells (where .xlsb allocates them)
            except BaseException as exc:
                if not calamine_failure(exc):
                    raise  # a sheet that fails with an exception fails the same way in the importer, which names it
    finally:
        wb.close()
    return "ok", ""


def _start_trial_process() -> tuple[Any, Any]:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_trial_main, args=(theirs,), name="jzair-workbook-reader", daemon=True)
    proc.start()
    theirs.close()
    return proc, ours


def _stop_trial_process() -> None:
    global _trial_process
    if _trial_process is not None:
        proc, conn = _trial_process
        _trial_process = None
        conn.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)


def trial_open(data: bytes, name: str, state: TaskState = NULL_STATE) -> None:
    """Open `data` (an .xls/.et/.xlsb) with python-calamine in the reader process; ExcelFileError naming
    `name` when that process died on it (or took longer than TRIAL_TIMEOUT)."""
    global _trial_process
    with _trial_lock:
        if _trial_process is None or not _trial_process[0].is_alive():
            _stop_trial_process()
            try:
                _trial_process = _start_trial_process()
            except OSError as exc:  # not the file's fault: say so, not that it is damaged
                raise ExcelFileError(
                    f"无法启动表格读取组件（{exc.strerror or exc}），文件“{name}”未能读取。请重新启动程序后再试。"
                ) from exc
        proc, conn = _trial_process
        deadline = time.monotonic() + TRIAL_TIMEOUT
        try:
            conn.send_bytes(data)
            while True:
                state.check_cancelled()
                if conn.poll(0.05):
                    break
                if time.monotonic() > deadline:
                    _stop_trial_process()
                    raise ExcelFileError(
                        f"文件“{name}”读取超时（超过 {TRIAL_TIMEOUT / 60:.0f} 分钟），文件可能已损坏。"
                        "请在 Excel 或 WPS 中打开，另存为“Excel 工作簿（*.xlsx）”后再导入。"
                    )
            verdict, detail = conn.recv()
        except (EOFError, OSError) as exc:  # the process died: the pipe ended (or broke while sending)
            proc.join(5)
            log.warning("the workbook reader process ended (exit code %s) while opening %s", proc.exitcode, name)
            _stop_trial_process()
            raise ExcelFileError(
                f"文件“{name}”已损坏，无法读取：读取它时表格读取组件异常终止。"
                "请在 Excel 或 WPS 中打开该文件，另存为“Excel 工作簿（*.xlsx）”后再导入；"
                "如果 Excel 和 WPS 也打不开，请重新获取该文件。"
            ) from exc
        except BaseException:  # cancelled, or interrupted: the process may be busy, start afresh next time
            _stop_trial_process()
            raise
    if verdict == "password":
        raise ExcelFileError(f"文件“{name}”设置了密码，程序无法读取。请清除密码后再导入。")
    if verdict == "error":
        raise ExcelFileError(f"文件“{name}”已损坏，无法读取（{detail}）。")


_CALAMINE_EXT = {XLSX: (".xlsx", ".xlsm", ".xlam"), XLSB: (".xlsb",), XLS: (".xls", ".xla"), ODS: (".ods",)}
_KNOWN_EXT = {e for exts in _CALAMINE_EXT.values() for e in exts}


class CalamineBook(Book):
    def __init__(self, path: Path, fmt: str, state: TaskState = NULL_STATE) -> None:
        super().__init__(path, fmt)
        from python_calamine import CalamineWorkbook, PasswordError

        suffix = path.suffix.lower()
        try:
            if fmt in TRIAL_FORMATS:
                # Read once; the reader process opens these very bytes first, then this process does.
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise ExcelFileError(f"无法读取文件“{path.name}”：{exc.strerror or exc}") from exc
                trial_open(data, path.name, state)
                self.wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            elif suffix in _KNOWN_EXT and suffix not in _CALAMINE_EXT[fmt]:
                # python-calamine goes by the extension when it knows it: give it the bytes to sniff instead.
                with path.open("rb") as fh:
                    self.wb = CalamineWorkbook.from_filelike(fh)
            else:
                self.wb = CalamineWorkbook.from_path(str(path))
        except PasswordError as exc:
            raise ExcelFileError(f"文件“{path.name}”设置了密码，程序无法读取。请清除密码后再导入。") from exc
        except BaseException as exc:
            if not calamine_failure(exc) or isinstance(exc, JzairError):
                raise
            raise ExcelFileError(
                f"文件“{path.name}”已损坏，无法读取（{type(exc).__name__}: {str(exc)[:200]}）。"
            ) from exc

    def sheet_names(self) -> list[str]:
        from python_calamine import SheetTypeEnum, SheetVisibleEnum

        visible, hidden = [], []
        for meta in self.wb.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            (visible if meta.visible == SheetVisibleEnum.Visible else hidden).append(meta.name)
        return visible + hidden

    def sheet(self, name: str) -> Sheet:
        sheet = self.wb.get_sheet_by_name(name)
        start = sheet.start
        rows = iter(sheet.iter_rows()) if start is not None else iter(())
        return Sheet(name, start, sheet.height, rows, merged_ranges(sheet) if start is not None else [])

    def close(self) -> None:
        self.wb.close()


def merged_ranges(sheet: Any) -> list[tuple[int, int, int, int]]:
    """A python-calamine sheet's merged ranges (none where it does not give them)."""
    try:
        ranges = sheet.merged_cell_ranges
    except Exception:  # noqa: BLE001 - a format or version without them: read the sheet as it is
        return []
    return [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in ranges or ()]


_DELIMITER_NAMES = {",": "逗号分隔", "\t": "制表符分隔", ";": "分号分隔"}


class TextBook(Book):
    def __init__(self, path: Path, table: TextTable) -> None:
        super().__init__(path, CSV)
        self.table = table

    @property
    def description(self) -> str:
        return f"{self.table.encoding} 编码，{_DELIMITER_NAMES.get(self.table.delimiter, self.table.delimiter)}"

    def sheet_names(self) -> list[str]:
        return [self.path.stem or "Sheet1"]

    def sheet(self, name: str) -> Sheet:
        rows = self.table.rows
        used = any(any(c for c in r) for r in rows)
        return Sheet(name, (0, 0) if used else None, len(rows), iter(rows))
