"""Demo items of the 问题清单 ledger (unfinished tasks of 十八, problems found by 监督帮扶 and 督察), per unit.

A few dozen in all: each unit has two to four; most were put right by their date, some were closed out
(已销号), and the lagging units (左权县, 和顺县) still have items past their 整改时限.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from jzair_desktop.demo.common import LAGGING, UNIT_PROFILES, Context, seeded
from jzair_desktop.domain.ledgers import PROBLEM_DEFAULT_DUE

_TASKS = (
    ("三年行动计划", "城中村散煤清零任务未完成，{t}仍有部分农户使用散煤取暖", "县能源局"),
    ("三年行动计划", "{t}工业园区集中供热管网未全部接通", "县住建局"),
    ("柴油货车攻坚", "重点用车企业门禁视频监控系统未与市平台联网", "县交通运输局"),
    ("柴油货车攻坚", "{t}机动车排放检验机构监管平台数据未联网", "县生态环境局"),
    ("三年行动计划", "{t}露天矿山生态修复未完成", "县自然资源局"),
)
_FOUND = (
    ("监督帮扶", "{t}某铸造企业熔化工序废气未收集处理", "县生态环境局"),
    ("监督帮扶", "{t}某砖厂原料堆场未封闭、无抑尘措施", "县生态环境局"),
    ("督察", "{t}建筑工地渣土车未密闭运输，出入口未冲洗", "县住建局"),
    ("督察", "{t}加油站油气回收装置运行不正常", "县商务局"),
    ("监督帮扶", "{t}某焦化企业无组织排放治理不到位，煤场未全封闭", "县工信局"),
    ("督察", "{t}道路扬尘污染严重，机械化清扫不到位", "县城市管理局"),
)


def generate(ctx: Context, unit_code: str) -> Iterator[dict[str, Any]]:
    rng = seeded(ctx.seed, "problems", unit_code)
    unit_name = ctx.ref.unit_by_code(unit_code).name
    townships = UNIT_PROFILES[unit_code].townships
    lagging = unit_code in LAGGING
    n = max(1, round(rng.randint(2, 4) * max(ctx.scale, 0.25)))
    found_items = rng.sample(_FOUND, min(len(_FOUND), n))
    picked = rng.sample(_TASKS, 1) + found_items[: n - 1]
    # Half the units had an item assigned in the demo's last month, still being put right (open, not overdue).
    recent = found_items[n - 1] if len(found_items) >= n and ctx.last >= dt.date(2021, 3, 20) and rng.random() < 0.5 \
        else None
    for k, (source, text, dept) in enumerate(picked, start=1):
        town = rng.choice(townships)
        if source in ("三年行动计划", "柴油货车攻坚"):
            due, doc = PROBLEM_DEFAULT_DUE, "市政办发〔2020〕47号"
        else:
            due = dt.date(2020, rng.choice((11, 12)), rng.choice((15, 30)))
            doc = f"{'晋环督' if source == '督察' else '市大气办'}〔2020〕{rng.randint(10, 99)}号"
        found = due - dt.timedelta(days=rng.randint(30, 60))
        if lagging and k == 1:
            status, done = ("整改中" if rng.random() < 0.7 else "未整改"), None
        else:
            done = min(ctx.last, due - dt.timedelta(days=rng.randint(0, 25)))
            status = "已销号" if rng.random() < 0.35 and done < dt.date(2021, 1, 15) else "已整改"
        yield {
            "unit_code": unit_code,
            "township": town,
            "source": source,
            "document_no": doc,
            "description": text.format(t=town),
            "department": dept.replace("县", unit_name, 1),
            "found_date": found,
            "due_date": due,
            "status": status,
            "done_date": done,
            "measures": None if done is None else "已完成整改，现场复核合格",
            "remarks": None,
            **ctx.meta(rng, found),
        }
    if recent is not None:
        source, text, dept = recent
        town = rng.choice(townships)
        found = dt.date(2021, 3, rng.randint(2, 19))
        yield {
            "unit_code": unit_code,
            "township": town,
            "source": source,
            "document_no": f"{'晋环督' if source == '督察' else '市大气办'}〔2021〕{rng.randint(10, 99)}号",
            "description": text.format(t=town),
            "found_date": found,
            "department": dept.replace("县", unit_name, 1),
            "due_date": dt.date(2021, 3, 31),  # the campaign end (the demo keeps every date inside it)
            "status": "整改中",
            "done_date": None,
            "measures": None,
            "remarks": None,
            **ctx.meta(rng, found),
        }
