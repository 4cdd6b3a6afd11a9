"""domain/months.py: parsing what people type, the plan's month lists, first/last days, the default month."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.domain import months
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError

PLAN = reference().plan
PLAN_MONTHS = months.plan_months()
plan_month = st.sampled_from(PLAN_MONTHS)
any_month = st.builds(months.format_month, st.integers(1900, 2100), st.integers(1, 12))
separators = st.sampled_from(["-", "/", ".", "年", " - ", "／", "－", "．"])


def test_the_plans_months():
    assert PLAN_MONTHS[0] == PLAN.first_month and PLAN_MONTHS[-1] == PLAN.last_month
    assert PLAN_MONTHS == sorted(set(PLAN_MONTHS))
    window = months.window_months()
    assert window[0] == months.month_of(PLAN.window_start) and window[-1] == months.month_of(PLAN.campaign_end)
    assert set(window) <= set(PLAN_MONTHS)


@given(plan_month, separators, st.booleans(), st.booleans())
def test_parse_reads_back_every_written_form(month, sep, pad, suffix):
    year, mon = months.split_month(month)
    text = f"{year}{sep}{mon:02d}" if pad else f"{year}{sep}{mon}"
    if suffix:
        text += "月"
    assert months.parse_month(f"  {text} ") == month


@given(any_month)
def test_format_split_round_trip(month):
    assert months.format_month(*months.split_month(month)) == month
    assert months.MONTH_TEXT.match(month)
    assert months.month_of(months.month_start(month)) == month == months.month_of(months.month_end(month))


@given(any_month)
def test_first_and_last_day(month):
    start, end = months.month_start(month), months.month_end(month)
    assert start.day == 1 and (end - start).days + 1 == months.days_in(month)
    assert (end + dt.timedelta(days=1)).day == 1
    assert months.last_day(start) == end == months.last_day(end)
    assert months.days_in(month) == calendar.monthrange(start.year, start.month)[1]


@given(any_month, any_month)
def test_months_between(first, last):
    got = months.months_between(first, last)
    if last < first:
        assert got == []
    else:
        assert got[0] == first and got[-1] == last and got == sorted(set(got))
        assert all(months.next_month(a) == b for a, b in zip(got, got[1:], strict=False))


@given(st.text(max_size=12))
def test_parse_accepts_a_plan_month_or_says_why_in_chinese(text):
    try:
        month = months.parse_month(text)
    except JzairError as exc:
        assert "月份" in str(exc)
    else:
        assert month in PLAN_MONTHS


@pytest.mark.parametrize("text", ["2020-13", "2020-0", "20-11", "2020年", "十一月", ""])
def test_parse_refuses_what_is_not_a_month(text):
    with pytest.raises(JzairError, match="月份格式不正确"):
        months.parse_month(text)


def test_parse_refuses_a_month_outside_the_plan_with_the_callers_words():
    with pytest.raises(JzairError, match="不在可填报的范围内"):
        months.parse_month("2019-01")
    with pytest.raises(JzairError, match="无法生成"):
        months.parse_month("2030-01", outside="不在攻坚行动期间（{first} 至 {last}），无法生成该月月报")
    assert months.parse_month(PLAN.first_month, first=PLAN.first_month) == PLAN.first_month


@given(st.dates(dt.date(2015, 1, 1), dt.date(2030, 12, 31)))
def test_default_month_is_the_last_ended_plan_month(day):
    got = months.default_month(day)
    ended = [m for m in PLAN_MONTHS if months.month_end(m) < day]
    assert got == (ended[-1] if ended else PLAN_MONTHS[0])
