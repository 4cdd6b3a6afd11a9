"""Demo monthly figures, milestones, air-quality grades, baselines and months."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator

from jzair_desktop.demo.common import CITY_AREA, MONTHS, demo_weights, progress_of, seeded
from jzair_desktop.domain.reference import CITY_NAME as CITY_NAME_
from jzair_desktop.domain.reference import reference
from jzair_desktop.services import monthly as monthly_service
from jzair_desktop.services import targets as targets_service
from jzair_desktop.services.database import Database
from jzair_desktop.storage.engine import read_session

# --- monthly figures and air quality -------------------------------------------------------------

# Monthly shape of the work: which share of a count indicator's yearly progress falls in each month.
_DEFAULT_SHAPE = (0.22, 0.2, 0.18, 0.14, 0.1, 0.16)
_EARLY_SHAPE = (0.85, 0.1, 0.05, 0.0, 0.0, 0.0)  # due 2020-10-31
_YEAR_END_SHAPE = (0.35, 0.35, 0.3, 0.0, 0.0, 0.0)  # due 2020-12-31
# Limits: (typical value, spread, higher is better). Values stay inside the limit except where a lagging
# unit's month is set below (_LIMIT_MISSES).
_RATES = {
    "straw.utilization": (93.0, 2.0, True),
    "dust.sweeping": (80.0, 3.0, True),
    "dust.sweeping_county": (71.0, 3.5, True),
    "dust.fall": (7.4, 0.9, False),
    "coal.quality_sampling": (26.0, 4.0, True),
}
# (indicator, unit, month): a value that misses the limit. 和顺县's dust fall missed November and met every
# month since (达标月数 5/6, status 达标); 左权县's sweeping missed the last two months (未达标).
_LIMIT_MISSES = {
    ("dust.fall", "140723", "2020-11"): 9.8,
    ("dust.sweeping_county", "140722", "2021-02"): 61.5,
    ("dust.sweeping_county", "140722", "2021-03"): 62.0,
}
# 全年 coverage of 民用煤煤质抽检 (cumulative %, judged at 2020-12).
_ANNUAL_COVERAGE = (("2020-10", 68.0), ("2020-11", 86.0), ("2020-12", 100.0))
# 2020's rail freight increase over 2017, 万吨 per month (entered by the city office from January).
_RAIL = (80, 95, 120, 125, 130, 130, 135, 140, 140, 150, 160, 175)


def monthly_entries(db: Database, seed: int) -> list[monthly_service.FigureEntry]:
    ref = reference()
    with read_session(db.engine) as s:
        stored = targets_service.stored_targets(s)
    weights = demo_weights()
    codes = [u.code for u in ref.units]
    entries: list[monthly_service.FigureEntry] = []
    for ind in monthly_service.monthly_indicators(ref):
        rng = seeded(seed, "monthly", ind.key)
        integral = targets_service.is_integral(ind)
        if ind.city_level:
            months = [f"2020-{m:02d}" for m in range(1, 13)]
            for month, value in zip(months, _RAIL, strict=True):
                entries.append(monthly_service.FigureEntry(CITY_NAME_, ind.key, month, float(value)))
            continue
        scoped = [c for c in codes if ind.in_scope(c)]
        if ind.judge_month is not None:
            for code in scoped:
                for month, value in _ANNUAL_COVERAGE:
                    v = value
                    entries.append(monthly_service.FigureEntry(code, ind.key, month, v))
            continue
        if ind.measure == "rate":
            base, spread, higher = _RATES.get(ind.key, (ind.target or 50.0, 5.0, True))
            limit = targets_service.unit_rate_target(ind) or 0.0
            for code in scoped:
                for month in MONTHS:
                    value = base + rng.uniform(-spread, spread)
                    # inside the limit with a margin, unless a miss is set on purpose
                    value = max(value, limit + 0.5) if higher else min(value, limit - 0.3)
                    value = _LIMIT_MISSES.get((ind.key, code, month), value)
                    value = min(100.0, value) if ind.unit == "%" else value
                    entries.append(monthly_service.FigureEntry(code, ind.key, month, round(max(0.0, value), 1)))
            continue
        shape = _EARLY_SHAPE if ind.due == dt.date(2020, 10, 31) else (
            _YEAR_END_SHAPE if ind.due == dt.date(2020, 12, 31) else _DEFAULT_SHAPE)
        fallback = targets_service.largest_remainder(round(ind.target or 0), weights, scoped)
        for code in scoped:
            target = stored.get((ind.key, code), float(fallback[code]))
            if target <= 0:
                continue
            progress = progress_of(code, ind.key)
            total = target * progress
            if not integral:
                total = round(total, 1)
            given = 0.0
            for i, month in enumerate(MONTHS):
                remaining = total - given
                value = remaining if i == len(MONTHS) - 1 else total * shape[i] * rng.uniform(0.8, 1.2)
                value = max(0.0, min(value, remaining))
                value = float(math.floor(value)) if integral else round(value, 1)
                given += value
                if value > 0:
                    entries.append(monthly_service.FigureEntry(code, ind.key, month, value))
    return entries


# --- milestones ----------------------------------------------------------------------------------

# (indicator, unit or 全市, done date, evidence). 新泰钢铁's retrofit was due at the end of September and was
# finished in October (逾期完成); 左权县's mine survey came in January.
_MILESTONES = (
    ("steel.xintai_ultra_low", "140781", dt.date(2020, 10, 16), "介休市生态环境局 介环函〔2020〕96号"),
    ("steel.xintai_assessment", "140781", dt.date(2020, 10, 29), "超低排放评估监测报告 XT-PG-2020-031"),
    ("rail.yangmei_siding", "全市", dt.date(2020, 10, 26), "阳泉煤业铁路专用线项目开工报告（阳煤基建〔2020〕58号）"),
    ("industry.relocation_liuquxiang", "140727", dt.date(2020, 12, 18), "祁县工信局 祁工信函〔2020〕41号"),
    ("industry.relocation_huilong", "140727", dt.date(2021, 1, 22), "祁县工信局 祁工信函〔2021〕3号"),
)


def milestones(today: dt.date) -> Iterator[tuple[str, str, dt.date, str]]:
    yield from ((k, u, d, e) for k, u, d, e in _MILESTONES if d <= today)
    for u in reference().units:  # 露天矿山摸底排查、建立清单, due 2020-12-31
        day = dt.date(2021, 1, 12) if u.code == "140722" else dt.date(2020, 12, 1) + dt.timedelta(
            days=int(u.code[-2:]) % 25)
        if day <= today:
            yield "mines.survey", u.code, day, f"{u.name}露天矿山清单（{day.year}年{day.month}月）"


# --- air quality ---------------------------------------------------------------------------------

# Monthly PM2.5 of 2019's same quarters (µg/m³; the plan compares with 2019年一季度 and 四季度) and of the
# campaign, for an area of offset 0; each area adds its offset. Heavy days follow from the level.
_PM25_2019 = {"2019-01": 86, "2019-02": 74, "2019-03": 58, "2019-10": 50, "2019-11": 63, "2019-12": 76}
_PM25_OFFSET = {
    CITY_AREA: 0, "140702": 4, "140703": 2, "140721": -12, "140722": -14, "140723": -13, "140724": -6,
    "140725": -4, "140727": 3, "140728": 6, "140729": 9, "140781": 10, "140799": 2,
}
# 附件1's 档 as the demo reads it: the more polluted, the higher the grade.
GRADES = {"140702": 5, "140703": 4, "140721": 1, "140722": 1, "140723": 1, "140724": 2, "140725": 3,
           "140727": 4, "140728": 5, "140729": 6, "140781": 6, "140799": 5}
# Campaign PM2.5 as a share of 2019's same month: most areas improve beyond their grade; 和顺县 and 灵石县
# do not (their 2021年1—3月 period ends above its limit).
_IMPROVEMENT = {"140723": 1.03, "140729": 0.97}
_CITY_PM25 = {"2020-10": 40, "2020-11": 46, "2020-12": 52, "2021-01": 78, "2021-02": 70, "2021-03": 58}
_CITY_HEAVY = {"2020-10": 0, "2020-11": 0, "2020-12": 0, "2021-01": 2, "2021-02": 1, "2021-03": 0}


def _heavy(pm25: float, rng: random.Random) -> int:
    return 0 if pm25 < 60 else min(12, int((pm25 - 60) / 5) + rng.randint(0, 1))


def _baseline_month(month: str) -> str:
    return f"2019-{month[5:]}"


def air_baselines(seed: int) -> dict[str, dict[str, tuple[float, int]]]:
    rng = seeded(seed, "air-2019")
    out: dict[str, dict[str, tuple[float, int]]] = {}
    for u in reference().units:
        for month, base in _PM25_2019.items():
            pm = float(round(base + _PM25_OFFSET[u.code] + rng.uniform(-3, 3)))
            out.setdefault(u.code, {})[month] = (pm, _heavy(pm, rng) + 1)
    return out


def air_quality(seed: int, baselines: dict[str, dict[str, tuple[float, int]]]) -> Iterator[tuple[str, str, float, int]]:
    """(area, month, PM2.5 µg/m³, heavy-pollution days) for 市城区 and every unit."""
    rng = seeded(seed, "air")
    for month in MONTHS:
        yield CITY_AREA, month, float(_CITY_PM25[month]), _CITY_HEAVY[month]
    for u in reference().units:
        factor = _IMPROVEMENT.get(u.code, 0.9 - 0.01 * GRADES[u.code])
        for month in MONTHS:
            base_pm, base_days = baselines[u.code][_baseline_month(month)]
            pm = float(round(base_pm * factor + rng.uniform(-1.5, 1.5)))
            days = base_days if u.code in _IMPROVEMENT else max(0, base_days - 1 - (GRADES[u.code] + 1) // 3)
            yield u.code, month, pm, days
