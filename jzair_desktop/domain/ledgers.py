"""The one registry of the five ledgers (domain.md §3): everything that is particular to a ledger.

Forms, tables, Excel templates, import, export, packages, reports and PDF tables all read their columns,
duplicate rules, cross-field checks and texts from here; nothing else names a ledger key.
`Column.key` is also the attribute / SQL column name in storage.models.

A new ledger is a `LedgerDef` registered in LEDGERS, an Alembic migration creating its table (the ORM
class comes from storage.models.ledger_model), a demo generator and tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jzair_desktop.domain.reference import reference

# Severities of a problem (validation.Problem); here so that duplicate rules and checks can name them.
ERROR = "error"
WARNING = "warning"

# Dates and limits of the plan that the ledgers' cross-field checks apply.
TRUCK_WINDOW = (dt.date(2019, 1, 1), dt.date(2021, 12, 31))
BYPASS_DUE = dt.date(2021, 3, 31)
SMALL_COAL_BOILER_TH = 35.0

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
class DuplicateRule:
    """Records with equal values in `fields` are one object; the rules in order are also the natural keys
    an import matches existing records by (the first rule first)."""

    fields: tuple[str, ...]
    severity: str
    describe: str  # how the duplicate is named in messages


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The dashboard's stacked-bar chart of a ledger (services.breakdown)."""

    title: str
    category_field: str
    stack_field: str
    after: str | None  # the stack of records done after the as-of date; None: every live record as it is


# check(values, add): the ledger's own rules over the parsed values of one record; add(field key, message,
# severity=ERROR) reports a problem.
AddProblem = Callable[..., None]
CrossCheck = Callable[[Mapping[str, Any], AddProblem], None]
# detail(record): the 说明 of an open item in the monthly report (a record object of the ledger's table).
ItemDetail = Callable[[Any], str]


def _no_check(values: Mapping[str, Any], add: AddProblem) -> None:
    return None


def _no_detail(record: Any) -> str:
    return ""


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
    # One list: duplicates within a file / against stored records, and the import's natural keys.
    duplicate_rules: tuple[DuplicateRule, ...] = ()
    check: CrossCheck = _no_check  # rules across fields beyond the common date/status rules
    import_rules: tuple[str, ...] = ()  # the template's 填写说明 lines particular to this ledger
    item_detail: ItemDetail = _no_detail  # the monthly report's 说明 of an open item
    # How the monthly report lists open items: "item" (planned date passed) or "household" (heating: the
    # task's due date passed; listed per household or summarised per 乡（镇）); None: nothing is open.
    open_items: str | None = "item"
    filter_field: str = ""  # the ledger page's second filter; "" = the status field
    breakdown: Breakdown | None = None
    member: str = ""  # the package member of the records; "" = "<key>.jsonl"

    def __post_init__(self) -> None:
        if not self.filter_field:
            object.__setattr__(self, "filter_field", self.status_field or "")
        if not self.member:
            object.__setattr__(self, "member", f"{self.key}.jsonl")
        keys = {c.key for c in self.columns}
        named = [*(f for r in self.duplicate_rules for f in r.fields), self.done_date_field, self.label_field,
                 *(f for f in (self.status_field, self.planned_date_field, self.township_field) if f)]
        if not self.filter_field:
            raise ValueError(f"ledger {self.key}: a ledger without a status field needs a filter_field")
        named.append(self.filter_field)
        unknown = sorted(set(named) - keys)
        if unknown:
            raise ValueError(f"ledger {self.key}: unknown fields {unknown}")

    @property
    def natural_keys(self) -> tuple[tuple[str, ...], ...]:
        """The field sets an import matches existing records by, in order (the duplicate rules' fields)."""
        return tuple(r.fields for r in self.duplicate_rules)

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

