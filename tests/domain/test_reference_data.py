"""The plan's reference data (resources/reference/plan.toml) against domain.md §2 and §4."""

from __future__ import annotations

import datetime as dt

import pytest

from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError

# domain.md §2: the twelve reporting units with their GB/T 2260 codes (晋中开发区: the project's own code).
UNITS = [
    ("榆次区", "140702"),
    ("太谷区", "140703"),
    ("榆社县", "140721"),
    ("左权县", "140722"),
    ("和顺县", "140723"),
    ("昔阳县", "140724"),
    ("寿阳县", "140725"),
    ("祁县", "140727"),
    ("平遥县", "140728"),
    ("灵石县", "140729"),
    ("介休市", "140781"),
    ("晋中开发区", "140799"),
]


def test_every_unit_of_the_plan_with_its_code_in_order():
    assert [(u.name, u.code) for u in reference().units] == UNITS


def test_unit_codes_and_names_are_unique():
    units = reference().units
    assert len({u.code for u in units}) == len({u.name for u in units}) == len(units) == 12


@pytest.mark.parametrize(("name", "code"), UNITS)
def test_find_unit_by_name_and_by_code(name, code):
    ref = reference()
    assert ref.find_unit(name).code == code
    assert ref.find_unit(code).name == name
    assert ref.resolve_unit(f" {name} ").code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("祁 县", "140727"),
        ("祁\u3000县", "140727"),
        (" 榆 次 区 ", "140702"),
        ("太谷县", "140703"),
        ("开发区", "140799"),
        ("140781", "140781"),
    ],
)
def test_find_unit_ignores_spaces_and_knows_old_names(text, code):
    assert reference().find_unit(text).code == code


@pytest.mark.parametrize("text", ["", "   ", "晋中市", "140700", "祁", "太原市小店区"])
def test_unknown_units_are_not_guessed(text):
    ref = reference()
    assert ref.find_unit(text) is None
    with pytest.raises(JzairError) as info:
        ref.resolve_unit(text)
    assert "未知的县（区、市）" in str(info.value) and "榆次区" in str(info.value)


# domain.md §3: the closed lists of the five ledgers.
CHOICES = {
    "heating_method": ["气代煤", "电代煤", "集中供热", "其他清洁能源"],
    "heating_status": ["未开工", "施工中", "已完工", "已验收"],
    "yes_no": ["是", "否"],
    "truck_emission": ["国零", "国一", "国二", "国三"],
    "truck_type": ["重型货车", "中型货车", "轻型货车"],
    "truck_usage": ["营运", "非营运"],
    "truck_method": ["报废拆解", "注销", "转出"],
    "boiler_fuel": ["燃煤", "燃气", "燃油", "生物质", "电"],
    "boiler_measure": ["淘汰拆除", "清洁能源替代", "超低排放改造", "低氮改造", "达标治理"],
    "item_status": ["未开工", "施工中", "已完成", "已销号"],
    "kiln_industry": ["钢铁", "建材", "有色", "焦化", "铸造", "其他"],
    "kiln_category": ["工业炉窑治理", "无组织排放治理"],
    "vocs_industry": ["石化", "化工", "工业涂装", "包装印刷", "加油站", "其他"],
    "vocs_category": ["VOCs综合治理", "低VOCs原辅材料替代", "旁路排查整治", "储罐排查", "油气回收在线监控"],
    "vocs_bypass_disposal": ["取消", "铅封", "安装自动监控", "无"],
    "site_status": ["在建", "停工", "完工", "已销号"],
    "problem_source": ["三年行动计划", "柴油货车攻坚", "监督帮扶", "督察", "其他"],
    "problem_status": ["未整改", "整改中", "已整改", "已销号"],
}


def test_the_closed_lists_of_the_ledgers():
    assert {k: list(v) for k, v in reference().choices.items()} == CHOICES


def test_plan_facts():
    plan = reference().plan
    assert plan.document_no == "市政办发〔2020〕47号"
    assert plan.window_start == dt.date(2020, 10, 1)
    assert plan.campaign_end == dt.date(2021, 3, 31)


def test_air_quality_targets_of_the_city_area():
    aq = {(a.area, a.first_month, a.last_month): (a.pm25_max, a.heavy_days_max) for a in reference().air_quality_targets}
    assert aq == {("市城区", "2020-10", "2020-12"): (47, 0), ("市城区", "2021-01", "2021-03"): (72, 5)}
