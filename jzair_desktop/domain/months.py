"""Months, the one place: 'YYYY-MM' text, its parsing from what people type, the plan's month lists,
a month's first and last day, and the month a page starts on.

Every other module imports these (services, exchange, the GUI pages); none writes its own.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

from jzair_desktop.domain.reference import Reference, reference
from jzair_desktop.errors import JzairError

# 2020-11, 2020-1, 2020/11, 2020.11, 2020年11月 (after NFKC: full-width digits and signs read as ASCII).
MONTH_INPUT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
# The stored form: YYYY-MM.
MONTH_TEXT = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

OUTSIDE_REPORTING = "不在可填报的范围内（{first} 至 {last}）"


def format_month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def split_month(month: str) -> tuple[int, int]:
    """(year, month) of 'YYYY-MM'."""
    year, mon = month.split("-")
    return int(year), int(mon)


def parse_month(
    text: object,
    ref: Reference | None = None,
    *,
    example: str = "2020-11",
    outside: str = OUTSIDE_REPORTING,
    first: str | None = None,
) -> str:
    """'YYYY-MM' from 2020-11, 2020-1, 2020/11, 2020.11 or 2020年11月, within the plan's reporting months
    (from `first` when given). The errors quote `example` as the right form and say `outside` (with {first}
    and {last}) of a month beyond the plan."""
    ref = ref or reference()
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    m = MONTH_INPUT.match(raw)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise JzairError(f"月份格式不正确：“{text}”，应为 年-月，如 {example}。")
    month = format_month(int(m.group(1)), int(m.group(2)))
    first, last = first or ref.plan.first_month, ref.plan.last_month
    if not first <= month <= last:
        raise JzairError(f"月份 {month} {outside.format(first=first, last=last)}。")
    return month


def month_of(day: dt.date) -> str:
    return format_month(day.year, day.month)


def next_month(month: str) -> str:
    year, mon = split_month(month)
    return format_month(year + 1, 1) if mon == 12 else format_month(year, mon + 1)


def months_between(first: str, last: str) -> list[str]:
    """first … last inclusive ([] when last is before first)."""
    out = []
    month = first
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def days_in(month: str) -> int:
    year, mon = split_month(month)
    return calendar.monthrange(year, mon)[1]


def month_start(month: str) -> dt.date:
    year, mon = split_month(month)
    return dt.date(year, mon, 1)


def month_end(month: str) -> dt.date:
    """The last day of 'YYYY-MM'."""
    year, mon = split_month(month)
    return dt.date(year, mon, days_in(month))


def last_day(day: dt.date) -> dt.date:
    """The last day of the month `day` falls in."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def plan_months(ref: Reference | None = None) -> list[str]:
    """The plan's reporting months (plan.first_month … plan.last_month): submissions, packages, reports."""
    plan = (ref or reference()).plan
    return months_between(plan.first_month, plan.last_month)


def window_months(ref: Reference | None = None) -> list[str]:
    """The campaign's months (the month of window_start … the month of campaign_end)."""
    plan = (ref or reference()).plan
    return months_between(month_of(plan.window_start), month_of(plan.campaign_end))


def default_month(today: dt.date | None = None, ref: Reference | None = None) -> str:
    """The month a page starts on: the latest reporting month that has ended by `today` (the previous
    calendar month), kept within the plan's reporting months."""
    months = plan_months(ref)
    day = today or dt.date.today()
    previous = month_of(day.replace(day=1) - dt.timedelta(days=1))
    return min(max(previous, months[0]), months[-1])
