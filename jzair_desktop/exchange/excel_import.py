"""Reading a county's ledger workbook as it is, and checking its rows (no database here).

`read_ledger_sheet` finds the ledger in a spreadsheet of any format exchange/spreadsheet.py reads (.xlsx,
.xls/.et, .xlsb, .ods, CSV; recognised by content): it refuses what cannot be read (corrupt, password-
protected, a web page or another kind of file, too large: the per-format pre-scans run before anything
is loaded) with a Chinese message naming the file, then reads the first sheet whose first 30 rows hold the ledger's
header row, maps its columns to the registry (xlsx_common.match_header), and keeps the data rows with
their Excel row numbers. Empty rows are dropped; 合计/小计/总计 rows, signature lines under the table
(填表人：…) and a row of column numbers right under the header are skipped and reported.

`check_rows` validates every row with domain.validation.check_record, checks that each row belongs to
the unit being imported, and finds duplicates within the file (LedgerDef.duplicate_rules).
Matching against the database is the service's job (services/excel.py).

`write_error_workbook` writes `<name>.错误.xlsx`. For an .xlsx it is a copy of the clerk's own workbook
(formulas, merged cells, widths, the title and the other sheets kept) with the bad cells filled and
commented and a last sheet 错误清单 listing every problem; for other formats (or an .xlsx too large to copy
cell by cell) the sheet's rows at the same row numbers with a column 错误原因 and a sheet saying which file
it annotates.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import operator
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.hyperlink import Hyperlink

from jzair_desktop.domain.ledgers import LEDGERS, LedgerDef
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import (
    ERROR,
    Invalid,
    Problem,
    check_record,
    duplicate_problem,
    parse_number,
)
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange import merged_cells
from jzair_desktop.exchange.excel_template import (
    check_destination,
    discard_workbook,
    fit_for_printing,
    save_workbook_atomically,
)
from jzair_desktop.exchange.spreadsheet import (
    CSV,
    FORMAT_LABELS,
    MAX_CELL_BYTES,
    XLS,
    XLSB,
    XLSX,
    Book,
    CalamineBook,
    ExcelFileError,
    RunCheck,
    TextBook,
    calamine_failure,
    check_other_parts,
    detect,
    read_csv,
    scan_ods,
    scan_shared_strings,
    scan_xls,
    scan_xlsb,
    size_text,
    too_long_cell,
)
from jzair_desktop.exchange.xlsx_common import (
    ERROR_FILL,
    HEADER_ALIGN,
    HEADER_BORDER,
    HEADER_FILL,
    HEADER_FONT,
    HEADER_SEARCH_ROWS,
    MAX_DATA_ROWS,
    MW_UNITS,
    TEN_THOUSAND_YUAN,
    TEXT_FORMAT,
    WARNING_FILL,
    HeaderMatch,
    as_text_row,
    column_letter,
    describe_columns,
    match_header,
    set_text,
    text_cell,
)
from jzair_desktop.taskstate import NULL_STATE, TaskState

log = logging.getLogger(__name__)

__all__ = ["ExcelFileError", "read_ledger_sheet", "check_rows", "write_error_workbook", "error_workbook_path"]

REASON_HEADER = "错误原因"
MAX_COMMENTS = 5000  # cell comments in an error workbook (beyond, bad cells are only filled)
FORMULA_WITHOUT_VALUE = (
    "该单元格是公式，但文件里没有保存计算结果（文件不是用 Excel 保存的）。请在 Excel 中打开文件并保存后再导入，或把公式改为数值"
)
TOTAL_WORDS = ("合计", "小计", "总计", "累计")
FOOTER_WORDS = ("填表人", "填报人", "制表人", "审核人", "负责人", "单位负责人", "填报日期", "填表日期", "联系人", "备注：", "说明：")


# --- plain data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileColumn:
    index: int  # 0-based column of the sheet
    header: str  # the header as written in the file
    match: HeaderMatch | None  # None: a column the ledger does not define (ignored)
    duplicate_of: int | None = None  # another column maps to the same registry column first

    @property
    def letter(self) -> str:
        return column_letter(self.index)

    @property
    def used(self) -> bool:
        return self.match is not None and self.duplicate_of is None


@dataclass(frozen=True, slots=True)
class SkippedRow:
    row: int
    reason: str
    cells: tuple[Any, ...] = ()


@dataclass
class SheetData:
    """A ledger sheet as read from a file: plain data, safe to hand between threads."""

    path: Path
    ledger_key: str
    sheet_name: str
    header_row: int  # the row number Excel shows
    columns: list[FileColumn]
    missing: list[str]  # headers of registry columns the file does not have
    rows: list[tuple[int, list[Any]]]  # (Excel row number, cells) of the data rows
    skipped: list[SkippedRow] = field(default_factory=list)
    top_rows: list[list[Any]] = field(default_factory=list)  # rows 1 … header_row, for the error workbook
    formula_gaps: set[tuple[int, int]] = field(default_factory=set)  # (row, col index) with no cached value
    format: str = XLSX  # spreadsheet.XLSX, XLS, XLSB, ODS or CSV: what the file really is
    text_format: str = ""  # for CSV: its encoding and delimiter, as found ("GB18030 编码，逗号分隔")
    merge_problems: list[RowProblem] = field(default_factory=list)  # merged cells that cannot be read surely

    @property
    def format_text(self) -> str:
        label = FORMAT_LABELS.get(self.format, self.format)
        return f"{label}，{self.text_format}" if self.text_format else label

    @property
    def used_columns(self) -> list[FileColumn]:
        return [c for c in self.columns if c.used]

    @property
    def field_columns(self) -> dict[str, FileColumn]:
        return {c.match.key: c for c in self.columns if c.used and c.match is not None}

    @property
    def has_unit_column(self) -> bool:
        return "unit_code" in self.field_columns

    def preview(self, n: int = 20) -> list[tuple[int, list[Any]]]:
        return self.rows[:n]


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # the row number Excel shows
    column: str  # the column's header as in the file (or the registry's, when the file lacks it)
    message: str
    severity: str = ERROR
    col_index: int | None = None  # 0-based column in the sheet, for marking the cell

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def text(self) -> str:
        where = f"第{self.row}行 " if self.row else ""
        return f"{where}{self.column}：{self.message}" if self.column else f"{where}{self.message}"


@dataclass(slots=True)
class CheckedRow:
    row: int
    values: tuple[Any, ...]  # registry values in column order (None where a value did not parse)
    problems: list[RowProblem]

    @property
    def ok(self) -> bool:
        return not self.problems or not any(p.is_error for p in self.problems)

    @property
    def warned(self) -> bool:
        return bool(self.problems) and any(not p.is_error for p in self.problems)


# --- scanning the sheets' XML before loading -----------------------------------------------------

_FORMULA_NO_VALUE = re.compile(
    rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_CHUNK = 1 << 20
_OVERLAP = 4096


MAX_SHEET_XML_BYTES = 2 << 30  # a sheet's XML beyond this is refused (a zip bomb, or far over the row limit)
# python-calamine holds a sheet as a dense grid over its used range (32 bytes a cell) and aborts the whole
# process when that cannot be allocated: a stray value in XFD1048576 would take 550 GB.
MAX_SHEET_CELLS = 20_000_000
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
_WIDE_REF = re.compile(rb'r="([A-Z]{2,})\d')  # cells from column AA on (rare): the sheet's width
_FAR_ROW = re.compile(rb'r="[A-Z]*(\d{6,})"')  # rows and cells from row 100,000 on: the sheet's height
_ANY_REF = re.compile(rb'r="([A-Z]*)(\d+)"')


@dataclass(slots=True)
class SheetScan:
    rows: int = 0
    size: int = 0
    formula_gaps: set[tuple[int, int]] = field(default_factory=set)
    last_column: int | None = None  # 0-based, when beyond Z
    last_row: int | None = None  # when 100,000 or more
    too_large: str | None = None  # why the sheet must not be loaded
    long_text: bool = False  # a text longer than a cell can hold (spreadsheet.MAX_CELL_BYTES): refused


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip member of its XML} from xl/workbook.xml and its relationships."""
    try:
        wb_xml = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels_xml = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}
    targets = {}
    for rel in rels_xml.iter():
        if _local(rel.tag) == "Relationship":
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id")] = target
    out = {}
    for el in wb_xml.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if rid in targets and el.get("name"):
                out[el.get("name")] = targets[rid]
    return out


