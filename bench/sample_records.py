"""Realistic, valid ledger records for benchmarks and screenshots (deterministic for a seed).

Every record passes domain.validation.check_record and the duplicate rules, so it can go straight
into services.ledgers.insert_many. Not the demo generator of `jzair init --demo`; a stand-in for
benchmarks and screenshots.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import check_record

TOWNSHIPS = {
    "140702": ["东阳镇", "长凝镇", "北田镇", "修文镇", "乌金山镇", "郭家堡乡", "张庆乡", "庄子乡", "东赵乡", "使赵乡"],
    "140703": ["明星镇", "胡村镇", "范村镇", "侯城乡", "北洸乡", "阳邑乡", "小白乡", "水秀乡", "任村乡"],
    "140721": ["箕城镇", "云簇镇", "郝北镇", "社城镇", "河峪乡", "北寨乡", "西马乡", "岩良乡"],
    "140722": ["辽阳镇", "桐峪镇", "麻田镇", "芹泉镇", "拐儿镇", "寒王乡", "石匣乡", "龙泉乡"],
    "140723": ["义兴镇", "李阳镇", "松烟镇", "青城镇", "横岭镇", "喂马乡", "平松乡", "阳光占乡"],
    "140724": ["乐平镇", "皋落镇", "冶头镇", "沾尚镇", "大寨镇", "李家庄乡", "界都乡", "三都乡"],
    "140725": ["朝阳镇", "南燕竹镇", "宗艾镇", "平头镇", "松塔镇", "西洛镇", "尹灵芝镇", "平舒乡"],
    "140727": ["昭馀镇", "东观镇", "古县镇", "贾令镇", "城赵镇", "来远镇", "西六支乡", "峪口乡"],
    "140728": ["古陶镇", "段村镇", "东泉镇", "洪善镇", "宁固镇", "南政乡", "中都乡", "岳壁乡", "杜家庄乡"],
    "140729": ["翠峰镇", "静升镇", "两渡镇", "夏门镇", "南关镇", "段纯镇", "英武乡", "王禹乡"],
    "140781": ["义安镇", "张兰镇", "连福镇", "洪山镇", "龙凤镇", "绵山镇", "义棠镇", "城关乡"],
    "140799": ["郭家堡乡", "张庆乡", "北合流街道", "新建街道"],
}
SURNAMES = "王李张刘赵郭杨武韩程田贾乔阎侯任梁白孟薛史冯范宋牛温段"
GIVEN = ("建国 秀英 国华 玉兰 志强 丽萍 海龙 桂英 振华 俊峰 晓燕 文亮 喜平 二虎 金花 保平 润生 永红 "
         "爱莲 建平 春生 来喜 翠英 宏伟 晋生 小平 红梅 天明 德胜 瑞芳 存良 根旺 改莲 补平").split()
VILLAGE_A = "东西南北前后上下大小"
VILLAGE_B = "王李张赵刘郭杨武韩范田"
VILLAGE_C = ("家庄", "家堡", "家寨", "村", "峪", "家沟", "庄")
FIRMS = ("运输有限公司", "物流有限公司", "货运有限公司", "汽车运输队", "商贸有限公司")
WORDS = ("鑫源", "恒泰", "宏达", "晋阳", "华盛", "天元", "金鼎", "正大", "安泰", "永昌", "瑞丰", "通达", "德润", "长兴")
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
VIN_WMI = ("LFW", "LZZ", "LGA", "LFN", "LEF", "LZG", "LBZ", "LGD")
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
USCC_CHARS = checkdigits.USCC_ALPHABET


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def id_number(rng: random.Random, unit_code: str) -> str:
    birth = _day(rng, dt.date(1940, 1, 1), dt.date(1995, 12, 31))
    first17 = f"{unit_code}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + checkdigits.id_check_char(first17)


def vin(rng: random.Random) -> str:
    body = rng.choice(VIN_WMI) + "".join(rng.choice(VIN_CHARS) for _ in range(5))
    tail = rng.choice("ABCDEFGH") + rng.choice(VIN_CHARS) + f"{rng.randint(0, 999999):06d}"
    draft = body + "0" + tail
    return body + checkdigits.vin_check_char(draft) + tail


def uscc(rng: random.Random, unit_code: str) -> str:
    first17 = "91" + unit_code + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return first17 + checkdigits.uscc_check_char(first17)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def village(rng: random.Random) -> str:
    return rng.choice(VILLAGE_A) + rng.choice(VILLAGE_B) + rng.choice(VILLAGE_C) + "村"


def _unit(rng: random.Random) -> tuple[str, str]:
    u = rng.choice(reference().units)
    return u.code, u.name


def _place(name: str) -> str:
    """榆次区 → 榆次, 祁县 → 祁县, 晋中开发区 → 晋中 (for enterprise names)."""
    if name.endswith("开发区"):
        return "晋中"
    return name[:-1] if len(name) > 2 else name


def heating(rng: random.Random, today: dt.date, seen: set) -> dict[str, Any]:
    code, _ = _unit(rng)
    while True:
        number = id_number(rng, code)
        if number not in seen:
            seen.add(number)
            break
    status = rng.choices(("已验收", "已完工", "施工中", "未开工"), (40, 25, 20, 15))[0]
    method = rng.choices(("集中供热", "电代煤", "气代煤", "其他清洁能源"), (62, 21, 14, 3))[0]
    done = _day(rng, dt.date(2020, 4, 1), min(today, dt.date(2021, 3, 31))) if status in ("已验收", "已完工") else None
    return {
        "unit_code": code,
        "township": rng.choice(TOWNSHIPS[code]),
        "village": village(rng),
        "householder": person(rng),
        "id_number": number if rng.random() < 0.95 else None,
        "phone": f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}" if rng.random() < 0.8 else None,
        "area_m2": round(rng.uniform(45, 160), 1),
        "method": method,
        "status": status,
        "done_date": done,
        "subsidy_yuan": float(rng.choice((3000, 4500, 6000, 8000, 9600, 12000))) if done else None,
        "keeps_coal_stove": "是" if rng.random() < 0.9 else "否",
        "remarks": rng.choice((None, None, None, "低保户", "空置房屋", "已签订协议")),
    }


def trucks(rng: random.Random, today: dt.date, seen: set) -> dict[str, Any]:
    code, _ = _unit(rng)
    while True:
        plate = "晋K" + "".join(rng.choice(PLATE_LETTERS + "0123456789") for _ in range(5))
        number = vin(rng)
        if plate not in seen and number not in seen and "I" not in plate[2:] and "O" not in plate[2:]:
            seen.update((plate, number))
            break
    place = _place(reference().unit_by_code(code).name)
    owner = (place + rng.choice(WORDS) + rng.choice(FIRMS)) if rng.random() < 0.6 else person(rng)
    return {
        "unit_code": code,
        "plate": plate,
        "vin": number,
        "emission_std": rng.choices(("国三", "国二", "国一", "国零"), (75, 18, 6, 1))[0],
        "vehicle_type": rng.choices(("重型货车", "中型货车", "轻型货车"), (55, 25, 20))[0],
        "owner": owner,
        "usage": "营运",
        "method": rng.choices(("报废拆解", "注销", "转出"), (70, 20, 10))[0],
        "eliminated_date": _day(rng, dt.date(2019, 3, 1), min(today, dt.date(2021, 3, 31))),
        "subsidy_yuan": float(rng.choice((5000, 8000, 12000, 18000, 25000))),
        "remarks": None,
    }


def boilers(rng: random.Random, today: dt.date, seen: set) -> dict[str, Any]:
    while True:  # a new (unit, organisation, boiler number): the duplicate rule of the ledger
        code, name = _unit(rng)
        org = rng.choice((f"{name}{rng.choice(WORDS)}供热有限公司", f"{name}第{rng.randint(1, 9)}中学",
                          f"{name}人民医院", f"{_place(name)}{rng.choice(WORDS)}食品有限公司",
                          f"{name}{rng.choice(TOWNSHIPS[code])}中心学校"))
        no = f"{rng.randint(1, 6)}#"
        if (code, org, no) not in seen:
            seen.add((code, org, no))
            break
    fuel = rng.choices(("燃煤", "燃气", "生物质", "燃油"), (70, 20, 7, 3))[0]
    cap = float(rng.choice((0.5, 1, 2, 4, 6, 10, 20)))
    measure = rng.choice(("淘汰拆除", "清洁能源替代")) if fuel == "燃煤" else rng.choice(("低氮改造", "达标治理"))
    status = rng.choices(("已完成", "施工中", "未开工"), (60, 25, 15))[0]  # 已销号 only through close-out
    planned = _day(rng, dt.date(2020, 6, 30), dt.date(2020, 12, 31))
    actual = _day(rng, dt.date(2020, 5, 1), min(today, dt.date(2021, 2, 28))) if status in ("已完成", "已销号") else None
    return {
        "unit_code": code, "org_name": org, "credit_code": uscc(rng, code) if rng.random() < 0.7 else None,
        "boiler_no": no, "capacity_th": cap, "fuel": fuel, "measure": measure, "planned_date": planned,
        "actual_date": actual, "status": status, "remarks": None,
    }


KILN_CONTENT = {
    "工业炉窑治理": ("焦炉烟气脱硫脱硝超低排放改造", "烧结机头烟气超低排放改造", "石灰窑烟气治理", "加热炉低氮燃烧改造",
                 "冲天炉改电炉", "煤气发生炉淘汰"),
    "无组织排放治理": ("原料场全封闭改造", "物料输送皮带封闭", "厂区道路硬化及清扫", "堆场喷淋抑尘", "装卸点集气除尘"),
}
KILN_NAMES = ("焦化有限公司", "钢铁有限公司", "建材有限公司", "铸造有限公司", "耐火材料有限公司", "水泥有限公司")


def _item_dates(rng: random.Random, today: dt.date) -> tuple[dt.date, dt.date | None, str]:
    status = rng.choices(("已完成", "施工中", "未开工"), (60, 25, 15))[0]  # 已销号 only through close-out
    planned = _day(rng, dt.date(2020, 9, 30), dt.date(2021, 3, 31))
    actual = _day(rng, dt.date(2020, 6, 1), min(today, dt.date(2021, 3, 20))) if status in ("已完成", "已销号") else None
    return planned, actual, status


def kilns(rng: random.Random, today: dt.date, seen: set) -> dict[str, Any]:
    code, unit_name = _unit(rng)
    name = "山西" + _place(unit_name) + rng.choice(WORDS) + rng.choice(KILN_NAMES)
    credit = uscc(rng, code)
    category = rng.choice(tuple(KILN_CONTENT))
    content = rng.choice(KILN_CONTENT[category])
    seen.add((credit, category, content))
    planned, actual, status = _item_dates(rng, today)
    industry = {"焦化": "焦化", "钢铁": "钢铁", "铸造": "铸造"}.get(name[-6:-4], rng.choice(("建材", "有色", "其他")))
    return {
        "unit_code": code, "enterprise": name, "credit_code": credit, "industry": industry,
        "category": category, "content": content, "planned_date": planned, "actual_date": actual,
        "status": status, "remarks": None,
    }


def vocs(rng: random.Random, today: dt.date, seen: set) -> dict[str, Any]:
    code, name = _unit(rng)
    kind = rng.random()
    if kind < 0.3:
        enterprise, industry, category = f"中国石化销售股份有限公司山西晋中{name}{rng.choice(WORDS)}加油站", "加油站", "油气回收在线监控"
    elif kind < 0.6:
        enterprise, industry = f"山西{rng.choice(WORDS)}化工有限公司", "化工"
        category = rng.choice(("VOCs综合治理", "旁路排查整治", "储罐排查"))
    else:
        enterprise = f"{_place(name)}{rng.choice(WORDS)}{rng.choice(('印务', '家具', '汽车修理', '包装'))}有限公司"
        industry = rng.choice(("包装印刷", "工业涂装", "其他"))
        category = rng.choice(("低VOCs原辅材料替代", "VOCs综合治理"))
    credit = uscc(rng, code)
    seen.add((credit, category))
    planned, actual, status = _item_dates(rng, today)
    if category == "旁路排查整治":
        planned = min(planned, dt.date(2021, 3, 31))
        count = rng.randint(0, 3)
        disposal = rng.choice(("取消", "铅封", "安装自动监控")) if count else "无"
    else:
        count, disposal = None, None
    return {
        "unit_code": code, "enterprise": enterprise, "credit_code": credit, "industry": industry,
        "category": category, "bypass_count": count, "bypass_disposal": disposal, "planned_date": planned,
        "actual_date": actual, "status": status, "remarks": None,
    }


GENERATORS = {"heating": heating, "trucks": trucks, "boilers": boilers, "kilns": kilns, "vocs": vocs}


def records(ledger_key: str, n: int, *, seed: int = 1, check: bool = True) -> Iterator[dict[str, Any]]:
    """`n` valid records of a ledger; with `check`, each goes through check_record (errors raise)."""
    rng = random.Random(seed)
    today = dt.date.today()
    seen: set = set()
    make = GENERATORS[ledger_key]
    for _ in range(n):
        raw = make(rng, today, seen)
        if check:
            checked = check_record(ledger_key, raw, today=today)
            if not checked.ok:
                raise AssertionError(f"{ledger_key}: {[p.text() for p in checked.errors]} in {raw}")
            yield checked.values
        else:
            yield raw
