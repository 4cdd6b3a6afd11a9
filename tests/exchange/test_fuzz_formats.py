"""Fuzzing the readers of .xls/.et, .ods and CSV like the .xlsx one (tests/exchange/test_fuzz_import.py):
truncated and mutated compound documents, corrupt BIFF8 records, mutated and re-zipped .ods parts and
.ods zip bombs, CSV with NUL bytes, random bytes and lines in mixed encodings.

Every attempt must end accepted or refused with a JzairError whose message is Chinese; a refusal leaves the
database byte for byte as it was; nothing may hang (tests/exchange/fuzz_harness.py). The seeds are the small
files LibreOffice wrote (tests/exchange/office_files)."""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jzair_desktop.exchange.spreadsheet import CompoundFile
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
from tests.exchange.samples import write_zip_raw

TODAY = dt.date(2021, 3, 31)
SCALE = max(1, int(os.environ.get("JZAIR_FUZZ_SCALE", "1")))
FUZZ = settings(max_examples=150 * SCALE, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FILES = Path(__file__).parent / "office_files"


class Target:
    def __init__(self, db, folder: Path, name: str, suffix: str) -> None:  # noqa: ANN001
        self.db = db
        self.file = folder / f"导入文件{suffix}"
        self.stats = FuzzStats()
        self.name = name

    def run(self, data: bytes) -> str:
        self.file.write_bytes(data)
        return attempt(self.stats, self.db.path, lambda: import_ledger(
            self.db, "heating", self.file, "榆次区", actor=BUILTIN_ADMIN, today=TODAY, dry_run=True,
        ))

    def report(self) -> None:
        print("\n" + self.stats.summary(self.name))


@pytest.fixture
def make_target(db, tmp_path, request):
    made: list[Target] = []

    def make(suffix: str) -> Target:
        t = Target(db, tmp_path, request.node.name, suffix)
        made.append(t)
        return t

    yield make
    for t in made:
        t.report()


def seed(name: str) -> bytes:
    return (FILES / f"heating-{name}").read_bytes()


def test_seeds_are_accepted(make_target):
    for name, suffix in (("libreoffice.xls", ".xls"), ("libreoffice.et", ".et"), ("libreoffice.ods", ".ods"),
                         ("libreoffice-utf8.csv", ".csv"), ("libreoffice-gbk.csv", ".txt")):
        assert make_target(suffix).run(seed(name)) == "accepted"


byte_edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8)


# --- .xls / .et: the compound document and the BIFF8 records -----------------------------------------


def _workbook_stream_at(data: bytes) -> tuple[int, int]:
    """Where the Workbook stream lies in the file (LibreOffice writes it in one piece)."""
    stream = CompoundFile(data).stream("Workbook")
    at = data.find(stream[:512])
    assert at > 0 and data[at:at + len(stream)] == stream
    return at, len(stream)


def _records(data: bytes, at: int, size: int) -> list[int]:
    out, pos = [], at
    while pos + 4 <= at + size:
        out.append(pos)
        _t, ln = struct.unpack_from("<HH", data, pos)
        pos += 4 + ln
    return out


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".xls", ".et"])
def test_fuzz_compound_document_bytes(make_target, suffix):
    target = make_target(suffix)
    data0 = seed("libreoffice.xls")

    @FUZZ
    @given(edits=byte_edits, cut=st.none() | st.floats(0, 1),
           extra=st.none() | st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=64)))
    def check(edits, cut, extra):
        data = flip_bytes(data0, edits)
        if extra is not None:
            data = insert(data, *extra)
        if cut is not None:
            data = truncate(data, cut)
        target.run(data)

    check()


