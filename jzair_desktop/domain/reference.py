"""The plan's reference data (units, indicators, closed lists), read from resources/reference/plan.toml."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jzair_desktop import paths
from jzair_desktop.errors import JzairError

# Physical ranges of the numbers entered per indicator and area (see Indicator.value_range).
PERCENT_RANGE = (0.0, 100.0)
SANE_TARGET_FACTOR = 10  # a unit's count never exceeds ten times the city target
UNBOUNDED_MAX = 1e12  # validation.NUMBER_MAX: the sanity bound of any number
PM25_RANGE = (0.0, 1000.0)  # monthly mean PM2.5, µg/m³ (the worst days in China's records are ~1,000)

CITY_NAME = "全市"
CITY_CODE = "140700"


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    sort_order: int = 0


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str
    name: str
    unit: str
    target: float | None  # city target; None when target_rule == "all_found"
    target_rule: str  # "fixed" | "all_found"
    due: dt.date | None  # None with due_rule "per_record" or when the campaign end applies
    due_rule: str  # "fixed" | "per_record" | "campaign_end"
    plan_item: str
    department: str
    source: str  # "ledger" | "monthly"
    ledger: str | None = None
    filter: dict[str, Any] = field(default_factory=dict)
    measure: str = "count"  # "count" | "rate"
    compare: str = "ge"  # for rates: "ge" (at least) or "le" (at most)
    county_target: float | None = None
    annual_target: float | None = None
    sort_order: int = 0
    # cumulative: a count toward a target by a date; limit: a level held every month;
    # milestone: a dated event, done or not (see plan.toml).
    kind: str = "cumulative"
    departments: tuple[str, ...] = ()  # every 牵头单位 the plan names, in its order
    # The unit codes the indicator concerns; None: every unit; (): a city-level figure (not split).
    scope: tuple[str, ...] | None = None
    count_by: str = "row"  # "row" | "enterprise" (distinct 统一社会信用代码; done when all its rows are)
    done_filter: dict[str, Any] = field(default_factory=dict)  # extra condition a record needs to count as done
    judge_month: str | None = None  # limit judged on one month only (全年覆盖率)
    count_from: str | None = None  # monthly counts: the first month that counts (default: any month)
    subject: str | None = None  # milestones: the enterprise or project the event concerns
    parts: tuple[str, ...] = ()  # the indicators whose targets add up to this one's (散煤治理 = its four ways)

    @property
    def department_text(self) -> str:
        return "、".join(self.departments) or self.department

    def in_scope(self, unit_code: str) -> bool:
        return self.scope is None or unit_code in self.scope

    @property
    def city_level(self) -> bool:
        return self.scope == ()
    max_value: float | None = None  # plan.toml `max`: the largest physical value of one unit's month

    def value_range(self) -> tuple[float, float]:
        """The range of one unit's monthly value or target of this indicator (inclusive), one source of truth:
        the plan's `max` where given; a percentage 0 … 100; a count at most ten times the city target (one
        county's month, or its share of the target, can never be more than that)."""
        if self.max_value is not None:
            return 0.0, self.max_value
        if self.measure == "rate" and self.unit == "%":
            return PERCENT_RANGE
        base = max(self.target or 0.0, self.county_target or 0.0)
        if base > 0:
            return 0.0, base * SANE_TARGET_FACTOR
        return 0.0, UNBOUNDED_MAX

    def effective_due(self, campaign_end: dt.date) -> dt.date:
        """The end of the schedule window."""
        return self.due or campaign_end


@dataclass(frozen=True, slots=True)
class AirQualityTarget:
    area: str
    first_month: str
    last_month: str
    pm25_max: float
    heavy_days_max: int


@dataclass(frozen=True, slots=True)
class AirGrade:
    """A county's 档 (附件1): its PM2.5 improvement over the same period of 2019 (percentage points)
    and its heavy-pollution-day reduction (days)."""

    grade: int
    pm25_improvement: float
    heavy_days_reduction: int


