"""What the demo's generators share: one seed, profiles of the units, names, places, codes with valid check characters."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.reference import reference
from jzair_desktop.services import targets as targets_service

DEFAULT_SEED = 2020
FIRST_DAY = dt.date(2020, 3, 1)
LAST_DAY = dt.date(2021, 3, 31)
MONTHS = ("2020-10", "2020-11", "2020-12", "2021-01", "2021-02", "2021-03")
CITY_AREA = "市城区"
# City totals of what the counties find (no fixed target in the plan).
BOILERS_FOUND = 150
BYPASS_FOUND = 40
TANKS_FOUND = 20


# --- units ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitProfile:
    """How a unit looks in the demo.

    weight: share of the city targets (roughly the resident population, 万人).
    progress: share of the unit's targets done by the end of the campaign.
    entered: share of the heating target entered in the ledger (the rest not yet surveyed).
    late: share of the work finished after the heating season began (2020-11 … 2021-03).
    id_area: the 身份证号 area code most residents carry (太谷区 was 太谷县 140726 until 2019;
             晋中开发区 residents are registered in 榆次区).
    """

    code: str
    weight: float
    progress: float
    entered: float
    late: float
    id_area: str
    townships: tuple[str, ...]
    industries: tuple[tuple[str, float], ...]  # kiln industries and their weight in this unit


UNIT_PROFILES: dict[str, UnitProfile] = {
    p.code: p
    for p in (
        UnitProfile("140702", 76, 1.0, 1.0, 0.04, "140702",
                    ("东阳镇", "修文镇", "长凝镇", "北田镇", "鸣谦镇", "乌金山镇", "张庆乡", "庄子乡", "东赵乡",
                     "郭家堡乡", "使赵乡", "锦纶街道", "北关街道", "西南街道", "新华街道", "路西街道", "安宁街道"),
                    (("铸造", 4), ("建材", 2), ("其他", 2), ("有色", 1))),
        UnitProfile("140703", 30, 1.0, 1.0, 0.06, "140726",
                    ("明星镇", "胡村镇", "范村镇", "侯城乡", "北洸乡", "水秀乡", "阳邑乡", "小白乡", "任村乡"),
                    (("铸造", 3), ("建材", 2), ("其他", 1))),
        UnitProfile("140721", 11, 1.0, 1.0, 0.08, "140721",
                    ("箕城镇", "云竹镇", "郝北镇", "社城镇", "河峪乡", "北寨乡", "西马乡", "岚峪乡", "讲堂乡"),
                    (("建材", 3), ("焦化", 1), ("铸造", 1))),
        UnitProfile("140722", 15, 0.88, 1.0, 0.35, "140722",
                    ("辽阳镇", "桐峪镇", "麻田镇", "芹泉镇", "拐儿镇", "寒王乡", "石匣乡", "龙泉乡", "粟城乡",
                     "羊角乡"),
                    (("建材", 3), ("其他", 1))),
        UnitProfile("140723", 12, 0.91, 1.0, 0.30, "140723",
                    ("义兴镇", "李阳镇", "松烟镇", "青城镇", "横岭镇", "喂马乡", "平松乡", "阳光占乡", "牛川乡",
                     "马坊乡"),
                    (("建材", 3), ("焦化", 1), ("其他", 1))),
        UnitProfile("140724", 19, 1.0, 1.0, 0.06, "140724",
                    ("乐平镇", "大寨镇", "沾尚镇", "皋落镇", "东冶头镇", "李家庄乡", "界都乡", "三都乡", "孔氏乡",
                     "赵壁乡", "闫庄乡"),
                    (("建材", 3), ("铸造", 1), ("其他", 1))),
        UnitProfile("140725", 19, 1.0, 1.0, 0.07, "140725",
                    ("朝阳镇", "南燕竹镇", "宗艾镇", "平头镇", "松塔镇", "西洛镇", "尹灵芝镇", "解愁乡", "平舒乡",
                     "景尚乡", "马首乡", "上湖乡", "羊头崖乡"),
                    (("建材", 3), ("焦化", 1), ("有色", 1))),
        UnitProfile("140727", 25, 1.0, 1.0, 0.05, "140727",
                    ("昭馀镇", "东观镇", "古县镇", "贾令镇", "城赵镇", "来远镇", "西六支乡", "峪口乡"),
                    (("建材", 4), ("其他", 2), ("铸造", 1))),
        UnitProfile("140728", 45, 1.0, 1.0, 0.05, "140728",
                    ("古陶镇", "段村镇", "东泉镇", "洪善镇", "宁固镇", "南政乡", "中都乡", "岳壁乡", "卜宜乡",
                     "孟山乡", "朱坑乡", "襄垣乡", "杜家庄乡", "香乐乡"),
                    (("焦化", 3), ("建材", 2), ("铸造", 1))),
        UnitProfile("140729", 25, 1.0, 1.0, 0.08, "140729",
                    ("翠峰镇", "静升镇", "两渡镇", "夏门镇", "南关镇", "段纯镇", "英武乡", "王禹乡", "坛镇乡",
                     "梁家墕乡", "交口乡", "马和乡"),
                    (("焦化", 4), ("有色", 1), ("建材", 1))),
        UnitProfile("140781", 41, 1.0, 1.0, 0.03, "140781",
                    ("义安镇", "张兰镇", "连福镇", "洪山镇", "龙凤镇", "绵山镇", "义棠镇", "城关乡", "宋古乡",
                     "三佳乡", "北关街道", "西关街道", "东南街道", "西南街道", "北坛街道"),
                    (("焦化", 4), ("钢铁", 2), ("建材", 2), ("其他", 1))),
        UnitProfile("140799", 12, 1.0, 1.0, 0.04, "140702",
                    ("汇通产业园区", "大学城产业园区", "潇河产业园区", "科技创新城", "修文产业园区"),
                    (("铸造", 2), ("其他", 2), ("有色", 1))),
    )
}


# The tasks a lagging unit left partly undone (the rest of its work, and every other unit's, is finished):
# ledger keys, or monthly indicator keys.
LAGGING: dict[str, tuple[str, ...]] = {
    "140722": ("heating", "trucks", "mines.open_pit"),  # 左权县
    "140723": ("heating", "boilers"),  # 和顺县
}


def progress_of(unit_code: str, task: str) -> float:
    """The share of a task the unit finished: its profile's progress where it lags on the task, else all."""
    return UNIT_PROFILES[unit_code].progress if task in LAGGING.get(unit_code, ()) else 1.0