@pytest.mark.slow
def test_fuzz_compound_document_header_and_directory(make_target):
    """Edits aimed at the 512-byte header (sector sizes, FAT and directory pointers) and the directory."""
    target = make_target(".xls")
    data0 = seed("libreoffice.xls")
    first_dir = struct.unpack_from("<I", data0, 48)[0]
    dir_at = (first_dir + 1) * 512

    @FUZZ
    @given(header=st.lists(st.tuples(st.integers(0, 511), st.integers(0, 255)), max_size=6),
           directory=st.lists(st.tuples(st.integers(0, 511), st.integers(0, 255)), max_size=6),
           word=st.none() | st.tuples(st.sampled_from([30, 44, 48, 56, 60, 64, 68, 72, 76]),
                                      st.sampled_from([0, 1, 2, 0xFFFF, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF, 10**6])))
    def check(header, directory, word):
        data = bytearray(data0)
        for i, v in header:
            data[i] = v
        for i, v in directory:
            data[dir_at + i] = v
        if word is not None:
            at, value = word
            fmt = "<H" if at in (30, 32) else "<I"
            struct.pack_into(fmt, data, at, value & (0xFFFF if fmt == "<H" else 0xFFFFFFFF))
        target.run(bytes(data))

    check()


@pytest.mark.slow
def test_fuzz_biff_records(make_target):
    """Corrupt BIFF8 records inside the Workbook stream: record types, lengths, cell rows and columns,
    string lengths, SST counts; also records cut off at the end of the stream. Some of these made
    python-calamine abort the whole process (a DIMENSIONS record claiming billions of cells): the import
    now opens every .xls in a reader process first (spreadsheet.trial_open)."""
    target = make_target(".xls")
    data0 = seed("libreoffice.xls")
    at, size = _workbook_stream_at(data0)
    records = _records(data0, at, size)

    @FUZZ
    @given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["type", "len", "body", "cell"]),
                                    st.integers(0, 0xFFFF)), min_size=1, max_size=5))
    def check(edits):
        data = bytearray(data0)
        for k, what, value in edits:
            pos = records[k % len(records)]
            _t, ln = struct.unpack_from("<HH", data, pos)
            if what == "type":
                struct.pack_into("<H", data, pos, value)
            elif what == "len":
                struct.pack_into("<H", data, pos + 2, value)
            elif what == "body" and ln and pos + 4 + value % ln < len(data):  # a length edited before may point past the end
                data[pos + 4 + value % ln] = value & 0xFF
            elif what == "cell" and ln >= 4 and pos + 8 <= len(data):  # row or column of a cell record
                struct.pack_into("<H", data, pos + 4 + 2 * (value & 1), value)
        target.run(bytes(data))

    check()


# --- .ods ---------------------------------------------------------------------------------------------

_ODS_VALUE = re.compile(rb"(office:value=\"|office:date-value=\"|<text:p>)([^\"<]*)")
_ODS_ATTR = re.compile(rb'(number-(?:rows|columns)-repeated|value-type)="([^"]*)"')


@pytest.mark.slow
def test_fuzz_ods_bytes(make_target):
    target = make_target(".ods")
    data0 = seed("libreoffice.ods")

    @FUZZ
    @given(edits=byte_edits, cut=st.none() | st.floats(0, 1))
    def check(edits, cut):
        data = flip_bytes(data0, edits)
        if cut is not None:
            data = truncate(data, cut)
        target.run(data)

    check()


@pytest.mark.slow
def test_fuzz_ods_content_and_members(make_target):
    """Values, value types and repeat counts in content.xml, re-zipped; members renamed, dropped, added."""
    target = make_target(".ods")
    members0 = read_members(seed("libreoffice.ods"))
    names = [n for n, _ in members0]
    content_at = names.index("content.xml")

    @FUZZ
    @given(values=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
               [b"", b"NaN", b"1e309", b"-1", b"99999999999999999999", b"2020-02-30", b"9999-12-31T23:59:59",
                b"\xe6\xa6\x86" * 300, b"&amp;", b"&#0;", b"x"])), max_size=4),
           attrs=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
               [b"0", b"-1", b"2", b"1048576", b"99999999", b"string", b"float", b"date", b"boolean", b"x"])),
               max_size=4),
           ops=st.lists(st.tuples(st.sampled_from(MEMBER_OPS), st.integers(0, 50),
                                  st.sampled_from(["content.xml", "styles.xml", "mimetype", "x/y.xml"]),
                                  st.binary(max_size=40)), max_size=2))
    def check(values, attrs, ops):
        members = list(members0)
        body = members[content_at][1]
        for k, text in values:
            found = list(_ODS_VALUE.finditer(body))
            if found:
                m = found[k % len(found)]
                body = body[:m.start(2)] + text + body[m.end(2):]
        for k, text in attrs:
            found = list(_ODS_ATTR.finditer(body))
            if found:
                m = found[k % len(found)]
                body = body[:m.start(2)] + text + body[m.end(2):]
        members[content_at] = ("content.xml", body)
        mutate_members(members, ops)
        target.run(write_members(members))

    check()


