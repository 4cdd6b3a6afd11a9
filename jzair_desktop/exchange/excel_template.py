"""The ledger workbook layout shared by the blank template and the export.

Sheet 1 (named after the ledger): the header row is row 1 with the registry's headers in order, styled
(required columns in a darker fill), frozen, with column widths, a help comment on each header, date and
text number formats for whole columns (身份证号 is text, '@', so Excel never turns it into 1.40702E+17),
and a dropdown (data validation) for every closed list. Lists that fit Excel's 255-character limit for an
inline list are inline; longer ones live on the hidden sheet 选项 and the dropdown points at their range.
Sheet 2 填表说明: every column (required, how to fill it, allowed values) and the ledger's rules.

Written with openpyxl's write-only mode (streams rows, fast for 100k rows), to a temporary file in the
destination folder that replaces the destination only when complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import math
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import ColumnDimension

from jzair_desktop.domain.ledgers import Column, LedgerDef
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import ERROR
from jzair_desktop.errors import JzairError
from jzair_desktop.exchange.xlsx_common import (
    DATE_FORMAT,
    HEADER_ALIGN,
    HEADER_BORDER,
    HEADER_FILL,
    HEADER_FONT,
    INT_FORMAT,
    NUMBER_FORMAT,
    TEXT_FORMAT,
    as_text_row,
    column_letter,
    text_cell,
)
from jzair_desktop.fsutil import replace_file
from jzair_desktop.taskstate import NULL_STATE, TaskState

INSTRUCTIONS_SHEET = "填表说明"
OPTIONS_SHEET = "选项"
INLINE_LIST_LIMIT = 255  # Excel's limit for an inline dropdown list (the formula text)
REQUIRED_FILL = PatternFill("solid", fgColor="C00000")
LAST_ROW = 1048576

KIND_HELP = {
    "unit": "填写县（区、市）名称或行政区划代码。",
    "date": "日期，如 2020-11-03、2020/11/3、2020.11.03 或 2020年11月3日。",
    "int": "整数。",
    "float": "数字，可带千位分隔符。",
    "phone": "手机或固话号码。",
    "bool": "填“是”或“否”。",
}

COMMON_RULES = (
    "第1行是表头，请不要修改表头文字；表头上方可以加标题行，导入时会自动查找表头所在的行。",
    "红色表头为必填列，蓝色表头为选填列；带下拉箭头的列只能从列表中选择。",
    "合计、小计行和空行在导入时自动跳过；表中其他的列（如 序号）在导入时忽略。",
    "日期可填写 2020-11-03、2020/11/3、2020.11.03 或 2020年11月3日；数字可带千位分隔符。",
    "再次导入同一台账时，已有的记录按唯一标识更新，新的记录新增，未变的记录保持不变。",
    "有任何错误时整个文件都不导入，错误会标注在同一文件夹下的“文件名.错误.xlsx”中，改正后重新导入即可。",
)


def _lines(text: str, width: float) -> int:
    """How many lines `text` takes in a wrapped cell `width` characters wide (CJK characters count 2)."""
    units = sum(2.0 if ord(ch) > 0x2E80 else 1.1 for ch in text)
    return max(1, math.ceil(units / max(width - 1.5, 1)))


def sheet_name(d: LedgerDef) -> str:
    return d.sheet_title[:31]


def choices_of(col: Column) -> tuple[str, ...]:
    """The dropdown values of a column ('' when it has none)."""
    if col.kind == "unit":
        return tuple(u.name for u in reference().units)
    return col.choices


def inline_list_formula(choices: Sequence[str]) -> str | None:
    """'"a,b,c"' for a list that Excel accepts inline, else None (too long, or a value holds a comma)."""
    if any("," in c or '"' in c for c in choices):
        return None
    formula = '"' + ",".join(choices) + '"'
    return formula if len(formula) <= INLINE_LIST_LIMIT else None


def column_help(col: Column) -> str:
    parts = []
    if col.help:
        parts.append(col.help)
    elif col.kind in KIND_HELP:
        parts.append(KIND_HELP[col.kind])
    if col.kind == "text" and col.max_length:
        parts.append(f"最多{col.max_length}个字。")
    if col.default is not None:
        parts.append(f"空白视为“{col.default}”。")
    return "".join(parts)


def duplicate_rules_text(d: LedgerDef) -> list[str]:
    out = []
    for rule in d.duplicate_rules:
        heads = "、".join(d.column(f).header for f in rule.fields)
        verdict = "视为重复登记，不能导入" if rule.severity == ERROR else "导入时给出提示，请确认不是重复登记"
        out.append(f"{heads}相同的记录（{rule.describe}）{verdict}。")
    return out


class LedgerBook:
    """A ledger workbook being written: `append(values)` per record, then `save()`.

    `values` are display values in registry column order (unit names, dates, numbers, texts).
    """

    def __init__(self, d: LedgerDef, *, units: Sequence[str] | None = None) -> None:
        self.d = d
        self.units = tuple(units) if units else None  # the 县（区、市） offered (a county user's own), else all
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet(sheet_name(d))
        self._instructions = self.wb.create_sheet(INSTRUCTIONS_SHEET)
        self._options = None  # the hidden sheet of long lists, created when first needed
        self._option_lists: list[tuple[str, Sequence[str]]] = []
        self._saved = False
        self._text_cols = {i for i, c in enumerate(d.columns) if c.kind == "idcard"}
        self.rows = 0
        self._layout()

    # --- layout -----------------------------------------------------------------------------------

    def _layout(self) -> None:
        ws, d = self.ws, self.d
        for i, col in enumerate(d.columns):
            letter = column_letter(i)
            dim = ColumnDimension(ws, index=letter, width=col.width + 2)
            fmt = self._column_format(col)
            if fmt:
                dim.number_format = fmt
            ws.column_dimensions[letter] = dim
        ws.freeze_panes = "A2"
        fit_for_printing(ws, title_rows="1:1")
        for i, col in enumerate(d.columns):
            self._dropdown(i, col)
        header = []
        for col in d.columns:
            cell = WriteOnlyCell(ws, col.header)
            cell.font = HEADER_FONT
            cell.fill = REQUIRED_FILL if col.required else HEADER_FILL
            cell.alignment = HEADER_ALIGN
            cell.border = HEADER_BORDER
            text = ("必填。" if col.required else "选填。") + column_help(col)
            choices = choices_of(col)
            if choices and col.kind != "unit":
                text += "可选：" + "、".join(choices)
            comment = Comment(text, "jzair")
            comment.width, comment.height = 260, 110
            cell.comment = comment
            header.append(cell)
        ws.row_dimensions[1].height = 30
        ws.append(header)
        self._write_instructions()

    @staticmethod
    def _column_format(col: Column) -> str | None:
        if col.kind == "date":
            return DATE_FORMAT
        if col.kind == "idcard":
            return TEXT_FORMAT
        if col.kind == "int":
            return INT_FORMAT
        if col.kind == "float":
            return NUMBER_FORMAT
        return None

    def _options_range(self, choices: Sequence[str], title: str) -> str:
        if self._options is None:
            self._options = self.wb.create_sheet(OPTIONS_SHEET)
            self._options.sheet_state = "hidden"
        letter = column_letter(len(self._option_lists))
        self._option_lists.append((title, choices))
        return f"'{OPTIONS_SHEET}'!${letter}$2:${letter}${len(choices) + 1}"

    def _choices(self, col: Column) -> tuple[str, ...]:
        return self.units if col.kind == "unit" and self.units else choices_of(col)

    def _dropdown(self, index: int, col: Column) -> None:
        choices = self._choices(col)
        if not choices:
            return
        formula = inline_list_formula(choices) or self._options_range(choices, col.header)
        dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
        dv.showErrorMessage = True
        dv.errorStyle = "stop" if col.kind != "unit" else "warning"
        dv.errorTitle = "输入有误"
        dv.error = f"“{col.header}”只能从下拉列表中选择。"
        dv.promptTitle = col.header
        dv.prompt = "请从下拉列表中选择。"
        dv.showInputMessage = False
        letter = column_letter(index)
        dv.add(f"{letter}2:{letter}{LAST_ROW}")
        self.ws.data_validations.append(dv)

    def _write_instructions(self) -> None:
        ws, d = self._instructions, self.d
        widths = (6, 22, 10, 60, 44)
        for letter, width in zip("ABCDE", widths, strict=True):
            ws.column_dimensions[letter] = ColumnDimension(ws, index=letter, width=width)
        fit_for_printing(ws, title_rows="3:3")
        title = WriteOnlyCell(ws, f"{d.sheet_title} 填表说明")
        title.font = Font(name="宋体", bold=True, size=14)
        ws.append([title])
        ws.append([])
        head = []
        for text in ("序号", "列名", "是否必填", "填写说明", "可选值"):
            c = WriteOnlyCell(ws, text)
            c.font, c.fill, c.alignment, c.border = HEADER_FONT, HEADER_FILL, HEADER_ALIGN, HEADER_BORDER
            head.append(c)
        ws.append(head)
        row = 3
        wrap = Alignment(wrap_text=True, vertical="top")
        for i, col in enumerate(d.columns, 1):
            choices = self._choices(col)
            values = (
                i,
                col.header,
                "必填" if col.required else "选填",
                column_help(col) + (f"（也可用表头：{'、'.join(col.aliases)}）" if col.aliases else ""),
                "、".join(choices) if col.kind != "unit" or self.units else "各县（区、市）名称",
            )
            cells = []
            for v in values:
                c = WriteOnlyCell(ws, v)
                c.alignment = wrap
                c.border = HEADER_BORDER
                cells.append(c)
            row += 1
            # Write-only sheets cannot auto-fit: give wrapped rows the height their text needs.
            lines = max(_lines(str(v), w) for v, w in zip(values, widths, strict=True))
            ws.row_dimensions[row].height = 15 * lines + 2
            ws.append(cells)
        ws.append([])
        rule_title = WriteOnlyCell(ws, "填表规则")
        rule_title.font = Font(name="宋体", bold=True, size=12)
        ws.append([rule_title])
        rules = (*COMMON_RULES, *duplicate_rules_text(d), *d.import_rules)
        for i, rule in enumerate(rules, 1):
            ws.append([i, rule])  # one line each, running over the empty cells to its right

    # --- rows ---------------------------------------------------------------------------------------

    def append(self, values: Sequence[Any]) -> None:
        values = as_text_row(self.ws, values)  # text that looks like a formula stays text
        if self._text_cols:
            values = list(values)
            for i in self._text_cols:
                v = values[i]
                if isinstance(v, Cell):
                    v.number_format = TEXT_FORMAT
                elif v is not None:
                    values[i] = text_cell(self.ws, v, number_format=TEXT_FORMAT)
        self.ws.append(values)
        self.rows += 1

    def save(self, dest: Path) -> Path:
        """Write the workbook to `dest` (atomically: a temporary file renamed over it)."""
        if self._saved:
            raise RuntimeError("a LedgerBook can be saved once")
        self._saved = True
        if self._options is not None:
            self._options.append([title for title, _ in self._option_lists])
            longest = max(len(c) for _, c in self._option_lists)
            for r in range(longest):
                self._options.append([c[r] if r < len(c) else None for _, c in self._option_lists])
        return save_workbook_atomically(self.wb, dest)


def check_destination(dest: Path) -> Path:
    """Refuse a destination whose folder does not exist (before any work is done)."""
    dest = Path(dest)
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise JzairError(f"保存位置的文件夹不存在：{folder}")
    return dest


def discard_workbook(wb: Workbook) -> None:
    """Close a write-only workbook that will not be saved (cancel, error), so no stream is left open."""
    for ws in wb.worksheets:
        rows = getattr(ws, "_rows", None)
        if rows is not None:
            with contextlib.suppress(Exception):
                rows.close()
        writer = getattr(ws, "_writer", None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()


def fit_for_printing(ws, *, title_rows: str | None = None) -> None:  # noqa: ANN001 - any worksheet
    """Landscape A4, all columns on one page width, the header repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows


