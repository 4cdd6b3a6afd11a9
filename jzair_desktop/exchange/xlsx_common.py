"""What the Excel template, import and export share: header matching, limits and the sheet's look.

Header matching (domain.md §3): a file's column header matches a registry column when, after folding
full-width characters to half-width (so （） and () are the same), unifying 【】[] to (), dropping every
space and line break, the required-marker `*` and a trailing colon, it equals the column's header or one
of its aliases — or does so once a trailing unit in brackets is removed from either side
(采暖面积（平方米） ≙ 采暖面积, 额定蒸发量(MW) ≙ 额定蒸发量（蒸吨/小时）). A unit that changes the
meaning of the numbers (MW for the boiler capacity, 万元 for money) is kept as a hint so the importer
converts the values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from jzair_desktop.domain.ledgers import LEDGERS, Column, LedgerDef

# Limits, stated to the user in messages and in the README.
HEADER_SEARCH_ROWS = 30  # the header row must be within the first 30 rows of a sheet
MAX_DATA_ROWS = 300_000  # a larger file is refused before it is loaded (split it per 乡镇)

DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
NUMBER_FORMAT = "#,##0.##"
INT_FORMAT = "0"

HEADER_FONT = Font(name="宋体", bold=True, size=11, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="2F5597")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
THIN = Side(style="thin", color="8EA9DB")
HEADER_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")

MW_UNITS = ("mw", "兆瓦")
TEN_THOUSAND_YUAN = "万元"

_SPACES = re.compile(r"\s+")
_TRAILING_UNIT = re.compile(r"^(.+)\(([^()]*)\)$")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")"})


def normalize_header(text: object) -> str:
    """The comparable form of a header cell ('' for an empty cell)."""
    if text is None:
        return ""
    t = unicodedata.normalize("NFKC", str(text)).translate(_BRACKETS)
    t = _SPACES.sub("", t).strip("*:").casefold()
    return unicodedata.normalize("NFKC", t)  # again: removing spaces can join combining marks


def split_unit(normalized: str) -> tuple[str, str]:
    """('额定蒸发量', 'mw') from '额定蒸发量(mw)'; (text, '') when there is no trailing bracket."""
    m = _TRAILING_UNIT.match(normalized)
    if not m:
        return normalized, ""
    return m.group(1), m.group(2)


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    key: str  # registry column key
    header: str  # the registry column's header
    unit: str = ""  # the unit the file's header gives, when it differs in meaning ('mw', '万元')

    @property
    def note(self) -> str:
        if self.unit in MW_UNITS:
            return "单位为MW，按 0.7MW = 1蒸吨/小时 折算"
        if self.unit == TEN_THOUSAND_YUAN:
            return "单位为万元，按 1万元 = 10000元 折算"
        return ""


@dataclass(frozen=True, slots=True)
class _Forms:
    full: dict[str, Column]
    base: dict[str, Column]


@cache
def _forms(ledger_key: str) -> _Forms:
    d = LEDGERS[ledger_key]
    full: dict[str, Column] = {}
    base: dict[str, Column] = {}
    for col in d.columns:
        for h in col.all_headers:
            n = normalize_header(h)
            other = full.setdefault(n, col)
            if other.key != col.key:
                raise AssertionError(f"{ledger_key}: header form {n!r} names {other.key} and {col.key}")
            b, _ = split_unit(n)
            other = base.setdefault(b, col)
            if other.key != col.key:
                raise AssertionError(f"{ledger_key}: header base {b!r} names {other.key} and {col.key}")
    return _Forms(full, base)


def _meaningful_unit(col: Column, unit: str) -> str:
    if col.key == "capacity_th" and unit in MW_UNITS:
        return unit
    if col.kind == "float" and col.key.endswith("_yuan") and unit == TEN_THOUSAND_YUAN:
        return unit
    return ""


def match_header(d: LedgerDef, text: object) -> HeaderMatch | None:
    """The registry column a file's header cell names, or None (an unknown column, ignored on import)."""
    n = normalize_header(text)
    if not n:
        return None
    forms = _forms(d.key)
    col = forms.full.get(n) or forms.base.get(n)
    unit = ""
    if col is None:
        b, unit = split_unit(n)
        if b == n:
            return None
        col = forms.full.get(b) or forms.base.get(b)
        if col is None:
            return None
    return HeaderMatch(col.key, col.header, _meaningful_unit(col, unit))


def column_letter(index0: int) -> str:
    """'A' for 0, 'AA' for 26."""
    n = index0 + 1
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def describe_columns(columns: list[Column] | tuple[Column, ...]) -> str:
    return "、".join(c.header for c in columns)


# --- text written as text ---------------------------------------------------------------------------
# openpyxl turns a string that starts with "=" into a formula and one of Excel's error codes ("#N/A", …)
# into an error value. Every text the app writes (a clerk's 备注, a cell of a file being reported back) is
# data, never a formula: such strings are written as cells whose data type is forced to string. Strings
# beginning with +, - or @ are already written as plain strings by openpyxl (never as formulas); a round
# trip keeps every text exactly.
_LIVE_PREFIXES = ("=", "#")
_ERROR_CODES = frozenset(ERROR_CODES)


def is_live_text(value: object) -> bool:
    """Whether openpyxl would write this value as a formula or an error value instead of as text."""
    return type(value) is str and value[:1] in _LIVE_PREFIXES and (
        (value[0] == "=" and len(value) > 1) or value in _ERROR_CODES
    )


def text_cell(ws, value: str, *, number_format: str | None = None) -> WriteOnlyCell:  # noqa: ANN001
    """A write-only cell holding `value` as text (data type string), whatever it starts with."""
    cell = WriteOnlyCell(ws, value)
    if isinstance(value, str):
        cell.data_type = "s"
    if number_format:
        cell.number_format = number_format
    return cell


def set_text(cell: Cell, value: object) -> Cell:
    """Assign `value` to a cell of an ordinary workbook, a string always as text (never a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def as_text_row(ws, values: Sequence) -> Sequence:  # noqa: ANN001
    """`values` with every string openpyxl would take for a formula or an error replaced by a text cell."""
    out = None
    for i, v in enumerate(values):
        if type(v) is str and v[:1] in _LIVE_PREFIXES and is_live_text(v):
            if out is None:
                out = list(values)
            out[i] = text_cell(ws, v)
    return values if out is None else out
