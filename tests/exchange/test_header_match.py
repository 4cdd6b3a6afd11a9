"""Header matching: every registry header and alias is found however it is dressed up; nothing else is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.exchange.xlsx_common import column_letter, match_header, normalize_header, split_unit

ALL_HEADERS = [(d.key, c.key, h) for d in LEDGERS.values() for c in d.columns for h in c.all_headers]
WIDE = str.maketrans("()", "（）")
NARROW = str.maketrans("（）", "()")
SPACES = st.sampled_from([" ", "  ", "\u3000", "\t", "\n", "\u00a0"])


def _dress(text: str, data: st.DataObject) -> str:
    """Spaces inside and around, brackets switched between widths, an optional required-marker."""
    text = text.translate(data.draw(st.sampled_from([WIDE, NARROW, {}])))
    chars = list(text)
    out = []
    for ch in chars:
        out.append(ch)
        if data.draw(st.booleans()):
            out.append(data.draw(SPACES))
    lead = data.draw(st.sampled_from(["", " ", "\u3000", "*", "＊"]))
    tail = data.draw(st.sampled_from(["", " ", "\n", "：", ":"]))
    return lead + "".join(out) + tail


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_HEADERS), st.data())
def test_dressed_header_matches_its_column(item, data):
    ledger_key, col_key, header = item
    dressed = _dress(header, data)
    m = match_header(LEDGERS[ledger_key], dressed)
    assert m is not None, dressed
    assert m.key == col_key


UNITS = ["元", "平方米", "万元", "MW", "mw", "兆瓦", "蒸吨/小时", "t/h", "个", "户", "m²"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_HEADERS), st.sampled_from(UNITS), st.sampled_from(["（{}）", "({})", "【{}】", "[{}]"]))
def test_trailing_unit_in_brackets_is_ignored(item, unit, pattern):
    ledger_key, col_key, header = item
    m = match_header(LEDGERS[ledger_key], header + pattern.format(unit))
    assert m is not None and m.key == col_key


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥abcxyz0123456789 ", min_size=1, max_size=12))
def test_unrelated_text_matches_nothing(text):
    for d in LEDGERS.values():
        assert match_header(d, text) is None


@given(st.text(max_size=30))
def test_normalize_never_raises_and_is_idempotent(text):
    n = normalize_header(text)
    assert normalize_header(n) == n
    base, unit = split_unit(n)
    assert n == base or n == f"{base}({unit})"
    assert base or not n


def test_header_forms_are_unambiguous_within_each_ledger():
    # _forms raises when two columns share a normalised header or base form.
    for d in LEDGERS.values():
        for c in d.columns:
            assert match_header(d, c.header).key == c.key


@pytest.mark.parametrize(
    ("ledger_key", "text", "key", "unit"),
    [
        ("boilers", "额定蒸发量(MW)", "capacity_th", "mw"),
        ("boilers", "额定蒸发量（兆瓦）", "capacity_th", "兆瓦"),
        ("boilers", "额定蒸发量（t/h）", "capacity_th", ""),
        ("heating", "补贴金额（万元）", "subsidy_yuan", "万元"),
        ("heating", "采暖面积（平方米）", "area_m2", ""),
        ("heating", "采暖面积(㎡)", "area_m2", ""),
        ("heating", "县(市、区)", "unit_code", ""),
        ("heating", "所属区县", "unit_code", ""),
        ("heating", "乡镇（街道）", "township", ""),
        ("heating", "户 主", "householder", ""),
        ("heating", "公民身份号码", "id_number", ""),
        ("trucks", "车架号", "vin", ""),
        ("trucks", "vin", "vin", ""),
        ("trucks", "ＶＩＮ", "vin", ""),
        ("trucks", "车牌号码", "plate", ""),
        ("trucks", "车主", "owner", ""),
        ("trucks", "排放阶段", "emission_std", ""),
        ("boilers", "企业名称", "org_name", ""),
        ("kilns", "单位名称", "enterprise", ""),
        ("vocs", "信用代码", "credit_code", ""),
    ],
)
def test_known_real_world_headers(ledger_key, text, key, unit):
    m = match_header(LEDGERS[ledger_key], text)
    assert m is not None and m.key == key and m.unit == unit


@pytest.mark.parametrize("text", ["序号", "联系人", "入户核查人", "", None, "   ", "备注说明", "县名称代码"])
def test_columns_not_in_the_ledger(text):
    assert match_header(LEDGERS["heating"], text) is None


def test_unit_hint_only_where_it_changes_the_numbers():
    assert match_header(LEDGERS["heating"], "采暖面积（MW）").unit == ""
    assert match_header(LEDGERS["boilers"], "额定蒸发量（MW）").note.startswith("单位为MW")


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]
