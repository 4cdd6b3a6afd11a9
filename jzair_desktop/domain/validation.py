"""The one validation module of the ledgers (domain.md §3).

Entry forms, the Excel import and the package import all call `check_record`. Input values may be
text (as typed or read from Excel) or already typed (date, int, float); the result holds the normalised,
typed values and every problem found, each naming its field and saying why in plain Chinese.
Errors block saving; warnings save and stay visible.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.ledgers import (  # noqa: F401  (DuplicateRule and the plan's limits re-exported)
    BYPASS_DUE,
    ERROR,
    SMALL_COAL_BOILER_TH,
    TRUCK_WINDOW,
    WARNING,
    Column,
    DuplicateRule,
    LedgerDef,
    ledger,
)
from jzair_desktop.domain.reference import UNBOUNDED_MAX, reference

# Dates outside this span are almost certainly typing mistakes for this campaign.
PLAUSIBLE_FIRST = dt.date(2016, 1, 1)
PLAUSIBLE_LAST = dt.date(2022, 12, 31)
MW_PER_STEAM_TON = 0.7


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # column key ("" for the whole record)
    header: str  # the column's Chinese header
    message: str  # why, in plain Chinese
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def text(self) -> str:
        return f"{self.header}：{self.message}" if self.header else self.message


@dataclass(slots=True)
class Checked:
    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


class Invalid(ValueError):
    """A value that cannot be parsed; the message says why in Chinese."""


# --- text normalisation -------------------------------------------------------------------------

_SPACE = re.compile(r"[\s\u3000\u00a0]+")
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")
_CODE_PREFIX = re.compile(r"^\s*[0-9A-Za-z]{1,3}\s*[-、.．:：)）]\s*")


def clean_text(value: Any) -> str:
    """NFKC-folded (full-width letters/digits to half-width), trimmed text; '' for None."""
    if value is None:
        return ""
    if type(value) is str and "\u3000" not in value and "\u00a0" not in value:
        return value.strip()  # the common case, kept fast: the Excel import calls this for every cell
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value)
    text = text.replace("\u3000", " ").replace("\u00a0", " ")
    return text.strip()


def fold_width(text: str) -> str:
    """Full-width ASCII to half-width (ＡＢＣ１２３ → ABC123), leaving Chinese as it is."""
    if not _FULL_WIDTH.search(text):
        return text
    return "".join(
        unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" else ch for ch in text
    )


def is_blank(value: Any) -> bool:
    return clean_text(value) == ""


_ROMAN = {"Ⅰ": "一", "Ⅱ": "二", "Ⅲ": "三", "Ⅳ": "四", "Ⅴ": "五", "Ⅵ": "六"}
_LATIN_ROMAN = {"VI": "六", "IV": "四", "V": "五", "III": "三", "II": "二", "I": "一"}
_DIGIT_CN = {"0": "零", "〇": "零", "1": "一", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六"}


def normalize_emission(text: str) -> str:
    """国Ⅲ, 国III, 国3, 国 3, 国〇, 国0 → 国三 / 国零 …"""
    t = _SPACE.sub("", fold_width(text)).upper()
    if not t.startswith("国"):
        return text
    rest = t[1:]
    for k, v in _ROMAN.items():
        rest = rest.replace(k, v)
    if rest in _LATIN_ROMAN:
        rest = _LATIN_ROMAN[rest]
    if rest in _DIGIT_CN:
        rest = _DIGIT_CN[rest]
    return "国" + rest


def normalize_choice(text: str, choices: Sequence[str]) -> str:
    """Find `text` in a closed list, forgiving spaces, width, a code prefix (1-电代煤) and emission spellings."""
    t = _SPACE.sub("", fold_width(clean_text(text)))
    if t in choices:
        return t
    stripped = _CODE_PREFIX.sub("", t)
    if stripped in choices:
        return stripped
    emission = normalize_emission(stripped)
    if emission in choices:
        return emission
    upper = {c.upper(): c for c in choices}
    if stripped.upper() in upper:
        return upper[stripped.upper()]
    return stripped


# --- value parsers (raise Invalid with a Chinese reason) ----------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: Any) -> dt.date | None:
    if value is None or is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise Invalid("不是日期")
    if isinstance(value, int | float):
        # An Excel serial day number that lost its date format (e.g. 44138 = 2020-11-03).
        if not math.isfinite(value) or not (36526 <= value <= 55153):  # 2000-01-01 … 2050-12-31
            raise Invalid(f"“{value:g}”不是有效的日期，请填写如 2020-11-03 的日期")
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    folded = fold_width(clean_text(value))
    # A time may follow the date ("2020/11/3 8:30"); spaces inside the date itself are ignored.
    date_part, _, _time = folded.partition(" ") if re.match(r"^\d{4}[-/.]", folded) else (folded, "", "")
    candidates = dict.fromkeys((_SPACE.sub("", date_part), _SPACE.sub("", folded)))
    for text, pattern in ((t, p) for t in candidates for p in _DATE_PATTERNS):
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups()[:3])
            try:
                return dt.date(y, mo, d)
            except ValueError:
                raise Invalid(f"“{clean_text(value)}”不是存在的日期") from None
    raise Invalid(f"无法识别的日期“{clean_text(value)[:40]}”，请填写如 2020-11-03、2020/11/3 或 2020年11月3日")


_NUMBER_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[+-]?\.\d+$", re.ASCII)
# No figure of this campaign comes near this: anything larger is a typing or file error, never a value
# (and the sum of a few such values would overflow to infinity).
NUMBER_MAX = UNBOUNDED_MAX
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\ufe63": "-", "\u2012": "-", "\u2013": "-", "，": ",", "。": "."})


def normalize_number_text(value: Any) -> str:
    """A number as typed, in its plain form: full-width digits, signs and points folded to ASCII
    (１２３ → 123, －１．５ → -1.5, １，２３４ → 1,234), spaces dropped. Other text is returned folded too."""
    return _SPACE.sub("", fold_width(clean_text(value))).translate(_MINUS_SIGNS)


def parse_number(value: Any) -> float | None:
    """The one number parser: text as typed (full-width folded, thousands separators) or a number from a
    cell or a file. Refuses booleans, NaN, infinities and magnitudes beyond NUMBER_MAX."""
    if type(value) is float and value != value:  # noqa: PLR0124 - NaN is refused, never taken for an empty cell
        raise Invalid("不是有效的数字（无穷大或非数字）")
    if value is None or is_blank(value):
        return None
    if isinstance(value, bool):
        raise Invalid("不是数字")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid("不是有效的数字（无穷大或非数字）")
        if abs(value) > NUMBER_MAX:
            raise Invalid(f"{_magnitude_text(value)}数值过大，不是合理的数值")
        return float(value)
    text = normalize_number_text(value)
    if not _NUMBER_TEXT.match(text):
        raise Invalid(f"“{clean_text(value)[:40]}”不是数字")
    digits = text.replace(",", "")
    if len(digits.lstrip("+-").split(".")[0].lstrip("0")) > 13:  # > NUMBER_MAX without building a huge float
        raise Invalid(f"“{clean_text(value)[:40]}”数值过大，不是合理的数值")
    number = float(digits)
    if abs(number) > NUMBER_MAX:
        raise Invalid(f"“{clean_text(value)[:40]}”数值过大，不是合理的数值")
    return number


def _magnitude_text(value: int | float) -> str:
    if isinstance(value, int) and abs(value) > 10**300:
        return f"“{str(value)[:12]}…”（{len(str(abs(value)))} 位）"
    return f"“{value:.6g}”"


def format_limit(value: float) -> str:
    """A range bound as the messages show it: 10,000 / 0.5."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def check_range(number: float, low: float, high: float, unit: str = "") -> float:
    """`number` within [low, high], else Invalid saying the range (and 不能为负数 below a zero floor)."""
    if number < low:
        if low == 0:
            raise Invalid("不能为负数")
        raise Invalid(f"应在 {format_limit(low)} 至 {format_limit(high)}{unit} 之间，收到 {format_limit(number)}")
    if number > high:
        raise Invalid(f"超出合理范围：应在 {format_limit(low)} 至 {format_limit(high)}{unit} 之间，"
                      f"收到 {format_limit(number)}，请核对")
    return number


