"""Fuzzing the Excel import with hostile files (hypothesis): mutated bytes of the zip, mutated XML inside
it (cell values, types, references, shared strings, workbook and styles parts), changed zip structure, and
workbooks with random values of every type in every column.

Every attempt must end accepted or refused with a JzairError; a refusal leaves the database byte for byte
as it was; nothing may hang (see tests/exchange/fuzz_harness.py). The inputs are small valid workbooks
(three to a dozen rows), so each attempt takes milliseconds and the whole file runs in well under a minute.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.excel import import_ledger
from tests.exchange.fuzz_harness import (
    MEMBER_OPS,
    FuzzStats,
    attempt,
    flip_bytes,
    insert,
    mutate_members,
    read_members,
    truncate,
    write_members,
)
from tests.exchange.samples import headers_of, messy_heating, write_clean
from tests.storage.big_ledger import write_heating_xlsx

TODAY = dt.date(2021, 3, 31)
# JZAIR_FUZZ_SCALE=10 runs ten times as many examples (a longer hunt than the test suite's).
SCALE = max(1, int(os.environ.get("JZAIR_FUZZ_SCALE", "1")))
FUZZ = settings(max_examples=200 * SCALE, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    """Valid workbooks to start from: openpyxl's (shared strings, styles, real dates), a messy real-world
    one (title rows, merged cells, totals, text dates), and a raw one with inline strings."""
    folder = tmp_path_factory.mktemp("seeds")
    return {
        "clean": write_clean(folder / "clean.xlsx", "heating", 3).read_bytes(),
        "messy": messy_heating(folder / "messy.xlsx").read_bytes(),
        "inline": write_heating_xlsx(folder / "inline.xlsx", 3).read_bytes(),
    }


class Target:
    """The database and the file one fuzz test imports into and from."""

    def __init__(self, db, folder: Path, name: str) -> None:  # noqa: ANN001
        self.db = db
        self.file = folder / "导入文件.xlsx"
        self.stats = FuzzStats()
        self.name = name

    def run(self, data: bytes) -> str:
        self.file.write_bytes(data)
        return attempt(self.stats, self.db.path, lambda: import_ledger(
            self.db, "heating", self.file, "榆次区", actor=BUILTIN_ADMIN, today=TODAY,
        ))

    def report(self) -> None:
        print("\n" + self.stats.summary(self.name))


@pytest.fixture
def target(db, tmp_path, request) -> Target:
    t = Target(db, tmp_path, request.node.name)
    yield t
    t.report()


def test_seeds_are_accepted(target, seeds):
    for data in seeds.values():
        assert target.run(data) == "accepted"


# --- bytes of the zip ----------------------------------------------------------------------------------

byte_edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8)


@pytest.mark.slow
def test_fuzz_zip_bytes(target, seeds):
    @FUZZ
    @given(seed=st.sampled_from(sorted(seeds)), edits=byte_edits, cut=st.none() | st.floats(0, 1),
           extra=st.none() | st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=64)))
    def check(seed, edits, cut, extra):
        data = flip_bytes(seeds[seed], edits)
        if extra is not None:
            data = insert(data, *extra)
        if cut is not None:
            data = truncate(data, cut)
        target.run(data)

    check()
    assert target.stats.attempts >= 100


# --- XML inside the zip --------------------------------------------------------------------------------

_VALUE = re.compile(rb"<((?:\w+:)?(?:v|t|f))(\s[^>]*)?>([^<]*)</\1>")
_TYPE = re.compile(rb'\bt="[^"]*"')
_REF = re.compile(rb'\b(?:r|ref|sqref|s|spans)="[^"]*"')
_TAG = re.compile(rb"<[^>]*>")

CELL_TYPES = [b"s", b"str", b"inlineStr", b"b", b"e", b"n", b"d", b"x", b""]
TRICKY_TEXT = ["", " ", "NaN", "inf", "-inf", "1e309", "-0", "99999999999999999999999", "2958466", "-1",
               "0x1F", "1,234.5", "2020-02-30", "9999-12-31T23:59:59", "#DIV/0!", "=1/0", "&amp;", "&#0;",
               "&#x110000;", "&unknown;", "<", "]]>", "\u202e", "\U0001f600", "\x00", "榆次区" * 400,
               "A1048577", "XFE1", "ZZZZ99999999999", "0", "1048576"]

texts = st.one_of(st.sampled_from(TRICKY_TEXT), st.text(max_size=40)).map(
    lambda s: s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
)


def _nth(pattern: re.Pattern[bytes], body: bytes, k: int) -> re.Match[bytes] | None:
    found = list(pattern.finditer(body))
    return found[k % len(found)] if found else None


def mutate_xml(body: bytes, op: str, k: int, text: bytes, where: float) -> bytes:
    if op == "value":
        m = _nth(_VALUE, body, k)
        return body if m is None else body[: m.start(3)] + text + body[m.end(3):]
    if op == "type":
        m = _nth(_TYPE, body, k)
        choice = CELL_TYPES[k % len(CELL_TYPES)]
        return body if m is None else body[: m.start()] + b't="' + choice + b'"' + body[m.end():]
    if op == "ref":
        m = _nth(_REF, body, k)
        if m is None:
            return body
        key = m.group().split(b"=")[0]
        return body[: m.start()] + key + b'="' + text.replace(b'"', b"") + b'"' + body[m.end():]
    if op == "drop_tag":
        m = _nth(_TAG, body, k)
        return body if m is None else body[: m.start()] + body[m.end():]
    if op == "dup_tag":
        m = _nth(_TAG, body, k)
        return body if m is None else body[: m.end()] + m.group() + body[m.end():]
    if op == "text":  # raw bytes where text belongs (may break the XML)
        i = int(where * len(body))
        return body[:i] + text + body[i:]
    if op == "flip":
        return flip_bytes(body, [(where, k % 256)])
    if op == "truncate":
        return truncate(body, where)
    raise AssertionError(op)


xml_ops = st.lists(
    st.tuples(
        st.sampled_from(["value", "value", "value", "type", "ref", "drop_tag", "dup_tag", "text", "flip",
                         "truncate"]),
        st.integers(0, 10_000), texts, st.floats(0, 1),
    ),
    min_size=1, max_size=4,
)


@pytest.mark.slow
def test_fuzz_xml_inside_the_zip(target, seeds):
    @FUZZ
    @given(seed=st.sampled_from(sorted(seeds)), member_pick=st.integers(0, 1000), ops=xml_ops,
           prefer_sheet=st.booleans())
    # Found: a cell that openpyxl reads back as a date without a value, which it cannot write again; the error
    # workbook is then rebuilt from the rows instead of annotating a copy (it used to crash the import).
    @example(seed="inline", member_pick=154, ops=[("value", 127, b"NaN", 0.0), ("type", 2994, b"", 0.0)],
             prefer_sheet=False)
    def check(seed, member_pick, ops, prefer_sheet):
        members = read_members(seeds[seed])
        names = [n for n, _ in members]
        sheets = [n for n in names if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"]
        name = (sheets if prefer_sheet and sheets else names)[member_pick % len(sheets if prefer_sheet and sheets
                                                                              else names)]
        body = dict(members)[name]
        for op, k, text, where in ops:
            body = mutate_xml(body, op, k, text, where)
        target.run(write_members([(n, body if n == name else b) for n, b in members]))

    check()
    assert target.stats.outcomes["accepted"] > 0  # some mutations keep a valid ledger: the deep paths ran
    assert sum(v for k, v in target.stats.outcomes.items() if k != "accepted") > 0


# --- zip structure -------------------------------------------------------------------------------------

structure_ops = st.lists(
    st.tuples(st.sampled_from(MEMBER_OPS), st.integers(0, 1000),
              st.sampled_from(["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                               "xl/styles.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels",
                               "../../逃逸.xml", "/绝对.xml", "xl/worksheets/sheet2.xml", "XL/WORKBOOK.XML",
                               "xl\\worksheets\\sheet1.xml", "a" * 300]),
              st.binary(max_size=200)),
    min_size=1, max_size=3,
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_fuzz_zip_structure(target, seeds):
    @settings(FUZZ, max_examples=100 * SCALE)
    @given(seed=st.sampled_from(sorted(seeds)), ops=structure_ops)
    def check(seed, ops):
        members = read_members(seeds[seed])
        mutate_members(members, ops)
        target.run(write_members(members))

    check()


# --- random values of every type in every column ------------------------------------------------------

HEADERS = headers_of("heating")
values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(TRICKY_TEXT + ["榆次区", "已完工", "施工中", "电代煤", "是", "否", "2020-10-05", "2020年10月8日"]),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
    st.times(),
    st.timedeltas(min_value=dt.timedelta(days=-3000), max_value=dt.timedelta(days=3000)),
    st.sampled_from(["=1/0", "=A1", "=SUM(A1:A3)", "=\"榆次区\"", "#N/A", "#VALUE!"]),
)
rows = st.lists(st.lists(values, min_size=len(HEADERS), max_size=len(HEADERS)), min_size=1, max_size=5)
headers = st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=12), st.none()),
                   min_size=0, max_size=3)


@pytest.mark.slow
def test_fuzz_random_cell_values(target, tmp_path):
    book = tmp_path / "随机.xlsx"

    @settings(FUZZ, max_examples=150 * SCALE)
    @given(data=rows, extra_headers=headers, keep_valid_row=st.booleans())
    def check(data, extra_headers, keep_valid_row):
        wb = Workbook()
        ws = wb.active
        try:
            ws.append(HEADERS + extra_headers)
            if keep_valid_row:
                ws.append(["榆次区", "东阳镇", "车辋村", "张三", None, None, 80, "电代煤", "施工中", None, None, "是", None])
            for row in data:
                ws.append(row)
            wb.save(book)
        except (IllegalCharacterError, ValueError, TypeError, OverflowError):
            assume(False)  # openpyxl cannot write the value at all: not a file anyone could give us
        target.run(book.read_bytes())

    check()
    assert target.stats.outcomes["ImportRejected"] > target.stats.attempts // 3  # most reached row validation


def test_error_workbook_of_a_rejected_fuzz_file_is_a_readable_xlsx(target, tmp_path):
    """The error workbook written beside a rejected file holds the odd values too."""
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append(["榆次区", "东阳镇", "\u202e车辋村", "=1/0", 1e308, float("nan"), dt.timedelta(days=3), "电代煤",
               True, dt.time(8, 30), "#N/A", "是", "x" * 5000])
    wb.save(tmp_path / "坏值.xlsx")
    target.run((tmp_path / "坏值.xlsx").read_bytes())
    out = target.file.with_name("导入文件.错误.xlsx")
    assert out.exists()
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None


# --- what the fuzzing found (each of these crashed or aborted the process before it was fixed) -----------


def _with_sheet(seed: bytes, change) -> bytes:  # noqa: ANN001
    return write_members([(n, change(b) if n == "xl/worksheets/sheet1.xml" else b) for n, b in read_members(seed)])


def _extra_cell(ref: str, row: str | None = None):  # noqa: ANN202
    row = row or ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return lambda b: b.replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}"><v>1</v></c></row></sheetData>'.encode())


def test_found_a_broken_deflate_stream_is_a_damaged_file(target, seeds):
    """zlib.error escaped while the sheets were scanned."""
    data = bytearray(seeds["inline"])
    start = data.index(b"xl/worksheets/sheet1.xml") + len(b"xl/worksheets/sheet1.xml")
    for i in range(start + 40, start + 48):
        data[i] = 0
    assert target.run(bytes(data)) == "ExcelFileError"


def test_found_an_unknown_zip_version_is_a_damaged_file(target, seeds):
    """zipfile's NotImplementedError ("zip file version 6.4") escaped when the file was opened."""
    data = bytearray(seeds["inline"])
    pos = data.index(b"PK\x01\x02")
    data[pos + 6] = 64  # version needed to extract
    assert target.run(bytes(data)) == "ExcelFileError"
    assert "已损坏" in str(target.stats.reasons)


