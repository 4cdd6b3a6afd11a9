"""Small hostile files that unpack to gigabytes are refused while streaming, before anything large is
built (issue 16, finding 8): each import runs in a child process whose peak memory (VmHWM, else ru_maxrss) is measured;
a refused file must stay under 300 MB. Before the streaming checks, the 1 MB workbook with one huge cell
took 5.4 GB and 82 s, the 2 MB one with a huge shared-string table 1 GB."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.exchange import samples

PEAK_LIMIT_MB = 300
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ru_maxrss is POSIX")

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from jzair_desktop.domain.ledgers import ledger
    from jzair_desktop.errors import JzairError
    from jzair_desktop.exchange.excel_import import read_ledger_sheet
    started = time.perf_counter()
    try:
        read_ledger_sheet(Path(sys.argv[1]), ledger("heating"))
        outcome, message = "accepted", ""
    except JzairError as exc:
        outcome, message = type(exc).__name__, str(exc)
    # VmHWM: this process's own peak (ru_maxrss keeps the forking parent's across exec on Linux).
    try:
        status = Path("/proc/self/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"outcome": outcome, "message": message, "peak_mb": peak,
                      "seconds": time.perf_counter() - started}))
""")


def import_in_child(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def ods_bomb(path: Path, rows_xml: list[tuple[bytes, int]]) -> Path:
    head = (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
            b'<table:table table:name="t">')
    tail = b"</table:table></office:spreadsheet></office:body></office:document-content>"
    return samples.write_zip_raw(path, {
        "mimetype": [(b"application/vnd.oasis.opendocument.spreadsheet", 1)],
        "meta.xml": [(b"<x/>", 1)],
        "content.xml": [(head, 1), *rows_xml, (tail, 1)],
    })


CELL = b'<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'

HOSTILE = {
    "xlsx-huge-cell": (lambda p: samples.huge_cell_xlsx(p.with_suffix(".xlsx")), "超过 256 KB"),
    "xlsx-huge-shared-strings": (lambda p: samples.huge_shared_strings_xlsx(p.with_suffix(".xlsx")), "不同的文字"),
    "ods-huge-cell": (lambda p: ods_bomb(p.with_suffix(".ods"), [
        (b'<table:table-row><table:table-cell office:value-type="string"><text:p>', 1),
        (b"a" * (1 << 20), 1024), (b"</text:p></table:table-cell></table:table-row>", 1)]), "超过 256 KB"),
    "ods-repeated-rows": (lambda p: ods_bomb(p.with_suffix(".ods"), [
        (b'<table:table-row table:number-rows-repeated="1000000">' + CELL + b"</table:table-row>", 1)]), "超过"),
    "ods-repeated-columns": (lambda p: ods_bomb(p.with_suffix(".ods"), [
        (b'<table:table-row><table:table-cell table:number-columns-repeated="16000" office:value-type="string">'
         b"<text:p>x</text:p></table:table-cell></table:table-row>", 2000)]), "使用范围过大"),
    "ods-many-rows": (lambda p: ods_bomb(p.with_suffix(".ods"), [
        ((b"<table:table-row>" + CELL + b"</table:table-row>") * 1000, 400)]), "超过"),
    "ods-bomb-styles": (lambda p: samples.write_zip_raw(p.with_suffix(".ods"), {
        "mimetype": [(b"application/vnd.oasis.opendocument.spreadsheet", 1)],
        "meta.xml": [(b"<x/>", 1)], "content.xml": [(b"<x/>", 1)],
        "styles.xml": [(b" " * (1 << 20), 200)]}), "压缩炸弹"),
    "xlsx-bomb-styles": (lambda p: samples.write_zip_raw(p.with_suffix(".xlsx"), {
        "xl/workbook.xml": [(b"<workbook/>", 1)], "xl/styles.xml": [(b" " * (1 << 20), 200)]}), "压缩炸弹"),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_small_hostile_file_is_refused_with_little_memory(tmp_path, kind):
    make, expected = HOSTILE[kind]
    path = make(tmp_path / f"炸弹-{kind}")
    assert path.stat().st_size < 3 << 20
    result = import_in_child(path)
    print(f"\n{kind}: {path.stat().st_size / 1e6:.1f} MB file, {result['outcome']} in {result['seconds']:.2f} s, "
          f"peak RSS {result['peak_mb']:.0f} MB")
    assert result["outcome"] == "ExcelFileError", result
    assert path.name in result["message"] and expected in result["message"], result["message"]
    assert result["peak_mb"] <= PEAK_LIMIT_MB


def test_a_cell_just_under_the_limit_is_read(tmp_path):
    path = samples.huge_cell_xlsx(tmp_path / "长备注.xlsx", cell_bytes=200 << 10)
    result = import_in_child(path)
    assert "256 KB" not in result["message"] and result["peak_mb"] <= PEAK_LIMIT_MB  # passed the limit, read