def demo_weights() -> dict[str, float]:
    """{unit_code: weight} used to split the city targets across the units (roughly population)."""
    return {code: p.weight for code, p in UNIT_PROFILES.items()}


# --- result --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    added: bool  # False: the database already held ledger records and nothing was added
    existing_records: int  # ledger records found before (live and deleted)
    counts: dict[str, int] = field(default_factory=dict)  # records written per ledger
    unit_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # ledger -> unit_code -> records
    targets: int = 0  # unit targets written
    monthly_figures: int = 0
    air_quality_months: int = 0
    notes: tuple[str, ...] = ()  # steps left out, in Chinese
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- small helpers -------------------------------------------------------------------------------


def seeded(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible stream per (seed, part…): string seeds hash with SHA-512."""
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def _uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


@functools.lru_cache(maxsize=256)
def _cumulative(weighted: tuple[tuple[Any, float], ...]) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    return tuple(w[0] for w in weighted), tuple(itertools.accumulate(w[1] for w in weighted))


def pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    """One item of ((item, weight), …) drawn by weight."""
    items, cum = _cumulative(weighted)
    return items[bisect.bisect(cum, rng.random() * cum[-1])]


def random_day(start: dt.date, end: dt.date, rng: random.Random) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _clamp(day: dt.date, low: dt.date, high: dt.date) -> dt.date:
    return max(low, min(high, day))


def _stamp(day: dt.date, rng: random.Random, *, last: dt.date) -> dt.datetime:
    """A working-hours time when a clerk entered a record dated `day` (a few days later)."""
    entered = min(day + dt.timedelta(days=rng.randint(0, 12)), last)
    return dt.datetime.combine(entered, dt.time(rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59)))


# --- people --------------------------------------------------------------------------------------

SURNAMES = (
    ("王", 8), ("李", 6), ("张", 6), ("刘", 5), ("赵", 4), ("郭", 4), ("杨", 3), ("武", 3), ("韩", 2), ("贾", 2),
    ("任", 2), ("高", 2), ("闫", 2), ("郝", 2), ("马", 2), ("陈", 2), ("梁", 2), ("田", 2), ("宋", 2), ("孙", 1.5),
    ("乔", 1.5), ("侯", 1.5), ("白", 1.5), ("程", 1.5), ("冀", 1), ("牛", 1), ("范", 1), ("孟", 1), ("吕", 1),
    ("薛", 1), ("段", 1), ("秦", 1), ("常", 1), ("霍", 1), ("史", 1), ("温", 1), ("曹", 1), ("苏", 1), ("申", 1),
    ("周", 1), ("吴", 1), ("胡", 1), ("董", 1), ("石", 1), ("冯", 1), ("康", 0.6), ("岳", 0.6), ("雷", 0.5),
    ("安", 0.5), ("成", 0.5), ("崔", 0.5), ("樊", 0.5), ("卫", 0.4), ("原", 0.4), ("药", 0.2), ("要", 0.2),
)  # fmt: skip
MALE_NAMES = (
    "建国", "建军", "建平", "建华", "建明", "国庆", "国强", "国华", "国平", "保平", "保国", "保全", "金锁", "拴柱",
    "二虎", "三虎", "满仓", "福生", "文明", "文斌", "志强", "志刚", "志明", "海平", "海军", "红军", "卫东", "卫国",
    "永生", "永平", "俊峰", "俊杰", "晋生", "晋平", "晋明", "树林", "树清", "玉明", "玉林", "存良", "润生", "太平",
    "和平", "新民", "爱国", "长青", "双喜", "喜生", "锁柱", "来福", "富贵", "明亮", "根旺", "全喜", "进才", "守义",
    "计平", "拉虎", "小平", "云生", "瑞平", "春生", "秋生", "冬生", "德胜", "德明", "继红", "向东", "跃进", "晓军",
    "勇", "伟", "强", "军", "斌", "峰", "刚", "鹏", "亮", "杰", "涛", "波", "平", "明", "辉", "磊",
)  # fmt: skip
FEMALE_NAMES = (
    "玉兰", "桂兰", "桂花", "秀英", "秀兰", "秀珍", "凤英", "凤兰", "金花", "翠兰", "翠花", "桂英", "爱莲", "爱琴",
    "丽萍", "丽娟", "海燕", "红梅", "春梅", "冬梅", "美兰", "润梅", "改梅", "改莲", "变英", "巧英", "月英", "素珍",
    "淑珍", "俊英", "晓燕", "拉梅", "粉梅", "存莲", "香莲", "银花", "艳", "霞", "娟", "芳", "敏", "静", "丽", "燕",
)  # fmt: skip
MOBILE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "182", "183", "187",
                   "188", "130", "131", "132", "155", "156", "185", "186", "133", "153", "180", "189", "177")


def person_name(rng: random.Random, *, male: bool) -> str:
    return pick(rng, SURNAMES) + rng.choice(MALE_NAMES if male else FEMALE_NAMES)


def id_number(rng: random.Random, area: str, *, male: bool, first: dt.date, last: dt.date) -> str:
    """A 身份证号 with a real birth date, the sex digit matching `male` and a valid GB 11643 check char."""
    birth = random_day(first, last, rng)
    seq = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + checkdigits.id_check_char(body)


def phone_number(rng: random.Random) -> str | None:
    r = rng.random()
    if r < 0.08:
        return None
    if r < 0.13:  # a landline in 晋中 (area code 0354)
        return f"0354-{rng.choice('2345678')}{rng.randint(0, 999999):06d}"
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99999999):08d}"


# --- places --------------------------------------------------------------------------------------

_VILLAGE_SUFFIX = ("庄", "堡", "沟", "峪", "岭", "坪", "寨", "窑", "湾", "垴", "营", "坡")
_DIRECTION = ("东", "西", "南", "北", "前", "后", "上", "下", "大", "小", "中")
_BASE = ("庄", "河", "沟", "堡", "关", "寨", "峪", "营", "街", "阳", "城", "坡", "岭", "店", "泉", "湾", "社", "峪口")
_NAMED = (
    "什贴", "车辋", "聂店", "源涡", "怀仁", "相立", "杨盘", "王湖", "鸣李", "南要", "北要", "要村", "罗城", "张村",
    "石圪节", "马连曲", "范家庄", "后营", "良户", "梁家寨", "红崖", "柳林", "杏花", "枣林", "桃园", "槐树底",
    "新庄", "新建", "白家庄", "郝家沟", "候家庄", "韩村", "神堂", "窑头", "古城", "营盘", "龙门", "安乐", "太平",
    "永康", "兴隆", "丰乐", "水磨", "西沟", "东社", "南社", "土门", "石门", "双井", "三泉", "五里铺", "十里铺",
)  # fmt: skip
_COMMUNITY = (
    "锦纶", "顺城", "桥东", "桥西", "新建", "文苑", "安宁", "迎宾", "华苑", "紫金", "龙湖", "汇通", "蕴华",
    "榆华", "学府", "康乐", "和平", "建设", "光明", "中心", "花园", "御景", "新华", "朝阳", "东方", "南关", "北关",
    "西关", "振兴", "阳光", "幸福", "丽景", "翠苑", "滨河", "长安", "金地",
)  # fmt: skip


def _is_urban(township: str) -> bool:
    return township.endswith(("街道", "园区", "创新城"))


def stem(township: str) -> str:
    for suffix in ("街道", "镇", "乡"):
        if township.endswith(suffix):
            return township[: -len(suffix)]
    return township


@dataclass(slots=True)
class Place:
    township: str
    village: str
    size: int  # households of the village
    urban: bool


def places_of(seed: int, unit_code: str) -> list[Place]:
    """The villages (村) and communities (社区) of a unit, with their household counts."""
    profile = UNIT_PROFILES[unit_code]
    out: list[Place] = []
    for township in profile.townships:
        rng = seeded(seed, "places", unit_code, township)
        urban = _is_urban(township)
        names: list[str] = []
        if urban:
            want = rng.randint(6, 11)
            pool = list(_COMMUNITY)
            rng.shuffle(pool)
            names = [f"{n}社区" for n in pool[:want]]
        else:
            want = rng.randint(14, 28) if township.endswith("镇") else rng.randint(10, 20)
            names.append(f"{stem(township)}村")  # the seat village carries the township's name
            while len(names) < want:
                r = rng.random()
                if r < 0.4:
                    name = f"{pick(rng, SURNAMES)}家{rng.choice(_VILLAGE_SUFFIX)}村"
                elif r < 0.75:
                    name = f"{rng.choice(_DIRECTION)}{rng.choice(_BASE)}村"
                else:
                    name = f"{rng.choice(_NAMED)}村"
                if name not in names:
                    names.append(name)
        for i, name in enumerate(names):
            if urban:
                size = rng.randint(300, 1400)
            else:
                size = rng.randint(200, 700) if i == 0 else int(rng.triangular(60, 520, 180))
            out.append(Place(township, name, size, urban))
    return out


# --- organisations and credit codes --------------------------------------------------------------

_TRADE_NAMES = (
    "宏泰", "鑫源", "华盛", "恒达", "晋丰", "瑞祥", "永昌", "兴隆", "金盛", "通达", "德丰", "嘉禾", "昌盛", "鼎盛",
    "天润", "腾飞", "福源", "广源", "东升", "万通", "聚丰", "泰和", "晟达", "润泽", "宏远", "鑫隆", "金泰", "荣盛",
    "佳和", "盛源", "汇鑫", "裕丰", "富源", "宏基", "泰丰", "恒昌", "顺达", "鸿运", "宝鑫", "金鼎", "兴旺", "华晋",
    "晋源", "晋泰", "鹏程", "同德", "义和", "乾元", "铭远", "中兴", "亿丰", "凯达", "创辉", "博远", "锦程", "双合",
)  # fmt: skip
_USCC_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check(body8: str) -> str:
    """GB 11714 check character of the 9-character organisation code inside a credit code."""
    total = sum(int(c, 36) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def credit_code(rng: random.Random, kind: str, region: str) -> str:
    """A GB 32100 统一社会信用代码: `kind` is the two-character prefix (91 企业, 92 个体, 93 合作社,
    11 机关, 12 事业单位); region a 1407xx code; organisation code with its GB 11714 check; check char."""
    if kind.startswith("9") and rng.random() < 0.7:  # registered since 2015: MA… numbers
        body = "MA0" + "".join(rng.choice(_USCC_BODY) for _ in range(5))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = f"{kind}{region}{body}{org_code_check(body)}"
    return first17 + checkdigits.uscc_check_char(first17)


@dataclass(slots=True)
class Org:
    name: str
    code: str | None
    industry: str = ""


class OrgRegistry:
    """Unique organisation names and credit codes across the demo."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.codes: set[str] = set()

    def make(self, rng: random.Random, unit_code: str, build: Callable[[str], str], kind: str | None,
             industry: str = "") -> Org:
        unit_name = reference().unit_by_code(unit_code).name
        region = "140700" if unit_code == "140799" else unit_code
        for _ in range(200):
            name = build(rng.choice(_TRADE_NAMES))
            if name in self.names:
                continue
            code = None
            if kind is not None:
                code = credit_code(rng, kind, region)
                while code in self.codes:
                    code = credit_code(rng, kind, region)
                self.codes.add(code)
            self.names.add(name)
            return Org(name, code, industry)
        raise RuntimeError(f"demo: no free organisation name left in {unit_name}")


def place_prefix(rng: random.Random, unit_name: str) -> str:
    if unit_name == "晋中开发区":
        return rng.choice(("晋中", "山西", "晋中市"))
    return rng.choice((unit_name, unit_name, "山西", "晋中市"))


# --- the generator -------------------------------------------------------------------------------




# industries of the kiln ledger's enterprises and the words their names are made of
KILN_WORDS = {
    "焦化": ("焦化", "煤焦", "煤化工"), "钢铁": ("钢铁", "特钢", "冶金"),
    "建材": ("水泥", "建材", "耐火材料", "玻璃器皿", "新型墙材", "陶瓷"),
    "有色": ("铝业", "镁业", "金属材料"), "铸造": ("铸造", "精密铸造", "铸业", "机械铸造"),
    "其他": ("碳素", "化工", "活性炭", "农产品加工"),
}  # fmt: skip


class Context:
    """What every ledger's generator shares: the seed, the scale, the dates, the registries of names and codes."""

    def __init__(self, seed: int, scale: float, today: dt.date) -> None:
        self.seed = seed
        self.scale = scale
        self.last = min(LAST_DAY, today)
        self.first = min(FIRST_DAY, self.last)
        self.ref = reference()
        self.units = [u.code for u in self.ref.units]
        self.weights = demo_weights()
        self.orgs = OrgRegistry()
        self.id_numbers: set[str] = set()
        self.plates: set[str] = set()
        self.vins: set[str] = set()
        self.industrial: dict[str, list[Org]] = {}
        self.vocs_categories: dict[str | None, set[str]] = {}
        target = {i.key: i.target for i in self.ref.indicators}
        # The unit shares of the plan's fixed targets (as split_city_targets makes them); the 'all found'
        # ledgers (boilers, bypasses) and 储罐排查 get typical city totals split the same way.
        self.method_shares = {
            m: self.shares(target[k])
            for m, k in (("气代煤", "heating.gas"), ("电代煤", "heating.electric"), ("集中供热", "heating.central"),
                         ("其他清洁能源", "heating.other"))
        }
        self.truck_shares = self.shares(target["trucks.eliminated"])
        self.boiler_shares = self.shares(BOILERS_FOUND)
        self.kiln_shares = {k: self.shares(target[k]) for k in ("kilns.kiln", "kilns.fugitive")}
        self.vocs_shares = {k: self.shares(target[k]) for k in ("vocs.treatment", "vocs.substitution",
                                                                "vocs.vapor_monitor")}
        self.vocs_shares["vocs.bypass"] = self.shares(BYPASS_FOUND)
        self.vocs_shares["vocs.tanks"] = self.shares(TANKS_FOUND)

    # shares of a city target, the same split the target service makes
    def shares(self, total: float) -> dict[str, int]:
        return targets_service.largest_remainder(round(total), self.weights, self.units)

    def scaled(self, n: float) -> int:
        """A count at the demo's scale; a unit with any share keeps at least one record of it."""
        return 0 if n <= 0 else max(1, round(n * self.scale))

    def date(self, day: dt.date) -> dt.date:
        return _clamp(day, self.first, self.last)

    def meta(self, rng: random.Random, day: dt.date | None) -> dict[str, Any]:
        if day is None:
            day = random_day(dt.date(2020, 9, 1), self.last, rng)
        stamp = _stamp(day, rng, last=self.last)
        return {"uuid": _uuid(rng), "created_at": stamp, "updated_at": stamp}

    def item_dates(self, rng: random.Random, p: UnitProfile, planned: dt.date, done: bool
                   ) -> tuple[str, dt.date | None]:
        if not done:
            return ("施工中" if rng.random() < 0.65 else "未开工"), None
        if rng.random() < p.late:
            actual = planned + dt.timedelta(days=rng.randint(1, 75))
        else:
            actual = planned - dt.timedelta(days=int(rng.triangular(0, 150, 20)))
        actual = self.date(actual)
        closed = actual < dt.date(2021, 1, 15) and rng.random() < 0.3
        return ("已销号" if closed else "已完成"), actual

    def industrial_orgs(self, rng: random.Random, unit_code: str, n: int) -> list[Org]:
        p = UNIT_PROFILES[unit_code]
        unit_name = self.ref.unit_by_code(unit_code).name
        out = []
        for _ in range(n):
            industry = pick(rng, p.industries)
            words = KILN_WORDS[industry]
            org = self.orgs.make(
                rng, unit_code,
                lambda t, w=words: f"{place_prefix(rng, unit_name)}{t}{rng.choice(w)}"
                f"{rng.choice(('有限公司', '有限公司', '有限责任公司', '股份有限公司'))}",
                "91", industry,
            )
            out.append(org)
        return out