def too_big_sheet_message(file_name: str, sheet: str) -> str:
    """A sheet refused for the size of its XML (not for its row count, which may be tiny)."""
    return (
        f"文件“{file_name}”的工作表“{sheet}”的内容过大（解压后超过 {size_text(MAX_SHEET_XML_BYTES)}），"
        "超过单次导入的上限。请删除其中过长的内容或拆分成几个文件后再导入。"
    )


def scan_sheet_xml(zf: zipfile.ZipFile, member: str, *, row_limit: int, state: TaskState = NULL_STATE) -> SheetScan:
    """Count the rows of a sheet and find formula cells saved without a value, streaming the XML.

    Stops counting once `row_limit` is passed (the caller refuses the file then).
    """
    scan = SheetScan()
    tail = b""
    run = RunCheck(MAX_CELL_BYTES)
    with zf.open(member) as fh:
        while True:
            state.check_cancelled()
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            scan.size += len(chunk)
            if scan.size > MAX_SHEET_XML_BYTES:
                return scan
            if not run.feed(chunk):
                scan.long_text = True
                return scan
            scan.rows += chunk.count(b"<row ") + chunk.count(b"<row>") + chunk.count(b":row ") + chunk.count(b":row>")
            if scan.rows > row_limit:
                return scan
            buf = tail + chunk
            if wide := _WIDE_REF.findall(buf):
                scan.last_column = max(scan.last_column or 0, *(_col_index(c) for c in set(wide)))
            if far := _FAR_ROW.findall(buf):
                scan.last_row = max(scan.last_row or 0, *map(int, far))
            if b"<f" in buf or b":f" in buf:
                for m in _FORMULA_NO_VALUE.finditer(buf):
                    ref = _CELL_REF.search(m.group(1))
                    if ref:
                        scan.formula_gaps.add((int(ref.group(2)), _col_index(ref.group(1))))
            tail = buf[-_OVERLAP:]
    return scan


def check_extent(zf: zipfile.ZipFile, member: str, scan: SheetScan, file_name: str, sheet: str) -> None:
    """Set `scan.too_large` when the sheet's used range (to its farthest cell) is too large to load."""
    if (scan.last_column or 0) >= EXCEL_COLUMNS or (scan.last_row or 0) > EXCEL_ROWS:
        scan.too_large = f"文件“{file_name}”的工作表“{sheet}”已损坏（单元格位置超出了 Excel 的范围），无法读取。"
        return
    columns = (scan.last_column or 25) + 1  # the first pass knows columns beyond Z and rows from 100,000 on
    rows = scan.last_row or 99_999
    if rows * columns > MAX_SHEET_CELLS:
        # Perhaps too large: find the exact extent in a second pass (rare, so its cost does not matter).
        rows, last = 0, 0
        with zf.open(member) as fh:
            tail = b""
            while chunk := fh.read(_CHUNK):
                buf = tail + chunk
                for letters, digits in _ANY_REF.findall(buf):
                    rows = max(rows, int(digits))
                    if letters:
                        last = max(last, _col_index(letters))
                tail = buf[-_OVERLAP:]
        columns = last + 1
    if rows * columns > MAX_SHEET_CELLS:
        scan.too_large = (
            f"文件“{file_name}”的工作表“{sheet}”使用范围过大：有内容的单元格一直到第 {rows:,} 行、"
            f"第 {column_letter(columns - 1)} 列（约 {rows * columns:,} 个单元格），超过了程序能读取的上限。"
            "请删除表格下方或右侧多余的内容（可按 Ctrl+End 找到最后一个单元格）后保存，再导入。"
        )


# --- reading the ledger sheet ----------------------------------------------------------------------


def _is_empty(cells: Sequence[Any]) -> bool:
    for v in cells:
        if v is None:
            continue
        if isinstance(v, str):
            if v.strip():
                return False
        else:
            return False
    return True


_WS = re.compile(r"\s+")
# 合计, 合计：, 小计（户）, 总计(万元) … but not a name that merely starts with the word (合计村).
_FOOTER_FIRST = frozenset(w[0] for w in FOOTER_WORDS)
_TOTAL = re.compile(rf"^({'|'.join(TOTAL_WORDS)})(?:[:：]|[（(][^）)]*[）)])?[:：]?$")


