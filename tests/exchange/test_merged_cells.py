"""Ledgers with merged cells: values merged down over rows, two-row headers, and what is refused."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.exchange.excel_import import check_rows, read_ledger_sheet
from jzair_desktop.exchange.merged_cells import DataFill, header_view, range_text, two_row_header
from tests.exchange.merged_samples import write_messy_heating

TODAY = dt.date(2021, 3, 31)
YUCI = "140702"


def _values(d, row):
    return dict(zip(d.keys, row.values, strict=True))


def test_merged_townships_and_villages_are_filled_down(tmp_path):
    book = write_messy_heating(tmp_path / "榆次区台账.xlsx")
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    assert data.header_row == 3  # the lower of the two header rows
    assert [r for r, _ in data.rows] == list(range(4, book.total_row))
    assert [(s.row, s.reason) for s in data.skipped] == [(book.total_row, "合计行")]
    rows = check_rows(data, d, YUCI, today=TODAY)
    assert all(r.ok for r in rows), [p.text() for r in rows for p in r.problems]
    got = [(_values(d, r)["township"], _values(d, r)["village"], _values(d, r)["householder"]) for r in rows]
    assert got == [(rec["乡（镇）"], rec["村（社区）"], rec["户主姓名"]) for rec in book.records]
    # the preview shows the filled values too
    township_col = data.field_columns["township"].index
    assert all(cells[township_col] for _, cells in data.preview())


def test_two_row_header_reads_the_total_under_a_merged_header(tmp_path):
    book = write_messy_heating(tmp_path / "台账.xlsx")
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    subsidy = data.field_columns["subsidy_yuan"]
    assert subsidy.header == "补贴金额（元）（合计）"
    assert subsidy.letter == "K"
    ignored = [c.header for c in data.columns if c.match is None]
    assert "补贴金额（元）（市级）" in ignored and "补贴金额（元）（县级）" in ignored
    rows = check_rows(data, d, YUCI, today=TODAY)
    assert [_values(d, r)["subsidy_yuan"] for r in rows] == [rec["补贴金额（元）"] for rec in book.records]


def test_two_row_header_without_a_total_column_is_not_guessed(tmp_path):
    book = write_messy_heating(tmp_path / "台账.xlsx", sub_totals=False)
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    assert "subsidy_yuan" not in data.field_columns  # neither 市级 nor 县级 is the ledger's 补贴金额
    assert {c.header for c in data.columns if c.match is None} >= {"补贴金额（元）（市级）", "补贴金额（元）（县级）"}
    rows = check_rows(data, d, YUCI, today=TODAY)
    assert all(_values(d, r)["township"] for r in rows)


def test_merge_spanning_header_and_data_rows_is_reported(tmp_path):
    book = write_messy_heating(tmp_path / "台账.xlsx")
    wb = openpyxl.load_workbook(book.path)
    ws = wb.active
    ws.unmerge_cells("H2:H3")  # 改造方式
    ws["H4"] = None
    ws.merge_cells("H2:H6")
    wb.save(book.path)
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    rows = check_rows(data, d, YUCI, today=TODAY)
    texts = [p.text() for r in rows for p in r.problems]
    assert any(t.startswith("第4行 改造方式：合并单元格 H2:H6 跨越了表头") for t in texts), texts
    assert not rows[0].ok


def test_a_covered_cell_with_another_value_is_reported(tmp_path):
    book = write_messy_heating(tmp_path / "台账.xlsx")
    # A program wrote a value under the merged 乡（镇） (Excel keeps such a value hidden under the merge;
    # openpyxl drops it on saving, so it is put into the sheet's XML directly).
    out = tmp_path / "hidden.xlsx"
    with zipfile.ZipFile(book.path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<c r="C6"', '<c r="B6" t="inlineStr"><is><t>长凝镇</t></is></c><c r="C6"'.encode(),
                                  data)
                assert n == 1
            dst.writestr(info, data)
    d = ledger("heating")
    data = read_ledger_sheet(out, d)
    texts = [p.text() for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems]
    assert any("第6行 乡（镇）：该格在合并单元格 B4:B7 内，合并后显示“东阳镇”" in t and "长凝镇" in t for t in texts), texts


def test_merge_across_two_ledger_columns_is_reported(tmp_path):
    book = write_messy_heating(tmp_path / "台账.xlsx")
    wb = openpyxl.load_workbook(book.path)
    ws = wb.active
    ws["E5"] = None
    ws.merge_cells("D5:E5")  # 户主姓名 and 身份证号 in one cell
    wb.save(book.path)
    d = ledger("heating")
    texts = [p.text() for r in check_rows(read_ledger_sheet(book.path, d), d, YUCI, today=TODAY) for p in r.problems]
    assert any(t.startswith("第5行 户主姓名：合并单元格 D5:E5 横跨“户主姓名”“身份证号”2列") for t in texts), texts


def test_sheet_without_merges_reads_as_before(tmp_path):
    book = write_messy_heating(tmp_path / "台账.xlsx")
    wb = openpyxl.load_workbook(book.path)
    ws = wb.active
    for m in list(ws.merged_cells.ranges):
        ws.unmerge_cells(str(m))
    wb.save(book.path)
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    # the empty 乡（镇） cells are read as empty, reported as before: nothing is guessed without merges
    texts = [p.text() for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems]
    assert "第5行 乡（镇）：必填，不能为空" in texts


def test_header_view_and_two_row_header():
    top = [["标题", "", ""], ["乡镇", "补贴", ""], ["", "合计", "市级"], ["东阳镇", 1, 2]]
    merges = [(0, 0, 0, 2), (1, 0, 2, 0), (1, 1, 1, 2)]
    view = header_view(top, merges)
    assert view[0] == ["标题", "标题", "标题"]
    assert view[2][0] == "乡镇" and view[1][2] == "补贴"
    names = {"乡镇": 1, "补贴": 2}.get
    assert two_row_header(top, view, merges, 1, names) == (1, 2)
    assert two_row_header(top, view, merges, 2, names) == (1, 2)
    assert two_row_header(top, view, [(0, 0, 0, 2)], 1, names) is None  # a title over the header
    assert range_text((4, 1, 11, 1)) == "B5:B12"


def test_data_fill_streams_across_chunks():
    fill = DataFill([(3, 0, 9, 0)], 1, {0: "乡（镇）"})
    rows = [["东阳镇"] if r == 3 else [""] for r in range(2, 12)]
    fill.apply(2, rows[:4])  # rows 2..5
    fill.apply(6, rows[4:])  # rows 6..11
    assert [r[0] for r in rows] == ["", "东阳镇", "东阳镇", "东阳镇", "东阳镇", "东阳镇", "东阳镇", "东阳镇", "", ""]
    assert fill.problems == []


@pytest.mark.parametrize("fmt", ["xls"])
def test_merged_cells_in_an_xls_saved_by_libreoffice(fmt):
    from pathlib import Path

    path = Path(__file__).parent / "office_files" / f"heating-merged-libreoffice.{fmt}"
    d = ledger("heating")
    data = read_ledger_sheet(path, d)
    rows = check_rows(data, d, YUCI, today=TODAY)
    assert all(r.ok for r in rows), [p.text() for r in rows for p in r.problems]
    assert all(_values(d, r)["township"] for r in rows)
    assert data.field_columns["subsidy_yuan"].header == "补贴金额（元）（合计）"


def test_error_workbook_of_a_messy_workbook_keeps_its_merges_widths_and_formulas(tmp_path):
    from jzair_desktop.exchange.excel_import import error_workbook_path, write_error_workbook

    book = write_messy_heating(tmp_path / "榆次区台账.xlsx")
    wb = openpyxl.load_workbook(book.path)
    ws = wb.active
    ws["E5"] = "14070219600101001X"  # a bad check digit
    ws["I9"] = "完工了"  # 状态 not in the list
    wb.save(book.path)
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    problems = [p for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems]
    assert {(p.row, p.column) for p in problems} == {(5, "身份证号"), (9, "状态")}
    out = write_error_workbook(data, problems)
    assert out == error_workbook_path(book.path)

    before = openpyxl.load_workbook(book.path).active
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["清洁取暖", "错误清单"]
    ws = wb["清洁取暖"]
    assert {str(m) for m in ws.merged_cells.ranges} == set(book.merges)
    assert {str(m) for m in ws.merged_cells.ranges} == {str(m) for m in before.merged_cells.ranges}
    for letter, width in (("A", 6), ("B", 12), ("E", 22), ("K", 11)):
        assert ws.column_dimensions[letter].width == width
    total = book.total_row
    assert ws[f"K{total}"].value == f"=SUM(K4:K{total - 1})"  # the 合计 row's formulas, as formulas
    assert ws[f"G{total}"].value == f"=SUM(G4:G{total - 1})"
    assert ws["A1"].value == "榆次区2020年清洁取暖散煤替代台账"
    assert ws.freeze_panes == "A4"
    assert ws["E5"].fill.fgColor.rgb.endswith("FFC7CE") and "校验" in ws["E5"].comment.text
    assert ws["I9"].fill.fgColor.rgb.endswith("FFC7CE") and ws["I9"].comment is not None
    assert ws["E6"].comment is None and ws["E6"].fill.fgColor.rgb in ("00000000", None)
    listed = list(wb["错误清单"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[2]) for r in listed] == [(5, "E", "身份证号"), (9, "I", "状态")]
    assert "榆次区台账.xlsx" in wb["错误清单"]["A1"].value


def test_error_workbook_marks_a_conflict_under_a_merge_on_the_merged_cell(tmp_path):
    from jzair_desktop.exchange.excel_import import RowProblem, write_error_workbook

    book = write_messy_heating(tmp_path / "台账.xlsx")
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    out = write_error_workbook(data, [RowProblem(6, "乡（镇）", "测试原因", col_index=1)])
    ws = openpyxl.load_workbook(out)["清洁取暖"]
    assert ws["B4"].comment is not None and "测试原因" in ws["B4"].comment.text  # B6 lies under B4:B7


def test_error_workbook_of_a_csv_says_which_file_it_annotates(tmp_path):
    from jzair_desktop.exchange.excel_import import write_error_workbook

    src = tmp_path / "台账.csv"
    src.write_text("县（区、市）,乡（镇）,村（社区）,户主姓名,改造方式,状态\n榆次区,东阳镇,车辋村,张三,气代煤,完工了\n",
                   encoding="utf-8")
    d = ledger("heating")
    data = read_ledger_sheet(src, d)
    problems = [p for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems]
    out = write_error_workbook(data, problems)
    wb = openpyxl.load_workbook(out)
    about = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert about["本文件标注的是"] == str(src)


def test_error_workbook_of_an_error_workbook_keeps_no_stale_marks(tmp_path):
    from jzair_desktop.exchange.excel_import import write_error_workbook

    book = write_messy_heating(tmp_path / "台账.xlsx")
    wb = openpyxl.load_workbook(book.path)
    wb.active["E5"] = "14070219600101001X"
    wb.active["I9"] = "完工了"
    wb.save(book.path)
    d = ledger("heating")
    data = read_ledger_sheet(book.path, d)
    first = write_error_workbook(data, [p for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems])
    wb = openpyxl.load_workbook(first)  # the clerk fixes one cell in the error workbook and imports it
    wb["清洁取暖"]["I9"] = "已完工"
    wb.save(first)
    data = read_ledger_sheet(first, d)
    problems = [p for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems]
    assert {(p.row, p.column) for p in problems} == {(5, "身份证号")}
    second = write_error_workbook(data, problems)
    wb = openpyxl.load_workbook(second)
    assert wb.sheetnames == ["清洁取暖", "错误清单"]
    ws = wb["清洁取暖"]
    assert ws["I9"].comment is None and ws["I9"].fill.fill_type is None  # fixed: no stale mark
    assert ws["E5"].comment is not None
    assert [r[0] for r in wb["错误清单"].iter_rows(min_row=3, values_only=True)] == [5]


@given(
    runs=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=30),
    cut=st.integers(min_value=1, max_value=50),
)
def test_data_fill_matches_the_merged_view_however_the_rows_are_chunked(runs, cut):
    """Runs of rows merged down in column B (a run of 1 is no merge): every row reads its run's value, whatever
    chunks the rows stream in, and nothing is reported."""
    header = 1
    merges, expected, rows = [], [], []
    r = header + 1
    for i, n in enumerate(runs):
        if n > 1:
            merges.append((r, 1, r + n - 1, 1))
        for k in range(n):
            rows.append([f"户{r + k}", f"镇{i}" if k == 0 else ""])
            expected.append(f"镇{i}")
        r += n
    fill = DataFill(merges, header, {0: "户主姓名", 1: "乡（镇）"})
    for start in range(0, len(rows), cut):
        fill.apply(header + 1 + start, rows[start:start + cut])
    assert [row[1] for row in rows] == expected
    assert fill.problems == [] and fill.row_problems == []
