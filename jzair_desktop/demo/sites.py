"""Demo sites of the 建筑工地 ledger (动态管理台账), per unit: the plan's 349 sites under supervision.

The sites are split across the units like the city targets (by population); most are 在建 and meet every
item of 六个百分之百; in the lagging units (左权县, 和顺县) a few fail one or two items (mostly 物料堆放覆盖 and 渣土车辆密闭运输, what inspections
find most), some are 停工 for the heating season or 完工, and a handful finished and 已销号 (outside the 349).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from jzair_desktop.demo.common import _TRADE_NAMES as TRADE_NAMES
from jzair_desktop.demo.common import LAGGING, Context, random_day, seeded
from jzair_desktop.domain.ledgers import SITE_SIX_KEYS

SUPERVISED = 349  # 十七: "对全市349个建筑工地实行动态监管"
CLOSED_SHARE = 0.05  # sites finished and closed out besides the 349

_KINDS = (
    ("小区", ("一期", "二期", "三期", "A区", "B区"), (30_000, 180_000)),
    ("棚户区改造安置房", ("", "一期", "二期"), (20_000, 120_000)),
    ("学校教学楼", ("", "及附属工程"), (6_000, 25_000)),
    ("人民医院门诊综合楼", ("", "改扩建工程"), (15_000, 60_000)),
    ("商业综合体", ("", "一期"), (40_000, 150_000)),
    ("标准化厂房", ("", "一期", "二期"), (10_000, 80_000)),
    ("道路改造工程", ("", "（一标段）", "（二标段）"), (None, None)),
    ("污水处理厂提标改造工程", ("",), (None, None)),
    ("体育中心", ("", "配套工程"), (20_000, 70_000)),
)
_ESTATE_WORDS = ("锦绣", "御景", "金色", "阳光", "翡翠", "书香", "滨河", "龙湖", "紫金", "和园", "润园", "嘉苑")
_STREETS = ("迎宾街", "顺城街", "汇通路", "安宁街", "新建路", "文苑街", "龙湖大街", "中都路", "朝阳街", "人民路")
_CONTRACTORS = ("山西建工集团有限公司", "山西二建集团有限公司", "山西四建集团有限公司", "中铁十七局集团有限公司",
                "晋中市建筑工程有限公司", "山西三建集团有限公司", "中国建筑第二工程局有限公司",
                "山西八建集团有限公司")  # fmt: skip
# The item of 六个百分之百 a failing site misses, and how often.
_FAILING = (("cover", 5), ("sealed_transport", 4), ("wet_work", 2), ("washing", 2), ("fence", 1), ("paving", 1))


def generate(ctx: Context, unit_code: str) -> Iterator[dict[str, Any]]:
    rng = seeded(ctx.seed, "sites", unit_code)
    unit_name = ctx.ref.unit_by_code(unit_code).name
    n = ctx.scaled(ctx.shares(SUPERVISED)[unit_code])
    closed = round(n * CLOSED_SHARE)
    town = unit_name[:-1] if unit_name.endswith(("县", "区", "市")) and len(unit_name) > 2 else unit_name
    names: set[str] = set()
    lagging = unit_code in LAGGING  # only the lagging units have sites failing 六个百分之百
    for i in range(n + closed):
        kind, phases, (lo, hi) = rng.choice(_KINDS)
        phase = rng.choice(phases)
        if kind == "小区":
            name = f"{town}{rng.choice(_ESTATE_WORDS)}{rng.choice(('苑', '园', '府', '城', '家园'))}{kind}{phase}"
        elif kind == "道路改造工程":
            name = f"{town}{rng.choice(_STREETS)}{kind}{phase}"
        else:
            name = f"{town}{rng.choice(('第一', '第二', '第三', '', '新')) if kind == '学校教学楼' else ''}{kind}{phase}"
        base, k = name, 2
        while name in names:  # the natural key: one project name per unit
            name = f"{base}（{k}号地块）"
            k += 1
        names.add(name)
        start = random_day(ctx.first, min(ctx.last, dt.date(2020, 11, 10)), rng)
        if i >= n:
            status = "已销号"
        else:
            status = rng.choices(("在建", "停工", "完工"), (80, 14, 6))[0]
        six = dict.fromkeys(SITE_SIX_KEYS, "是")
        if status == "在建" and lagging and rng.random() < 0.12:
            for key in {rng.choices([k for k, _w in _FAILING], [w for _k, w in _FAILING])[0]
                        for _ in range(rng.randint(1, 2))}:
                six[key] = "否"
        area = None if lo is None else float(round(rng.uniform(lo, hi), -2))
        builder = (f"{unit_name}{rng.choice(('住房和城乡建设局', '城市建设投资有限公司', '教育局'))}"
                   if kind in ("道路改造工程", "学校教学楼", "污水处理厂提标改造工程")
                   else f"晋中{rng.choice(TRADE_NAMES)}房地产开发有限公司")
        yield {
            "unit_code": unit_code,
            "project_name": name,
            "address": f"{unit_name}{rng.choice(_STREETS)}{rng.randint(1, 300)}号",
            "builder": builder,
            "contractor": rng.choice(_CONTRACTORS),
            "start_date": start,
            "status": status,
            "floor_area": area,
            **six,
            "online_monitor": "是" if rng.random() < 0.85 else "否",
            "video": "是" if rng.random() < 0.9 else "否",
            "remarks": "采暖季停工" if status == "停工" else None,
            **ctx.meta(rng, start),
        }