def parse_int(value: Any) -> int | None:
    number = parse_number(value)
    if number is None:
        return None
    if not float(number).is_integer():
        raise Invalid(f"“{clean_text(value)}”不是整数")
    return int(number)


_MW = re.compile(r"^(.*?)(MW|兆瓦)$", re.IGNORECASE)
_TH = re.compile(r"^(.*?)(蒸吨/小时|蒸吨/时|蒸吨|t/h|T/H)$")


def parse_capacity(value: Any) -> float | None:
    """额定蒸发量 in 蒸吨/小时; a value in MW (hot-water boiler) converts at 0.7 MW = 1 蒸吨/小时."""
    if isinstance(value, str):
        text = _SPACE.sub("", fold_width(value))
        m = _MW.match(text)
        if m:
            mw = parse_number(m.group(1))
            return None if mw is None else round(mw / MW_PER_STEAM_TON, 4)
        m = _TH.match(text)
        if m:
            return parse_number(m.group(1))
    return parse_number(value)


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$")
_ID_LAST = frozenset("0123456789X")
ID_AS_NUMBER = "身份证号已被 Excel 转成数字，末尾几位已经丢失。请把该列设置为“文本”格式后重新输入完整号码"


_BIRTH_DAYS: dict[str, bool] = {}


def _birth_day_exists(text: str) -> bool:
    """Whether YYYYMMDD (digits) is a date that exists, remembered (a ledger repeats birth days)."""
    try:
        return _BIRTH_DAYS[text]
    except KeyError:
        pass
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        ok = True
    except ValueError:
        ok = False
    if len(_BIRTH_DAYS) > 100_000:
        _BIRTH_DAYS.clear()
    _BIRTH_DAYS[text] = ok
    return ok