def skip_reason(cells: Sequence[Any]) -> str | None:
    """Why a non-empty row is not a record (a total row, a signature line), or None.

    Looks at the first few non-empty cells only, cheaply (this runs for every row of the file)."""
    found: list[Any] = []
    for v in cells:
        if v is None or v == "" or (isinstance(v, str) and v.isspace()):
            continue
        found.append(v)
        if len(found) > 4:
            break
    if not found:
        return None
    for v in found[:3]:
        if isinstance(v, str) and "计" in v:
            m = _TOTAL.match(_WS.sub("", v))
            if m:
                return f"{m.group(1)}行"
    first = found[0]
    if len(found) <= 4 and isinstance(first, str) and first.lstrip()[:1] in _FOOTER_FIRST:
        t = _WS.sub("", first)
        if any(t.startswith(w) for w in FOOTER_WORDS):
            return "表尾签字行"
    return None


def plain_record(cells: Sequence[Any]) -> bool:
    """The usual record, recognised cheaply (the import calls this for every row): its first three cells
    hold text, none of them blank or holding 计, and the first does not begin like a signature line.
    Such a row is not empty and skip_reason says None for it."""
    if len(cells) < 3:
        return False
    a, b, c = cells[0], cells[1], cells[2]
    return (type(a) is str and type(b) is str and type(c) is str and a != "" and b != "" and c != ""
            and a[0] not in _FOOTER_FIRST and not a[0].isspace() and not b.isspace() and not c.isspace()
            and "计" not in a and "计" not in b and "计" not in c)


def _is_number_row(cells: Sequence[Any]) -> bool:
    """A row of column numbers (1, 2, 3 …) under the header, common in printed forms."""
    nums = []
    for v in cells:
        if v in (None, ""):
            continue
        try:
            n = parse_number(v)
        except Invalid:
            return False
        if n is None or not float(n).is_integer():
            return False
        nums.append(int(n))
    return len(nums) >= 3 and all(b == a + 1 for a, b in zip(nums, nums[1:], strict=False))


def _header_candidates(d: LedgerDef, row: Sequence[Any]) -> list[FileColumn]:
    cols = []
    for i, v in enumerate(row):
        if isinstance(v, str) and v.strip():
            cols.append(FileColumn(i, v.strip(), match_header(d, v)))
        elif v not in (None, "") and not isinstance(v, str):
            cols.append(FileColumn(i, str(v), None))
    return cols


def _with_duplicates_marked(cols: list[FileColumn]) -> list[FileColumn]:
    first: dict[str, int] = {}
    out = []
    for c in cols:
        if c.match is None:
            out.append(c)
            continue
        if c.match.key in first:
            out.append(FileColumn(c.index, c.header, c.match, duplicate_of=first[c.match.key]))
        else:
            first[c.match.key] = c.index
            out.append(c)
    return out


def _pad(row: list[Any], offset: int) -> list[Any]:
    return [""] * offset + row if offset else row


def read_ledger_sheet(path: Path | str, d: LedgerDef, *, state: TaskState = NULL_STATE) -> SheetData:
    """Find and read the ledger's sheet in `path` (any format spreadsheet.detect knows). Raises
    ExcelFileError for a file that cannot be imported."""
    path = Path(path)
    with open_checked(path, state=state) as (book, scans):
        return _read_from_workbook(book, path, d, scans, state)


@contextmanager
def open_checked(path: Path, *, state: TaskState = NULL_STATE) -> Iterator[tuple[Book, dict[str, SheetScan]]]:
    """The file's format recognised, its pre-scan passed, its sheets ready to read (closed afterwards)."""
    state.progress(0, 0, "正在检查文件…", force=True)
    fmt = detect(path)
    scans: dict[str, SheetScan] = {}
    if fmt == CSV:
        state.progress(0, 0, "正在读取文本表格…", force=True)
        book: Book = TextBook(path, read_csv(path, MAX_DATA_ROWS + HEADER_SEARCH_ROWS, state))
    else:
        if fmt == XLSX:
            scans = prescan_xlsx(path, state)
        elif fmt == XLS:
            scan_xls(path, MAX_SHEET_CELLS, state)
        else:
            prescan_zip(path, fmt, state)
        state.progress(0, 0, "正在读取工作表…", force=True)
        book = CalamineBook(path, fmt, state)
    try:
        yield book, scans
    finally:
        book.close()