def save_workbook_atomically(wb: Workbook, dest: Path) -> Path:
    try:
        dest = check_destination(dest)
    except JzairError:
        discard_workbook(wb)
        raise
    tmp = dest.with_name(f".~{dest.stem}.{uuid.uuid4().hex[:8]}.tmp.xlsx")
    try:
        _save_closing_everything(wb, tmp)
        replace_file(tmp, dest)
    except PermissionError as exc:
        raise JzairError(f"无法写入文件：{dest}。文件可能正在 Excel 中打开，请关闭后重试。") from exc
    except OSError as exc:
        raise write_failed(dest, exc) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return dest


def write_failed(dest: Path, exc: OSError) -> JzairError:
    """The one message for a workbook that could not be written (full disk, size limit, device error)."""
    full = exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    hint = "磁盘空间不足或文件大小超出限制，请清理磁盘或换一个保存位置后重试。" if full else "请检查保存位置后重试。"
    return JzairError(f"无法写入文件：{dest}（{exc.strerror or exc}）。{hint}没有生成文件。")


def _save_closing_everything(wb: Workbook, path: Path) -> None:
    """openpyxl's save, with the zip and the sheets' temporary files closed even when a write fails: a failed
    save leaves nothing open whose clean-up would fail again later ("Exception ignored … OSError")."""
    from openpyxl.writer.excel import ExcelWriter

    if wb.write_only and not wb.worksheets:  # as Workbook.save does
        wb.create_sheet()
    wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)  # as openpyxl's save_workbook does
    with open(path, "wb") as fh:
        archive = zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        try:
            ExcelWriter(wb, archive).save()  # writes every part and closes the archive
        except BaseException:
            with contextlib.suppress(Exception):
                archive.close()  # fails again on a full disk; afterwards the archive holds nothing open
            discard_workbook(wb)
            raise


def write_template(d: LedgerDef, dest: Path, *, units: Sequence[str] | None = None) -> Path:
    """A blank template of ledger `d` at `dest` (its 县（区、市） list limited to `units` when given)."""
    dest = check_destination(dest)
    return LedgerBook(d, units=units).save(dest)


def write_rows(
    d: LedgerDef,
    dest: Path,
    rows: Iterable[Sequence[Any]],
    *,
    total: int = 0,
    state: TaskState = NULL_STATE,
) -> int:
    """Write display rows into a ledger workbook at `dest`; returns the number of rows written."""
    dest = check_destination(dest)
    book = LedgerBook(d)
    try:
        for values in rows:
            book.append(values)
            if book.rows % 500 == 0:
                state.progress(book.rows, total, f"正在写入第 {book.rows:,} 行")
        state.progress(book.rows, total, "正在保存文件…", force=True)
    except OSError as exc:  # the sheet's temporary file could not be written (a full disk, a size limit)
        discard_workbook(book.wb)
        raise write_failed(dest, exc) from exc
    except BaseException:
        discard_workbook(book.wb)
        raise
    book.save(dest)
    return book.rows