def parse_id_number(value: Any) -> str | None:
    if type(value) is str and len(value) == 18 and value.isascii() and value[:17].isdigit():
        # The common case, kept fast: 18 ASCII characters, nothing to fold or strip.
        text = value.upper()
        if text[17] in _ID_LAST:
            if not _birth_day_exists(text[6:14]):
                raise Invalid(f"出生日期“{text[6:14]}”不存在")
            if checkdigits.id_check_char(text[:17]) != text[17]:
                raise Invalid("校验位不正确，请核对号码（可能有输错的数字）")
            return text
    if value is None or is_blank(value):
        return None
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool) and value > 10**15):
        raise Invalid(ID_AS_NUMBER)
    text = _SPACE.sub("", fold_width(clean_text(value))).upper()
    if _SCIENTIFIC.match(text):
        raise Invalid(ID_AS_NUMBER)
    if len(text) != 18:
        raise Invalid(f"应为18位，实际为{len(text)}位")
    if not text[:17].isdigit() or not text[:17].isascii() or not (text[17].isdigit() or text[17] == "X"):
        raise Invalid("前17位应为数字，最后一位为数字或X")
    if not _birth_day_exists(text[6:14]):
        raise Invalid(f"出生日期“{text[6:14]}”不存在")
    if checkdigits.id_check_char(text[:17]) != text[17]:
        raise Invalid("校验位不正确，请核对号码（可能有输错的数字）")
    return text


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"^[{PROVINCES}][A-Z][A-Z0-9]{{5,6}}$")
_PLATE_NOISE = re.compile(r"[\s·•．.\-_、]+")


def normalize_plate(text: str) -> str:
    return _PLATE_NOISE.sub("", fold_width(clean_text(text))).upper()


def parse_plate(value: Any) -> str | None:
    if value is None or is_blank(value):
        return None
    plate = normalize_plate(str(value))
    if not _PLATE.match(plate):
        raise Invalid(f"“{clean_text(value)[:20]}”不是有效的号牌号码，应为省份简称+字母+5位字母或数字，如 晋K12345")
    if "I" in plate[2:] or "O" in plate[2:]:
        raise Invalid(f"号牌号码“{plate}”中不应含字母 I 或 O（可能是数字1或0）")
    return plate


