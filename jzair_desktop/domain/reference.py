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
    )
    units = tuple(
        Unit(code=u["code"], name=u["name"], aliases=tuple(u.get("aliases", ())), sort_order=i)
        for i, u in enumerate(data["units"])
    )
    indicators = []
    for i, d in enumerate(data["indicators"]):
        target_rule = d.get("target_rule", "fixed")
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
                department=d["department"],
                source=d["source"],
                ledger=d.get("ledger"),
                filter=dict(d.get("filter", {})),
                measure=d.get("measure", "count"),
                compare=d.get("compare", "ge"),
                county_target=float(d["county_target"]) if "county_target" in d else None,
                annual_target=float(d["annual_target"]) if "annual_target" in d else None,
                sort_order=i,
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
