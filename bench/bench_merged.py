"""Reading a ledger with merged cells against the same ledger without them (issue 15, merged cells).

    python bench/bench_merged.py [--ranges 10000] [--rows-per-range 4] [--repeat 3]

Writes a heating ledger of ranges x rows-per-range households whose 乡（镇） is merged down over each run of
households (10,000 merged ranges by default, plus a title row merged across the table), and the same
households with every 乡（镇） written out and no merged cell. Measures the import's read and check
(exchange.excel_import.read_ledger_sheet + check_rows, best of --repeat) of both files: what merged cells
cost on top of reading the rows. Prints the figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))


def write(path: Path, ranges: int, per: int, merged: bool) -> int:
    from openpyxl import Workbook

    from tests.exchange.samples import heating_row

    wb = Workbook()
    ws = wb.active
    ws.title = "清洁取暖"
    headers = list(heating_row(0))
    ws.append(["榆次区2020年清洁取暖散煤替代台账"])
    ws.append(headers)
    tcol = headers.index("乡（镇）") + 1
    letter = ws.cell(1, tcol).column_letter
    row = 3
    for g in range(ranges):
        township = f"第{g + 1}镇"
        for k in range(per):
            rec = heating_row(g * per + k)
            rec["乡（镇）"] = township if (k == 0 or not merged) else None
            ws.append(list(rec.values()))
        if merged:
            ws.merge_cells(f"{letter}{row}:{letter}{row + per - 1}")
        row += per
    if merged:
        ws.merge_cells(f"A1:{ws.cell(1, len(headers)).column_letter}1")
    wb.save(path)
    return len(ws.merged_cells.ranges)


def measure(path: Path, repeat: int) -> tuple[float, float, int, int]:
    from jzair_desktop.domain.ledgers import ledger
    from jzair_desktop.exchange.excel_import import check_rows, read_ledger_sheet

    d = ledger("heating")
    best = cpu = float("inf")
    ok = rows = 0
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        data = read_ledger_sheet(path, d)
        checked = check_rows(data, d, "140702", today=dt.date(2021, 3, 31))
        best = min(best, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
        rows, ok = len(checked), sum(r.ok for r in checked)
    return best, cpu, rows, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranges", type=int, default=10_000)
    ap.add_argument("--rows-per-range", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, merged = Path(tmp) / "plain.xlsx", Path(tmp) / "merged.xlsx"
        write(plain, args.ranges, args.rows_per_range, merged=False)
        n = write(merged, args.ranges, args.rows_per_range, merged=True)
        t_plain, c_plain, rows, ok_plain = measure(plain, args.repeat)
        t_merged, c_merged, rows_m, ok_merged = measure(merged, args.repeat)
    # (the sample rows repeat their 身份证号 every 1,000 rows: the same rows are refused as duplicates in both)
    print(f"rows: {rows:,}; merged ranges: {n:,}")
    print(f"read+check without merges: {t_plain:.2f} s wall, {c_plain:.2f} s CPU ({ok_plain:,}/{rows:,} rows valid)")
    print(f"read+check with merges:    {t_merged:.2f} s wall, {c_merged:.2f} s CPU ({ok_merged:,}/{rows_m:,} rows valid)")
    print(f"merged / plain: {t_merged / t_plain:.2f}x wall, {c_merged / c_plain:.2f}x CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