@pytest.mark.parametrize("ref", ["XFD1048576", "ZZ900000", "A99999999", "ZZZZ99999999999"])
def test_found_a_cell_far_away_is_refused_before_loading(target, seeds, ref):
    """python-calamine allocates the used range densely: XFD1048576 asked for 550 GB and aborted the process."""
    assert target.run(_with_sheet(seeds["inline"], _extra_cell(ref))) == "ExcelFileError"


def test_found_a_row_number_without_cell_references_is_refused(target, seeds):
    huge_row = lambda b: b.replace(b"</sheetData>", b'<row r="99999999"><c><v>1</v></c></row></sheetData>')  # noqa: E731
    assert target.run(_with_sheet(seeds["inline"], huge_row)) == "ExcelFileError"


@pytest.mark.slow
@pytest.mark.parametrize("ref", ["XFD100", "AB50000"])
def test_a_far_cell_within_the_limit_is_still_read(target, seeds, ref):
    # read, and rejected only for its content (a row whose 县（区、市） is "1")
    assert target.run(_with_sheet(seeds["inline"], _extra_cell(ref))) in ("accepted", "ImportRejected")


def test_found_a_date_far_out_of_range_is_a_damaged_sheet(target, seeds):
    """A Rust panic in python-calamine (chrono: TimeDelta out of bounds) arrived as a BaseException."""
    bad_date = lambda b: re.sub(rb'(<c r="J3"[^>]*><v>)[^<]*(</v>)', rb"\g<1>-1e20\g<2>", b)  # noqa: E731
    data = _with_sheet(seeds["clean"], bad_date)
    assert b"<v>-1e20</v>" in dict(read_members(data))["xl/worksheets/sheet1.xml"]
    assert target.run(data) == "ExcelFileError"


