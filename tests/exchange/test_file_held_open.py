"""Replacing a file that another process holds open (Excel, a PDF reader, a virus scanner): on Windows the
atomic replace cannot happen while the other process keeps it open, so the user gets a Chinese message naming
the file, the old file stays as it was and no temporary file is left; a lock that is let go within a moment
(a scanner, the indexer) is waited for. POSIX systems replace an open file, so there the exports succeed."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from jzair_desktop.errors import JzairError
from jzair_desktop.fsutil import replace_file
from jzair_desktop.services import excel, report

WINDOWS = sys.platform == "win32"

# Python's open() on Windows does not share delete access: like Excel, it blocks renames over the file.
HOLDER = "import sys, time\nf = open(sys.argv[1], 'rb')\nprint('held', flush=True)\n"
HOLD_UNTIL_STDIN_CLOSES = HOLDER + "sys.stdin.readline()\n"
HOLD_BRIEFLY = HOLDER + "time.sleep(0.4)\n"


@contextmanager
def held_open(path: Path, script: str = HOLD_UNTIL_STDIN_CLOSES):
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
        proc.stdout.close()


def leftovers(folder: Path, keep: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p != keep)


def test_an_excel_export_over_a_file_open_in_another_program(tmp_path):
    target = tmp_path / "清洁取暖 模板.xlsx"
    target.write_bytes(b"the old workbook")
    with held_open(target):
        if WINDOWS:
            with pytest.raises(JzairError) as err:
                excel.save_template("heating", target)
            assert str(target) in str(err.value) and "正在 Excel 中打开" in str(err.value)
            assert target.read_bytes() == b"the old workbook"
        else:
            excel.save_template("heating", target)
            assert target.read_bytes()[:2] == b"PK"
        assert leftovers(tmp_path, target) == []
    excel.save_template("heating", target)  # closed: it works
    assert target.read_bytes()[:2] == b"PK"


def test_a_report_copy_over_a_pdf_open_in_a_reader(tmp_path):
    source = tmp_path / "新.pdf"
    source.write_bytes(b"%PDF-1.4 new")
    target = tmp_path / "月报 2020年12月.pdf"
    target.write_bytes(b"%PDF-1.4 old")
    with held_open(target):
        if WINDOWS:
            with pytest.raises(JzairError) as err:
                report.save_copy(source, target)
            assert str(target) in str(err.value) and "PDF 阅读器" in str(err.value)
            assert target.read_bytes() == b"%PDF-1.4 old"
        else:
            report.save_copy(source, target)
            assert target.read_bytes() == b"%PDF-1.4 new"
        assert leftovers(tmp_path, target) == ["新.pdf"]
    report.save_copy(source, target)
    assert target.read_bytes() == b"%PDF-1.4 new"


def test_a_lock_let_go_within_a_moment_is_waited_for(tmp_path):
    target = tmp_path / "导出.xlsx"
    target.write_bytes(b"old")
    new = tmp_path / "导出.tmp"
    new.write_bytes(b"new")
    with held_open(target, HOLD_BRIEFLY):
        replace_file(new, target)  # the holder exits after 0.4 s; the retry outlasts it on Windows
    assert target.read_bytes() == b"new"


def test_a_lock_kept_longer_than_the_wait_fails_with_permission_error(tmp_path):
    target = tmp_path / "导出.xlsx"
    target.write_bytes(b"old")
    new = tmp_path / "导出.tmp"
    new.write_bytes(b"new")
    with held_open(target):
        if WINDOWS:
            with pytest.raises(PermissionError):
                replace_file(new, target, wait=0.3)
            assert target.read_bytes() == b"old" and new.exists()
        else:
            replace_file(new, target, wait=0.3)
            assert target.read_bytes() == b"new"
