"""A large, valid clean-heating ledger workbook for the crash tests, written as raw XML (100,000 rows in a
few seconds; openpyxl would take many times longer). Values as in tests/exchange/samples.py, with
身份证号 that stay unique for up to 3,650,000 rows."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.ledgers import ledger
from tests.exchange.samples import TOWNSHIPS, VILLAGES, name

MAIN_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
UNIT = "榆次区"


def unique_id(i: int) -> str:
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=i // 1000)
    first17 = f"140702{birth:%Y%m%d}{i % 1000:03d}"
    return first17 + checkdigits.id_check_char(first17)


def row_values(i: int) -> list[str | float | None]:
    done = i % 3 != 0
    return [
        UNIT,
        TOWNSHIPS[i % len(TOWNSHIPS)],
        VILLAGES[(i // 8) % len(VILLAGES)],
        name(i) + str(i),  # no two households alike (a same-name warning per row would only slow the test)
        unique_id(i),
        f"139{i:08d}",
        60 + (i % 90) + 0.5 * (i % 2),
        ("气代煤", "电代煤", "集中供热", "其他清洁能源")[i % 4],
        "已完工" if done else "施工中",
        (dt.date(2020, 10, 1) + dt.timedelta(days=i % 60)).isoformat() if done else None,
        2000 + 100 * (i % 20),
        "是",
        None,
    ]


def _letter(i: int) -> str:
    return chr(65 + i)


def _cells(r: int, values: list) -> str:
    out = []
    for c, v in enumerate(values):
        ref = f"{_letter(c)}{r}"
        if v is None:
            continue
        if isinstance(v, int | float):
            out.append(f'<c r="{ref}"><v>{v}</v></c>')
        else:
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(v)}</t></is></c>')
    return f'<row r="{r}">{"".join(out)}</row>'


def write_heating_xlsx(path: Path, rows: int, *, start: int = 0) -> Path:
    """Title row, header row, then `rows` records numbered from `start`."""
    d = ledger("heating")
    headers = [c.header for c in d.columns]
    assert len(headers) == len(row_values(0)) and len(headers) <= 26
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zf.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {MAIN_NS} {REL_NS}><sheets>'
            f'<sheet name="{d.sheet_title}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'))
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN_NS}><sheetData>'.encode())
            fh.write(_cells(1, [f"{UNIT}清洁取暖散煤替代台账（2020年）"]).encode())
            fh.write(_cells(2, headers).encode())
            buf: list[str] = []
            for n in range(rows):
                buf.append(_cells(n + 3, row_values(start + n)))
                if len(buf) >= 5000:
                    fh.write("".join(buf).encode())
                    buf.clear()
            fh.write("".join(buf).encode())
            fh.write(b"</sheetData></worksheet>")
    return path