def prescan_zip(path: Path, fmt: str, state: TaskState = NULL_STATE) -> None:
    """The pre-scan of an .xlsb or .ods (zip) workbook."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            limit = MAX_DATA_ROWS + HEADER_SEARCH_ROWS
            if fmt == XLSB:
                scan_xlsb(zf, name, limit, MAX_SHEET_CELLS, state)
            else:
                scan_ods(zf, name, limit, MAX_SHEET_CELLS, state)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ExcelFileError(f"文件“{name}”已损坏，无法读取（{type(exc).__name__}）。请重新保存或重新获取该文件。") from exc
    except NotImplementedError as exc:
        raise ExcelFileError(f"文件“{name}”使用了不支持的压缩方式，无法读取。请重新保存后再导入。") from exc
    except RuntimeError as exc:
        raise ExcelFileError(f"文件“{name}”的内容已加密，无法读取。") from exc


def prescan_xlsx(path: Path, state: TaskState = NULL_STATE) -> dict[str, SheetScan]:
    """The pre-scan of an .xlsx: each sheet's rows, extent and formulas without results, the shared
    strings and every other part, all streamed before python-calamine loads anything."""
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise ExcelFileError(f"文件“{name}”已损坏（压缩包不完整或已破损），无法读取。请重新保存或重新获取该文件。") from exc
    scans: dict[str, SheetScan] = {}
    with zf:
        names = set(zf.namelist())
        strings = next((i for i in zf.infolist() if i.filename.lower() == "xl/sharedstrings.xml"), None)
        try:
            if strings is not None:
                state.progress(0, 0, "正在检查文字表…", force=True)
                scan_shared_strings(zf, strings.filename, name, state)
            members = sheet_members(zf)
            limit = MAX_DATA_ROWS + HEADER_SEARCH_ROWS
            for sheet, member in members.items():
                if member not in names:
                    continue
                state.progress(0, 0, f"正在检查工作表“{sheet}”…", force=True)
                scan = scan_sheet_xml(zf, member, row_limit=limit, state=state)
                if scan.long_text:
                    raise too_long_cell(name, f"工作表“{sheet}”中")
                if scan.rows <= limit and scan.size > MAX_SHEET_XML_BYTES:
                    # Few rows but huge XML (a giant cell, a bomb): say that, not that it has too many rows.
                    raise ExcelFileError(too_big_sheet_message(name, sheet))
                if scan.rows > limit:
                    raise ExcelFileError(
                        f"文件“{name}”的工作表“{sheet}”超过 {limit:,} 行，超过单次导入的上限"
                        f"（{MAX_DATA_ROWS:,} 行数据）。请按乡镇等拆分成几个文件分别导入。"
                    )
                check_extent(zf, member, scan, name, sheet)
                scans[sheet] = scan
            check_other_parts(zf, {*members.values(), *([strings.filename] if strings else [])}, name, state)
        except (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, EOFError, OSError, ValueError,
                LookupError) as exc:  # LookupError: an XML declaration naming an unknown encoding
            raise ExcelFileError(f"文件“{name}”已损坏，无法读取（{type(exc).__name__}）。请重新保存或重新获取该文件。") from exc
        except NotImplementedError as exc:  # zipfile: a compression method it does not know
            raise ExcelFileError(f"文件“{name}”使用了不支持的压缩方式，无法读取。请在 Excel 中重新保存后再导入。") from exc
        except RuntimeError as exc:  # zipfile: encrypted member
            raise ExcelFileError(f"文件“{name}”的内容已加密，无法读取。") from exc
    return scans


def _damaged_sheet(name: str, sheet_name: str, exc: BaseException) -> ExcelFileError:
    detail = "有单元格的值无法识别，例如超出范围的日期" if not isinstance(exc, Exception) else str(exc)[:200]
    return ExcelFileError(f"文件“{name}”的工作表“{sheet_name}”已损坏，无法读取（{detail}）。")


def _next_rows(rows: Iterator[list[Any]], col_offset: int, name: str, sheet_name: str, n: int = 2000) -> list[list[Any]]:
    """The sheet's next `n` rows (fewer at its end), padded to column A; a failure while converting one
    (a damaged value) as ExcelFileError."""
    try:
        chunk = list(itertools.islice(rows, n))
    except BaseException as exc:
        if not calamine_failure(exc):
            raise
        raise _damaged_sheet(name, sheet_name, exc) from exc
    if chunk and max(map(len, chunk)) + col_offset > EXCEL_COLUMNS:  # a damaged file or a CSV line of commas
        raise ExcelFileError(
            f"文件“{name}”的工作表“{sheet_name}”有一行超过 {EXCEL_COLUMNS:,} 列（超出了 Excel 的范围），"
            "文件可能已损坏，无法读取。请检查该文件后再导入。"
        )
    return [_pad(r, col_offset) for r in chunk] if col_offset else chunk


def _read_from_workbook(book: Book, path: Path, d: LedgerDef, scans: dict[str, SheetScan], state: TaskState) -> SheetData:
    name = path.name
    any_data = False
    best_partial: tuple[str, int, list[FileColumn]] | None = None
    required = [c for c in d.columns if c.required]
    threshold = min(3, len(required))
    for sheet_name in book.sheet_names():
        state.check_cancelled()
        scan = scans.get(sheet_name)
        if scan is not None and scan.too_large:
            raise ExcelFileError(scan.too_large)
        try:
            sheet = book.sheet(sheet_name)
            start = sheet.start
        except BaseException as exc:
            if not calamine_failure(exc):
                raise
            raise _damaged_sheet(name, sheet_name, exc) from exc
        if start is None:
            continue
        any_data = True
        col_offset = start[1]
        rows_iter: Iterator[list[Any]] = sheet.rows
        top = _next_rows(rows_iter, col_offset, name, sheet_name, HEADER_SEARCH_ROWS)
        merges = sheet.merged
        view = merged_cells.header_view(top, merges) if merges else top
        header: tuple[int, list[FileColumn]] | None = None
        best_count = 0
        for idx, row in enumerate(view):
            cols = _header_candidates(d, row)
            count = len({c.match.key for c in cols if c.match is not None})
            if count > best_count:
                best_count = count
                header = (idx, cols)
        if merges and header is not None:
            header, best_count = _merged_header(d, top, view, merges, header[0], best_count)
        if header is None or best_count < threshold:
            if header is not None and best_count and (best_partial is None or best_count > len(best_partial[2])):
                best_partial = (sheet_name, header[0] + 1, header[1])
            continue
        header_idx, cols = header
        cols = _with_duplicates_marked(cols)
        data = _read_rows(
            path, d, sheet_name, header_idx, cols, top, rows_iter, col_offset,
            scans.get(sheet_name, SheetScan()), sheet.height + (start[0] if start else 0), state, merges,
        )
        data.format = book.format
        if isinstance(book, TextBook):
            data.text_format = book.description
        return data
    if not any_data:
        raise ExcelFileError(f"文件“{name}”中没有任何数据（所有工作表都是空的）。")
    expect = describe_columns(required)
    hint = ""
    if best_partial is not None:
        found = describe_columns([d.column(c.match.key) for c in best_partial[2] if c.match is not None])
        hint = f"（工作表“{best_partial[0]}”第{best_partial[1]}行只认出了：{found}）"
    if book.format == CSV:
        raise ExcelFileError(
            f"文本表格“{name}”的前 {HEADER_SEARCH_ROWS} 行中没有“{d.sheet_title}”的表头行{hint}。"
            f"CSV 文件的第一行（或标题下面的一行）应是表头，包含：{expect}。"
            "请在数据上方加上表头行（列名见导入模板），或检查是否选错了台账或文件。"
        )
    raise ExcelFileError(
        f"在文件“{name}”各工作表的前 {HEADER_SEARCH_ROWS} 行中找不到“{d.sheet_title}”的表头{hint}。"
        f"表头应包含：{expect}。请检查是否选错了台账或文件。"
    )


def _merged_header(
    d: LedgerDef, top: list[list[Any]], view: list[list[Any]], merges: list[merged_cells.Range], best: int,
    best_count: int,
) -> tuple[tuple[int, list[FileColumn]], int]:
    """The header of a sheet with merged cells: one row as written (the merged-over cells of a header merged
    across columns stay empty), or two rows joined by merged cells read together."""
    pair = merged_cells.two_row_header(top, view, merges, best, lambda t: match_header(d, t))
    if pair is None:
        return (best, _header_candidates(d, top[best])), best_count
    upper, lower = pair
    cols = [FileColumn(c, text, found) for c, text, found in
            merged_cells.combined_header(top, view, merges, upper, lambda t: match_header(d, t))]
    return (lower, cols), len({c.match.key for c in cols if c.match is not None})


def _better_ledger(d: LedgerDef, row: Sequence[Any]) -> LedgerDef | None:
    """Another ledger whose required columns are all in this header row (the user picked the wrong one)."""
    for other in LEDGERS.values():
        if other.key == d.key:
            continue
        keys = {m.key for m in (match_header(other, v) for v in row) if m is not None}
        if all(c.key in keys for c in other.columns if c.required and c.key != "unit_code"):
            return other
    return None


def _read_rows(
    path: Path, d: LedgerDef, sheet_name: str, header_idx: int, cols: list[FileColumn], top: list[list[Any]],
    rows_iter: Iterator[list[Any]], col_offset: int, scan: SheetScan, total_rows: int, state: TaskState,
    merges: list[merged_cells.Range] | None = None,
) -> SheetData:
    name = path.name
    header_row = header_idx + 1
    dupes = [c for c in cols if c.duplicate_of is not None]
    if dupes:
        lines = "；".join(
            f"第{column_letter(c.duplicate_of)}列和第{c.letter}列都是“{c.match.header}”" for c in dupes if c.match
        )
        raise ExcelFileError(f"文件“{name}”工作表“{sheet_name}”第{header_row}行的表头有重复的列：{lines}。请删除多余的列后再导入。")
    present = {c.match.key for c in cols if c.match is not None}
    missing_required = [c for c in d.columns if c.required and c.key not in present and c.key != "unit_code"]
    if missing_required:
        other = _better_ledger(d, top[header_idx])
        hint = f"该文件看起来是“{other.sheet_title}”，请检查是否选错了台账。" if other else ""
        raise ExcelFileError(
            f"文件“{name}”工作表“{sheet_name}”第{header_row}行的表头缺少必填列：{describe_columns(missing_required)}。"
            f"{hint or '请补上这些列（表头文字见导入模板）后再导入。'}"
        )
    missing = [c.header for c in d.columns if c.key not in present]
    data = SheetData(
        path=path, ledger_key=d.key, sheet_name=sheet_name, header_row=header_row, columns=cols,
        missing=missing, rows=[], top_rows=top[:header_row], formula_gaps=set(scan.formula_gaps),
    )
    # Rows already read while looking for the header, then the rest of the sheet, a chunk at a time.
    excel_row = header_row
    first_data = True
    total = max(total_rows - header_row, 1)
    chunk: list[list[Any]] = top[header_row:]
    fill = merged_cells.DataFill(merges, header_idx, {c.index: c.header for c in cols if c.used}) if merges else None
    while chunk:
        if fill is not None:  # values merged down over rows, into every row (before a row is classified)
            fill.apply(excel_row, chunk)
        for cells in chunk:
            excel_row += 1
            if excel_row % 2000 == 0:
                state.progress(excel_row - header_row, total, f"正在读取第 {excel_row:,} 行")
            if not first_data and plain_record(cells):
                data.rows.append((excel_row, cells))
                continue
            if _is_empty(cells):
                continue
            reason = skip_reason(cells)
            if reason is None and first_data and _is_number_row(cells):
                reason = "列序号行"
            first_data = False
            if reason is not None:
                data.skipped.append(SkippedRow(excel_row, reason, tuple(cells)))
                continue
            data.rows.append((excel_row, cells))
        if len(data.rows) > MAX_DATA_ROWS:
            raise ExcelFileError(
                f"文件“{name}”的数据超过 {MAX_DATA_ROWS:,} 行，超过单次导入的上限。请按乡镇等拆分成几个文件分别导入。"
            )
        chunk = _next_rows(rows_iter, col_offset, name, sheet_name)
    if not data.rows:
        raise ExcelFileError(f"文件“{name}”工作表“{sheet_name}”的表头（第{header_row}行）下面没有数据行，没有可导入的内容。")
    if fill is not None and (fill.problems or fill.row_problems):
        read = {r for r, _ in data.rows}
        data.merge_problems = [
            RowProblem(r, fill.columns.get(c, "") if c is not None else "", text, ERROR, c)
            for r, c, text in [*fill.problems, *(p for p in fill.row_problems if p[0] in read)]
        ]
    state.progress(total, total, f"已读取 {len(data.rows):,} 行", force=True)
    return data


def picker(positions: list[int]) -> Any:
    """seq -> the tuple of its items at `positions` (always a tuple, also for one position)."""
    if len(positions) == 1:
        (i,) = positions
        return lambda cells: (cells[i],)
    return operator.itemgetter(*positions)


# --- checking rows ---------------------------------------------------------------------------------


def _transform(match: HeaderMatch):  # noqa: ANN202
    """A converter for a column whose header gives a unit that changes the numbers, else None."""
    if match.unit in MW_UNITS:

        def to_mw(v: Any) -> Any:
            if v is None or v == "":
                return v
            if isinstance(v, str) and ("mw" in v.lower() or "兆瓦" in v):
                return v
            return f"{v}MW"

        return to_mw
    if match.unit == TEN_THOUSAND_YUAN:

        def to_yuan(v: Any) -> Any:
            try:
                n = parse_number(v)
            except Invalid:
                return v
            return None if n is None else round(n * 10000, 2)

        return to_yuan
    return None


def check_rows(
    data: SheetData,
    d: LedgerDef,
    unit_code: str,
    *,
    today: dt.date | None = None,
    state: TaskState = NULL_STATE,
) -> list[CheckedRow]:
    """Validate every data row; duplicates within the file; rows of another unit are errors."""
    today = today or dt.date.today()
    unit = reference().unit_by_code(unit_code)
    plan = [(c.index, c.match.key, _transform(c.match), c.header) for c in data.used_columns if c.match]
    header_of = {key: header for _, key, _, header in plan}
    index_of = {key: idx for idx, key, _, _ in plan}
    keys = d.keys
    ordered = operator.itemgetter(*keys)
    unit_idx = index_of.get("unit_code")
    gaps = data.formula_gaps
    out: list[CheckedRow] = []
    total = len(data.rows)

    def problem(row: int, p: Problem) -> RowProblem:
        if p.field in index_of:
            return RowProblem(row, header_of[p.field], p.message, p.severity, index_of[p.field])
        return RowProblem(row, p.header, p.message, p.severity, None)

    # The cells of a row as {key: value}: one itemgetter for rows as wide as the file's columns (calamine
    # gives every row the sheet's width); "" stays "" (check_record reads it as empty).
    plan_keys = [key for _, key, _, _ in plan]
    last_index = max((idx for idx, _, _, _ in plan), default=-1)
    pick = picker([idx for idx, _, _, _ in plan])
    transforms = [(key, fn) for _, key, fn, _ in plan if fn is not None]
    unit_code_given = unit_idx is not None
    for n, (excel_row, cells) in enumerate(data.rows):
        if n % 1000 == 0:
            state.progress(n, total, f"正在检查第 {excel_row:,} 行")
        if len(cells) > last_index:
            raw = dict(zip(plan_keys, pick(cells), strict=True))
        else:
            width = len(cells)
            raw = {key: cells[idx] if idx < width else None for idx, key, _, _ in plan}
        for key, fn in transforms:
            v = raw[key]
            if v is not None and v != "":
                raw[key] = fn(v)
        if not unit_code_given or raw["unit_code"] is None or raw["unit_code"] == "":
            raw["unit_code"] = unit.code
        checked = check_record(d, raw, today=today)
        problems = [problem(excel_row, p) for p in checked.problems] if checked.problems else []
        if gaps:
            gap_fields = {key for idx, key, _, _ in plan if (excel_row, idx) in gaps}
            if gap_fields:
                problems = [p for p in problems if p.col_index is None or (excel_row, p.col_index) not in gaps]
                problems += [
                    RowProblem(excel_row, header_of[k], FORMULA_WITHOUT_VALUE, ERROR, index_of[k]) for k in sorted(gap_fields)
                ]
        row_unit = checked.values.get("unit_code")
        if row_unit is not None and row_unit != unit.code:
            other = reference().unit_by_code(row_unit).name
            problems.append(RowProblem(
                excel_row, header_of.get("unit_code", d.column("unit_code").header),
                f"该行是“{other}”的记录，本次导入的是“{unit.name}”。请删除该行，或按县（区、市）分别导入",
                ERROR, unit_idx,
            ))
        out.append(CheckedRow(excel_row, ordered(checked.values), problems))
    _file_duplicates(d, out, header_of, index_of)
    if data.merge_problems:
        _merge_problems(data, out)
    state.progress(total, total, "检查完毕", force=True)
    return out


def _merge_problems(data: SheetData, rows: list[CheckedRow]) -> None:
    """Merged cells that could not be read without guessing, on the rows they concern (the first data row
    for a range that is not on a data row); the rule they break replaces a plain 必填 on the same cell."""
    by_row = {r.row: r for r in rows}
    for p in data.merge_problems:
        target = by_row.get(p.row) or (rows[0] if rows else None)
        if target is None:
            continue
        if target.row != p.row:
            p = RowProblem(target.row, p.column, p.message, p.severity, p.col_index)
        if p.col_index is not None:
            target.problems = [q for q in target.problems if q.col_index != p.col_index]
        target.problems.append(p)


def _file_duplicates(d: LedgerDef, rows: list[CheckedRow], header_of: dict[str, str], index_of: dict[str, int]) -> None:
    keys = d.keys
    for rule in d.duplicate_rules:
        pick = operator.itemgetter(*[keys.index(f) for f in rule.fields])
        single = len(rule.fields) == 1
        first = rule.fields[0]
        seen: dict[Any, int] = {}
        for r in rows:
            key = pick(r.values)
            if single:
                if key is None or key == "":
                    continue
            elif None in key or "" in key:
                continue
            earlier = seen.setdefault(key, r.row)
            if earlier != r.row:
                p = duplicate_problem(d, rule, f"第{earlier}行")
                r.problems.append(RowProblem(
                    r.row, header_of.get(first, p.header), p.message, p.severity, index_of.get(first)
                ))


# --- the error workbook ----------------------------------------------------------------------------


def error_workbook_path(path: Path) -> Path:
    """`<name>.错误.xlsx` beside the input; `<name>.<ext>.错误.xlsx` for an input that is not .xlsx, so that
    台账.xls and 台账.csv in one folder do not share one error workbook. Always .xlsx, whatever the input."""
    if path.suffix.lower() == ".xlsx":
        return path.with_name(f"{path.stem}.错误.xlsx")
    return path.with_name(f"{path.name}.错误.xlsx")


MAX_COPY_CELLS = 1_500_000  # an .xlsx beyond this (rows x columns read) is rebuilt, not copied: memory
LIST_SHEET = "错误清单"


def write_error_workbook(
    data: SheetData, problems: Sequence[RowProblem], dest: Path | None = None, *, state: TaskState = NULL_STATE
) -> Path:
    """The clerk's own .xlsx annotated (a copy), else the file's rows rebuilt at their own row numbers."""
    dest = check_destination(dest or error_workbook_path(data.path))
    if data.format == XLSX and _copy_size(data) <= MAX_COPY_CELLS:
        wb = _load_for_annotating(data.path)
        if wb is not None and data.sheet_name in wb.sheetnames:
            state.progress(0, 0, "正在标注错误…", force=True)
            try:
                _annotate(wb, data, problems)
                return save_workbook_atomically(wb, dest)
            except JzairError:  # the destination cannot be written: said as such
                raise
            except Exception:  # noqa: BLE001 - openpyxl cannot write back what it read (e.g. a date cell "NaN")
                log.warning("the error marks could not be written into a copy of %s; the rows are rebuilt instead",
                            data.path, exc_info=True)
    return _rebuilt_error_workbook(data, problems, dest, state)


def _copy_size(data: SheetData) -> int:
    width = max((c.index + 1 for c in data.columns), default=1)
    last = max([data.header_row, *(r for r, _ in data.rows[-1:]), *(s.row for s in data.skipped[-1:])])
    return last * width


def _load_for_annotating(path: Path) -> Workbook | None:
    """The clerk's workbook as openpyxl keeps it (formulas as formulas), or None when openpyxl cannot load
    what python-calamine could read (then the rows are rebuilt instead)."""
    from openpyxl import load_workbook

    try:
        return load_workbook(path, rich_text=True)
    except Exception:  # noqa: BLE001 - any failure of the richer reader: fall back to the rebuilt workbook
        return None


def _target_cell(ws, row: int, col: int) -> Cell:  # noqa: ANN001
    """The cell to mark: a cell under a merged range is marked on the range's first cell."""
    cell = ws.cell(row, col)
    if isinstance(cell, Cell):
        return cell
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
            return ws.cell(rng.min_row, rng.min_col)
    return cell


