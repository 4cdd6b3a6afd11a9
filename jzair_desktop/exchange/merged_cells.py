"""Merged cells in a county's ledger sheet: headers that span cells, and values merged down over rows.

County ledgers merge 乡（镇）/村（社区） down over the households of one village and merge header cells
across columns (补贴金额 over 市级/县级). A spreadsheet keeps a merged range's value in its first cell only;
the import reads the value into every row the range covers, as the clerk sees it.

- `header_view`: the first rows with every merged range filled (for finding the header row only).
- `two_row_header`: the header rows (upper, lower) when the header spans two rows, else None;
  `combined_header` then names each column by both rows ("补贴金额（合计）").
- `DataFill`: fills vertically merged ranges of the data rows, chunk by chunk, and reports what cannot be
  filled without guessing: a range spanning the header and data rows, a covered cell holding another value,
  a range across two columns of the ledger.

Coordinates are 0-based sheet (row, column), as spreadsheet.Sheet.merged gives them. Nothing here costs
anything for a sheet without merged ranges: the reader skips it all then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jzair_desktop.exchange.xlsx_common import column_letter

Range = tuple[int, int, int, int]  # first row, first column, last row, last column (0-based, inclusive)
TOTAL_HEADERS = ("合计", "小计", "总计")
# Sub-headers that give the unit of the header above them (补贴金额 over 万元).
UNIT_WORDS = frozenset({"元", "万元", "平方米", "㎡", "m2", "m²", "mw", "兆瓦", "蒸吨/小时", "蒸吨", "t/h", "个", "台", "户", "辆"})


def range_text(m: Range) -> str:
    """A1-style reference of a range, as Excel shows it (A5:A12)."""
    r0, c0, r1, c1 = m
    return f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def header_view(top: Sequence[Sequence[Any]], merges: Sequence[Range]) -> list[list[Any]]:
    """A copy of the first rows with each merged range's value in every cell it covers."""
    view = [list(r) for r in top]
    n = len(view)
    for r0, c0, r1, c1 in merges:
        if r0 >= n or c0 >= len(view[r0]):
            continue
        value = view[r0][c0]
        if _empty(value):
            continue
        for r in range(r0, min(r1, n - 1) + 1):
            row = view[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if _empty(row[c]):
                    row[c] = value
    return view


def two_row_header(
    top: Sequence[Sequence[Any]], view: Sequence[Sequence[Any]], merges: Sequence[Range], best: int,
    match: Callable[[str], Any],
) -> tuple[int, int] | None:
    """(upper, lower) when the best header row `best` is one of two header rows joined by merged cells: a
    header cell merged down over both rows, or one merged across columns with sub-headers under it. The
    upper row must name a column of the ledger itself: a title or a 填报单位 line above the header is not a
    header row, merged or not."""

    def joined(upper: int) -> bool:
        lower = upper + 1
        if upper < 0 or lower >= len(view):
            return False
        if not any(isinstance(v, str) and match(v) is not None for v in top[upper]):
            return False
        for r0, c0, r1, c1 in merges:
            if r0 != upper:
                continue
            if r1 == lower:
                return True
            if r1 == upper and c1 > c0:
                row = view[lower]
                # sub-headers under a merged header: text in the lower row's cells under the range
                if any(not _empty(row[c]) for c in range(c0, min(c1, len(row) - 1) + 1)):
                    return True
        return False

    if joined(best):
        return best, best + 1
    if joined(best - 1):
        return best - 1, best
    return None


def combined_header(
    top: Sequence[Sequence[Any]], view: Sequence[Sequence[Any]], merges: Sequence[Range], upper: int,
    match: Callable[[str], Any],
) -> list[tuple[int, str, Any]]:
    """(column, header text, match) for each column of a two-row header. A header merged down over both
    rows is read once; a sub-header under a merged header is read with it ("补贴金额（元）", "补贴金额（市级）")
    and, when it is a 合计/小计 column, as the upper header itself; a lower header alone when that matches."""
    lower = upper + 1
    down = {(upper, c) for r0, c0, r1, c1 in merges if r0 <= upper and r1 >= lower for c in range(c0, c1 + 1)}
    width = max(len(view[upper]), len(view[lower]))
    out: list[tuple[int, str, Any]] = []
    for c in range(width):
        up = view[upper][c] if c < len(view[upper]) else None
        lo = top[lower][c] if c < len(top[lower]) and (upper, c) not in down else None
        up_t = "" if _empty(up) else str(up).strip()
        lo_t = "" if _empty(lo) else str(lo).strip()
        if not up_t and not lo_t:
            continue
        if not lo_t or up_t == lo_t:
            out.append((c, up_t, match(up_t)))
            continue
        if not up_t:
            out.append((c, lo_t, match(lo_t)))
            continue
        joined = f"{up_t}{lo_t}" if lo_t[:1] in "（(" else f"{up_t}（{lo_t}）"
        if lo_t[:1] in "（(" or lo_t.replace(" ", "").lower() in UNIT_WORDS:
            found = match(joined)  # 补贴金额 over （万元）: the unit of the column
        elif lo_t in TOTAL_HEADERS:
            found = match(up_t)  # 补贴金额 over 合计/市级/县级: the total is the ledger's column
        else:
            found = match(lo_t)  # 基本信息 over 乡镇: the sub-header names it; 补贴金额 over 市级: not ours
        out.append((c, joined, found))
    return out


class DataFill:
    """Fills the data rows' vertically merged ranges as the rows stream in; collects the problems.

    `header_idx` is the 0-based sheet row of the (lower) header row; `columns` maps the sheet columns the
    ledger uses to their headers. `problems` collects (Excel row, column index, message) of ranges reaching
    into the header; `row_problems` those of one row (the reader keeps them for the rows it reads as records,
    not for a 合计 row)."""

    def __init__(self, merges: Sequence[Range], header_idx: int, columns: dict[int, str]) -> None:
        self.columns = columns
        self.problems: list[tuple[int, int | None, str]] = []
        self.row_problems: list[tuple[int, int | None, str]] = []
        self.starts: dict[int, list[Range]] = {}
        self.covers: dict[int, list[Range]] = {}
        self.values: dict[Range, Any] = {}
        for m in merges:
            r0, c0, r1, c1 = m
            if r1 <= header_idx:
                continue  # the title and the header rows
            used = [c for c in range(c0, c1 + 1) if c in columns]
            if r0 <= header_idx:
                col = used[0] if used else c0
                self.problems.append((
                    header_idx + 2, col if used else None,
                    f"合并单元格 {range_text(m)} 跨越了表头（第{r0 + 1}行）和数据行（第{header_idx + 2}–{r1 + 1}行），"
                    "无法确定数据行的值。请取消该合并，在每一行填上本列的值后再导入",
                ))
                continue
            if len(used) > 1:
                names = "”“".join(columns[c] for c in used)
                self.row_problems.append((
                    r0 + 1, used[0],
                    f"合并单元格 {range_text(m)} 横跨“{names}”{len(used)}列，一个值不能同时作为几列的值。"
                    "请取消该合并，在各列分别填写后再导入",
                ))
                continue
            if r1 == r0:
                continue  # merged across columns within one row: the value is in its first cell
            self.starts.setdefault(r0, []).append(m)
            for r in range(r0 + 1, r1 + 1):
                self.covers.setdefault(r, []).append(m)

    def apply(self, first: int, rows: Sequence[list[Any]]) -> None:
        """Fill rows whose 0-based sheet rows are `first`, `first + 1`, … in place."""
        starts, covers, values = self.starts, self.covers, self.values
        for i, cells in enumerate(rows):
            r = first + i
            if r in starts:
                for m in starts[r]:
                    c0 = m[1]
                    values[m] = cells[c0] if c0 < len(cells) else None
            if r in covers:
                for m in covers[r]:
                    self._fill(m, r, cells)

    def _fill(self, m: Range, r: int, cells: list[Any]) -> None:
        c0 = m[1]
        value = self.values.get(m)
        if c0 >= len(cells):
            cells.extend([""] * (c0 + 1 - len(cells)))
        own = cells[c0]
        if _empty(own):
            cells[c0] = value
        elif not _empty(value) and own != value:
            header = self.columns.get(c0)
            if header is not None:
                self.row_problems.append((
                    r + 1, c0,
                    f"该格在合并单元格 {range_text(m)} 内，合并后显示“{value}”，但该格自己还存有“{own}”，"
                    "无法确定该用哪一个。请取消合并，在每一行填上正确的值后再导入",
                ))
