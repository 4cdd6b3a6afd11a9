"""Every spreadsheet format a clerk has, imported through the one reader: files written by LibreOffice
(tests/exchange/office_files, see make_office_files.py there), CSV files the tests write in every
encoding and dialect, bad files of every kind (each a clear message naming the file, nothing written)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.exchange import spreadsheet
from jzair_desktop.exchange.excel_import import error_workbook_path, read_ledger_sheet
from jzair_desktop.exchange.spreadsheet import (
    CSV,
    ODS,
    XLS,
    XLSB,
    XLSX,
    ExcelFileError,
    RunCheck,
    clean_cell,
    decode_text,
    detect,
    sniff_delimiter,
)
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.excel import ImportRejected
from tests.exchange import samples
from tests.exchange.test_excel_service import db_hash

TODAY = dt.date(2021, 3, 31)
FILES = Path(__file__).parent / "office_files"


def do_import(db, key, path, **kw):
    return excel_service.import_ledger(db, key, path, "榆次区", actor=BUILTIN_ADMIN, today=TODAY, **kw)


def rows_of(path: Path) -> list[list]:
    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


# --- files saved by another office suite -----------------------------------------------------------

OFFICE = [
    ("libreoffice.xls", XLS), ("libreoffice.et", XLS), ("libreoffice.ods", ODS),
    ("libreoffice-utf8.csv", CSV), ("libreoffice-gbk.csv", CSV),
]


@pytest.mark.parametrize("key", ["heating", "trucks"])
@pytest.mark.parametrize(("suffix", "fmt"), OFFICE)
def test_a_ledger_saved_by_libreoffice_imports_back_with_zero_changes(db, key, suffix, fmt):
    """The app's export, opened and saved by LibreOffice Calc; .et is the .xls renamed (WPS's format is the
    same BIFF8 compound document; there is no WPS to write one here)."""
    export = FILES / f"{key}-导出.xlsx"
    first = do_import(db, key, export)
    assert first.written and first.new == 12
    path = FILES / f"{key}-{suffix}"
    assert detect(path) == fmt
    report = do_import(db, key, path, dry_run=True)
    assert (report.new, report.changed, report.unchanged, report.skipped) == (0, 0, 12, 0), report.summary()
    assert report.errors == [] and report.warnings == []


def test_the_gbk_file_really_is_gbk_and_the_utf8_file_utf8():
    gbk = (FILES / "heating-libreoffice-gbk.csv").read_bytes()
    utf8 = (FILES / "heating-libreoffice-utf8.csv").read_bytes()
    assert gbk != utf8 and gbk.decode("gbk") == utf8.decode("utf-8")
    assert decode_text(gbk, "x")[1] == "GB18030" and decode_text(utf8, "x")[1] == "UTF-8"


@pytest.mark.parametrize(("suffix", "fmt"), [("xls", XLS), ("ods", ODS), ("csv", CSV), ("xlsx", XLSX)])
def test_a_file_with_the_wrong_extension_is_read_by_its_content(db, tmp_path, suffix, fmt):
    sources = {"xls": "heating-libreoffice.xls", "ods": "heating-libreoffice.ods",
               "csv": "heating-libreoffice-gbk.csv", "xlsx": "heating-导出.xlsx"}
    wrong = {"xls": "台账.xlsx", "ods": "台账.xls", "csv": "台账.xls", "xlsx": "台账.xls"}[suffix]
    path = tmp_path / wrong
    shutil.copy(FILES / sources[suffix], path)
    assert detect(path) == fmt
    report = do_import(db, "heating", path)
    assert report.written and report.new == 12


@pytest.mark.slow
def test_targets_import_reads_every_format(db, tmp_path):
    """The target split goes through the same reader: exported, converted to CSV, imported back."""
    from jzair_desktop.services import targets_excel as tx
    from jzair_desktop.services.targets import set_target

    set_target(db, BUILTIN_ADMIN, "heating.gas", "榆次区", 1200)
    xlsx = tx.export_targets(db, tmp_path / "分解.xlsx")
    rows = [["" if v is None else v for v in r] for r in rows_of(xlsx)]
    for encoding in ("utf-8-sig", "gb18030", "utf-16"):
        path = tmp_path / f"分解-{encoding}.csv"
        with path.open("w", encoding=encoding, newline="") as fh:
            csv.writer(fh).writerows(rows)
        result = tx.import_targets(db, BUILTIN_ADMIN, path)
        assert result.set == 0 and result.unchanged == result.cells > 0


# --- CSV written by the tests ---------------------------------------------------------------------


def export_rows(db, tmp_path, key="heating", n=20) -> tuple[Path, list[list]]:
    do_import(db, key, samples.write_clean(tmp_path / "源.xlsx", key, n, start=1))
    out = tmp_path / "导出.xlsx"
    excel_service.export_ledger(db, key, out, actor=BUILTIN_ADMIN, unit_code="140702")
    rows = rows_of(out)
    width = len(rows[0])
    text_rows = []
    for r in rows:
        r = list(r) + [None] * (width - len(r))
        text_rows.append(["" if v is None else v.isoformat()[:10] if isinstance(v, dt.date) else str(v) for v in r])
    return out, text_rows


def write_csv(path: Path, rows: list[list], *, encoding="utf-8", delimiter=",", bom=False) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode(encoding)
    if bom:
        data = codecs.BOM_UTF8 + data
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "delimiter", "bom"),
    [("utf-8", ",", False), ("utf-8", ",", True), ("gbk", ",", False), ("gb18030", "\t", False),
     ("utf-16", ",", False), ("utf-8", ";", False), ("gbk", "\t", False)],
)
def test_csv_in_every_encoding_and_delimiter_imports_with_zero_changes(db, tmp_path, encoding, delimiter, bom):
    _, rows = export_rows(db, tmp_path)
    path = write_csv(tmp_path / "台账.csv", rows, encoding=encoding, delimiter=delimiter, bom=bom)
    report = do_import(db, "heating", path, dry_run=True)
    assert (report.new, report.changed, report.unchanged) == (0, 0, 20), report.summary()


def test_csv_with_wrapped_long_numbers_quoted_newlines_and_a_title(db, tmp_path):
    _, rows = export_rows(db, tmp_path)
    headers = rows[0]
    id_col, phone_col, note_col = headers.index("身份证号"), headers.index("联系电话"), headers.index("备注")
    body = []
    for k, r in enumerate(rows[1:]):
        r = list(r)
        r[id_col] = f'="{r[id_col]}"' if k % 2 else f"'{r[id_col]}"
        r[phone_col] = f'="{r[phone_col]}"'
        body.append(r)
    path = tmp_path / "带标题.csv"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["榆次区清洁取暖台账（导出）"])
    w.writerow([])
    w.writerows([headers, *body])
    w.writerow(["合计", "", "", "20户"])
    w.writerow(["填表人：王五", "", "审核人：赵六"])
    path.write_bytes(buf.getvalue().encode("gbk"))
    report = do_import(db, "heating", path, dry_run=True)
    assert (report.new, report.changed, report.unchanged) == (0, 0, 20), report.summary()
    assert report.skipped == 2
    # A remark with an embedded line break and a comma, quoted: a changed record, read exactly.
    body[0][note_col] = "第一行，\n第二行"
    buf = io.StringIO()
    csv.writer(buf).writerows([headers, *body])
    path.write_bytes(buf.getvalue().encode("utf-8"))  # the same bytes on every system (no newline translation)
    report = do_import(db, "heating", path)
    assert (report.new, report.changed, report.unchanged) == (0, 1, 19)
    from jzair_desktop.services.ledgers import RecordQuery, list_records

    notes = {r.values.get("remarks") for r in list_records(db, "heating", RecordQuery(unit_code="140702"))}
    assert "第一行，\n第二行" in notes
    # Other delimiters inside a cell of a comma file do not mislead the sniffing.
    body[1][note_col] = "甲;乙\t丙;丁"
    buf = io.StringIO()
    csv.writer(buf).writerows([headers, *body])
    path.write_text(buf.getvalue(), encoding="utf-8")
    assert do_import(db, "heating", path, dry_run=True).changed == 1


def test_an_id_number_in_scientific_notation_is_refused_like_a_numeric_one(db, tmp_path):
    _, rows = export_rows(db, tmp_path, n=3)
    id_col = rows[0].index("身份证号")
    rows[2][id_col] = "1.40702E+17"
    path = write_csv(tmp_path / "科学计数.csv", rows)
    before = db_hash(db.path)
    with pytest.raises(ImportRejected) as err:
        do_import(db, "heating", path)
    problems = err.value.report.errors
    assert [(p.row, p.column) for p in problems] == [(3, "身份证号")]
    assert "文本" in problems[0].message
    assert db_hash(db.path) == before
    out = error_workbook_path(path)
    assert out.name == "科学计数.csv.错误.xlsx" and out.exists()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[1] == "说明"
    about = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert about["本文件标注的是"] == str(path) and "CSV" in about["原文件格式"]
    assert wb.worksheets[0].cell(3, id_col + 1).value == "1.40702E+17"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("无表头.csv", "榆次区,东阳镇,车辋村,张三\n榆次区,东阳镇,车辋村,李四\n".encode(), "CSV 文件的第一行"),
        ("坏编码.csv", "县（区、市）,户主姓名\n".encode() + b"\xff\xfe\xfd,abc\n", "第2行有无法识别的字符"),
        ("坏编码2.csv", b"a,b\n" + "县（区、市）,户主姓名\n".encode("gbk") + b"\x80,abc\n", "第3行有无法识别的字符"),
        ("混编码.csv", "县（区、市）,户主姓名\n榆次区,张三\n".encode() + "榆次区,李四\n".encode("gbk"), "第3行却不是"),
        ("混编码2.csv", "县（区、市）,户主姓名\n榆次区,张三\n".encode("gbk") + "榆次区,李四王五\n".encode(), "第3行却是 UTF-8"),
        ("空字符.csv", "县（区、市）,户主姓名\n".encode("utf-16") + "榆次区,张\x00三\n".encode("utf-16-le"), "空字符"),
        ("图片.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG 图片"),
        ("文档.xls", samples._cfb({"WordDocument": bytes(4096)}), "Word 文档"),
        ("旧版.xls", samples._cfb({"Book": bytes(4096)}), "Excel 5.0/95"),
        ("加密.xls", samples._cfb({"EncryptionInfo": bytes(4096), "EncryptedPackage": bytes(4096)}), "密码"),
        ("压缩包.xlsx", None, "压缩包"),
        ("文字.ods", None, "文字处理文档"),
        ("截断.xls", None, "已损坏"),
    ],
)
def test_bad_files_get_a_clear_message_naming_the_file_and_nothing_is_written(db, tmp_path, name, data, expected):
    path = tmp_path / name
    if name == "压缩包.xlsx":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("照片.jpg", b"\xff\xd8\xff" + bytes(100))
    elif name == "文字.ods":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
            zf.writestr("content.xml", "<x/>")
    elif name == "截断.xls":
        path.write_bytes((FILES / "heating-libreoffice.xls").read_bytes()[:5000])
    else:
        path.write_bytes(data)
    before = db_hash(db.path)
    with pytest.raises(ExcelFileError) as err:
        do_import(db, "heating", path)
    assert name in str(err.value) and expected in str(err.value), str(err.value)
    assert db_hash(db.path) == before
    assert not error_workbook_path(path).exists()


def _biff_with_bof_version(version: int) -> bytes:
    import struct

    body = struct.pack("<HH", version, 0x0005) + bytes(12)
    return struct.pack("<HH", 0x0809, len(body)) + body + struct.pack("<HH", 0x000A, 0) + bytes(4096)


def test_excel_95_workbook_stream_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "九五.xls"
    path.write_bytes(samples._cfb({"Workbook": _biff_with_bof_version(0x0500)}))
    with pytest.raises(ExcelFileError, match="九五.xls.*Excel 5.0/95.*另存为"):
        read_ledger_sheet(path, ledger("heating"))


def test_password_protected_xls_is_refused(tmp_path):
    """An .xls with an open password keeps a FILEPASS record in the workbook globals (BIFF8 RC4)."""
    import struct

    data = bytearray((FILES / "heating-libreoffice.xls").read_bytes())
    cfb = spreadsheet.CompoundFile(bytes(data))
    stream = cfb.stream("Workbook")
    _t, ln = struct.unpack_from("<HH", stream, 0)
    pos = 4 + ln  # the record after BOF becomes FILEPASS (same length, the stream stays well formed)
    _t2, ln2 = struct.unpack_from("<HH", stream, pos)
    patched = stream[:pos] + struct.pack("<HH", 0x002F, ln2) + stream[pos + 4:]
    offset = bytes(data).find(stream[:64])
    data[offset:offset + len(stream)] = patched
    path = tmp_path / "加密.xls"
    path.write_bytes(bytes(data))
    with pytest.raises(ExcelFileError, match="加密.xls.*密码"):
        read_ledger_sheet(path, ledger("heating"))


def test_xlsb_workbook_is_recognised_by_its_content(tmp_path):
    path = tmp_path / "x.xlsb"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.bin", b"")
    assert detect(path) == XLSB


def _book_rows(path: Path) -> dict[str, list[list]]:
    from jzair_desktop.exchange.excel_import import open_checked

    with open_checked(path) as (book, _scans):
        assert book.format == XLSB
        return {name: [list(r) for r in book.sheet(name).rows] for name in book.sheet_names()}


def test_xlsb_files_written_by_excel_are_read_with_their_values_and_types(tmp_path):
    """Files Excel saved (from the calamine project's tests, office_files/README.md), through the import's
    reader: format recognition, the .xlsb pre-scan, the reader process, then the rows."""
    sheets = _book_rows(FILES / "excel-issues.xlsb")
    assert list(sheets) == ["datatypes", "issue2", "Sheet1", "issue5", "issue6", "spc_chrs"]
    assert sheets["datatypes"] == [[1.0], [1.5], ["ab"], [False], ["test"], [dt.date(2016, 10, 20)]]
    assert sheets["issue2"] == [[1.0, "a"], [2.0, "b"], [3.0, "c"]]
    assert [r[0] for r in sheets["spc_chrs"]] == ["&", "<", ">", "aaa ' aaa", '"', "☺", "֍", "àâéêèçöïî«»"]
    dates = _book_rows(FILES / "excel-date.xlsb")["Sheet1"]
    assert dates[:2] == [[dt.date(2021, 1, 1), 15.0], [dt.date(2021, 1, 2), 16.0]]
    assert dates[2][0] == dt.timedelta(days=10, seconds=54610)  # a duration cell ([h]:mm:ss), not a date
    # Visible sheets first, then hidden and very hidden ones; the chart sheet is not a worksheet.
    assert list(_book_rows(FILES / "excel-any-sheets.xlsb")) == ["Visible", "Hidden", "VeryHidden"]
    renamed = tmp_path / "改了扩展名.xlsx"  # recognised by content, whatever the extension says
    shutil.copy(FILES / "excel-issues.xlsb", renamed)
    assert _book_rows(renamed)["issue2"] == sheets["issue2"]


@pytest.mark.parametrize("key", ["heating", "trucks"])
def test_a_ledger_saved_as_xlsb_imports_back_with_zero_changes(db, key):
    """The app's export copied cell by cell into an .xlsb (make_xlsb_files.py): ID and telephone numbers as
    text, dates as dates, amounts as numbers."""
    first = do_import(db, key, FILES / f"{key}-导出.xlsx")
    assert first.written and first.new == 12
    path = FILES / f"{key}-xlsbwriter.xlsb"
    assert detect(path) == XLSB
    report = do_import(db, key, path, dry_run=True)
    assert (report.new, report.changed, report.unchanged, report.skipped) == (0, 0, 12, 0), report.summary()
    assert report.errors == [] and report.warnings == []


def test_id_numbers_stored_as_numbers_in_an_xlsb_are_refused_like_in_an_xlsx(db, tmp_path):
    """An 18-digit number in a number cell has lost its last digits (a double holds 15-16): refused, each
    row named, nothing written; the error workbook (.xlsx) is written beside the source."""
    path = tmp_path / "数字身份证.xlsb"
    shutil.copy(FILES / "heating-xlsb-numeric-ids.xlsb", path)
    before = db_hash(db.path)
    with pytest.raises(ImportRejected) as err:
        do_import(db, "heating", path)
    problems = err.value.report.errors
    export = rows_of(FILES / "heating-导出.xlsx")
    col = export[0].index("身份证号")
    numeric = [k for k, r in enumerate(export[1:], start=2) if r[col].isdigit()]  # one ends in X: still text
    assert len(numeric) == 11
    assert sorted(p.row for p in problems if p.column == "身份证号") == numeric
    assert all("文本" in p.message for p in problems if p.column == "身份证号")
    assert db_hash(db.path) == before
    assert error_workbook_path(path).exists()


# --- the pieces, as properties --------------------------------------------------------------------


@given(st.binary(max_size=3000), st.integers(1, 300))
@settings(max_examples=300, deadline=None)
def test_run_check_finds_the_longest_stretch_without_a_tag(data, limit):
    chunks = [data[i:i + 97] for i in range(0, len(data), 97)] or [b""]
    check = RunCheck(limit)
    ok = all([check.feed(c) for c in chunks])
    longest = max(len(part) for part in data.split(b"<"))
    assert ok == (longest <= limit)


@given(st.text(alphabet=st.sampled_from(list("0123456789X'=\"a 中")), max_size=25))
def test_clean_cell_only_unwraps_spreadsheet_number_wrappers(text):
    out = clean_cell(text)
    if out != text:
        assert text in (f'="{out}"', f"'{out}")
        assert '"' not in out


_CHINESE_CELL = st.text(alphabet=st.sampled_from(list("榆次区东阳镇、，。；\"\n 12")), max_size=6)


@given(st.lists(st.lists(_CHINESE_CELL, min_size=3, max_size=8).map(lambda r: [*r[:-1], r[-1] + "户"]),
                min_size=2, max_size=6),
       st.sampled_from([",", "\t", ";"]), st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
@pytest.mark.slow
@settings(max_examples=200, deadline=None)
def test_a_csv_written_with_any_delimiter_reads_back_exactly(rows, delimiter, quoting):
    """Chinese text with 、，。； quotes and line breaks in cells: the delimiter is found, the cells read back."""
    width = len(rows[0])
    rows = [(r + [""] * width)[:width] for r in rows]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerows(rows)
    text = buf.getvalue()
    assert sniff_delimiter(text) == delimiter
    assert list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))) == rows


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
       st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
@settings(max_examples=300, deadline=None)
def test_decoding_is_exact_or_refused_naming_a_line(text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        out, label = decode_text(data, "x.csv")
    except ExcelFileError as exc:
        assert "第" in str(exc) and "行" in str(exc)
        return
    if out == text or text.startswith("\ufeff"):
        return
    # Else the bytes were read exactly in the encoding the reader names: short GB18030 text can also be valid
    # UTF-8 ("图" is CD BC in GB18030 and U+037C in UTF-8), and then UTF-8 is taken (a whole ledger cannot be both).
    codec = {"UTF-8": "utf-8", "GB18030": "gb18030", "UTF-16": "utf-16"}[label]
    bom = codecs.BOM_UTF8 if label == "UTF-8" and data.startswith(codecs.BOM_UTF8) else b""
    assert encoding == "gb18030" and bom + out.encode(codec) == data, (text, label, out)




def test_a_line_break_typed_in_a_cell_on_windows_reads_as_one_newline(tmp_path):
    """Inside a quoted cell, \r\n (Windows) and a lone \r (old Mac) are read as \n, as the same cell from .xlsx."""
    f = tmp_path / "换行.csv"
    f.write_bytes('县（区、市）,备注\r\n榆次区,"第一行\r\n第二行"\r\n太谷区,"甲\r乙"\r\n祁县,无\r\n'.encode("gbk"))
    rows = spreadsheet.read_csv(f, 100).rows
    assert rows == [["县（区、市）", "备注"], ["榆次区", "第一行\n第二行"], ["太谷区", "甲\n乙"], ["祁县", "无"]]


def test_csv_cell_limit_is_exact_and_the_csv_module_limit_is_restored(tmp_path):
    import csv as csv_module

    before = csv_module.field_size_limit()
    ok = tmp_path / "长.csv"
    ok.write_text("县（区、市）,备注\n榆次区," + "长" * 32_767 + "\n", encoding="utf-8")
    assert len(spreadsheet.read_csv(ok, 100).rows[1][1]) == 32_767
    bad = tmp_path / "过长.csv"
    bad.write_text('县（区、市）,备注\n榆次区,"' + "长" * 40_000 + "\n", encoding="utf-8")  # quote never closed
    with pytest.raises(ExcelFileError, match="过长.csv.*超过 32,767 个字"):
        spreadsheet.read_csv(bad, 100)
    assert csv_module.field_size_limit() == before


@given(st.binary(max_size=300), st.sampled_from(["utf-8", "gb18030"]))
@settings(max_examples=300, deadline=None)
def test_first_bad_byte_is_where_a_whole_decode_fails(data, encoding):
    try:
        data.decode(encoding)
        expected = None
    except UnicodeDecodeError as exc:
        expected = exc.start
    assert spreadsheet._first_bad(data, encoding) == expected


def test_a_row_wider_than_excel_is_refused_not_a_crash_of_the_error_workbook(db, tmp_path):
    """Found by fuzzing: a damaged .xls cell record in column 45,000 made the error workbook fail (column AAAA)."""
    path = tmp_path / "太宽.csv"
    path.write_text("县（区、市）,乡（镇）,村（社区）,户主姓名,改造方式,状态\n榆次区,东阳镇,车辋村,张三,电代煤,已完工"
                    + "," * 17_000 + "x\n", encoding="utf-8")
    with pytest.raises(ExcelFileError, match="太宽.csv.*16,384 列"):
        do_import(db, "heating", path)
    assert not error_workbook_path(path).exists()


# --- damaged .xls files that make python-calamine end the process ----------------------------------
# Both are heating-libreoffice.xls with a few bytes changed (tests/exchange/office_files/README.md). Opened
# in this process, python-calamine reserves room for the used range a DIMENSIONS record claims, the
# allocation of terabytes fails and Rust aborts the process: no Python exception, the program vanishes.


def _workbook_stream_offset(data: bytes) -> int:
    stream = spreadsheet.CompoundFile(data).stream("Workbook")
    return data.find(stream[:512])


def test_the_damaged_xls_files_differ_from_the_seed_only_where_said():
    seed = (FILES / "heating-libreoffice.xls").read_bytes()
    at = _workbook_stream_offset(seed)
    one = (FILES / "damaged-dimensions.xls").read_bytes()
    assert [i - at for i in range(len(seed)) if one[i] != seed[i]] == [5475]  # the first sheet's DIMENSIONS: last row
    hidden = (FILES / "damaged-hidden-dimensions.xls").read_bytes()
    changed = [i - at for i in range(len(seed)) if hidden[i] != seed[i]]
    assert min(changed) >= 48 and max(changed) < 1636 + 8  # a fake record in WRITEACCESS, the BOUNDSHEET offset


@pytest.mark.parametrize("name", ["damaged-dimensions.xls", "damaged-hidden-dimensions.xls"])
def test_the_damaged_xls_really_kills_a_process_that_opens_it(tmp_path, name):
    """The reason for the guard below: python-calamine, run in a process of its own, dies on these files."""
    import subprocess
    import sys

    code = "import sys\nfrom python_calamine import CalamineWorkbook\nCalamineWorkbook.from_path(sys.argv[1])\nprint('opened')"
    done = subprocess.run([sys.executable, "-c", code, str(FILES / name)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "opened" not in done.stdout
    assert "PanicException" not in done.stderr and "Traceback" not in done.stderr  # not an exception: an abort


def test_a_range_record_claiming_billions_of_cells_is_refused_by_the_prescan(db, tmp_path):
    path = tmp_path / "范围损坏.xls"
    shutil.copy(FILES / "damaged-dimensions.xls", path)
    before = db_hash(db.path)
    with pytest.raises(ExcelFileError, match="范围损坏.xls.*已损坏（工作表的范围记录不正确）"):
        do_import(db, "heating", path)
    assert db_hash(db.path) == before and not error_workbook_path(path).exists()


@pytest.mark.parametrize("suffix", [".xls", ".et", ".xlsb"])
def test_a_workbook_that_kills_the_reader_is_refused_and_this_process_lives_on(db, tmp_path, suffix):
    """A damaged record the pre-scan's walk cannot see (a BOUNDSHEET offset pointing into the middle of
    another record, where a fake DIMENSIONS record lies) passes the pre-scan; the reader process opens the
    file first and dies, the import refuses the file naming it; the next import works (a new reader)."""
    path = tmp_path / f"隐藏损坏{suffix}"
    shutil.copy(FILES / "damaged-hidden-dimensions.xls", path)
    spreadsheet.scan_xls(path, 20_000_000)  # the walk of the record stream finds nothing wrong
    before = db_hash(db.path)
    with pytest.raises(ExcelFileError) as err:
        do_import(db, "heating", path)
    assert f"隐藏损坏{suffix}" in str(err.value) and "异常终止" in str(err.value) and "另存为" in str(err.value)
    assert db_hash(db.path) == before and not error_workbook_path(path).exists()
    report = do_import(db, "heating", FILES / "heating-libreoffice.xls")
    assert report.written and report.new == 12


def test_the_reader_process_is_started_once_and_replaced_when_it_died():
    good = (FILES / "heating-libreoffice.xls").read_bytes()
    spreadsheet.trial_open(good, "好.xls")
    first = spreadsheet._trial_process[0]
    spreadsheet.trial_open(good, "好.xls")
    assert spreadsheet._trial_process[0] is first and first.is_alive()
    with pytest.raises(ExcelFileError, match="坏.xls.*异常终止"):
        spreadsheet.trial_open((FILES / "damaged-dimensions.xls").read_bytes(), "坏.xls")
    assert not first.is_alive() and spreadsheet._trial_process is None
    spreadsheet.trial_open(good, "好.xls")
    assert spreadsheet._trial_process[0].is_alive()


def test_cancelling_stops_a_busy_reader_process():
    from jzair_desktop.taskstate import Cancelled, TaskState

    spreadsheet.trial_open((FILES / "heating-libreoffice.xls").read_bytes(), "好.xls")
    busy = spreadsheet._trial_process[0]
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        spreadsheet.trial_open((FILES / "heating-libreoffice.xls").read_bytes(), "好.xls", state)
    assert spreadsheet._trial_process is None and not busy.is_alive()
