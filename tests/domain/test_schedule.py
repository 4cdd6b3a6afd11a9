"""时序进度 and status rules (domain.schedule), hand-computed cases and properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.reference import reference

D = dt.date
START = D(2020, 10, 1)
HEATING_DUE = D(2020, 10, 31)  # 30-day window
TRUCKS_DUE = D(2020, 12, 31)  # 91-day window
CAMPAIGN_END = D(2021, 3, 31)


@pytest.mark.parametrize(
    ("day", "due", "expected"),
    [
        (D(2020, 9, 1), HEATING_DUE, 0.0),  # before the window
        (D(2020, 9, 30), HEATING_DUE, 0.0),  # the day before the window
        (START, HEATING_DUE, 0.0),  # on the window start
        (D(2020, 10, 2), HEATING_DUE, 1 / 30),
        (D(2020, 10, 16), HEATING_DUE, 0.5),
        (D(2020, 10, 30), HEATING_DUE, 29 / 30),
        (HEATING_DUE, HEATING_DUE, 1.0),  # on the due date
        (D(2020, 11, 1), HEATING_DUE, 1.0),  # the day after due
        (D(2020, 11, 15), TRUCKS_DUE, 45 / 91),
        (D(2021, 1, 1), CAMPAIGN_END, 92 / 181),
        (D(2022, 1, 1), CAMPAIGN_END, 1.0),
    ],
)
def test_schedule_share_hand_computed(day, due, expected):
    assert sched.schedule_share(day, START, due) == pytest.approx(expected)


def test_schedule_share_degenerate_window():
    assert sched.schedule_share(D(2020, 9, 30), START, START) == 0.0
    assert sched.schedule_share(START, START, START) == 1.0
    assert sched.schedule_share(D(2020, 9, 1), START, D(2020, 9, 15)) == 0.0
    assert sched.schedule_share(D(2020, 9, 15), START, D(2020, 9, 15)) == 1.0


dates = st.dates(min_value=D(2019, 1, 1), max_value=D(2022, 12, 31))


@given(dates, dates, dates)
def test_schedule_share_is_monotone_in_the_day(d1, d2, due):
    lo, hi = sorted((d1, d2))
    assert sched.schedule_share(lo, START, due) <= sched.schedule_share(hi, START, due)


@given(dates, dates, dates)
def test_schedule_share_is_clamped(day, start, due):
    share = sched.schedule_share(day, start, due)
    assert 0.0 <= share <= 1.0
    if day >= due:
        assert share == 1.0
    if day <= start and due > start:
        assert share == 0.0


@given(st.integers(min_value=1, max_value=600))
def test_schedule_share_is_exactly_one_on_the_due_date(days):
    due = START + dt.timedelta(days=days)
    assert sched.schedule_share(due, START, due) == 1.0
    assert sched.schedule_share(due - dt.timedelta(days=1), START, due) < 1.0


def test_due_dates_from_the_plan():
    ref = reference()
    end = ref.plan.campaign_end
    assert end == CAMPAIGN_END
    assert sched.due_date(ref.indicator("heating.total"), end) == HEATING_DUE
    assert sched.due_date(ref.indicator("trucks.eliminated"), end) == TRUCKS_DUE
    assert sched.due_date(ref.indicator("kilns.kiln"), end) == CAMPAIGN_END  # per_record
    assert sched.due_date(ref.indicator("bus.new_energy"), end) == CAMPAIGN_END  # campaign_end
    assert sched.due_date(ref.indicator("vocs.bypass"), end) == D(2021, 3, 31)


@pytest.mark.parametrize(
    ("completion", "schedule", "day", "expected"),
    [
        (None, 0.5, D(2020, 10, 16), "no_target"),
        (None, 1.0, D(2021, 5, 1), "no_target"),
        (1.0, 0.5, D(2020, 10, 16), "done"),
        (1.2, 1.0, D(2020, 11, 30), "done"),  # done even after due
        (0.9, 1.0, HEATING_DUE, "behind"),  # on the due date: not yet overdue
        (0.99, 1.0, HEATING_DUE, "on_track"),
        (0.99, 1.0, D(2020, 11, 1), "overdue"),  # the day after due
        (0.0, 0.0, D(2020, 9, 1), "on_track"),  # before the window nothing is due
        (0.45, 0.5, D(2020, 10, 16), "on_track"),  # exactly 5 points below: still on track
        (0.449, 0.5, D(2020, 10, 16), "behind"),
        (0.50, 0.55, D(2020, 10, 17), "on_track"),  # 0.55 - 0.05 is 0.5000000000000001 in floats
        (0.6, 0.5, D(2020, 10, 16), "on_track"),
    ],
)
def test_status(completion, schedule, day, expected):
    assert sched.status_of(completion, schedule, day, HEATING_DUE) == expected


def test_count_completion():
    assert sched.count_completion(5, 10) == 0.5
    assert sched.count_completion(12, 10) == 1.2  # not capped
    assert sched.count_completion(5, None) is None
    assert sched.count_completion(5, 0) is None  # nothing to do: no division


def test_rate_completion_ge_and_le():
    assert sched.rate_completion(70, 65, "ge") == 1.0
    assert sched.rate_completion(65, 65, "ge") == 1.0
    assert sched.rate_completion(52, 65, "ge") == pytest.approx(0.8)
    assert sched.rate_completion(8, 9, "le") == 1.0
    assert sched.rate_completion(9, 9, "le") == 1.0
    assert sched.rate_completion(12, 9, "le") == pytest.approx(0.75)
    assert sched.rate_completion(0, 9, "le") == 1.0
    assert sched.rate_completion(None, 9, "le") == 0.0  # nothing reported
    assert sched.rate_completion(50, None, "ge") is None
    # the score keeps how far past the target a value is (for ranks)
    assert sched.rate_score(78, 65, "ge") == pytest.approx(1.2)
    assert sched.rate_score(6, 9, "le") == pytest.approx(1.5)


@given(st.floats(min_value=0, max_value=1000), st.floats(min_value=0.1, max_value=1000), st.sampled_from(["ge", "le"]))
def test_rate_completion_is_a_fraction(value, target, compare):
    c = sched.rate_completion(value, target, compare)
    assert 0.0 <= c <= 1.0
    assert (c == 1.0) == sched.meets(value, target, compare) or c == pytest.approx(1.0)


def test_rate_schedule():
    assert sched.rate_schedule(D(2020, 9, 30), START, reported=False) == 0.0
    assert sched.rate_schedule(D(2020, 10, 15), START, reported=False) == 0.0
    assert sched.rate_schedule(D(2020, 10, 15), START, reported=True) == 1.0
    assert sched.rate_schedule(D(2020, 10, 31), START, reported=False) == 1.0  # first month closed
    assert sched.rate_schedule(D(2021, 2, 1), START, reported=False) == 1.0


def test_labels_and_colours():
    assert [sched.status_label(s) for s in sched.KIND_STATUSES["cumulative"]] == [
        "已完成", "按进度", "滞后", "逾期", "未分解"]
    # Issue 17: limits and milestones speak their own words.
    assert [sched.status_label(s, "limit") for s in sched.KIND_STATUSES["limit"]] == ["达标", "未达标", "未报送", "未分解"]
    assert [sched.status_label(s, "milestone") for s in sched.KIND_STATUSES["milestone"]] == [
        "已完成", "未到期", "逾期未完成", "未分解"]
    assert sched.status_colour("not_met") == "red" and sched.status_colour("met") == "green"
    assert sched.status_colour("done") == "green"
    assert sched.status_colour("on_track") == "green"
    assert sched.status_colour("behind") == "yellow"
    assert sched.status_colour("overdue") == "red"
    assert sched.format_percent(0.6234) == "62.3%"
    assert sched.format_percent(None) == "未分解"
