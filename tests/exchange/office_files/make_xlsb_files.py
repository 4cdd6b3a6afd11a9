"""How the ledger-shaped .xlsb files in this folder were made (the tests use the saved files).

    pip install pyxlsbwriter==0.1.0 && python tests/exchange/office_files/make_xlsb_files.py

Neither LibreOffice (it reads .xlsb but has no .xlsb export filter) nor openpyxl writes .xlsb, and no Excel
is available here; pyxlsbwriter (a small writer of the binary format, MIT licence, not a dependency of the
app or its tests) copies each sheet of the app's exports `<key>-导出.xlsx` cell by cell: texts (ID numbers
and telephone numbers stay text), numbers, dates. `<key>-xlsb-numeric-ids.xlsb` is the heating one with the
ID numbers written as numbers, as a careless export from another system would.
The .xlsb files written by Excel itself are the ones in excel-*.xlsb (README.md)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from pyxlsbwriter import XlsbWriter

HERE = Path(__file__).resolve().parent


def write(src: Path, out: Path, *, numeric_ids: bool = False) -> None:
    wb = openpyxl.load_workbook(src)
    with XlsbWriter(str(out)) as writer:
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            if numeric_ids and ws is wb.worksheets[0]:
                col = rows[0].index("身份证号")
                for r in rows[1:]:
                    if isinstance(r[col], str) and r[col].isdigit():
                        r[col] = int(r[col])
            writer.add_sheet(ws.title, hidden=ws.sheet_state != "visible")
            writer.write_sheet(rows)


def main() -> None:
    for key in ("heating", "trucks"):
        write(HERE / f"{key}-导出.xlsx", HERE / f"{key}-xlsbwriter.xlsb")
    write(HERE / "heating-导出.xlsx", HERE / "heating-xlsb-numeric-ids.xlsb", numeric_ids=True)


if __name__ == "__main__":
    main()