COMMENT_AUTHOR = "jzair"


def _clear_old_marks(wb: Workbook, ws) -> None:  # noqa: ANN001
    """An error workbook imported again: its earlier list sheet, comments and fills go (the clerk's own
    comments and colours stay)."""
    for name in list(wb.sheetnames):
        if name == LIST_SHEET or (name.startswith(LIST_SHEET) and name[len(LIST_SHEET):].isdigit()):
            del wb[name]
    ours = {ERROR_FILL.fgColor.rgb, WARNING_FILL.fgColor.rgb}
    for row in ws.iter_rows():
        for cell in row:
            if cell.comment is not None and cell.comment.author == COMMENT_AUTHOR:
                cell.comment = None
                if cell.fill is not None and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in ours:
                    cell.fill = PatternFill(fill_type=None)


def _annotate(wb: Workbook, data: SheetData, problems: Sequence[RowProblem]) -> None:
    ws = wb[data.sheet_name]
    _clear_old_marks(wb, ws)
    marks: dict[tuple[int, int], list[RowProblem]] = {}
    for p in problems:
        if p.row and p.col_index is not None:
            marks.setdefault((p.row, p.col_index + 1), []).append(p)
    comments = 0
    for (row, col), ps in sorted(marks.items()):
        cell = _target_cell(ws, row, col)
        if not isinstance(cell, Cell):
            continue
        cell.fill = ERROR_FILL if any(p.is_error for p in ps) else WARNING_FILL
        if comments < MAX_COMMENTS:
            own = cell.comment.text + "\n" if cell.comment is not None else ""
            text = "\n".join(p.message + ("" if p.is_error else "（提示）") for p in ps)
            comment = Comment(_xml_safe(own + text)[:2000], COMMENT_AUTHOR)
            comment.width, comment.height = 300, 120
            cell.comment = comment
            comments += 1
    _list_sheet(wb, ws, data, problems)
    wb.active = wb.sheetnames.index(data.sheet_name)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = other is ws


