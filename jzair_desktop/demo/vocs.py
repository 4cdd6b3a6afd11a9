"""Demo items of the VOCs ledger (VOCs治理台账), per unit."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from jzair_desktop.demo.common import (
    UNIT_PROFILES,
    Context,
    Org,
    UnitProfile,
    pick,
    place_prefix,
    progress_of,
    seeded,
    stem,
)
from jzair_desktop.domain.months import format_month, month_end

_VOCS_WORDS = {
    "化工": ("化工", "精细化工", "制药", "涂料"), "工业涂装": ("机械制造", "汽车维修", "家具", "钢结构"),
    "包装印刷": ("包装", "彩印", "印务", "纸制品"), "石化": ("石油化工", "油品储运", "能源"),
    "其他": ("胶粘制品", "塑料制品", "电子材料"),
}  # fmt: skip
_VOCS_REMARKS = {
    "VOCs综合治理": ("建设RTO蓄热式焚烧装置", "活性炭吸附+催化燃烧改造", "喷漆房废气密闭收集治理",
                  "设备与管线组件泄漏检测与修复（LDAR）"),
    "低VOCs原辅材料替代": ("溶剂型涂料替换为水性涂料", "溶剂型涂料替换为粉末涂料", "清洗剂替换为水基清洗剂"),
    "旁路排查整治": ("", ),
    "储罐排查": ("内浮顶储罐密封检查", "储罐呼吸阀及油气回收检查", "装卸环节油气回收检查"),
    "油气回收在线监控": ("安装加油站油气回收在线监控系统并与生态环境部门联网", ),
}  # fmt: skip



def generate(ctx: Context, unit_code: str) -> Iterator[dict[str, Any]]:
    p = UNIT_PROFILES[unit_code]
    rng = seeded(ctx.seed, "vocs", unit_code)
    unit_name = ctx.ref.unit_by_code(unit_code).name
    plan = {
        "VOCs综合治理": (ctx.vocs_shares["vocs.treatment"][unit_code], (("化工", 3), ("工业涂装", 2), ("石化", 1))),
        "低VOCs原辅材料替代": (ctx.vocs_shares["vocs.substitution"][unit_code],
                         (("工业涂装", 4), ("包装印刷", 2), ("其他", 1))),
        "油气回收在线监控": (ctx.vocs_shares["vocs.vapor_monitor"][unit_code], (("加油站", 1),)),
        "旁路排查整治": (ctx.vocs_shares["vocs.bypass"][unit_code],
                   (("化工", 3), ("工业涂装", 2), ("包装印刷", 1), ("石化", 1))),
        "储罐排查": (ctx.vocs_shares["vocs.tanks"][unit_code], (("石化", 2), ("化工", 2), ("加油站", 1))),
    }
    pool: dict[str, list[Org]] = {}
    for category, (count, industries) in plan.items():
        n = ctx.scaled(count)
        for _ in range(n):
            industry = pick(rng, industries)
            # Reuse an enterprise of the same industry that has no item of this category yet.
            free = [o for o in pool.get(industry, []) if category not in ctx.vocs_categories[o.code]]
            if free and rng.random() < 0.4:
                org = rng.choice(free)
            else:
                if industry == "加油站":
                    sites = station_sites(ctx, unit_code)
                    build = lambda t, s=sites: f"山西{t}石油销售有限公司{rng.choice(s)}加油站"  # noqa: E731
                else:
                    words = _VOCS_WORDS[industry]
                    build = lambda t, w=words: f"{place_prefix(rng, unit_name)}{t}{rng.choice(w)}有限公司"  # noqa: E731
                org = ctx.orgs.make(rng, unit_code, build, "91", industry)
                pool.setdefault(industry, []).append(org)
            ctx.vocs_categories.setdefault(org.code, set()).add(category)
            yield vocs_item(ctx, rng, p, org, category)



def station_sites(ctx: Context, unit_code: str) -> tuple[str, ...]:
    towns = [stem(t) for t in UNIT_PROFILES[unit_code].townships]
    return tuple(towns) + ("城东", "城西", "高速口", "国道")



def vocs_item(ctx: Context, rng: random.Random, p: UnitProfile, org: Org, category: str) -> dict[str, Any]:
    count = disposal = None
    if category == "旁路排查整治":
        planned = rng.choice((dt.date(2020, 12, 31), dt.date(2021, 2, 28), dt.date(2021, 3, 31)))
        count = pick(rng, ((0, 3), (1, 4), (2, 2), (3, 1)))
        disposal = "无" if count == 0 else pick(rng, (("取消", 3), ("铅封", 3), ("安装自动监控", 2)))
        remarks = "排查未发现旁路" if count == 0 else f"排查发现{count}处旁路"
    else:
        planned = month_end(format_month(*rng.choice(((2020, 11), (2020, 12), (2021, 1), (2021, 3)))))
        choices = _VOCS_REMARKS[category]
        if category == "低VOCs原辅材料替代" and org.industry != "工业涂装":
            choices = ("溶剂型油墨替换为水性油墨", "使用低VOCs含量胶粘剂", "使用UV油墨")
        remarks = rng.choice(choices)
    progress = progress_of(p.code, "vocs")
    done = progress >= 1 or rng.random() < progress
    status, actual = ctx.item_dates(rng, p, planned, done)
    return {
        "unit_code": p.code,
        "enterprise": org.name,
        "credit_code": org.code,
        "industry": org.industry,
        "category": category,
        "bypass_count": count,
        "bypass_disposal": disposal,
        "planned_date": planned,
        "actual_date": actual,
        "status": status,
        "remarks": remarks,
        **ctx.meta(rng, actual or planned - dt.timedelta(days=rng.randint(30, 150))),
    }

