"""Reading real-looking county workbooks and refusing broken ones (exchange layer, no database)."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.exchange import excel_import
from jzair_desktop.exchange.excel_import import (
    FORMULA_WITHOUT_VALUE,
    ExcelFileError,
    _is_empty,
    check_rows,
    error_workbook_path,
    plain_record,
    read_ledger_sheet,
    skip_reason,
    write_error_workbook,
)
from tests.exchange import samples

TODAY = dt.date(2021, 3, 31)
YUCI = "140702"


def _values(d, checked_row):
    return dict(zip(d.keys, checked_row.values, strict=True))


def test_messy_heating_found_and_parsed(tmp_path):
    path = samples.messy_heating(tmp_path / "榆次区 清洁取暖台账.xlsx")
    d = ledger("heating")
    data = read_ledger_sheet(path, d)
    assert data.sheet_name == "清洁取暖"  # the first sheet (封面) has no header row
    assert data.header_row == 3  # two title rows (merged) above it
    assert [c.header for c in data.columns if c.match is None] == ["序号", "入户核查人"]
    assert data.missing == []
    # Row numbers are the ones Excel shows: data from row 4, an empty row (11) dropped.
    assert [r for r, _ in data.rows] == [4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16]
    assert [(s.row, s.reason) for s in data.skipped] == [(17, "合计行"), (18, "合计行"), (19, "表尾签字行")]

    rows = check_rows(data, d, YUCI, today=TODAY)
    assert all(r.ok for r in rows), [p.text() for r in rows for p in r.problems]
    values = [_values(d, r) for r in rows]
    assert {v["unit_code"] for v in values} == {YUCI}  # "榆 次 区" too
    assert [v["done_date"] for v in values] == [
        dt.date(2020, 10, 3), dt.date(2020, 10, 4), dt.date(2020, 10, 5), dt.date(2020, 10, 6),
        dt.date(2020, 10, 7), dt.date(2020, 10, 8), dt.date(2020, 10, 9), dt.date(2020, 10, 10),
        dt.date(2020, 10, 11), dt.date(2020, 10, 12), dt.date(2020, 10, 3), dt.date(2020, 10, 4),
    ]
    assert values[2]["area_m2"] == 1234.5  # "1,234.5" typed as text
    assert values[3]["subsidy_yuan"] == 2300.0  # "2,300" typed as text
    assert values[1]["method"] == "电代煤"  # "2-电代煤"
    assert values[0]["id_number"] == samples.make_id(0)
    assert values[5]["remarks"] == "困难户"


def test_messy_trucks_aliases_plates_and_emission_spellings(tmp_path):
    path = samples.messy_trucks(tmp_path / "货车.xlsx")
    d = ledger("trucks")
    data = read_ledger_sheet(path, d)
    assert data.header_row == 3
    assert (4, "列序号行") in [(s.row, s.reason) for s in data.skipped]
    assert (13, "小计行") in [(s.row, s.reason) for s in data.skipped]
    rows = check_rows(data, d, YUCI, today=TODAY)
    assert all(r.ok for r in rows), [p.text() for r in rows for p in r.problems]
    values = [_values(d, r) for r in rows]
    assert [v["plate"] for v in values] == [samples.make_plate(i) for i in range(8)]  # 晋K·… and 晋k …
    assert [v["emission_std"] for v in values] == ["国三", "国三", "国三", "国二", "国零", "国一", "国三", "国三"]
    assert values[4]["vin"] == samples.make_vin(4)  # typed in lower case
    assert values[3]["usage"] == "营运"  # blank means 营运
    assert values[1]["eliminated_date"] == dt.date(2020, 3, 11)  # Excel serial 43901 without date format


def test_boiler_capacity_in_mw_is_converted(tmp_path):
    path = samples.messy_boilers(tmp_path / "锅炉.xlsx")
    d = ledger("boilers")
    data = read_ledger_sheet(path, d)
    cap = next(c for c in data.columns if c.match and c.match.key == "capacity_th")
    assert cap.match.unit == "mw"
    rows = check_rows(data, d, YUCI, today=TODAY)
    assert all(r.ok for r in rows), [p.text() for r in rows for p in r.problems]
    caps = [_values(d, r)["capacity_th"] for r in rows]
    assert caps == [2.0, 2.0, 2.0, 2.0, 2.0, 4.0]  # 1.4 MW and "2.8MW" at 0.7 MW = 1 蒸吨/小时
    assert {_values(d, r)["org_name"] for r in rows} <= set(samples.COMPANIES)  # 企业名称 → 单位名称


@pytest.mark.parametrize("key", ["kilns", "vocs"])
def test_other_messy_ledgers(tmp_path, key):
    path = samples.MESSY[key](tmp_path / f"{key}.xlsx")
    d = ledger(key)
    rows = check_rows(read_ledger_sheet(path, d), d, YUCI, today=TODAY)
    assert rows and all(r.ok for r in rows), [p.text() for r in rows for p in r.problems]


def test_header_anywhere_in_the_first_rows_with_empty_leading_columns(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = samples.headers_of("heating")
    row = samples.heating_row(1)
    for i, h in enumerate(headers):
        ws.cell(7, 3 + i, h)
        ws.cell(8, 3 + i, row[h])
    ws.cell(2, 5, "标题")
    path = tmp_path / "偏移.xlsx"
    wb.save(path)
    data = read_ledger_sheet(path, ledger("heating"))
    assert data.header_row == 7
    assert data.rows[0][0] == 8
    assert data.columns[0].index == 2 and data.columns[0].letter == "C"
    assert check_rows(data, ledger("heating"), YUCI, today=TODAY)[0].ok


def test_header_beyond_the_search_rows_is_not_found(tmp_path):
    title = [[f"说明第{i}行"] for i in range(excel_import.HEADER_SEARCH_ROWS)]
    path = samples.write_dict_rows(tmp_path / "深.xlsx", samples.clean_rows("heating", 2), title_rows=title)
    with pytest.raises(ExcelFileError, match="前 30 行"):
        read_ledger_sheet(path, ledger("heating"))


# --- row problems --------------------------------------------------------------------------------


def _one_row_file(tmp_path, ledger_key, **changes):
    row = samples.clean_rows(ledger_key, 1, start=1)[0]
    row.update(changes)
    return samples.write_dict_rows(tmp_path / "单行.xlsx", [row])


def _problems(tmp_path, ledger_key, unit=YUCI, **changes):
    d = ledger(ledger_key)
    data = read_ledger_sheet(_one_row_file(tmp_path, ledger_key, **changes), d)
    return [p.text() for r in check_rows(data, d, unit, today=TODAY) for p in r.problems]


def test_id_number_turned_into_a_number_asks_for_text_format(tmp_path):
    problems = _problems(tmp_path, "heating", **{"身份证号": 1.40702196001e17})
    assert len(problems) == 1
    assert problems[0].startswith("第2行 身份证号：") and "文本" in problems[0]


def test_ten_thousand_character_cells(tmp_path):
    problems = _problems(tmp_path, "heating", **{"户主姓名": "张" * 10_000, "备注": "很" * 10_000})
    assert "第2行 户主姓名：内容过长（10000个字），最多40个字" in problems
    assert "第2行 备注：内容过长（10000个字），最多500个字" in problems


def test_row_of_another_county_is_an_error(tmp_path):
    problems = _problems(tmp_path, "heating", unit="140703")
    assert problems == ["第2行 县（区、市）：该行是“榆次区”的记录，本次导入的是“太谷区”。请删除该行，或按县（区、市）分别导入"]


def test_numbers_as_text_and_dates_as_numbers_are_accepted(tmp_path):
    assert _problems(tmp_path, "heating", **{"采暖面积（平方米）": "1,080.5", "完成日期": 44138}) == []


def test_closed_list_and_future_date_errors(tmp_path):
    problems = _problems(tmp_path, "heating", **{"改造方式": "烧柴", "完成日期": "2099-01-01"})
    assert any(p.startswith("第2行 改造方式：“烧柴”不在可选范围内") for p in problems)
    assert any(p.startswith("第2行 完成日期：2099-01-01 晚于今天") for p in problems)


def test_duplicates_within_the_file(tmp_path):
    rows = samples.clean_rows("trucks", 3)
    rows[2]["车辆识别代号"] = rows[0]["车辆识别代号"]
    path = samples.write_dict_rows(tmp_path / "重复.xlsx", rows)
    d = ledger("trucks")
    problems = [p.text() for r in check_rows(read_ledger_sheet(path, d), d, YUCI, today=TODAY) for p in r.problems]
    assert problems == ["第4行 车辆识别代号：与第2行重复（相同车辆识别代号），一个对象只能登记一次"]


def test_formula_without_cached_value_is_named(tmp_path):
    path = _one_row_file(tmp_path, "heating", **{"补贴金额（元）": "=1000*2", "采暖面积（平方米）": "=40+45"})
    d = ledger("heating")
    data = read_ledger_sheet(path, d)
    assert data.formula_gaps == {(2, 6), (2, 10)}
    problems = [p for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems]
    assert [(p.column, p.message) for p in problems] == [
        ("采暖面积（平方米）", FORMULA_WITHOUT_VALUE),
        ("补贴金额（元）", FORMULA_WITHOUT_VALUE),
    ]


def test_formula_with_cached_value_uses_the_value(tmp_path):
    """A formula saved by Excel carries its result; calamine returns that result."""
    path = _one_row_file(tmp_path, "heating")
    patched = tmp_path / "有公式.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # K2 (补贴金额) holds 2100 written by openpyxl: turn it into a formula with a cached result.
                data = data.replace(b'<c r="K2" t="n"><v>2100</v></c>', b'<c r="K2"><f>1000*2</f><v>2000</v></c>')
                assert b"<f>1000*2</f>" in data
            dst.writestr(item, data)
    d = ledger("heating")
    data = read_ledger_sheet(patched, d)
    assert data.formula_gaps == set()
    rows = check_rows(data, d, YUCI, today=TODAY)
    assert rows[0].ok and _values(d, rows[0])["subsidy_yuan"] == 2000.0


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["合计", None, 5], "合计行"),
        ([None, "合 计", 5], "合计行"),
        (["小计：", 3], "小计行"),
        (["总计（户）", 1], "总计行"),
        (["填表人：王五", None, "审核人：赵六"], "表尾签字行"),
        (["榆次区", "合计村", "张三", "电代煤"], None),  # a village that happens to contain 合计
        (["榆次区", "东阳镇", "车辋村", "张三"], None),
    ],
)
def test_skip_reason(cells, reason):
    assert skip_reason(cells) == reason


_CELL_TEXT = st.text(alphabet=st.sampled_from(list("合计小总累填表人备注说明：:（）() \u3000\t榆次区东阳镇村王")), max_size=6)


@given(st.lists(st.one_of(st.none(), _CELL_TEXT, st.integers(-3, 3), st.floats(allow_nan=False), st.dates()),
                max_size=8))
def test_a_plain_record_is_never_empty_nor_a_row_to_skip(cells):
    """The cheap test the reader applies to every row only ever says yes where the full tests agree."""
    if plain_record(cells):
        assert not _is_empty(cells) and skip_reason(cells) is None


# --- files that cannot be imported ------------------------------------------------------------------


def _good(tmp_path):
    return samples.write_clean(tmp_path / "好.xlsx", "heating", 3)


BAD_FILES = {
    "corrupt": (lambda p, t: samples.corrupt_zip(p, _good(t)), "已损坏"),
    "encrypted": (lambda p, t: samples.encrypted_xlsx(p), "密码"),
    # Recognised by content now: an old-format container and a GBK CSV named .xlsx are read as what they are
    # (this .xls holds a Workbook stream of zeros, the CSV lacks required columns).
    "xls": (lambda p, t: samples.xls_as_xlsx(p), "已损坏"),
    "csv": (lambda p, t: samples.csv_as_xlsx(p), "缺少必填列：改造方式、状态"),
    "html": (lambda p, t: samples.html_as_xlsx(p), "网页"),
    "zero-bytes": (lambda p, t: p.write_bytes(b"") and p, "0 字节"),
    "empty-workbook": (lambda p, t: samples.empty_workbook(p), "没有任何数据"),
    "no-header": (lambda p, t: samples.without_header(p), "找不到“清洁取暖散煤替代台账”的表头"),
    "header-only": (lambda p, t: samples.write_table(p, samples.headers_of("heating"), []), "没有数据行"),
    "wrong-ledger": (lambda p, t: samples.write_clean(p, "trucks", 2), "看起来是“国三及以下营运柴油货车淘汰台账”"),
    "missing-required": (
        lambda p, t: samples.write_table(p, ["县（区、市）", "乡（镇）", "村（社区）", "身份证号"], [["榆次区", "a", "b", "c"]]),
        "缺少必填列：户主姓名、改造方式、状态",
    ),
    "duplicate-columns": (
        lambda p, t: samples.write_table(p, [*samples.headers_of("heating"), "户主"], [["榆次区"]]),
        "表头有重复的列：第D列和第N列都是“户主姓名”",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_get_a_clear_message_naming_the_file(tmp_path, kind):
    make, expected = BAD_FILES[kind]
    path = tmp_path / f"坏文件-{kind}.xlsx"
    make(path, tmp_path)
    with pytest.raises(ExcelFileError) as err:
        read_ledger_sheet(path, ledger("heating"))
    assert path.name in str(err.value) or kind == "missing-file"
    assert expected in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ExcelFileError, match="找不到文件"):
        read_ledger_sheet(tmp_path / "没有.xlsx", ledger("heating"))


@pytest.mark.slow
def test_a_million_rows_is_refused_before_loading(tmp_path):
    path = samples.huge_xlsx(tmp_path / "百万行.xlsx", rows=1_000_000)
    with pytest.raises(ExcelFileError) as err:
        read_ledger_sheet(path, ledger("heating"))
    assert "百万行.xlsx" in str(err.value) and "300,000 行数据" in str(err.value)


def test_huge_file_under_a_lowered_limit_is_read_and_over_it_refused(tmp_path, monkeypatch):
    path = samples.huge_xlsx(tmp_path / "大.xlsx", rows=120)
    assert len(read_ledger_sheet(path, ledger("heating")).rows) == 120
    monkeypatch.setattr(excel_import, "MAX_DATA_ROWS", 100)
    with pytest.raises(ExcelFileError, match="超过"):
        read_ledger_sheet(path, ledger("heating"))


# --- the error workbook ---------------------------------------------------------------------------


def test_error_workbook_marks_bad_cells_at_the_same_rows(tmp_path):
    path = samples.messy_heating(tmp_path / "榆次区台账.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["清洁取暖"]
    ws["F6"] = 1.40702196e17  # 身份证号 as a number, row 6
    ws["J9"] = "完工了"  # 状态 not in the list, row 9
    wb.save(path)
    d = ledger("heating")
    data = read_ledger_sheet(path, d)
    problems = [p for r in check_rows(data, d, YUCI, today=TODAY) for p in r.problems]
    assert {(p.row, p.column) for p in problems} == {(6, "身份证号码"), (9, "状态")}
    out = write_error_workbook(data, problems)
    assert out == error_workbook_path(path) == tmp_path / "榆次区台账.错误.xlsx"

    # An .xlsx is annotated as a copy of the clerk's own workbook (its sheets, title, merged title rows kept),
    # opened on the ledger sheet, with a last sheet listing every problem (this replaced a rebuilt sheet
    # with a 错误原因 column).
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["封面", "清洁取暖", "错误清单"]
    ws = wb.active
    assert ws.title == "清洁取暖"
    assert ws["A1"].value == "榆次区2020年清洁取暖散煤替代台账"  # title rows kept: same row numbers
    assert {str(m) for m in ws.merged_cells.ranges} == {"A1:O1", "A2:J2"}
    assert ws["F6"].fill.fgColor.rgb.endswith("FFC7CE") and "文本" in ws["F6"].comment.text
    assert ws["J9"].fill.fgColor.rgb.endswith("FFC7CE") and "不在可选范围内" in ws["J9"].comment.text
    assert ws["E5"].value == samples.name(1) and ws["E5"].comment is None  # good rows untouched
    assert ws["P3"].value is None  # no column added to the clerk's sheet
    assert ws["F5"].number_format == "@"  # the clerk's own text format, kept
    assert ws["A17"].value == "合计"
    listed = [r for r in wb["错误清单"].iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[1], r[2], r[4]) for r in listed] == [(6, "F", "身份证号码", "错误"), (9, "J", "状态", "错误")]
    assert wb["错误清单"]["A3"].hyperlink.location == "'清洁取暖'!F6"
    # The corrected error workbook imports cleanly (the list sheet has no ledger header).
    ws["F6"] = samples.make_id(2)  # the row's own number again
    ws["J9"] = "已完工"
    wb.save(out)
    data2 = read_ledger_sheet(out, d)
    assert data2.sheet_name == "清洁取暖"
    assert all(r.ok for r in check_rows(data2, d, YUCI, today=TODAY))


def test_oversized_sheet_xml_is_refused_before_loading(tmp_path, monkeypatch):
    path = samples.write_clean(tmp_path / "膨胀.xlsx", "heating", 50)
    monkeypatch.setattr(excel_import, "MAX_SHEET_XML_BYTES", 1000)
    with pytest.raises(ExcelFileError, match="膨胀.xlsx"):
        read_ledger_sheet(path, ledger("heating"))
