"""The target split (任务分解) as an .xlsx grid: units down, indicators across.

Layout of the sheet 任务分解:
    row 1  title
    row 2  指标代码 | (blank) | indicator keys          (lets import find columns whatever the headers say)
    row 3  县（区、市） | 行政区划代码 | 散煤治理（户） …
    rows   one per unit; a blank cell = 未分解
    then   合计 (SUM formulas), 市级目标 (the plan's), 核对 (一致/不一致, red when they differ)
Only the indicators the city office splits by hand are columns ('all_found' and rate indicators need
no split). Import reads the first sheet named 任务分解 (else the first sheet), finds the header row by
its 县（区、市） cell, checks every cell, and writes all or nothing: a number sets the target, a blank
cell clears it; units or indicators not in the file are left as they are.

Only the file format lives here (it knows the plan's reference data, not the database): the service
services/targets_excel.py reads the targets for the export and checks and writes what an import reads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from jzair_desktop.domain.ledgers import COUNTY
from jzair_desktop.domain.reference import Indicator, reference
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.exchange.spreadsheet import calamine_failure

SHEET = "任务分解"
TITLE = "晋中市2020-2021年秋冬季大气污染综合治理攻坚行动任务分解表"
KEY_LABEL = "指标代码"
CODE_HEADER = "行政区划代码"
TOTAL_LABEL = "合计"
CITY_LABEL = "市级目标"
CHECK_LABEL = "核对"
SKIP_LABELS = {TOTAL_LABEL, "小计", CITY_LABEL, CHECK_LABEL, "全市", "差额"}
IGNORED_HEADERS = {CODE_HEADER, "代码", "序号", "备注"}

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
_SUM_FILL = PatternFill("solid", fgColor="F2F2F2")
_BAD_FILL = PatternFill("solid", fgColor="F4B6B6")


def column_header(name: str, unit: str) -> str:
    return f"{name}（{unit}）"


@dataclass(frozen=True, slots=True)
class SplitCell:
    """One cell of a split workbook as read (not yet checked); `value` None is a blank cell."""

    indicator: str
    unit: str  # the unit's code
    value: object
    where: str  # 第5行“散煤治理（户）”列


def write_split_workbook(path: str | Path, inds: Sequence[Indicator],
                         values: Mapping[tuple[str, str], float | None], integral: Collection[str]) -> Path:
    """Write the split of the indicators `inds` to `path` (.xlsx): `values[(indicator key, unit code)]`,
    `integral` the keys of the indicators counted in whole numbers. Returns the path written."""
    path = Path(path)
    ref = reference()
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    n_cols = 2 + len(inds)
    last_col = get_column_letter(n_cols)

    ws.cell(1, 1, TITLE).font = Font(bold=True, size=14)  # left, so that it heads the first printed page

    ws.cell(2, 1, KEY_LABEL)
    ws.cell(3, 1, COUNTY.header)
    ws.cell(3, 2, CODE_HEADER)
    for j, ind in enumerate(inds, start=3):
        ws.cell(2, j, ind.key)
        ws.cell(3, j, column_header(ind.name, ind.unit))
    for j in range(1, n_cols + 1):
        ws.cell(2, j).font = Font(color="808080", size=8)
        head = ws.cell(3, j)
        head.font = Font(bold=True)
        head.fill = _HEAD_FILL
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        head.border = _BORDER
    ws.row_dimensions[3].height = 45

    first_data = 4
    for i, unit in enumerate(ref.units):
        r = first_data + i
        ws.cell(r, 1, unit.name).border = _BORDER
        ws.cell(r, 2, unit.code).border = _BORDER
        for j, ind in enumerate(inds, start=3):
            cell = ws.cell(r, j, _cell_value(values.get((ind.key, unit.code))))
            cell.number_format = "#,##0" if ind.key in integral else "#,##0.##"
            cell.border = _BORDER
    last_data = first_data + len(ref.units) - 1
    total_row, city_row, check_row = last_data + 1, last_data + 2, last_data + 3
    ws.cell(total_row, 1, TOTAL_LABEL)
    ws.cell(city_row, 1, CITY_LABEL)
    ws.cell(check_row, 1, CHECK_LABEL)
    for j, ind in enumerate(inds, start=3):
        col = get_column_letter(j)
        ws.cell(total_row, j, f"=SUM({col}{first_data}:{col}{last_data})")
        ws.cell(city_row, j, _cell_value(ind.target))
        ws.cell(check_row, j, f'=IF(ROUND({col}{total_row}-{col}{city_row},6)=0,"一致","不一致")')
        for r in (total_row, city_row):
            ws.cell(r, j).number_format = "#,##0" if ind.key in integral else "#,##0.##"
    for r in (total_row, city_row, check_row):
        for j in range(1, n_cols + 1):
            c = ws.cell(r, j)
            c.fill = _SUM_FILL
            c.border = _BORDER
            c.font = Font(bold=True)
    ws.conditional_formatting.add(
        f"C{check_row}:{last_col}{check_row}",
        FormulaRule(formula=[f'C{check_row}="不一致"'], fill=_BAD_FILL),
    )
    note = ws.cell(check_row + 2, 1, "说明：空白单元格表示该县（区、市）尚未分解；“合计”应等于“市级目标”。"
                   "35蒸吨以下燃煤锅炉淘汰、旁路排查整治以各县排查录入的全部记录为目标，比率类指标各县目标统一，"
                   "均不在本表分解。")
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=check_row + 2, start_column=1, end_row=check_row + 2, end_column=min(n_cols, 8))
    ws.row_dimensions[check_row + 2].height = 48
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 12
    for j in range(3, n_cols + 1):
        ws.column_dimensions[get_column_letter(j)].width = 15
    ws.freeze_panes = "C4"
    # Printing: A4 landscape, two pages wide, unit names and headers repeated on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 2
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_cols = "A:B"
    ws.print_title_rows = "2:3"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        wb.save(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise JzairError(f"无法写入文件：{path}（{exc.strerror or exc}）") from exc
    return path


def _cell_value(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


# --------------------------------------------------------------------------- import
_BRACKETS = str.maketrans({"(": "（", ")": "）"})
_TRAILING_UNIT = re.compile(r"（[^（）]*）$")


def _norm(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    return re.sub(r"\s+", "", text).translate(_BRACKETS)


def read_split_workbook(path: str | Path, splittable: Sequence[Indicator]) -> tuple[list[SplitCell], list[str]]:
    """The cells of a split workbook (any format the import reads: .xlsx, .xls/.et, .xlsb, .ods, .csv), not yet
    checked, and the problems found in its layout (unknown columns or units, duplicate rows, columns of
    indicators not in `splittable`). Raises JzairError when the file has no sheet or no header row."""
    from jzair_desktop.exchange.excel_import import open_checked

    path = Path(path)
    name = path.name
    with open_checked(path) as (book, _scans):
        names = book.sheet_names()
        if not names:
            raise JzairError(f"文件“{name}”中没有工作表。")
        sheet_name = SHEET if SHEET in names else names[0]
        try:
            rows = [list(r) for r in book.sheet(sheet_name).rows]
        except BaseException as exc:
            if not calamine_failure(exc):
                raise
            raise JzairError(f"文件“{name}”的工作表“{sheet_name}”已损坏，无法读取。") from exc

    county_headers = {_norm(h) for h in COUNTY.all_headers}
    header_at = next(
        (r for r, row in enumerate(rows) if row and any(_norm(v) in county_headers for v in row)),
        None,
    )
    if header_at is None:
        raise JzairError(f"文件“{name}”中找不到表头行（应有“{COUNTY.header}”列）。")
    header = rows[header_at]
    unit_col = next(j for j, v in enumerate(header) if _norm(v) in county_headers)
    code_col = next((j for j, v in enumerate(header) if _norm(v) == CODE_HEADER), None)

    keys_row = next((rows[r] for r in range(header_at) if rows[r] and _norm(rows[r][0]) == KEY_LABEL), None)
    ref = reference()
    by_key = {i.key: i for i in ref.indicators}
    by_name = {_norm(i.name): i for i in ref.indicators}
    problems: list[str] = []
    columns: dict[int, tuple[str, str]] = {}  # column -> (indicator key, header text)
    for j, head in enumerate(header):
        if j in (unit_col, code_col):
            continue
        text = _norm(head)
        key_text = _norm(keys_row[j]) if keys_row is not None and j < len(keys_row) else ""
        if not text and not key_text:
            continue
        if text in IGNORED_HEADERS:
            continue
        ind = by_key.get(key_text) or by_key.get(text) or by_name.get(text) or by_name.get(_TRAILING_UNIT.sub("", text))
        label = str(head).strip() or key_text
        where = f"第{header_at + 1}行“{label}”列"
        if ind is None:
            allowed = "、".join(column_header(i.name, i.unit) for i in splittable)
            problems.append(f"{where}：未知的指标。可分解的指标：{allowed}")
            continue
        if ind.key not in {i.key for i in splittable}:
            problems.append(f"{where}：“{ind.name}”无需分解（由台账自动计算或各县目标统一），请删除该列。")
            continue
        if ind.key in (k for k, _ in columns.values()):
            problems.append(f"{where}：指标“{ind.name}”的列重复。")
            continue
        columns[j] = (ind.key, label)
    if not columns and not problems:
        raise JzairError(f"文件“{name}”中没有可分解的指标列。")

    entries: list[SplitCell] = []
    seen_units: dict[str, int] = {}
    for r in range(header_at + 1, len(rows)):
        row = rows[r]
        unit_text = _norm(row[unit_col]) if unit_col < len(row) else ""
        if code_col is not None and code_col < len(row) and not unit_text:
            unit_text = _norm(row[code_col])
            if unit_text.endswith(".0"):
                unit_text = unit_text[:-2]
        values = [row[j] if j < len(row) else "" for j in columns]
        if not unit_text:
            if any(_norm(v) for v in values):
                problems.append(f"第{r + 1}行：有目标数值但没有填写{COUNTY.header}。")
            continue
        if unit_text in SKIP_LABELS or unit_text.startswith("说明"):
            continue
        unit = ref.find_unit(unit_text)
        if unit is None:
            names = "、".join(u.name for u in ref.units)
            problems.append(f"第{r + 1}行：未知的{COUNTY.header}“{row[unit_col]}”。可选：{names}")
            continue
        if unit.code in seen_units:
            problems.append(f"第{r + 1}行：“{unit.name}”重复出现（另见第{seen_units[unit.code]}行）。")
            continue
        seen_units[unit.code] = r + 1
        for j, (key, label) in columns.items():
            value = row[j] if j < len(row) else ""
            entries.append(SplitCell(key, unit.code, _cell_text(value), where=f"第{r + 1}行“{label}”列"))
    return entries, problems


def _cell_text(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    if value == "" or value is None:
        return None
    return value


_ROW = re.compile(r"^第(\d+)行")


def raise_problems(name: str, problems: list[str]) -> NoReturn:
    """Every problem, in the order of the rows, each naming the file."""
    ordered = sorted(problems, key=lambda p: int(m.group(1)) if (m := _ROW.match(p)) else 0)
    lines = [f"文件“{name}”{p}" for p in ordered]
    head = "\n".join(lines[:10])
    more = f"\n……另有 {len(lines) - 10} 处" if len(lines) > 10 else ""
    raise ValidationFailed(f"任务分解表有 {len(lines)} 处错误，未导入任何数据：\n{head}{more}", lines)
