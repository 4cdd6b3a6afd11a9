"""Demo trucks of the diesel-truck ledger (老旧柴油货车淘汰台账), per unit."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from jzair_desktop.demo.common import (
    UNIT_PROFILES,
    Context,
    person_name,
    pick,
    place_prefix,
    progress_of,
    random_day,
    seeded,
)
from jzair_desktop.domain import checkdigits

_WMI = {
    "重型货车": (("LZZ", 4), ("LFW", 3), ("LZG", 2), ("LGA", 2), ("LFN", 1)),
    "中型货车": (("LGA", 3), ("LFN", 2), ("LFW", 2), ("LZZ", 1)),
    "轻型货车": (("LVB", 3), ("LEF", 2), ("LGA", 2), ("LFN", 1)),
}
_YEARS = {"国零": (1998, 2000), "国一": (2001, 2003), "国二": (2004, 2007), "国三": (2008, 2012)}
_YEAR_CODE = {1998: "W", 1999: "X", 2000: "Y", **{y: str(y - 2000) for y in range(2001, 2010)},
              2010: "A", 2011: "B", 2012: "C"}
_VDS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

def vin(ctx: Context, rng: random.Random, vehicle_type: str, year: int) -> str:
    while True:
        wmi = pick(rng, _WMI[vehicle_type])
        vds = "".join(rng.choice(_VDS) for _ in range(5))
        tail = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ123456789") + f"{rng.randint(0, 999999):06d}"
        draft = f"{wmi}{vds}0{_YEAR_CODE[year]}{tail}"
        value = draft[:8] + checkdigits.vin_check_char(draft) + draft[9:]
        if value not in ctx.vins:
            ctx.vins.add(value)
            return value

def plate(ctx: Context, rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    while True:
        r = rng.random()
        if r < 0.55:
            tail = f"{rng.randint(0, 99999):05d}"
        elif r < 0.85:
            tail = rng.choice(letters) + f"{rng.randint(0, 9999):04d}"
        else:
            tail = f"{rng.randint(0, 999):03d}" + rng.choice(letters) + rng.choice(letters)
        value = "晋K" + tail
        if value not in ctx.plates:
            ctx.plates.add(value)
            return value



def generate(ctx: Context, unit_code: str) -> Iterator[dict[str, Any]]:
    p = UNIT_PROFILES[unit_code]
    rng = seeded(ctx.seed, "trucks", unit_code)
    unit_name = ctx.ref.unit_by_code(unit_code).name
    progress = progress_of(unit_code, "trucks")
    share = 1.0 + rng.uniform(0.0, 0.02) if progress >= 1 else progress + rng.uniform(-0.03, 0.0)
    n = ctx.scaled(ctx.truck_shares[unit_code] * share)
    fleets = [
        ctx.orgs.make(rng, unit_code, lambda t, u=unit_name: f"{place_prefix(rng, u)}{t}"
                       f"{rng.choice(('运输', '物流', '货运', '汽车运输', '煤炭运销'))}有限公司", None)
        for _ in range(max(1, n // 60))
    ]
    for _ in range(n):
        vtype = pick(rng, (("重型货车", 45), ("中型货车", 20), ("轻型货车", 35)))
        std = pick(rng, (("国三", 70), ("国二", 22), ("国一", 6), ("国零", 2)))
        year = rng.randint(*_YEARS[std])
        method = pick(rng, (("报废拆解", 70), ("注销", 20), ("转出", 10)))
        if rng.random() < p.late:
            day = random_day(dt.date(2020, 11, 1), dt.date(2020, 12, 31) if progress >= 1 else dt.date(2021, 3, 25), rng)
        else:
            day = dt.date(2020, 3, 10) + dt.timedelta(days=int(rng.triangular(0, 295, 230)))
        day = ctx.date(day)
        owner = fleets[rng.randrange(len(fleets))].name if rng.random() < 0.35 else person_name(
            rng, male=rng.random() < 0.9)
        subsidy = None
        if method != "转出" and rng.random() < 0.85:
            base = {"重型货车": (25000, 30000, 35000), "中型货车": (15000, 18000), "轻型货车": (6000, 8000, 9000)}
            subsidy = float(rng.choice(base[vtype]))
        remarks = None
        if rng.random() < 0.12:
            remarks = {
                "报废拆解": ("已交售报废机动车回收企业", "已取得报废机动车回收证明"),
                "注销": ("已办理注销登记", "车辆灭失，已注销"),
                "转出": ("已转出至外省", "已过户转出本市"),
            }[method][rng.randrange(2)]
        yield {
            "unit_code": unit_code,
            "plate": plate(ctx, rng),
            "vin": vin(ctx, rng, vtype, year),
            "emission_std": std,
            "vehicle_type": vtype,
            "owner": owner,
            "usage": "营运",
            "method": method,
            "eliminated_date": day,
            "subsidy_yuan": subsidy,
            "remarks": remarks,
            **ctx.meta(rng, day),
        }

