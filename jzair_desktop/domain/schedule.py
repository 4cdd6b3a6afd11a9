"""时序进度 (schedule progress), completion and status: the pure rules of domain.md §5.

Day arithmetic (the one definition used everywhere):

    schedule(d) = (d - window_start).days / (due - window_start).days, clamped to 0 … 1

so the share is 0.0 on the window start (2020-10-01) and before it, grows by one day's share each
day, is exactly 1.0 on the due date and stays 1.0 after it. Example: window 2020-10-01 … 2020-10-31
(30 days): on 2020-10-16 the schedule is 15/30 = 0.5. A due date on or before the window start
(a degenerate window) gives 0.0 before the due date and 1.0 from it on.

The due date of an indicator is its `due`, or the campaign end (2021-03-31) for `campaign_end` and
`per_record` indicators (per-record plans are followed item by item in the overdue-items list).

Status, in this order:
    no_target  the target is missing (未分解), or 0 for a count (nothing to do: no completion exists)
    done       completion >= 1
    overdue    the date is after the due date and completion < 1
    behind     completion is more than 5 points below the schedule (exactly 5 points below is on track)
    on_track   otherwise

Rate indicators (measure 'rate', e.g. 秋冬季 机械化清扫率 >= 65 %, 降尘量 <= 9) are not accumulated: the
rate must hold every month. Their completion is the latest reported month's value against the target:
1.0 when the target is met, else value/target for `ge` and target/value for `le` (both < 1). Their
schedule is all-or-nothing: 0 before the window's first month has closed (unless the unit has already
reported a month), 1.0 from then on, because from the first reporting month the whole target is due.
A unit that has not reported any month by then has completion 0 (behind, or overdue after the due date).
"""

from __future__ import annotations

import datetime as dt

from jzair_desktop.domain.months import last_day
from jzair_desktop.domain.reference import Indicator

BEHIND_MARGIN = 0.05
_EPS = 1e-9

STATUSES = ("done", "on_track", "behind", "overdue", "no_target", "met", "not_met", "no_data", "pending")
# Statuses per kind of indicator (plan.toml `kind`): cumulative counts follow 时序进度; a limit is judged
# month by month; a milestone is done, pending (not yet due) or overdue.
KIND_STATUSES = {
    "cumulative": ("done", "on_track", "behind", "overdue", "no_target"),
    "limit": ("met", "not_met", "no_data", "no_target"),
    "milestone": ("done", "pending", "overdue", "no_target"),
}
KIND_LABELS = {"cumulative": "累计", "limit": "限值", "milestone": "节点"}
STATUS_LABELS = {
    "done": "已完成",
    "on_track": "按进度",
    "behind": "滞后",
    "overdue": "逾期",
    "no_target": "未分解",
    "met": "达标",
    "not_met": "未达标",
    "no_data": "未报送",
    "pending": "未到期",
}
# The kind's own words where they differ (a milestone past its date is 逾期未完成).
KIND_STATUS_LABELS = {("milestone", "overdue"): "逾期未完成", ("milestone", "done"): "已完成"}
STATUS_COLOURS = {
    "done": "green",
    "on_track": "green",
    "behind": "yellow",
    "overdue": "red",
    "no_target": "grey",
    "met": "green",
    "not_met": "red",
    "no_data": "grey",
    "pending": "green",
}
# Worst first: warnings list overdue and not met before behind.
STATUS_SEVERITY = {"overdue": 0, "not_met": 0, "behind": 1, "on_track": 2, "pending": 2, "no_data": 3,
                   "no_target": 3, "met": 4, "done": 4}
# The statuses that raise a warning (预警).
WARNING_STATUSES = ("overdue", "not_met", "behind")


def due_date(ind: Indicator, campaign_end: dt.date) -> dt.date:
    """The end of the indicator's schedule window."""
    if ind.due_rule == "fixed" and ind.due is not None:
        return ind.due
    return campaign_end


def schedule_share(day: dt.date, window_start: dt.date, due: dt.date) -> float:
    """Elapsed share of the window window_start … due at `day`, clamped to 0 … 1 (see module doc)."""
    span = (due - window_start).days
    if span <= 0:
        return 1.0 if day >= due else 0.0
    share = (day - window_start).days / span
    return min(1.0, max(0.0, share))


def rate_schedule(day: dt.date, window_start: dt.date, *, reported: bool) -> float:
    """1.0 once a rate must hold: after the window's first month closed, or once the unit reported a month."""
    if reported and day >= window_start:
        return 1.0
    return 1.0 if day >= last_day(window_start) else 0.0


def count_completion(done: float, target: float | None) -> float | None:
    """done / target; None without a target (missing, or 0 = nothing to do). Not capped at 1."""
    if target is None or target <= 0:
        return None
    return done / target


def rate_score(value: float | None, target: float | None, compare: str) -> float | None:
    """The uncapped ratio of a rate against its target (> 1 is better than required); None without target.

    No reported value scores 0. For `ge` it is value/target; for `le` target/value (a value of 0 meets it).
    """
    if target is None:
        return None
    if value is None:
        return 0.0
    if compare == "le":
        if value <= 0:
            return float("inf") if target > 0 else 1.0
        return target / value
    if target <= 0:
        return float("inf") if value > 0 else 1.0
    return value / target


def rate_completion(value: float | None, target: float | None, compare: str) -> float | None:
    """The rate's completion: 1.0 when the target is met, else the ratio below 1 (see module doc)."""
    score = rate_score(value, target, compare)
    if score is None:
        return None
    if value is not None and meets(value, target, compare):
        return 1.0
    return min(score, 1.0)


def meets(value: float, target: float | None, compare: str) -> bool:
    if target is None:
        return False
    return value <= target + _EPS if compare == "le" else value >= target - _EPS


def status_of(completion: float | None, schedule: float, day: dt.date, due: dt.date) -> str:
    """One of STATUSES (see module doc)."""
    if completion is None:
        return "no_target"
    if completion >= 1.0 - _EPS:
        return "done"
    if day > due:
        return "overdue"
    if schedule - completion > BEHIND_MARGIN + _EPS:
        return "behind"
    return "on_track"


def status_label(status: str, kind: str = "cumulative") -> str:
    return KIND_STATUS_LABELS.get((kind, status), STATUS_LABELS[status])


def limit_status(value: float | None, target: float | None, compare: str) -> str:
    """met / not_met for a limit's judged month; no_data without a value."""
    if target is None:
        return "no_target"
    if value is None:
        return "no_data"
    return "met" if meets(value, target, compare) else "not_met"


def milestone_status(done_date: dt.date | None, day: dt.date, due: dt.date) -> str:
    """done (on or before `day`), overdue (past due and not done by `day`), else pending."""
    if done_date is not None and done_date <= day:
        return "done"
    return "overdue" if day > due else "pending"


def status_colour(status: str) -> str:
    return STATUS_COLOURS[status]


def format_percent(fraction: float | None, *, missing: str = "未分解") -> str:
    """62.3% style; `missing` where there is no figure."""
    if fraction is None:
        return missing
    return f"{fraction * 100:.1f}%"