def test_found_control_characters_and_a_bad_sheet_name_reach_the_error_workbook(target, seeds):
    """openpyxl refused them (IllegalCharacterError, ValueError) while the error workbook was written."""
    def odd(b: bytes) -> bytes:
        b = b.replace("东阳镇".encode(), "东阳镇\x1f_x0001_".encode(), 1)
        return re.sub(rb'(<c r="G3"><v>)[^<]*', rb"\g<1>-5", b)  # and an invalid area, so the file is rejected

    members = [(n, b.replace("清洁取暖散煤替代台账".encode(), "台账[2020]/东阳?:*".encode()))
               if n == "xl/workbook.xml" else (n, b) for n, b in read_members(_with_sheet(seeds["inline"], odd))]
    assert target.run(write_members(members)) == "ImportRejected"
    with zipfile.ZipFile(target.file.with_name("导入文件.错误.xlsx")) as zf:
        assert zf.testzip() is None


def test_found_an_unknown_xml_encoding_is_a_damaged_file(target, seeds):
    """ElementTree's LookupError ("unknown encoding: UTF-Q") escaped while the workbook part was read."""
    members = [(n, b.replace(b'encoding="UTF-8"', b'encoding="UTF-Q"')) if n == "xl/workbook.xml" else (n, b)
               for n, b in read_members(seeds["inline"])]
    assert b'encoding="UTF-Q"' in dict(members)["xl/workbook.xml"]
    assert target.run(write_members(members)) == "ExcelFileError"