def _number(value: float | None) -> str:
    """84,400 / 12.5 (as the PDF prints numbers: whole numbers without decimals)."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _check_heating(v: Mapping[str, Any], add: AddProblem) -> None:
    done = v.get("done_date")
    if v.get("keeps_coal_stove") == "否" and done is not None and done.year == 2020:
        add("keeps_coal_stove",
            "2020年新改造的用户未经过一个采暖季运行检验，不得拆除原燃煤取暖设施（方案第八条）", WARNING)
    for key in ("area_m2", "subsidy_yuan"):
        if v.get(key) is not None and v[key] < 0:
            add(key, "不能为负数")


def _check_trucks(v: Mapping[str, Any], add: AddProblem) -> None:
    if v.get("usage") == "非营运":
        add("usage", "方案只统计营运柴油货车的淘汰，非营运车辆不能录入本台账")
    day = v.get("eliminated_date")
    if day is not None and not (TRUCK_WINDOW[0] <= day <= TRUCK_WINDOW[1]):
        add("eliminated_date", f"{day.isoformat()} 不在 2019-01-01 至 2021-12-31 之间")
    if v.get("subsidy_yuan") is not None and v["subsidy_yuan"] < 0:
        add("subsidy_yuan", "不能为负数")


def _check_boilers(v: Mapping[str, Any], add: AddProblem) -> None:
    cap = v.get("capacity_th")
    if cap is not None and cap <= 0:
        add("capacity_th", "必须大于0")
    if (
        v.get("fuel") == "燃煤"
        and cap is not None
        and 0 < cap < SMALL_COAL_BOILER_TH
        and v.get("measure") not in (None, "淘汰拆除", "清洁能源替代")
        and v.get("rural_estate") != "是"  # the plan's exception: 农村地区自建小区
    ):
        add("measure", "35蒸吨/小时以下燃煤锅炉应淘汰拆除或清洁能源替代，达标治理不计入淘汰"
            "（方案第十五条；未完成清洁取暖改造的农村地区自建小区除外）", WARNING)


def _check_vocs(v: Mapping[str, Any], add: AddProblem) -> None:
    count = v.get("bypass_count")
    if count is not None and count < 0:
        add("bypass_count", "不能为负数")
    if count is not None and count > 0 and v.get("bypass_disposal") in (None, "无"):
        add("bypass_disposal", f"有{count}个旁路，必须选择处置方式：取消、铅封或安装自动监控")
    planned = v.get("planned_date")
    if v.get("category") == "旁路排查整治" and planned is not None and planned > BYPASS_DUE:
        add("planned_date", "旁路排查整治应在2021年3月31日前完成（方案第十六条）", WARNING)


def _boiler_detail(rec: Any) -> str:
    return f"{rec.boiler_no}号 {_number(rec.capacity_th)}蒸吨/小时{rec.fuel}锅炉，{rec.measure}"


def _kiln_detail(rec: Any) -> str:
    return f"{rec.category}：{rec.content}"


def _vocs_detail(rec: Any) -> str:
    text = rec.category
    if rec.bypass_count:
        text += f"（旁路{rec.bypass_count}个，{rec.bypass_disposal or '未处置'}）"
    return text


ITEM_DONE_RULE = "状态为“已完成”“已销号”时必须填写实际完成日期；实际完成日期不得晚于今天。"

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
    duplicate_rules=(
        DuplicateRule(("id_number",), ERROR, "相同身份证号"),
        DuplicateRule(("unit_code", "township", "village", "householder"), WARNING, "同一乡镇、村的同名户主"),
    ),
    check=_check_heating,
    import_rules=(
        "状态为“已完工”“已验收”时必须填写完成日期；完成日期不得晚于今天。",
        "2020年改造的用户须经过一个采暖季运行检验，不得拆除原燃煤设施：保留原燃煤设施填“否”且完成日期在2020年的，导入时给出提示（方案第八条）。",
        "身份证号为个人信息：导出给只读用户时只显示前6位和后4位。",
    ),
    open_items="household",
    breakdown=Breakdown("清洁取暖：改造方式 × 状态", "method", "status", "此后完工"),
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
    duplicate_rules=(
        DuplicateRule(("vin",), ERROR, "相同车辆识别代号"),
        DuplicateRule(("plate",), ERROR, "相同号牌号码"),
    ),
    check=_check_trucks,
    import_rules=(
        "只登记国三及以下营运柴油货车：使用性质为“非营运”或排放标准为国四及以上的车辆不能录入；使用性质空白视为营运。",
        "淘汰日期应在2019-01-01至2021-12-31之间，且不得晚于今天。",
        "号牌号码写成“晋K·12345”“晋k 12345”会自动规范为“晋K12345”。",
    ),
    open_items=None,  # a record is an elimination: nothing is open
    filter_field="method",  # no status: 淘汰方式 instead
    breakdown=Breakdown("柴油货车淘汰：排放标准 × 淘汰方式", "emission_std", "method", "此后淘汰"),
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
    duplicate_rules=(DuplicateRule(("unit_code", "org_name", "boiler_no"), ERROR, "同一单位的相同锅炉编号"),),
    check=_check_boilers,
    import_rules=(
        "35蒸吨/小时以下的燃煤锅炉应淘汰拆除或清洁能源替代（方案第十五条），否则导入时给出提示。",
        "热水锅炉可按功率填写，如“1.4MW”，按 0.7MW = 1蒸吨/小时 折算；表头写成“额定蒸发量（MW）”时整列按MW折算。",
        ITEM_DONE_RULE,
    ),
    item_detail=_boiler_detail,
    breakdown=Breakdown("锅炉整治：燃料类型 × 整治方式（全部在册）", "fuel", "measure", None),
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
    duplicate_rules=(
        DuplicateRule(("credit_code", "category", "content"), ERROR, "同一企业相同治理类别和治理内容"),
    ),
    import_rules=(ITEM_DONE_RULE,),
    item_detail=_kiln_detail,
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
    duplicate_rules=(DuplicateRule(("credit_code", "category"), ERROR, "同一企业相同治理类别"),),
    check=_check_vocs,
    import_rules=(
        "旁路排查整治应在2021年3月31日前完成（方案第十六条）。",
        "旁路数量大于0时，旁路处置必须选择取消、铅封或安装自动监控。",
        ITEM_DONE_RULE,
    ),
    item_detail=_vocs_detail,
    breakdown=Breakdown("VOCs治理：治理类别 × 状态", "category", "status", "此后完成"),
)

# --- 建筑工地 动态管理台账 (plan item 十七) -------------------------------------------------------------

SITE_AREA = (0.0, 10_000_000.0)  # 建筑面积 of one site, 平方米 (the largest complexes are ~2 million)
SITE_STATUSES_SUPERVISED = ("在建", "停工", "完工")  # under dynamic supervision until 已销号
SITE_ACTIVE = "在建"
# The six items of 六个百分之百 (the plan's 扬尘治理要求), in the order the plan's readers know them.
SITE_SIX: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("fence", "工地周边围挡", ("周边围挡", "围挡", "工地围挡")),
    ("cover", "物料堆放覆盖", ("物料覆盖", "堆放覆盖", "物料堆放100%覆盖")),
    ("wet_work", "土方开挖湿法作业", ("湿法作业", "土方湿法作业")),
    ("paving", "路面硬化", ("场区路面硬化", "道路硬化")),
    ("washing", "出入车辆清洗", ("车辆清洗", "出入车辆冲洗", "车辆冲洗")),
    ("sealed_transport", "渣土车辆密闭运输", ("密闭运输", "渣土车密闭运输", "渣土运输车辆密闭")),
)
SITE_SIX_KEYS: tuple[str, ...] = tuple(k for k, _h, _a in SITE_SIX)


def _check_sites(v: Mapping[str, Any], add: AddProblem) -> None:
    if v.get("status") == SITE_ACTIVE:
        for key, header, _aliases in SITE_SIX:
            if v.get(key) is None:
                add(key, f"在建工地必须逐项填写“六个百分之百”：{header}填“是”或“否”")


def _site_detail(rec: Any) -> str:
    failing = [h for k, h, _a in SITE_SIX if getattr(rec, k) != "是"]
    return "未落实：" + "、".join(failing) if failing else "六个百分之百全部落实"


SITES = LedgerDef(
    key="sites",
    title="建筑工地",
    sheet_title="建筑工地扬尘治理动态管理台账",
    columns=(
        COUNTY,
        Column("project_name", "项目名称", "text", required=True, aliases=("工程名称", "工地名称", "项目"),
               width=28, max_length=200),
        Column("address", "地址", "text", aliases=("项目地址", "工地地址", "建设地点"), width=24, max_length=200),
        Column("builder", "建设单位", "text", required=True, width=24, max_length=200),
        Column("contractor", "施工单位", "text", required=True, aliases=("施工企业",), width=24, max_length=200),
        Column("start_date", "开工日期", "date", required=True, aliases=("开工时间",), width=14,
               help="日期，如 2020-05-10；不得晚于今天。"),
        Column("status", "状态", "enum", required=True, choices_key="site_status", aliases=("工地状态", "施工状态"),
               width=8, help="在建、停工、完工的工地在动态监管之列；已销号的不再计入。"),
        Column("floor_area", "建筑面积（平方米）", "float", aliases=("建筑面积",), width=12, help="数字，单位平方米。",
               value_range=SITE_AREA, range_unit="平方米"),
        *(Column(key, header, "bool", choices_key="yes_no", aliases=aliases, width=9,
                 help="在建工地必填，是/否。") for key, header, aliases in SITE_SIX),
        Column("online_monitor", "在线监测", "bool", choices_key="yes_no", aliases=("扬尘在线监测",), width=8),
        Column("video", "视频监控", "bool", choices_key="yes_no", aliases=("视频监控设施",), width=8),
        REMARKS,
    ),
    status_field="status",
    # Every site entered with its start date is registered; the indicators pick the statuses they count.
    done_statuses=("在建", "停工", "完工", "已销号"),
    done_date_field="start_date",
    planned_date_field=None,
    township_field=None,
    label_field="project_name",
    duplicate_rules=(DuplicateRule(("unit_code", "project_name"), ERROR, "同一县（区、市）的相同项目名称"),),
    check=_check_sites,
    import_rules=(
        "在建工地必须逐项填写“六个百分之百”（工地周边围挡、物料堆放覆盖、土方开挖湿法作业、路面硬化、出入车辆清洗、"
        "渣土车辆密闭运输），填“是”或“否”；六项均为“是”的工地计为达标（方案第十七条）。",
        "状态为在建、停工、完工的工地计入动态监管工地数；已销号的工地不再计入。",
        "开工日期不得晚于今天。",
    ),
    item_detail=_site_detail,
    open_items=None,  # a site is supervised, not finished by a date
    breakdown=Breakdown("建筑工地：状态 × 在线监测（全部在册）", "status", "online_monitor", None),
)

# --- 问题清单 (plan items 十八 and 二十): unfinished tasks and problems found, 销号 by a date ----------------

PROBLEM_DEFAULT_DUE = dt.date(2020, 12, 31)  # 十八: "确保2020年12月底前‘销号’"
PROBLEM_PLAN_SOURCES = ("三年行动计划", "柴油货车攻坚")  # the 台账 of 十八, due by default


def _check_problems(v: Mapping[str, Any], add: AddProblem) -> None:
    if v.get("source") not in (None, *PROBLEM_PLAN_SOURCES) and v.get("due_date") == PROBLEM_DEFAULT_DUE:
        add("due_date", "督察、监督帮扶等发现的问题应按交办文件填写整改时限；空白时按2020-12-31计，请核对",
            WARNING)
    found, due = v.get("found_date"), v.get("due_date")
    if found is not None and due is not None and due < found:
        add("due_date", f"整改时限 {due.isoformat()} 早于发现（交办）日期 {found.isoformat()}")
    if v.get("source") in ("督察", "监督帮扶") and not v.get("document_no"):
        add("document_no", f"{v['source']}交办的问题应填写交办文号", WARNING)


def _problem_detail(rec: Any) -> str:
    doc = f"（{rec.document_no}）" if rec.document_no else ""
    return f"{rec.source}{doc}；责任部门：{rec.department}"


PROBLEMS = LedgerDef(
    key="problems",
    title="问题清单",
    sheet_title="未完成任务及问题清单（销号台账）",
    columns=(
        COUNTY,
        Column("township", "乡（镇）", "text", aliases=("乡镇", "所属乡镇", "乡镇（街道）"), width=12,
               help="问题在县级层面的可不填。"),
        Column("source", "来源", "enum", required=True, choices_key="problem_source", aliases=("问题来源", "任务来源"),
               width=12, help="三年行动计划、柴油货车攻坚（方案第十八条梳理的未完成任务）；监督帮扶、督察发现的问题；其他。"),
        Column("document_no", "文号", "text", aliases=("交办文号", "文件编号", "依据文号"), width=20, max_length=100),
        Column("description", "问题（任务）描述", "text", required=True,
               aliases=("问题描述", "任务描述", "问题内容", "任务内容", "存在问题"), width=36, max_length=1000),
        Column("department", "责任部门", "text", required=True, aliases=("责任单位",), width=16, max_length=100),
        Column("found_date", "发现（交办）日期", "date", aliases=("发现日期", "交办日期", "发现时间"), width=14,
               help="问题发现或交办的日期；月报按此统计当月新增。空白时按录入日期统计。"),
        Column("due_date", "整改时限", "date", aliases=("销号时限", "完成时限", "整改期限"), width=14,
               default=PROBLEM_DEFAULT_DUE,
               help="空白时按方案第十八条视为2020-12-31；督察、监督帮扶交办的问题按交办文件填写。"),
        Column("status", "整改状态", "enum", required=True, choices_key="problem_status", aliases=("状态", "完成情况"),
               width=10, help="已整改、已销号 必须填写整改完成日期；销号须上传佐证材料。"),
        Column("done_date", "整改完成日期", "date", aliases=("完成日期", "整改日期"), width=14,
               help="状态为已整改、已销号时必填；不得晚于今天。"),
        Column("measures", "整改措施", "text", aliases=("整改情况",), width=30, max_length=1000),
        REMARKS,
    ),
    status_field="status",
    done_statuses=("已整改", "已销号"),
    done_date_field="done_date",
    planned_date_field="due_date",
    township_field="township",
    label_field="description",
    duplicate_rules=(DuplicateRule(("unit_code", "description"), ERROR, "同一县（区、市）相同的问题（任务）描述"),),
    check=_check_problems,
    import_rules=(
        "整改时限空白时按方案第十八条视为2020-12-31（对尚未完成的任务确保2020年12月底前“销号”）；督察、监督帮扶"
        "交办的问题请按交办文件填写整改时限和交办文号。",
        "状态为“已整改”“已销号”时必须填写整改完成日期；整改完成日期不得晚于今天；销号须上传佐证材料。",
        "超过整改时限仍未整改的问题列入预警和预警函。",
    ),
    item_detail=_problem_detail,
    open_items=None,  # the report's 问题清单 section lists the overdue items
    breakdown=Breakdown("问题清单：来源 × 整改状态（全部在册）", "source", "status", None),
)

LEDGERS: dict[str, LedgerDef] = {d.key: d for d in (HEATING, TRUCKS, BOILERS, KILNS, VOCS, SITES, PROBLEMS)}
LEDGER_KEYS: tuple[str, ...] = tuple(LEDGERS)  # the built-in ledgers; code iterates LEDGERS (see `registered`)


@contextmanager
def registered(d: LedgerDef) -> Iterator[LedgerDef]:
    """`d` is a ledger while the block runs (tests of a ledger defined outside this module)."""
    if d.key in LEDGERS:
        raise ValueError(f"ledger {d.key} is already registered")
    LEDGERS[d.key] = d
    try:
        yield d
    finally:
        del LEDGERS[d.key]


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