LIST_ALIGN = Alignment(wrap_text=True, vertical="top")
LIST_CENTER = Alignment(horizontal="center", vertical="top")


def _list_sheet(wb: Workbook, ws, data: SheetData, problems: Sequence[RowProblem]) -> None:  # noqa: ANN001
    """A last sheet listing every problem (row, column, field, reason), each row linked to its cell."""
    out = wb.create_sheet(_unique_title(wb, LIST_SHEET))
    errors = sum(1 for p in problems if p.is_error)
    intro = (f"本表列出文件“{data.path.name}”工作表“{data.sheet_name}”中的 {errors} 处错误"
             f"（另有提示 {len(problems) - errors} 处），错误的单元格已在该工作表中标为红色并加了批注。"
             "请改正后保存，重新导入本文件或原文件。")
    set_text(out.cell(1, 1), _xml_safe(intro)).alignment = LIST_ALIGN
    out.merge_cells("A1:E1")
    out.row_dimensions[1].height = 45
    for i, (head, width) in enumerate((("行号", 8), ("列", 6), ("字段", 18), ("错误原因", 80), ("类别", 8)), start=1):
        cell = set_text(out.cell(2, i), head)
        cell.font, cell.alignment, cell.border, cell.fill = HEADER_FONT, HEADER_ALIGN, HEADER_BORDER, HEADER_FILL
        out.column_dimensions[column_letter(i - 1)].width = width
    sheet_ref = "'" + ws.title.replace("'", "''") + "'"
    for r, p in enumerate(sorted(problems, key=lambda p: (p.row, p.col_index if p.col_index is not None else -1)),
                          start=3):
        letter = column_letter(p.col_index) if p.col_index is not None else ""
        row_cell = out.cell(r, 1, p.row or None)
        if p.row:
            row_cell.hyperlink = Hyperlink(ref=row_cell.coordinate, location=f"{sheet_ref}!{letter or 'A'}{p.row}")
        row_cell.alignment = set_text(out.cell(r, 2), letter).alignment = LIST_CENTER
        set_text(out.cell(r, 3), _xml_safe(p.column))
        set_text(out.cell(r, 4), _xml_safe(p.message)).alignment = LIST_ALIGN
        kind = set_text(out.cell(r, 5), "错误" if p.is_error else "提示")
        kind.fill = ERROR_FILL if p.is_error else WARNING_FILL
    out.freeze_panes = "A3"
    fit_for_printing(out, title_rows="2:2")


