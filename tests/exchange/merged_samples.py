"""A county's heating ledger as clerks really keep it: a title row, a two-row header with merged cells
(乡（镇）, 村（社区） … merged down over both header rows, 补贴金额 merged across 合计/市级/县级), 乡（镇）
and 村（社区） merged down over their households, a 合计 row with =SUM formulas, set column widths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tests.exchange.samples import heating_row

# (header of the upper row, sub-headers under it or None)
HEADER = (
    ("序号", None), ("乡（镇）", None), ("村（社区）", None), ("户主姓名", None), ("身份证号", None),
    ("联系电话", None), ("采暖面积（平方米）", None), ("改造方式", None), ("状态", None), ("完成日期", None),
    ("补贴金额（元）", ("合计", "市级", "县级")), ("保留原燃煤设施", None), ("备注", None),
)
TITLE = "榆次区2020年清洁取暖散煤替代台账"
WIDTHS = {"A": 6, "B": 12, "C": 12, "D": 10, "E": 22, "K": 11, "L": 11, "M": 11}


@dataclass
class MessyBook:
    path: Path
    records: list[dict[str, Any]]  # the records as meant (township/village of every row filled)
    first_data_row: int
    total_row: int
    merges: list[str]  # every merged range written, A1-style
    township_runs: list[tuple[int, int]]  # (first, last) Excel rows of each merged 乡（镇）


def _columns() -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for head, subs in HEADER:
        out += [(head, s) for s in subs] if subs else [(head, None)]
    return out


def write_messy_heating(path: Path, groups: tuple[int, ...] = (4, 3, 5), *, start: int = 0,
                        sub_totals: bool = True) -> MessyBook:
    """One township per group of households, its village merged over pairs of them. `sub_totals` False writes
    补贴金额 over 市级/县级 only (no 合计 column)."""
    cols = [c for c in _columns() if sub_totals or c[1] != "合计"]
    wb = Workbook()
    ws = wb.active
    ws.title = "清洁取暖"
    last = len(cols)
    ws.cell(1, 1, TITLE)
    merges = [f"A1:{ws.cell(1, last).column_letter}1"]
    # the two header rows
    c = 1
    for head, subs in HEADER:
        subs = tuple(s for s in subs if sub_totals or s != "合计") if subs else None
        ws.cell(2, c, head)
        if subs:
            for j, s in enumerate(subs):
                ws.cell(3, c + j, s)
            merges.append(f"{ws.cell(2, c).coordinate}:{ws.cell(2, c + len(subs) - 1).coordinate}")
            c += len(subs)
        else:
            merges.append(f"{ws.cell(2, c).coordinate}:{ws.cell(3, c).coordinate}")
            c += 1
    records: list[dict[str, Any]] = []
    row = 4
    runs: list[tuple[int, int]] = []
    i = start
    for g, size in enumerate(groups):
        township = ("东阳镇", "长凝镇", "北田镇", "修文镇", "张庆乡")[g % 5]
        first = row
        for k in range(size):
            rec = heating_row(i)
            rec["乡（镇）"] = township
            rec["村（社区）"] = f"{township[:2]}{k // 2 + 1}村"
            city = 1000 + 10 * (i % 7)
            county = 500
            rec["补贴金额（元）"] = city + county
            values = {"序号": i + 1 - start, **rec}
            for col, (head, sub) in enumerate(cols, start=1):
                if sub is None:
                    v = values.get(head)
                else:
                    v = {"合计": city + county, "市级": city, "县级": county}[sub]
                if head in ("乡（镇）",) and row != first:
                    v = None  # under the merge: empty, as Excel keeps it
                if head == "村（社区）" and k % 2 == 1:
                    v = None
                if head == "身份证号":
                    ws.cell(row, col).number_format = "@"
                ws.cell(row, col, v)
            records.append(rec)
            row += 1
            i += 1
        runs.append((first, row - 1))
        merges.append(f"B{first}:B{row - 1}")
        for r in range(first, row, 2):
            if r + 1 < row:
                merges.append(f"C{r}:C{r + 1}")
    total_row = row
    ws.cell(total_row, 1, "合计")
    merges.append(f"A{total_row}:D{total_row}")
    for col, (head, _sub) in enumerate(cols, start=1):
        if head in ("采暖面积（平方米）", "补贴金额（元）"):
            letter = ws.cell(4, col).column_letter
            ws.cell(total_row, col, f"=SUM({letter}4:{letter}{total_row - 1})")
    for m in merges:
        ws.merge_cells(m)
    for letter, width in WIDTHS.items():
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    wb.save(path)
    return MessyBook(path, records, 4, total_row, merges, runs)
