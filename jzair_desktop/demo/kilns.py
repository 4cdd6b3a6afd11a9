"""Demo items of the industrial-kiln ledger (工业炉窑台账), per unit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from jzair_desktop.demo.common import UNIT_PROFILES, Context, progress_of, seeded
from jzair_desktop.domain.months import format_month, month_end

_KILN_CONTENT = {
    "焦化": ("焦炉烟气脱硫脱硝超低排放改造", "4.3米焦炉关停淘汰", "干熄焦装置建设", "装煤推焦地面站除尘提标改造",
             "焦炉煤气精脱硫改造"),
    "钢铁": ("烧结机头烟气超低排放改造", "高炉出铁场除尘提标改造", "轧钢加热炉低氮燃烧改造",
             "球团竖炉烟气脱硫脱硝改造"),
    "建材": ("水泥窑烟气脱硝（SCR）改造", "石灰窑除尘脱硫设施提标改造", "砖瓦隧道窑脱硫除尘改造",
             "玻璃熔窑烟气脱硫脱硝除尘改造", "燃煤发生炉煤气改用天然气", "倒焰窑淘汰拆除"),
    "有色": ("熔炼炉烟气除尘脱硫改造", "铝灰处理炉烟气治理", "燃煤反射炉改为电加热"),
    "铸造": ("冲天炉改为中频感应电炉", "熔化工序烟尘收集除尘改造", "热处理炉燃煤改天然气",
             "砂处理工序除尘提标改造"),
    "其他": ("燃煤热风炉改用天然气", "烘干窑炉清洁能源替代", "燃煤导热油炉拆除改电"),
}  # fmt: skip
_FUGITIVE = ("原料堆场全封闭改造", "物料输送皮带通廊封闭", "厂区道路硬化及定时洒水清扫", "装卸料口集气除尘",
             "产尘点喷雾抑尘设施建设", "煤场防风抑尘网建设", "车辆进出冲洗设施建设", "料仓封闭及负压收尘")



def generate(ctx: Context, unit_code: str) -> Iterator[dict[str, Any]]:
    p = UNIT_PROFILES[unit_code]
    rng = seeded(ctx.seed, "kilns", unit_code)
    n_kiln = ctx.scaled(ctx.kiln_shares["kilns.kiln"][unit_code])
    n_fug = ctx.scaled(ctx.kiln_shares["kilns.fugitive"][unit_code])
    kiln_orgs = ctx.industrial_orgs(rng, unit_code, n_kiln)
    ctx.industrial[unit_code] = list(kiln_orgs)
    # Fugitive-emission work is mostly done by the same plants (one item per enterprise).
    fug_orgs = [o for o in kiln_orgs if rng.random() < 0.6][:n_fug]
    fug_orgs += ctx.industrial_orgs(rng, unit_code, n_fug - len(fug_orgs))
    for category, orgs in (("工业炉窑治理", kiln_orgs), ("无组织排放治理", fug_orgs)):
        items = [(org, 1) for org in orgs]
        if category == "工业炉窑治理":  # some plants treat two kilns: two rows, one enterprise
            items += [(org, 2) for org in orgs if rng.random() < 0.2]
        for org, nth in items:
            if category == "工业炉窑治理":
                content = rng.choice(_KILN_CONTENT[org.industry])
                if nth == 2:
                    content = f"2号窑炉：{content}"
            else:
                content = "；".join(rng.sample(_FUGITIVE, rng.randint(1, 3)))
            planned = month_end(format_month(*rng.choice(((2020, 10), (2020, 11), (2020, 12), (2020, 12), (2021, 3)))))
            progress = progress_of(unit_code, "kilns")
            done = progress >= 1 or rng.random() < progress
            status, actual = ctx.item_dates(rng, p, planned, done)
            yield {
                "unit_code": unit_code,
                "enterprise": org.name,
                "credit_code": org.code,
                "industry": org.industry,
                "category": category,
                "content": content,
                "planned_date": planned,
                "actual_date": actual,
                "status": status,
                "remarks": None,
                **ctx.meta(rng, actual or planned - dt.timedelta(days=rng.randint(30, 150))),
            }

