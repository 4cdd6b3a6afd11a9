"""The monthly report's data: what services/report.py gathers and exchange/pdf_report.py lays out.

Plain frozen data classes (no reportlab, no database): the figures, ledger blocks, air-quality rows, warnings, open
items and 预警函 of one report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from jzair_desktop.exchange.pdf_common import (
    fmt_number,
)

REPORT_TITLE = "晋中市秋冬季大气污染综合治理攻坚行动进展月报"


def unit_suffix(unit: str) -> str:
    return "%" if unit == "%" else ""


def ceil_up(value: float | None) -> float | None:
    if value is None:
        return None
    whole = float(int(value))
    return whole if whole >= value - 1e-9 else whole + 1


def fmt_rate(value: float | None, unit: str = "") -> str:
    """A rate with at most one decimal: 85.3%, 90%, 8.1."""
    if value is None:
        return "—"
    return fmt_number(round(value, 1)) + unit_suffix(unit)


# =========================================================================== report data
@dataclass(frozen=True)
class Figure:
    """One row of progress: a unit (or the city, or the county itself) for one indicator."""

    label: str
    target: float | None
    month: float | None  # done within the month (counts); None for rates
    done: float | None  # cumulative (counts) or latest value (rates)
    completion: float | None
    schedule: float | None
    status: str
    status_label: str
    rank: int | None = None
    note: str = ""  # e.g. the month a rate's latest value is from
    kind: str = "cumulative"  # cumulative | limit | milestone
    done_text: str = ""  # limits: 达标月数; milestones: the day done and the evidence (shown as 累计完成)


@dataclass(frozen=True)
class IndicatorBlock:
    key: str
    name: str
    unit: str
    measure: str  # count | rate
    compare: str  # ge | le (rates)
    target_text: str
    due_text: str
    plan_item: str
    department: str
    overall: Figure  # the city row (city report) or the county's own row (county report)
    units: tuple[Figure, ...] = ()  # by unit, city report only
    ranked: int = 0  # how many units have a rank (county report: "3/12")


@dataclass(frozen=True)
class TownshipFigure:
    township: str
    registered: int
    done: int
    month: int
    by_method: tuple[int, ...]


@dataclass(frozen=True)
class LedgerBlock:
    key: str
    title: str
    indicators: tuple[IndicatorBlock, ...]
    chart_indicator: str | None = None
    township_methods: tuple[str, ...] = ()
    townships: tuple[TownshipFigure, ...] = ()
    township_schedule: float | None = None


@dataclass(frozen=True)
class AirRow:
    area: str
    pm25: float | None
    heavy_days: int | None
    pm25_max: float | None
    heavy_max: int | None
    pm25_period_mean: float | None
    heavy_period: int | None
    period: str  # "2020-10至2020-12" or ""
    grade: int | None = None  # a county's 档 (附件1)
    pm25_baseline: float | None = None  # 2019's same period, day-weighted mean
    heavy_baseline: float | None = None  # 2019's same period, days
    pm25_status: str = "no_data"  # on_track | behind | not_met | met | no_data (services.air_targets)
    heavy_status: str = "no_data"
    pm25_status_label: str = ""
    heavy_status_label: str = ""


@dataclass(frozen=True)
class AirHistoryRow:
    month: str
    pm25: float | None
    heavy_days: int | None
    pm25_max: float | None
    heavy_max: int | None


@dataclass(frozen=True)
class WarningItem:
    county: str
    unit_code: str
    indicator: str
    name: str
    unit: str
    measure: str
    compare: str
    target: float | None
    done: float | None
    completion: float | None
    schedule: float
    status: str
    status_label: str
    due: dt.date
    due_text: str
    kind: str = "cumulative"  # cumulative | limit | milestone | air_quality
    departments: str = ""  # the 牵头单位 the plan names

    @property
    def is_air(self) -> bool:
        return self.kind == "air_quality"

    @property
    def is_problems(self) -> bool:
        """Items of the 问题清单 past their 整改时限 (done = the overdue items, target = the items due)."""
        return self.kind == "problems"

    @property
    def points_behind(self) -> float:
        return 0.0 if self.completion is None else (self.schedule - self.completion) * 100

    @property
    def remaining(self) -> float | None:
        """What is still to do to reach the target (counts)."""
        if self.measure != "count" or self.target is None:
            return None
        return max(0.0, self.target - (self.done or 0.0))

    @property
    def schedule_shortfall(self) -> float | None:
        """What should be done by now according to the schedule but is not (counts)."""
        if self.measure != "count" or self.target is None:
            return None
        return max(0.0, self.target * self.schedule - (self.done or 0.0))

    def gap_text(self) -> str:
        """The gap in words: what is missing against the target or the schedule."""
        if self.is_problems:
            return f"{fmt_number(self.done)}项超过整改时限仍未整改（已到期{fmt_number(self.target)}项）"
        if self.kind == "milestone":
            return "逾期未完成"
        if self.is_air:
            if self.done is None or self.target is None:
                return "未填报"
            word = "已无法达标，" if self.status_label == "已无法达标" else ("未达标，" if self.status == "not_met" else "")
            return f"{word}期间至今高于目标{fmt_number(round(self.done - self.target, 1))}{self.unit}"
        if self.measure == "rate":
            if self.done is None or self.target is None:
                return "未填报"
            diff = abs(self.target - self.done)
            word = "低于" if self.compare == "ge" else "高于"
            return f"{word}要求{fmt_rate(diff, self.unit)}"
        if self.status == "overdue":
            return f"已逾期，尚差{fmt_number(self.remaining)}{self.unit}"
        short = ceil_up(self.schedule_shortfall)
        return f"落后{self.points_behind:.1f}个百分点（约{fmt_number(short)}{self.unit}）"

    def shortfall_text(self) -> str:
        """缺口: behind → what the schedule asks for by now but is not done; overdue → what is left to the
        target; rates → how far the latest value misses the requirement."""
        if self.is_problems:
            return f"{fmt_number(self.done)}项"
        if self.kind == "milestone":
            return "未完成"
        if self.is_air:
            if self.done is None or self.target is None:
                return "未填报"
            return f"高{fmt_number(round(self.done - self.target, 1))}"
        if self.measure == "rate":
            if self.done is None or self.target is None:
                return "未填报"
            return f"差{fmt_rate(abs(self.target - self.done), self.unit)}"
        if self.status == "overdue":
            return f"{fmt_number(self.remaining)}{self.unit}"
        return f"{fmt_number(ceil_up(self.schedule_shortfall))}{self.unit}"

    def target_text(self) -> str:
        if self.is_problems:
            return "按期"
        if self.kind == "milestone":
            return "按时完成"
        if self.is_air:
            return "≤" + fmt_number(self.target, missing="未设定")
        if self.measure == "rate":
            return ("≥" if self.compare == "ge" else "≤") + fmt_rate(self.target, self.unit)
        return fmt_number(self.target, missing="未分解")

    def done_text(self) -> str:
        if self.is_problems:
            return f"逾期{fmt_number(self.done)}项"
        if self.kind == "milestone":
            return "未完成"
        if self.is_air:
            return "未填报" if self.done is None else fmt_number(self.done)
        if self.measure == "rate":
            return "未填报" if self.done is None else fmt_rate(self.done, self.unit)
        return fmt_number(self.done)


@dataclass(frozen=True)
class OpenItem:
    label: str
    detail: str
    planned: dt.date | None
    overdue_days: int
    id_masked: str = ""
    place: str = ""


@dataclass(frozen=True)
class PlaceSummary:
    """Open households of one 乡（镇）, when there are too many to list one by one."""

    township: str
    villages: int
    households: int
    by_method: tuple[int, ...]


@dataclass(frozen=True)
class OpenItemGroup:
    ledger: str
    title: str
    kind: str  # 'household' (heating) | 'item'
    total: int
    items: tuple[OpenItem, ...]  # listed items (may be fewer than total)
    rule: str = ""  # what makes an item overdue, for the reader
    by_township: tuple[PlaceSummary, ...] = ()  # households summarised instead of listed
    methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteRow:
    """建筑工地 of one unit (or 合计)."""

    county: str
    supervised: int
    active: int
    meeting: int
    online: int
    video: int

    @property
    def rate(self) -> float | None:
        return self.meeting / self.active if self.active else None


@dataclass(frozen=True)
class FailingSiteRow:
    county: str
    project_name: str
    contractor: str
    failing: tuple[str, ...]


@dataclass(frozen=True)
class SitesSection:
    target: float | None  # the city's (or the unit's split) 建筑工地动态监管 target
    rows: tuple[SiteRow, ...]
    failing_total: int
    failing: tuple[FailingSiteRow, ...]  # the first ones listed


@dataclass(frozen=True)
class ProblemRow:
    """问题清单 of one unit (or 合计) in the month."""

    county: str
    total: int
    opened: int
    closed: int
    done: int
    overdue: int

    @property
    def open(self) -> int:
        return self.total - self.done


@dataclass(frozen=True)
class OverdueProblemRow:
    county: str
    source: str
    document_no: str
    description: str
    department: str
    due_date: dt.date
    status: str
    overdue_days: int


@dataclass(frozen=True)
class ProblemsSection:
    rows: tuple[ProblemRow, ...]
    overdue_total: int
    overdue: tuple[OverdueProblemRow, ...]  # the first ones listed


@dataclass(frozen=True)
class Letter:
    unit_code: str
    unit_name: str
    number: str
    items: tuple[WarningItem, ...]


@dataclass(frozen=True)
class ReportData:
    scope: str  # 'city' | 'county'
    unit_code: str
    unit_name: str  # 全市 or the county's name
    month: str  # YYYY-MM
    as_of: dt.date
    issuer: str
    plan_title: str
    plan_doc_no: str
    source_note: str
    overview: tuple[IndicatorBlock, ...]
    ledgers: tuple[LedgerBlock, ...]
    monthly: tuple[IndicatorBlock, ...]
    air: tuple[AirRow, ...]
    air_history_area: str
    air_history: tuple[AirHistoryRow, ...]
    warnings: tuple[WarningItem, ...]
    open_items: tuple[OpenItemGroup, ...] = ()
    letters: tuple[Letter, ...] = ()
    letter_date: dt.date | None = None
    letter_prefix: str = "市大气办预警"  # the city office's own document prefix (plan.toml)
    title: str = REPORT_TITLE
    extra_notes: tuple[str, ...] = field(default_factory=tuple)
    frozen_units: tuple[str, ...] = ()  # units whose figures come from their month submission
    audit_line: str = ""  # the audit chain's fingerprint (审计链 #67,419 · 3F2A1B7C…D45E9C01), last page's footer
    audit_keyword: str = ""  # the full head, in the PDF's keywords (jzair-audit-head:SEQ:HASH)
    sites: SitesSection | None = None  # 建筑工地 (十七)
    problems: ProblemsSection | None = None  # 问题清单 (十八, 二十)

    @property
    def is_city(self) -> bool:
        return self.scope == "city"