def parse_vin(value: Any) -> str | None:
    if value is None or is_blank(value):
        return None
    vin = _SPACE.sub("", fold_width(clean_text(value))).upper()
    if len(vin) != 17:
        raise Invalid(f"应为17位，实际为{len(vin)}位")
    bad = sorted(set(vin) - checkdigits.VIN_ALPHABET)
    if bad:
        if set(bad) & {"I", "O", "Q"}:
            raise Invalid("不得含字母 I、O、Q（可能是数字1、0）")
        raise Invalid(f"含有无效字符“{''.join(bad)}”")
    expected = checkdigits.vin_check_char(vin)
    if vin[8] != expected:
        raise Invalid(f"第9位校验位应为“{expected}”，实际为“{vin[8]}”，请核对车辆识别代号")
    return vin


def parse_uscc(value: Any) -> str | None:
    if value is None or is_blank(value):
        return None
    code = _SPACE.sub("", fold_width(clean_text(value))).upper()
    if len(code) != 18:
        raise Invalid(f"应为18位，实际为{len(code)}位")
    bad = sorted({c for c in code if c not in checkdigits.USCC_ALPHABET})
    if bad:
        raise Invalid(f"含有无效字符“{''.join(bad)}”（不使用 I、O、Z、S、V）")
    if not checkdigits.uscc_valid(code):
        raise Invalid("校验位不正确，请核对统一社会信用代码")
    return code


_PHONE = re.compile(r"^\+?[0-9][0-9\-]{5,19}$")


def parse_phone(value: Any) -> str | None:
    if type(value) is str and 6 <= len(value) <= 20 and value.isascii() and value.isdigit():
        return value  # the common case, kept fast: plain digits, nothing to fold, strip or check further
    if value is None or is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _SPACE.sub("", fold_width(clean_text(value))).replace("—", "-").replace("（", "(").replace("）", ")")
    text = text.replace("(", "").replace(")", "-")
    if not _PHONE.match(text):
        raise Invalid(f"“{clean_text(value)[:20]}”不是有效的电话号码")
    return text


def parse_bool(value: Any) -> str | None:
    if value is None or is_blank(value):
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    t = _SPACE.sub("", fold_width(clean_text(value))).upper()
    if t in ("是", "Y", "YES", "TRUE", "1", "√", "有", "保留"):
        return "是"
    if t in ("否", "N", "NO", "FALSE", "0", "×", "无", "不保留"):
        return "否"
    raise Invalid(f"“{clean_text(value)[:20]}”无效，应填“是”或“否”")


# --- one record ---------------------------------------------------------------------------------


_UNIT_CACHE: dict[tuple[int, str], Any] = {}


def _find_unit(text: str) -> Any:
    """reference().find_unit, remembered per text (a file repeats its unit on every row)."""
    ref = reference()
    key = (id(ref), text)
    try:
        return _UNIT_CACHE[key]
    except KeyError:
        if len(_UNIT_CACHE) > 1000:
            _UNIT_CACHE.clear()
        unit = _UNIT_CACHE[key] = ref.find_unit(text)
        return unit


def _parse_unit(column: Column, value: Any) -> Any:
    if is_blank(value):
        return None
    unit = _find_unit(str(value))
    if unit is None:
        names = "、".join(u.name for u in reference().units)
        raise Invalid(f"未知的县（区、市）“{clean_text(value)[:20]}”，可选：{names}")
    return unit.code