def _unique_title(wb: Workbook, title: str) -> str:
    n, name = 1, title
    while name in wb.sheetnames:
        n += 1
        name = f"{title}{n}"
    return name


def _rebuilt_error_workbook(
    data: SheetData, problems: Sequence[RowProblem], dest: Path, state: TaskState
) -> Path:
    """The file's rows at their own row numbers, bad cells filled and commented, plus a 错误原因 column."""
    by_row: dict[int, list[RowProblem]] = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p)
    width = max(
        [len(r) for r in data.top_rows]
        + [len(cells) for _, cells in data.rows]
        + [len(s.cells) for s in data.skipped]
        + [max((c.index + 1 for c in data.columns), default=0)]
    )
    reason_col = width
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(data.sheet_name))
    for i, width in enumerate(_column_widths(data, reason_col)):
        letter = column_letter(i)
        ws.column_dimensions[letter] = ColumnDimension(ws, index=letter, width=width)
    ws.row_dimensions[data.header_row].height = 30
    reason_letter = column_letter(reason_col)
    ws.column_dimensions[reason_letter] = ColumnDimension(ws, index=reason_letter, width=60)
    ws.freeze_panes = f"A{data.header_row + 1}"
    fit_for_printing(ws, title_rows=f"{data.header_row}:{data.header_row}")

    d = LEDGERS[data.ledger_key]
    text_cols = [c.index for c in data.used_columns if c.match and d.column(c.match.key).kind == "idcard"]
    rows: dict[int, Sequence[Any]] = {r: cells for r, cells in data.rows}
    for s in data.skipped:
        rows[s.row] = s.cells
    try:
        _error_rows(ws, data, by_row, rows, text_cols, reason_col, state)
        _about_sheet(wb, data, problems)
    except BaseException:
        discard_workbook(wb)
        raise
    return save_workbook_atomically(wb, dest)