@dataclass(frozen=True, slots=True)
class PlanInfo:
    title: str
    document_no: str
    issued: dt.date
    adopted: dt.date
    issuer: str
    window_start: dt.date
    campaign_end: dt.date
    first_month: str
    last_month: str
    letter_prefix: str = "市大气办预警"
    air_periods: tuple[tuple[str, str], ...] = ()
    air_grades: tuple[AirGrade, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    plan: PlanInfo
    units: tuple[Unit, ...]
    indicators: tuple[Indicator, ...]
    choices: dict[str, tuple[str, ...]]
    air_quality_targets: tuple[AirQualityTarget, ...]

    def indicator(self, key: str) -> Indicator:
        for ind in self.indicators:
            if ind.key == key:
                return ind
        raise JzairError(f"未知的指标：{key}")

    def unit_by_code(self, code: str) -> Unit:
        for unit in self.units:
            if unit.code == code:
                return unit
        raise JzairError(f"未知的县（区、市）代码：{code}")

    def find_unit(self, text: str) -> Unit | None:
        """A unit by name, alias or code; spaces inside the name are ignored. None when unknown."""
        key = normalize_unit_text(text)
        if not key:
            return None
        for unit in self.units:
            if key == unit.code or key == unit.name or key in unit.aliases:
                return unit
        return None

    def resolve_unit(self, text: str) -> Unit:
        """Like find_unit, but raises a Chinese error naming the allowed units."""
        unit = self.find_unit(text)
        if unit is None:
            names = "、".join(u.name for u in self.units)
            raise JzairError(f"未知的县（区、市）：“{text}”。可选：{names}（也可用行政区划代码）")
        return unit


_SPACES = re.compile(r"[\s\u3000]+")


def normalize_unit_text(text: object) -> str:
    return _SPACES.sub("", str(text or ""))


def _month_range(period: str) -> tuple[str, str]:
    first, _, last = period.partition("/")
    return first, last or first


def _scope_codes(names: list[str], units: tuple[Unit, ...]) -> list[str]:
    out = []
    for name in names:
        match = [u.code for u in units if name in (u.code, u.name)]
        if not match:
            raise JzairError(f"计划基础数据有误：指标范围中的“{name}”不是县（区、市）。")
        out.append(match[0])
    return out


def parse_reference(data: dict[str, Any]) -> Reference:
    p = data["plan"]
    plan = PlanInfo(
        title=p["title"],
        document_no=p["document_no"],
        issued=p["issued"],
        adopted=p["adopted"],
        issuer=p["issuer"],
        window_start=p["window_start"],
        campaign_end=p["campaign_end"],
        first_month=p["first_month"],
        last_month=p["last_month"],
        letter_prefix=p.get("letter_prefix", "市大气办预警"),
        air_periods=tuple(_month_range(x) for x in data.get("air_quality", {}).get("periods", ())),
        air_grades=tuple(
            AirGrade(int(g["grade"]), float(g["pm25_improvement"]), int(g["heavy_days_reduction"]))
            for g in data.get("air_quality", {}).get("grades", ())
        ),
    )
    units = tuple(
        Unit(code=u["code"], name=u["name"], aliases=tuple(u.get("aliases", ())), sort_order=i)
        for i, u in enumerate(data["units"])
    )
    indicators = []
    for i, d in enumerate(data["indicators"]):
        target_rule = d.get("target_rule", "fixed")
        departments = tuple(d.get("departments") or ([d["department"]] if "department" in d else []))
        scope = d.get("scope")
        due = d.get("due")
        due_rule = d.get("due_rule") or ("fixed" if due else "campaign_end")
        indicators.append(
            Indicator(
                key=d["key"],
                name=d["name"],
                unit=d["unit"],
                target=float(d["target"]) if "target" in d else None,
                target_rule=target_rule,
                due=due,
                due_rule=due_rule,
                plan_item=d["plan_item"],
                department="、".join(departments),
                source=d["source"],
                ledger=d.get("ledger"),
                filter=dict(d.get("filter", {})),
                measure=d.get("measure", "count"),
                compare=d.get("compare", "ge"),
                county_target=float(d["county_target"]) if "county_target" in d else None,
                annual_target=float(d["annual_target"]) if "annual_target" in d else None,
                sort_order=i,
                kind=d.get("kind", "cumulative"),
                departments=departments,
                scope=None if scope is None else tuple(_scope_codes(scope, units)),
                count_by=d.get("count_by", "row"),
                done_filter=dict(d.get("done_filter", {})),
                judge_month=d.get("judge_month"),
                count_from=d.get("count_from"),
                subject=d.get("subject"),
                parts=tuple(d.get("parts", ())),
                max_value=float(d["max"]) if "max" in d else None,
            )
        )
    choices = {k: tuple(v) for k, v in data["choices"].items()}
    aq = tuple(
        AirQualityTarget(
            area=a["area"],
            first_month=_month_range(a["period"])[0],
            last_month=_month_range(a["period"])[1],
            pm25_max=float(a["pm25_max"]),
            heavy_days_max=int(a["heavy_days_max"]),
        )
        for a in data.get("air_quality_targets", [])
    )
    return Reference(plan, units, tuple(indicators), choices, aq)


def load_reference_file(path: Path) -> Reference:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise JzairError(f"找不到计划基础数据文件：{path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise JzairError(f"计划基础数据文件格式错误：{path}（{exc}）") from exc
    return parse_reference(data)


@lru_cache(maxsize=1)
def reference() -> Reference:
    """The bundled reference data (read once per process)."""
    return load_reference_file(paths.reference_file())
