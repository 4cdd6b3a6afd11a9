"""A large, valid clean-heating ledger workbook for the crash tests, written as raw XML (100,000 rows in a
few seconds; openpyxl would take many times longer). Values as in tests/exchange/samples.py, with
身份证号 that stay unique for up to 3,650,000 rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.ledgers import ledger
from tests.exchange.samples import TOWNSHIPS, VILLAGES, name, write_raw_xlsx

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

    def xml_rows() -> Iterator[str]:
        yield _cells(1, [f"{UNIT}清洁取暖散煤替代台账（2020年）"])
        yield _cells(2, headers)
        for n in range(rows):
            yield _cells(n + 3, row_values(start + n))

    return write_raw_xlsx(path, d.sheet_title, xml_rows())
