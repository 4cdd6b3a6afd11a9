"""Demo households of the clean-heating ledger (散煤治理台账), per unit."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from jzair_desktop.demo.common import (
    UNIT_PROFILES,
    Context,
    Place,
    UnitProfile,
    id_number,
    person_name,
    phone_number,
    places_of,
    progress_of,
    seeded,
)


def generate(ctx: Context, unit_code: str) -> Iterator[dict[str, Any]]:
    p = UNIT_PROFILES[unit_code]
    rng = seeded(ctx.seed, "heating", unit_code)
    places = places_of(ctx.seed, unit_code)
    urban = [pl for pl in places if pl.urban]
    rural = [pl for pl in places if not pl.urban]
    rng.shuffle(urban)
    rng.shuffle(rural)
    methods = ("集中供热", "气代煤", "电代煤", "其他清洁能源")
    wanted = {m: ctx.scaled(ctx.method_shares[m][unit_code] * p.entered) for m in methods}
    # Villages are converted village by village (整村推进), each with one method, most of their
    # households in this campaign; the county's towns and communities take central heating first.
    queue = urban + rural
    taken: set[int] = set()
    assignments: list[tuple[Place, str, int]] = []
    for m in methods:
        left = wanted[m]
        order = queue if m == "集中供热" else rural + urban
        for pl in order:
            if left <= 0:
                break
            if id(pl) in taken:
                continue
            taken.add(id(pl))
            k = min(left, max(5, round(pl.size * rng.uniform(0.12, 0.5))))
            assignments.append((pl, m, k))
            left -= k
        i = 0
        while left > 0:  # every village has its method already: a second one in some villages
            pl = order[i % len(order)]
            i += 1
            k = min(left, max(5, round(pl.size * 0.15)))
            assignments.append((pl, m, k))
            left -= k
    subsidy = {m: base for m, base in zip(methods, (2000, 3500, 5000, 3000), strict=True)}
    subsidy = {m: v + 500 * rng.randint(-1, 2) for m, v in subsidy.items()}  # each county its own standard
    for pl, method, k in assignments:
        progress = progress_of(unit_code, "heating")
        if progress >= 1:
            done_share = 1.0
        else:
            done_share = min(1.0, max(0.0, progress / p.entered + rng.uniform(-0.1, 0.1)))
        if rng.random() < p.late:  # around the heating season's start; a few in January–March
            center = dt.date(2020, 11, 1) + dt.timedelta(days=int(rng.triangular(0, 130, 10)))
        else:
            center = dt.date(2020, 4, 15) + dt.timedelta(days=int(rng.triangular(0, 199, 172)))
        for _ in range(k):
            yield household(ctx, rng, p, pl, method, done_share, center, subsidy[method])

def household(ctx: Context, rng: random.Random, p: UnitProfile, pl: Place, method: str, done_share: float,
              center: dt.date, standard: int) -> dict[str, Any]:
    male = rng.random() < 0.78
    idn: str | None = None
    if rng.random() > 0.02:
        idn = id_number(rng, p.id_area, male=male, first=dt.date(1936, 1, 1), last=dt.date(1990, 12, 31))
        while idn in ctx.id_numbers:
            idn = id_number(rng, p.id_area, male=male, first=dt.date(1936, 1, 1), last=dt.date(1990, 12, 31))
        ctx.id_numbers.add(idn)
    area = round(rng.triangular(45, 160, 85)) if not pl.urban else round(rng.triangular(50, 120, 75))
    done_date = None
    keeps = None
    subsidy = None
    remarks = None
    if rng.random() < done_share:
        done_date = ctx.date(center + dt.timedelta(days=round(rng.gauss(0, 8))))
        if progress_of(p.code, "heating") >= 1 and done_date > dt.date(2020, 12, 31):
            done_date = ctx.date(dt.date(2020, 12, 31) - dt.timedelta(days=rng.randint(0, 40)))
        accepted = rng.random() < (0.65 if done_date <= dt.date(2020, 11, 15) else 0.2)
        status = "已验收" if accepted else "已完工"
        keeps = "否" if rng.random() < 0.006 else "是"
        if accepted or rng.random() < 0.6:
            subsidy = float(standard)
        r = rng.random()
        if r < 0.03:
            remarks = rng.choice(("低保户", "五保户", "脱贫户", "特困供养户"))
        elif r < 0.05:
            remarks = rng.choice(("村集体统一实施", "已签订改造协议", "户主外出务工，由子女代签", "与邻户共用设备"))
    else:
        status = "施工中" if rng.random() < 0.6 else "未开工"
        r = rng.random()
        if status == "施工中" and r < 0.15:
            remarks = rng.choice(("设备已到户待安装", "管网入户施工中", "待供电线路增容", "待燃气公司通气"))
        elif status == "未开工" and r < 0.1:
            remarks = rng.choice(("房屋常年无人居住", "户主暂未签订协议", "待村委会统一组织"))
    return {
        "unit_code": p.code,
        "township": pl.township,
        "village": pl.village,
        "householder": person_name(rng, male=male),
        "id_number": idn,
        "phone": phone_number(rng),
        "area_m2": float(area),
        "method": method,
        "status": status,
        "done_date": done_date,
        "subsidy_yuan": subsidy,
        "keeps_coal_stove": keeps,
        "remarks": remarks,
        **ctx.meta(rng, done_date),
    }

