"""Demo boilers of the coal-boiler ledger (燃煤锅炉台账), per unit."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

from jzair_desktop.demo.common import (
    UNIT_PROFILES,
    Context,
    Org,
    UnitProfile,
    credit_code,
    pick,
    place_prefix,
    progress_of,
    seeded,
)
from jzair_desktop.domain.months import format_month, month_end


def generate(ctx: Context, unit_code: str) -> Iterator[dict[str, Any]]:
    p = UNIT_PROFILES[unit_code]
    rng = seeded(ctx.seed, "boilers", unit_code)
    unit_name = ctx.ref.unit_by_code(unit_code).name
    n = ctx.scaled(ctx.boiler_shares[unit_code])
    # (name builder, credit-code kind, the largest boiler such an owner runs in 蒸吨/小时)
    owners: list[tuple[Callable[[str], str], str, float]] = [
        (lambda t: f"{unit_name}{t}供热有限公司", "91", 999.0),
        (lambda t: f"{place_prefix(rng, unit_name)}{t}{rng.choice(('食品', '醋业', '饮品', '面业'))}有限公司",
         "91", 10.0),
        (lambda t: f"{place_prefix(rng, unit_name)}{t}{rng.choice(('机械制造', '纺织', '建材', '化工'))}有限公司",
         "91", 20.0),
        (lambda t: f"{unit_name}{t}{rng.choice(('宾馆', '大酒店', '洗浴中心'))}", "92", 4.0),
        (lambda t: f"{unit_name}{t}{rng.choice(('养殖', '种植'))}专业合作社", "93", 2.0),
        (lambda t: f"{unit_name}{t}物业管理有限公司", "91", 10.0),
    ]
    public = [f"{unit_name}人民医院", f"{unit_name}中医院", f"{unit_name}第一中学", f"{unit_name}第二中学",
              f"{unit_name}职业中学", f"{unit_name}实验小学"]
    public += [f"{t}人民政府" for t in UNIT_PROFILES[unit_code].townships if t.endswith(("镇", "乡"))]
    public += [f"{t}中心学校" for t in UNIT_PROFILES[unit_code].townships if t.endswith(("镇", "乡"))]
    rng.shuffle(public)
    made = 0
    while made < n:
        if public and rng.random() < 0.35:
            name = public.pop()
            kind = "11" if name.endswith("人民政府") else "12"
            largest = 10.0 if name.endswith(("医院", "第一中学")) else 4.0
            org = Org(name, credit_code(rng, kind, "140700" if unit_code == "140799" else unit_code))
            if org.code in ctx.orgs.codes:
                continue
            ctx.orgs.codes.add(org.code)
        else:
            build, kind, largest = rng.choice(owners)
            org = ctx.orgs.make(rng, unit_code, build, kind)
        if kind == "92" and rng.random() < 0.5:
            org.code = None  # 个体工商户 often leave the code out
        boilers_here = pick(rng, ((1, 6), (2, 3), (3, 1)))
        profile = pick(rng, (("coal_small", 70), ("gas", 20), ("coal_large", 4), ("biomass", 4), ("oil", 2)))
        if profile == "coal_large" and largest < 35:
            profile = "coal_small"
        for no in range(1, boilers_here + 1):
            if made >= n:
                break
            made += 1
            yield boiler(ctx, rng, p, org, no, profile, largest)



def boiler(ctx: Context, rng: random.Random, p: UnitProfile, org: Org, no: int, profile: str, largest: float
           ) -> dict[str, Any]:
    remarks = None

    def size(*choices: float) -> float:
        return rng.choice([c for c in choices if c <= largest] or [min(choices)])

    if profile == "coal_small":
        fuel = "燃煤"
        cap = size(0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 6.0, 10.0, 15.0, 20.0)
        measure = "淘汰拆除" if rng.random() < 0.6 else "清洁能源替代"
        if progress_of(p.code, "boilers") < 1 and rng.random() < 0.1:
            measure = "达标治理"  # kept against the plan: not counted as eliminated, shows the warning
        if measure == "清洁能源替代":
            remarks = rng.choice(("改为空气源热泵", "接入城市集中供热管网", "改用天然气锅炉", "改为电锅炉"))
        planned = rng.choice((dt.date(2020, 9, 30), dt.date(2020, 10, 31), dt.date(2020, 10, 31)))
    elif profile == "gas":
        fuel = "燃气"
        cap = size(1.0, 2.0, 4.0, 6.0, 10.0, 20.0)
        measure = "低氮改造" if rng.random() < 0.9 else "达标治理"
        if measure == "低氮改造":
            remarks = "更换低氮燃烧器，氮氧化物排放浓度不高于50毫克/立方米"
        planned = month_end(format_month(*rng.choice(((2020, 10), (2020, 11), (2020, 12), (2021, 3)))))
    elif profile == "coal_large":
        fuel = "燃煤"
        cap = rng.choice((40.0, 75.0, 82.8571))
        measure = "超低排放改造"
        if cap == 82.8571:
            remarks = "58MW热水锅炉"
        planned = dt.date(2020, 10, 31)
    elif profile == "biomass":
        fuel = "生物质"
        cap = size(1.0, 2.0, 4.0)
        measure = rng.choice(("达标治理", "清洁能源替代"))
        planned = dt.date(2020, 11, 30)
    else:
        fuel = "燃油"
        cap = rng.choice((0.5, 1.0, 2.0))
        measure = rng.choice(("淘汰拆除", "清洁能源替代"))
        planned = dt.date(2020, 10, 31)
    progress = progress_of(p.code, "boilers")
    status, actual = ctx.item_dates(rng, p, planned, progress >= 1 or rng.random() < progress)
    if actual is not None and status == "已销号" and remarks is None:
        remarks = "已现场核查销号"
    rural = None
    if profile == "coal_small" and rng.random() < 0.06:
        # 农村地区自建小区 not yet on clean heating: the plan's exception, kept and brought to standard
        rural, measure, remarks = "是", "达标治理", "农村自建小区，清洁取暖改造前保留，已达标治理"
    return {
        "unit_code": p.code,
        "org_name": org.name,
        "credit_code": org.code,
        "boiler_no": f"{no}#",
        "capacity_th": cap,
        "fuel": fuel,
        "measure": measure,
        "planned_date": planned,
        "actual_date": actual,
        "status": status,
        "rural_estate": rural,
        "remarks": remarks,
        **ctx.meta(rng, actual or planned - dt.timedelta(days=rng.randint(20, 120))),
    }

