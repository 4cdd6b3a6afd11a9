"""The one column registry of the five ledgers (domain.md §3).

Forms, tables, Excel templates, import, export and PDF tables all read their columns from here.
`Column.key` is also the attribute / SQL column name in storage.models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jzair_desktop.domain.reference import reference

# Physical ranges of the ledgers' numbers (inclusive): a value outside is a typing or file error.
HOUSEHOLD_AREA = (0.0, 50_000.0)  # 采暖面积 of one household (a farm with its sheds at most), 平方米
HOUSEHOLD_SUBSIDY = (0.0, 1_000_000.0)  # 清洁取暖 subsidy of one household, 元
TRUCK_SUBSIDY = (0.0, 1_000_000.0)  # 淘汰补贴 of one truck, 元
BOILER_CAPACITY = (0.0, 5_000.0)  # 额定蒸发量 of one boiler, 蒸吨/小时 (the largest utility boilers are ~3,000)
BYPASS_COUNT = (0.0, 1_000.0)  # 旁路 of one enterprise

# Value kinds a column can hold; validation.py knows how to parse and check each.
KINDS = ("unit", "text", "enum", "date", "int", "float", "bool", "idcard", "phone", "plate", "vin", "uscc")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    kind: str
    required: bool = False
    choices_key: str | None = None
    aliases: tuple[str, ...] = ()
    width: int = 12  # characters, for Excel and table columns
    max_length: int = 100
    help: str = ""
    default: object = None
    # Numbers: the physical range a value must fall in (inclusive), said in messages with `range_unit`.
    value_range: tuple[float, float] | None = None
    range_unit: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        if self.choices_key is None:
            return ()
        return reference().choices[self.choices_key]

    @property
    def all_headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True, slots=True)
class LedgerDef:
    key: str
    title: str  # short name for navigation
    sheet_title: str  # full ledger name (Excel sheet / PDF)
    columns: tuple[Column, ...]
    status_field: str | None  # None: every record counts as done (trucks)
    done_statuses: tuple[str, ...]
    done_date_field: str
    planned_date_field: str | None
    township_field: str | None
    label_field: str  # what names a record in messages ("户主 张三")
    natural_keys: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


COUNTY = Column(
    "unit_code",
    "县（区、市）",
    "unit",
    required=True,
    aliases=("县(市、区)", "县（市、区）", "区县", "县区", "所属区县", "县(区、市)"),
    width=12,
    help="填写县（区、市）名称或行政区划代码，如 榆次区 或 140702。",
)
REMARKS = Column("remarks", "备注", "text", width=20, max_length=500, help="可不填。")
STATUS_ITEM = Column(
    "status", "状态", "enum", required=True, choices_key="item_status", width=10,
    help="已完成、已销号 必须填写实际完成日期。",
)
PLANNED = Column("planned_date", "计划完成日期", "date", required=True, width=14, help="日期，如 2020-11-30。")
ACTUAL = Column(
    "actual_date", "实际完成日期", "date", width=14, help="状态为已完成、已销号时必填；不得晚于今天。"
)
USCC_REQUIRED = Column(
    "credit_code", "统一社会信用代码", "uscc", required=True, aliases=("社会信用代码", "信用代码"), width=22,
    help="18位统一社会信用代码（GB 32100），校验位必须正确。",
)
ENTERPRISE = Column("enterprise", "企业名称", "text", required=True, aliases=("单位名称",), width=26)

HEATING = LedgerDef(
    key="heating",
    title="清洁取暖",
    sheet_title="清洁取暖散煤替代台账",
    columns=(
        COUNTY,
        Column("township", "乡（镇）", "text", required=True, aliases=("乡镇", "所属乡镇", "乡镇（街道）"), width=12),
        Column("village", "村（社区）", "text", required=True, aliases=("村", "所属村", "村名"), width=12),
        Column("householder", "户主姓名", "text", required=True, aliases=("户主", "用户姓名"), width=10, max_length=40),
        Column(
            "id_number", "身份证号", "idcard", aliases=("身份证号码", "公民身份号码"), width=22,
            help="18位居民身份证号码，请将该列设置为文本格式后再填写。",
        ),
        Column("phone", "联系电话", "phone", aliases=("联系方式",), width=14),
        Column("area_m2", "采暖面积（平方米）", "float", aliases=("采暖面积",), width=12, help="数字，单位平方米。",
               value_range=HOUSEHOLD_AREA, range_unit="平方米"),
        Column("method", "改造方式", "enum", required=True, choices_key="heating_method", width=12),
        Column("status", "状态", "enum", required=True, choices_key="heating_status", width=10),
        Column("done_date", "完成日期", "date", width=14, help="状态为已完工、已验收时必填；不得晚于今天。"),
        Column("subsidy_yuan", "补贴金额（元）", "float", aliases=("补贴金额",), width=12,
               value_range=HOUSEHOLD_SUBSIDY, range_unit="元"),
        Column(
            "keeps_coal_stove", "保留原燃煤设施", "bool", choices_key="yes_no", width=10,
            help="2020年改造的用户须经过一个采暖季运行检验，不得拆除原燃煤设施。",
        ),
        REMARKS,
    ),
    status_field="status",
    done_statuses=("已完工", "已验收"),
    done_date_field="done_date",
    planned_date_field=None,
    township_field="township",
    label_field="householder",
    natural_keys=(("id_number",), ("unit_code", "township", "village", "householder")),
)

TRUCKS = LedgerDef(
    key="trucks",
    title="柴油货车",
    sheet_title="国三及以下营运柴油货车淘汰台账",
    columns=(
        COUNTY,
        Column("plate", "号牌号码", "plate", required=True, aliases=("车牌号", "车牌号码"), width=12,
               help="如 晋K12345；“晋K·12345”“晋k 12345”会自动规范。"),
        Column("vin", "车辆识别代号", "vin", required=True, aliases=("车架号", "车辆识别码", "VIN"), width=20,
               help="17位车辆识别代号，不含 I、O、Q，第9位为校验位。"),
        Column("emission_std", "排放标准", "enum", required=True, choices_key="truck_emission",
               aliases=("排放阶段",), width=10, help="国三及以下；国四及以上不在淘汰范围。"),
        Column("vehicle_type", "车辆类型", "enum", required=True, choices_key="truck_type", width=10),
        Column("owner", "车辆所有人", "text", required=True, aliases=("所有人", "车主"), width=20),
        Column("usage", "使用性质", "enum", choices_key="truck_usage", width=10, default="营运",
               help="空白视为营运；非营运车辆不计入淘汰任务。"),
        Column("method", "淘汰方式", "enum", required=True, choices_key="truck_method", width=10),
        Column("eliminated_date", "淘汰日期", "date", required=True, width=14,
               help="2019-01-01至2021-12-31之间，不得晚于今天。"),
        Column("subsidy_yuan", "补贴金额（元）", "float", aliases=("补贴金额",), width=12,
               value_range=TRUCK_SUBSIDY, range_unit="元"),
        REMARKS,
    ),
    status_field=None,
    done_statuses=(),
    done_date_field="eliminated_date",
    planned_date_field=None,
    township_field=None,
    label_field="plate",
    natural_keys=(("vin",), ("plate",)),
)

BOILERS = LedgerDef(
    key="boilers",
    title="锅炉综合整治",
    sheet_title="锅炉综合整治台账",
    columns=(
        COUNTY,
        Column("org_name", "单位名称", "text", required=True, aliases=("企业名称",), width=26),
        Column("credit_code", "统一社会信用代码", "uscc", aliases=("社会信用代码", "信用代码"), width=22,
               help="可不填；填写时校验位必须正确。"),
        Column("boiler_no", "锅炉编号", "text", required=True, width=12),
        Column("capacity_th", "额定蒸发量（蒸吨/小时）", "float", required=True, aliases=("额定蒸发量",), width=14,
               help="大于0；热水锅炉按 0.7MW = 1蒸吨/小时 折算，可填“1.4MW”。",
               value_range=BOILER_CAPACITY, range_unit="蒸吨/小时"),
        Column("fuel", "燃料类型", "enum", required=True, choices_key="boiler_fuel", width=10),
        Column("measure", "整治方式", "enum", required=True, choices_key="boiler_measure", width=14,
               help="35蒸吨/小时以下燃煤锅炉应淘汰拆除或清洁能源替代；达标治理不计入淘汰。"),
        PLANNED,
        ACTUAL,
        STATUS_ITEM,
        Column("rural_estate", "农村地区自建小区", "enum", choices_key="yes_no", width=10,
               aliases=("农村自建小区", "是否农村地区自建小区"),
               help="未完成清洁取暖改造的农村地区自建小区燃煤锅炉填“是”（方案第十五条除外情形，不计入淘汰任务）；其他可不填。"),
        REMARKS,
    ),
    status_field="status",
    done_statuses=("已完成", "已销号"),
    done_date_field="actual_date",
    planned_date_field="planned_date",
    township_field=None,
    label_field="org_name",
    natural_keys=(("unit_code", "org_name", "boiler_no"),),
)

KILNS = LedgerDef(
    key="kilns",
    title="工业炉窑",
    sheet_title="工业炉窑及无组织排放治理台账",
    columns=(
        COUNTY,
        ENTERPRISE,
        USCC_REQUIRED,
        Column("industry", "行业", "enum", required=True, choices_key="kiln_industry", width=10),
        Column("category", "治理类别", "enum", required=True, choices_key="kiln_category", width=16),
        Column("content", "治理内容", "text", required=True, width=30, max_length=500),
        PLANNED,
        ACTUAL,
        STATUS_ITEM,
        REMARKS,
    ),
    status_field="status",
    done_statuses=("已完成", "已销号"),
    done_date_field="actual_date",
    planned_date_field="planned_date",
    township_field=None,
    label_field="enterprise",
    natural_keys=(("credit_code", "category", "content"),),
)

VOCS = LedgerDef(
    key="vocs",
    title="VOCs治理",
    sheet_title="挥发性有机物（VOCs）治理台账",
    columns=(
        COUNTY,
        ENTERPRISE,
        USCC_REQUIRED,
        Column("industry", "行业", "enum", required=True, choices_key="vocs_industry", width=10),
        Column("category", "治理类别", "enum", required=True, choices_key="vocs_category", width=18),
        Column("bypass_count", "旁路数量", "int", width=10, help="整数，不小于0。",
               value_range=BYPASS_COUNT, range_unit="个"),
        Column("bypass_disposal", "旁路处置", "enum", choices_key="vocs_bypass_disposal", width=12,
               help="旁路数量大于0时必须选择取消、铅封或安装自动监控。"),
        PLANNED,
        ACTUAL,
        STATUS_ITEM,
        REMARKS,
    ),
    status_field="status",
    done_statuses=("已完成", "已销号"),
    done_date_field="actual_date",
    planned_date_field="planned_date",
    township_field=None,
    label_field="enterprise",
    natural_keys=(("credit_code", "category"),),
)

LEDGERS: dict[str, LedgerDef] = {d.key: d for d in (HEATING, TRUCKS, BOILERS, KILNS, VOCS)}
LEDGER_KEYS: tuple[str, ...] = tuple(LEDGERS)


def ledger(key: str) -> LedgerDef:
    """A ledger by its key or as a user names it: its title (清洁取暖, 柴油货车) or full name, any letter case,
    surrounding spaces and the word 台账 aside. The one resolver wherever a ledger is named."""
    try:
        return LEDGERS[key]
    except KeyError:
        pass
    found = _ledger_names().get(_name_form(key))
    if found is not None:
        return found
    from jzair_desktop.errors import JzairError

    names = "、".join(f"{d.title}（{k}）" for k, d in LEDGERS.items())
    raise JzairError(f"未知的台账：“{key}”。可选：{names}") from None


def _name_form(text: object) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text or "")).strip().casefold().replace(" ", "")
    return t[:-2] if t.endswith("台账") and len(t) > 2 else t


def _ledger_names() -> dict[str, LedgerDef]:
    names: dict[str, LedgerDef] = {}
    for d in LEDGERS.values():
        for text in (d.key, d.title, d.sheet_title):
            names.setdefault(_name_form(text), d)
    return names