def _error_rows(
    ws, data: SheetData, by_row: dict[int, list[RowProblem]], rows: dict[int, Sequence[Any]],  # noqa: ANN001
    text_cols: list[int], reason_col: int, state: TaskState,
) -> None:
    header_row = data.header_row
    last = max([*rows, header_row])
    comments = 0
    for r in range(1, last + 1):
        if r % 2000 == 0:
            state.progress(r, last, f"正在写入错误报告第 {r:,} 行")
        cells: Sequence[Any] = data.top_rows[r - 1] if r <= len(data.top_rows) else rows.get(r, ())
        out: list[Any] = [None if v == "" else _xml_safe(v) for v in cells]
        out += [None] * (reason_col - len(out))
        if r == header_row:
            out = [None if v is None else _header_cell(ws, v) for v in out] + [_header_cell(ws, REASON_HEADER)]
        elif r > header_row:
            for i in text_cols:  # keep 身份证号 as text when the clerk retypes it
                if isinstance(out[i], str):
                    out[i] = _cell(ws, out[i], number_format=TEXT_FORMAT)
            row_problems = by_row.get(r)
            if row_problems:
                comments = _mark(ws, out, row_problems, comments)
        ws.append(as_text_row(ws, out))  # the file's text stays text, whatever it starts with


ABOUT_SHEET = "说明"
ABOUT_ALIGN = Alignment(wrap_text=True, vertical="top")
ABOUT_FONT = Font(bold=True)


def _about_sheet(wb: Workbook, data: SheetData, problems: Sequence[RowProblem]) -> None:
    """A second sheet saying which file this workbook annotates (the first keeps the file's row numbers)."""
    ws = wb.create_sheet(ABOUT_SHEET)
    ws.column_dimensions["A"] = ColumnDimension(ws, index="A", width=16)
    ws.column_dimensions["B"] = ColumnDimension(ws, index="B", width=70)
    fit_for_printing(ws)
    errors = sum(1 for p in problems if p.is_error)
    for label, value in (
        ("本文件标注的是", str(data.path)),
        ("原文件格式", data.format_text),
        ("工作表", data.sheet_name),
        ("表头所在行", f"第{data.header_row}行"),
        ("错误", f"{errors} 处（另有提示 {len(problems) - errors} 处）"),
        ("使用方法", "第一个工作表保留了原文件的行号：按红色单元格的批注和“错误原因”列改正原文件后重新导入，"
                 "或直接改正第一个工作表后导入本文件。"),
    ):
        cell = _cell(ws, _xml_safe(value))  # the file's own text stays text
        cell.alignment = ABOUT_ALIGN
        head = _cell(ws, label)
        head.font, head.alignment = ABOUT_FONT, ABOUT_ALIGN
        ws.append([head, cell])


def _xml_safe(value: Any) -> Any:
    """Text without the control characters an .xlsx cannot hold (a file may carry them as _x001F_)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _sheet_title(name: str | None) -> str:
    """The sheet's own name where Excel allows it (no \\ / ? * [ ] :, at most 31 characters)."""
    title = re.sub(r"[\\/?*\[\]:]", "_", _xml_safe(name or "")).strip("'")[:31]
    return title or "台账"


def _text_width(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return 19 if (value.hour, value.minute, value.second) != (0, 0, 0) else 11
    if isinstance(value, dt.date):
        return 11
    text = str(value)
    longest = max(text.split("\n"), key=len) if text else ""
    return sum(2.0 if ord(ch) > 0x2E80 else 1.1 for ch in longest)


def _column_widths(data: SheetData, count: int, sample: int = 200) -> list[float]:
    """Widths that fit the header and the first rows of each column (8 … 40 characters)."""
    widths = [8.0] * count
    header = data.top_rows[data.header_row - 1] if len(data.top_rows) >= data.header_row else []
    for cells in [header, *(cells for _, cells in data.rows[:sample])]:
        for i, v in enumerate(cells[:count]):
            if v not in (None, ""):
                widths[i] = max(widths[i], min(40.0, _text_width(v) + 2))
    return widths


def _cell(ws, value: Any, *, number_format: str | None = None) -> Cell:  # noqa: ANN001
    """A cell of the error workbook; a string is always text, never a formula or an error value."""
    return text_cell(ws, value, number_format=number_format)


def _header_cell(ws, value: Any) -> Cell:  # noqa: ANN001
    cell = _cell(ws, value)
    cell.font, cell.alignment, cell.border, cell.fill = HEADER_FONT, HEADER_ALIGN, HEADER_BORDER, HEADER_FILL
    return cell


def _mark(ws, out: list[Any], problems: list[RowProblem], comments: int) -> int:  # noqa: ANN001
    """Fill and comment the bad cells of a row; append the reasons (out is padded to the reason column).

    Comments stop after MAX_COMMENTS cells (they make the file slow to open); fills and reasons go on.
    Returns the number of comments written so far."""
    marks: dict[int, list[RowProblem]] = {}
    for p in problems:
        if p.col_index is not None:
            marks.setdefault(p.col_index, []).append(p)
    for i, ps in marks.items():
        cell = out[i] if isinstance(out[i], Cell) else _cell(ws, out[i])
        cell.fill = ERROR_FILL if any(p.is_error for p in ps) else WARNING_FILL
        if comments < MAX_COMMENTS:
            comment = Comment(_xml_safe("\n".join(p.message for p in ps))[:2000], "jzair")
            comment.width, comment.height = 300, 120
            cell.comment = comment
            comments += 1
        out[i] = cell
    reasons = "；".join(
        (f"{p.column}：" if p.column else "") + p.message + ("" if p.is_error else "（提示）") for p in problems
    )
    reason = _cell(ws, _xml_safe(reasons))
    reason.fill = ERROR_FILL if any(p.is_error for p in problems) else WARNING_FILL
    out.append(reason)
    return comments
