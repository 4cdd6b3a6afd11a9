"""The one number parser (domain.validation.parse_number): property tests (issue 22, item 1)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jzair_desktop.domain.validation import NUMBER_MAX, Invalid, bad_number_in, loads_finite, parse_number

_FULL = str.maketrans("0123456789-+.,", "０１２３４５６７８９－＋．，")


def _outcome(value):
    try:
        return ("ok", parse_number(value))
    except Invalid as exc:
        return ("invalid", str(exc))


@pytest.mark.slow
@settings(max_examples=400)
@given(st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789０１２３４５６７８９.,，．-－+eE ∞", max_size=40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
))
def test_any_input_is_a_sane_number_none_or_a_chinese_refusal(value):
    kind, result = _outcome(value)  # never any other exception (OverflowError, ValueError …)
    if kind == "ok" and result is not None:
        assert math.isfinite(result) and abs(result) <= NUMBER_MAX
    if kind == "invalid":
        assert result and not result.isascii()


_SANE = st.decimals(min_value=-NUMBER_MAX, max_value=NUMBER_MAX, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300)
@given(_SANE, st.booleans(), st.booleans())
def test_a_sane_number_reads_back_as_typed_in_any_width_and_grouping(number, grouped, full_width):
    text = f"{number:,f}" if grouped else f"{number:f}"
    if full_width:
        text = text.translate(_FULL)
    assert parse_number(text) == float(number)


@given(st.floats(min_value=NUMBER_MAX, exclude_min=True, allow_infinity=True) | st.just(float("nan")))
def test_huge_or_not_finite_numbers_are_refused_as_numbers_and_as_text(number):
    for value in (number, -number, repr(number), f"{number:f}" if math.isfinite(number) else "inf"):
        kind, _ = _outcome(value)
        assert kind == "invalid", value


def test_digit_strings_beyond_the_bound_are_refused_without_building_them():
    assert _outcome("9" * 5000)[0] == "invalid"
    assert _outcome("99999999999999999999")[0] == "invalid"
    assert _outcome("１２３")[1] == 123.0 and _outcome("－１．５")[1] == -1.5 and _outcome("１，２３４")[1] == 1234.0


@given(st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**13), max_value=10**13) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
))
def test_bad_number_in_finds_every_non_finite_or_huge_number(obj):
    def flat(o):
        if isinstance(o, dict):
            for v in o.values():
                yield from flat(v)
        elif isinstance(o, list):
            for v in o:
                yield from flat(v)
        else:
            yield o

    bad = [v for v in flat(obj) if isinstance(v, int | float) and not isinstance(v, bool)
           and (not math.isfinite(v) or abs(v) > NUMBER_MAX)]
    assert (bad_number_in(obj) is not None) == bool(bad)


def test_loads_finite_refuses_what_json_reads_as_infinity():
    for text in ('{"a": Infinity}', '{"a": NaN}', '{"a": -Infinity}', '{"a": 1e400}', "[-1e999]"):
        try:
            loads_finite(text)
        except ValueError:
            continue
        raise AssertionError(text)
    assert loads_finite('{"a": 1e300}') == {"a": 1e300}