def _parse_text(column: Column, value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(value)
    if not text:
        return None
    if len(text) > column.max_length:
        raise Invalid(f"内容过长（{len(text)}个字），最多{column.max_length}个字")
    return text


def _parse_enum(column: Column, value: Any) -> Any:
    if is_blank(value):
        return None
    choices = column.choices
    choice = normalize_choice(str(value), choices)
    if choice not in choices:
        if column.key == "emission_std" and normalize_emission(choice) in ("国四", "国五", "国六"):
            raise Invalid(f"“{clean_text(value)}”车辆不在本次淘汰范围（只淘汰国三及以下）")
        raise Invalid(f"“{clean_text(value)[:20]}”不在可选范围内，可选：{'、'.join(choices)}")
    return choice


def _in_range(column: Column, number: float | None) -> Any:
    if number is None or column.value_range is None:
        return number
    low, high = column.value_range
    if column.key == "capacity_th" and number <= 0:
        raise Invalid("必须大于0")
    return check_range(number, low, high, column.range_unit)


def _parse_float(column: Column, value: Any) -> Any:
    number = parse_capacity(value) if column.key == "capacity_th" else parse_number(value)
    return _in_range(column, number)


def _parse_int(column: Column, value: Any) -> Any:
    return _in_range(column, parse_int(value))


# One parser per column kind (ledgers.KINDS); each returns None for an empty value.
_PARSERS: dict[str, Callable[[Column, Any], Any]] = {
    "unit": _parse_unit,
    "text": _parse_text,
    "enum": _parse_enum,
    "date": lambda column, value: parse_date(value),
    "int": _parse_int,
    "float": _parse_float,
    "bool": lambda column, value: parse_bool(value),
    "idcard": lambda column, value: parse_id_number(value),
    "phone": lambda column, value: parse_phone(value),
    "plate": lambda column, value: parse_plate(value),
    "vin": lambda column, value: parse_vin(value),
    "uscc": lambda column, value: parse_uscc(value),
}


# Kinds whose values repeat a lot in a ledger (units, lists, dates, amounts): their parse results are
# remembered per column and value. The parsers are pure functions of the column's kind, key and list and
# of the value (and of the reference data, which the plan below is tied to), so remembering changes no
# result.
_MEMO_KINDS = frozenset({"unit", "enum", "bool", "date", "int", "float"})
_MEMO_MAX = 50_000


def _column_parser(column: Column) -> Callable[[Any], Any]:
    """value (not None, not "") -> the parsed value, or Invalid: the column kind's parser, specialised."""
    parser = _PARSERS.get(column.kind)
    if parser is None:
        raise AssertionError(f"unknown column kind {column.kind}")
    if column.kind not in _MEMO_KINDS:
        return lambda value: parser(column, value)
    memo: dict[tuple, tuple[bool, Any]] = {}

    def remembered(value: Any) -> Any:
        key = (type(value), value)
        try:
            ok, result = memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value
            return parser(column, value)
        else:
            if ok:
                return result
            raise Invalid(result)
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        try:
            result = parser(column, value)
        except Invalid as exc:
            memo[key] = (False, str(exc))
            raise
        memo[key] = (True, result)
        return result

    return remembered


@dataclass(frozen=True, slots=True)
class _Plan:
    """How check_record goes through one ledger's columns, worked out once per ledger and reference data."""

    ledger: LedgerDef
    ref: Any
    steps: tuple[tuple[str, Column, Callable[[Any], Any], Any, bool], ...]  # key, column, parser, default, required
    dates: tuple[tuple[Column, bool], ...]  # date columns, and whether each is an actual (done) date


_PLANS: dict[str, _Plan] = {}


def _plan(d: LedgerDef) -> _Plan:
    ref = reference()
    plan = _PLANS.get(d.key)
    if plan is None or plan.ledger is not d or plan.ref is not ref:
        actual = {d.done_date_field, "actual_date", "done_date", "eliminated_date"}
        plan = _PLANS[d.key] = _Plan(
            d, ref,
            tuple((c.key, c, _column_parser(c), c.default, c.required) for c in d.columns),
            tuple((c, c.key in actual) for c in d.columns if c.kind == "date"),
        )
    return plan


def check_record(
    ledger_key: str | LedgerDef,
    raw: Mapping[str, Any],
    *,
    today: dt.date | None = None,
) -> Checked:
    """Parse and check one record given as {column key: value}. Unknown keys are ignored."""
    d = ledger(ledger_key) if isinstance(ledger_key, str) else ledger_key
    plan = _plan(d)
    today = today or dt.date.today()
    values: dict[str, Any] = {}
    problems: list[Problem] = []

    def add(col: Column, message: str, severity: str = ERROR) -> None:
        problems.append(Problem(col.key, col.header, message, severity))

    get = raw.get
    for key, col, parse, default, required in plan.steps:
        value = get(key)
        if value is None or value == "":
            parsed = None  # every parser gives None for an empty value: not calling it keeps bulk imports fast
        else:
            try:
                parsed = parse(value)
            except Invalid as exc:
                problems.append(Problem(key, col.header, str(exc)))
                values[key] = None
                continue
        if parsed is None:
            if default is not None:
                parsed = default
            elif required:
                problems.append(Problem(key, col.header, "必填，不能为空"))
        values[key] = parsed

    _cross_field_rules(d, values, today, add, problems, plan.dates)
    return Checked(values, problems)


def _cross_field_rules(
    d: LedgerDef, v: dict[str, Any], today: dt.date, add: Callable[..., None], found: list[Problem],
    dates: tuple[tuple[Column, bool], ...],
) -> None:
    col = d.column

    # Dates: actual (done) dates never in the future; every date plausible for this campaign.
    for c, is_actual in dates:
        day = v.get(c.key)
        if day is None:
            continue
        if is_actual and day > today:
            add(c, f"{day.isoformat()} 晚于今天，实际完成的日期不能在将来")
        elif not (PLAUSIBLE_FIRST <= day <= PLAUSIBLE_LAST):
            add(c, f"{day.isoformat()} 不在本轮攻坚行动的合理时间范围内，请核对", WARNING)

    # Done statuses need their actual date; an actual date on an open item is suspicious.
    if d.status_field is not None:
        status = v.get(d.status_field)
        done_col = col(d.done_date_field)
        if status in d.done_statuses and v.get(d.done_date_field) is None and not any(
            p.field == d.done_date_field for p in found
        ):
            add(done_col, f"状态为“{status}”时必须填写{done_col.header}")
        if status is not None and status not in d.done_statuses and v.get(d.done_date_field) is not None:
            add(done_col, f"填写了{done_col.header}，但状态是“{status}”，请核对状态", WARNING)

    def add_to(key: str, message: str, severity: str = ERROR) -> None:
        add(col(key), message, severity)

    d.check(v, add_to)


# --- duplicates ---------------------------------------------------------------------------------


def rule_key(rule: DuplicateRule, values: Mapping[str, Any]) -> tuple | None:
    """The duplicate key of a record under a rule, or None when a field of it is empty."""
    key = tuple(values.get(f) for f in rule.fields)
    if any(k is None or k == "" for k in key):
        return None
    return key


def duplicate_problem(d: LedgerDef, rule: DuplicateRule, where: str) -> Problem:
    """The problem for a record that duplicates another one (`where` says which: '第5行', '已有记录 …')."""
    first = d.column(rule.fields[0])
    suffix = "，一个对象只能登记一次" if rule.severity == ERROR else "，请确认不是重复登记"
    return Problem(first.key, first.header, f"与{where}重复（{rule.describe}）{suffix}", rule.severity)


def mask_id_number(value: str | None) -> str:
    """140702********1234: personal data shown in lists, exports and reports."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678: a phone number as a viewer sees it (the first three and the last four characters)."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


PERSONAL_KINDS = {"idcard": mask_id_number, "phone": mask_phone}


# --- numbers inside JSON (packages, frozen submissions) -----------------------------------------


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 reads as infinity
        raise ValueError(f"number {text[:20]} is not finite")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def loads_finite(text: str | bytes) -> Any:
    """json.loads refusing NaN, Infinity and numbers that overflow to infinity (ValueError)."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)


def bad_number_in(obj: Any, limit: float = NUMBER_MAX, path: str = "") -> str | None:
    """Where (a key path such as indicators[3].done) `obj` holds a number that is NaN, infinite or beyond
    `limit` in magnitude; None when every number is sane."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return None
    if isinstance(obj, int | float):
        if isinstance(obj, float) and not math.isfinite(obj):
            return path or "值"
        return (path or "值") if abs(obj) > limit else None
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            found = bad_number_in(v, limit, f"{path}.{k}" if path else str(k))
            if found:
                return found
        return None
    if isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            found = bad_number_in(v, limit, f"{path}[{i}]")
            if found:
                return found
    return None