@pytest.mark.slow
def test_ods_zip_bombs_are_refused(make_target):
    target = make_target(".ods")
    members = dict(read_members(seed("libreoffice.ods")))
    for bomb_member in ("content.xml", "styles.xml"):
        parts = {n: [(b, 1)] for n, b in members.items()}
        parts[bomb_member] = [(b" " * (1 << 20), 2100 if bomb_member == "content.xml" else 100)]
        path = target.file.with_name("炸弹.ods")
        write_zip_raw(path, parts)
        assert target.run(path.read_bytes()) == "ExcelFileError"


# --- CSV ----------------------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"]


@pytest.mark.slow
def test_fuzz_csv_bytes(make_target):
    target = make_target(".csv")
    seeds = [seed("libreoffice-utf8.csv"), seed("libreoffice-gbk.csv")]

    @FUZZ
    @given(which=st.integers(0, 1), edits=byte_edits, cut=st.none() | st.floats(0, 1),
           extra=st.none() | st.tuples(st.floats(0, 1), st.sampled_from(
               [b"\x00", b"\x00\x00\x00", b"\xff\xfe", b"\xef\xbb\xbf", b'"', b'""\n"', b"\r", b"\n\n\n",
                b"\x80", b"\xe6\xa6", b'="', b"'", b";\t,", b"\x1a"])))
    def check(which, edits, cut, extra):
        data = flip_bytes(seeds[which], edits)
        if extra is not None:
            data = insert(data, *extra)
        if cut is not None:
            data = truncate(data, cut)
        target.run(data)

    check()


@pytest.mark.slow
def test_fuzz_csv_lines_in_mixed_encodings(make_target):
    """The seed's lines, each re-encoded in an encoding of its own (or with NUL bytes in it)."""
    target = make_target(".csv")
    lines = seed("libreoffice-utf8.csv").decode("utf-8").split("\n")

    @FUZZ
    @given(choice=st.lists(st.sampled_from(ENCODINGS + ["nul"]), min_size=len(lines), max_size=len(lines)))
    def check(choice):
        out = []
        for line, enc in zip(lines, choice, strict=True):
            if enc == "nul":
                out.append(line.encode("utf-8").replace(b",", b",\x00", 1))
            else:
                out.append(line.encode(enc))
        target.run(b"\n".join(out))

    check()


@pytest.mark.slow
def test_fuzz_csv_cells(make_target):
    """Random cell texts (quotes, delimiters, line breaks, wrappers, scientific numbers) in random encodings."""
    target = make_target(".csv")
    lines = seed("libreoffice-utf8.csv").decode("utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    cell = st.one_of(st.sampled_from(['="140702196002070010"', "'140702196002070010", "1.40702E+17", '"', '""',
                                      "a\nb", ";", "\t", "、", "\x00", "=HYPERLINK(\"x\")", "1,234.5", ""]),
                     st.text(max_size=20))

    @FUZZ
    @given(edits=st.lists(st.tuples(st.integers(0, 100), st.integers(0, 20), cell), max_size=6),
           encoding=st.sampled_from(ENCODINGS))
    def check(edits, encoding):
        table = [r.split(",") for r in rows]
        for r, c, text in edits:
            row = table[r % len(table)]
            row[c % len(row)] = text
        text = "\n".join([header, *(",".join(r) for r in table)])
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
        target.run(data)

    check()
