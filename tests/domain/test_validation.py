"""domain.validation against every rule of domain.md §3, plus properties of the value parsers."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.ledgers import LEDGERS, ledger
from jzair_desktop.domain.validation import (
    ERROR,
    ID_AS_NUMBER,
    WARNING,
    Invalid,
    check_record,
    duplicate_problem,
    mask_id_number,
    normalize_plate,
    parse_capacity,
    parse_date,
    parse_id_number,
    parse_number,
    parse_phone,
    parse_plate,
    parse_uscc,
    parse_vin,
    rule_key,
)

TODAY = dt.date(2021, 3, 31)
ID = "140702195803121234"[:17]
ID = ID + checkdigits.id_check_char(ID)
VIN = "LZZ5BLSJ0AN123456"
VIN = VIN[:8] + checkdigits.vin_check_char(VIN) + VIN[9:]
USCC = "91140781MA0K12345"
USCC = USCC + checkdigits.uscc_check_char(USCC)

VALID = {
    "heating": {
        "unit_code": "榆次区", "township": "东阳镇", "village": "东阳村", "householder": "王建国", "id_number": ID,
        "phone": "13835412345", "area_m2": "85", "method": "电代煤", "status": "已完工", "done_date": "2020-10-20",
        "subsidy_yuan": "5,000", "keeps_coal_stove": "是", "remarks": "",
    },
    "trucks": {
        "unit_code": "介休市", "plate": "晋K12345", "vin": VIN, "emission_std": "国三", "vehicle_type": "重型货车",
        "owner": "介休市宏泰物流有限公司", "usage": "营运", "method": "报废拆解", "eliminated_date": "2020-11-03",
        "subsidy_yuan": "30000",
    },
    "boilers": {
        "unit_code": "祁县", "org_name": "祁县人民医院", "credit_code": "", "boiler_no": "1#", "capacity_th": "4",
        "fuel": "燃煤", "measure": "淘汰拆除", "planned_date": "2020-10-31", "actual_date": "2020-10-12",
        "status": "已完成",
    },
    "kilns": {
        "unit_code": "灵石县", "enterprise": "灵石县宏泰焦化有限公司", "credit_code": USCC, "industry": "焦化",
        "category": "工业炉窑治理", "content": "焦炉烟气脱硫脱硝超低排放改造", "planned_date": "2020-12-31",
        "actual_date": "", "status": "施工中",
    },
    "vocs": {
        "unit_code": "晋中开发区", "enterprise": "晋中华盛制药有限公司", "credit_code": USCC, "industry": "化工",
        "category": "VOCs综合治理", "bypass_count": "", "bypass_disposal": "", "planned_date": "2020-12-31",
        "actual_date": "2020-12-20", "status": "已完成",
    },
    "sites": {
        "unit_code": "榆次区", "project_name": "榆次区锦绣园小区二期", "address": "榆次区迎宾街88号",
        "builder": "晋中锦绣房地产开发有限公司", "contractor": "山西建工集团有限公司", "start_date": "2020-04-12",
        "status": "在建", "floor_area": "86,500", "fence": "是", "cover": "是", "wet_work": "是", "paving": "是",
        "washing": "是", "sealed_transport": "是", "online_monitor": "是", "video": "否",
    },
    "problems": {
        "unit_code": "祁县", "township": "昭馀镇", "source": "督察", "document_no": "晋环督〔2020〕15号",
        "description": "昭馀镇某砖厂原料堆场未封闭", "department": "祁县生态环境局", "due_date": "2020-11-30",
        "status": "已整改", "done_date": "2020-11-20", "measures": "建成全封闭料棚",
    },
}


def check(ledger_key: str, **changes):
    raw = dict(VALID[ledger_key])
    raw.update(changes)
    return check_record(ledger_key, raw, today=TODAY)


def problems_of(result, field: str, severity: str | None = None) -> list:
    return [p for p in result.problems if p.field == field and (severity is None or p.severity == severity)]


def only_error(result, field: str) -> str:
    errs = result.errors
    assert [p.field for p in errs] == [field], [p.text() for p in result.problems]
    assert errs[0].header == ledger_header(field, result)
    return errs[0].message


def ledger_header(field: str, result) -> str:
    for d in LEDGERS.values():
        if field in d.keys and set(result.values) == set(d.keys):
            return d.column(field).header
    raise AssertionError(field)


# --- the valid base records -----------------------------------------------------------------------


@pytest.mark.parametrize("key", list(VALID))
def test_base_records_are_valid_without_warnings(key):
    result = check(key)
    assert result.ok and not result.problems, [p.text() for p in result.problems]
    assert set(result.values) == set(ledger(key).keys)


def test_values_are_typed_and_normalised():
    v = check("heating").values
    assert v["unit_code"] == "140702"
    assert v["area_m2"] == 85.0 and v["subsidy_yuan"] == 5000.0
    assert v["done_date"] == dt.date(2020, 10, 20)
    assert v["remarks"] is None


def test_unknown_keys_are_ignored():
    assert check("heating", 序号=3, 联系人="张三").ok


# --- required fields and closed lists -------------------------------------------------------------

REQUIRED = [(k, c.key) for k, d in LEDGERS.items() for c in d.columns if c.required]


@pytest.mark.parametrize(("key", "field"), REQUIRED)
@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000"])
def test_each_required_field(key, field, blank):
    result = check(key, **{field: blank})
    assert problems_of(result, field, ERROR), [p.text() for p in result.problems]
    assert any("必填" in p.message for p in problems_of(result, field))


def test_required_fields_match_the_data_dictionary():
    """domain.md §3 marks these (R)."""
    required = {k: {c.header for c in d.columns if c.required} for k, d in LEDGERS.items()}
    assert required["heating"] == {"县（区、市）", "乡（镇）", "村（社区）", "户主姓名", "改造方式", "状态"}
    assert required["trucks"] == {"县（区、市）", "号牌号码", "车辆识别代号", "排放标准", "车辆类型", "车辆所有人",
                                  "淘汰方式", "淘汰日期"}
    assert required["boilers"] == {"县（区、市）", "单位名称", "锅炉编号", "额定蒸发量（蒸吨/小时）", "燃料类型",
                                   "整治方式", "计划完成日期", "状态"}
    assert required["kilns"] == {"县（区、市）", "企业名称", "统一社会信用代码", "行业", "治理类别", "治理内容",
                                 "计划完成日期", "状态"}
    assert required["vocs"] == {"县（区、市）", "企业名称", "统一社会信用代码", "行业", "治理类别", "计划完成日期",
                                "状态"}


ENUMS = [(k, c.key) for k, d in LEDGERS.items() for c in d.columns if c.kind == "enum"]


@pytest.mark.parametrize(("key", "field"), ENUMS)
def test_closed_lists_refuse_other_values_naming_the_allowed_ones(key, field):
    result = check(key, **{field: "随便写的"})
    message = only_error(result, field) if field != "status" else problems_of(result, field, ERROR)[0].message
    for choice in ledger(key).column(field).choices:
        assert choice in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("国Ⅲ", "国三"), ("国III", "国三"), ("国3", "国三"), ("国 3", "国三"), ("国iii", "国三"), ("国三", "国三"),
     ("国Ⅱ", "国二"), ("国II", "国二"), ("国2", "国二"), ("国Ⅰ", "国一"), ("国I", "国一"), ("国1", "国一"),
     ("国〇", "国零"), ("国0", "国零"), ("国零", "国零"), ("２-国Ⅲ", "国三")],
)
def test_emission_spellings(text, expected):
    result = check("trucks", emission_std=text)
    assert result.ok, [p.text() for p in result.problems]
    assert result.values["emission_std"] == expected


@pytest.mark.parametrize("text", ["国四", "国Ⅳ", "国IV", "国4", "国五", "国V", "国六", "国VI"])
def test_china_iv_and_newer_are_out_of_scope(text):
    message = only_error(check("trucks", emission_std=text), "emission_std")
    assert "淘汰范围" in message and "国三及以下" in message


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [("method", "1-电代煤", "电代煤"), ("method", "3、集中供热", "集中供热"), ("method", " 气代煤 ", "气代煤"),
     ("status", "2.已完工", "已完工"), ("method", "电 代 煤", "电代煤")],
)
def test_code_prefix_and_spaces_in_choices(field, text, expected):
    result = check("heating", **{field: text})
    assert result.ok and result.values[field] == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("祁 县", "140727"), ("祁县", "140727"), ("140727", "140727"), (" 介 休 市 ", "140781"), ("太谷县", "140703"),
     ("开发区", "140799"), ("晋中开发区", "140799"), (140702, "140702")],
)
def test_units_by_name_alias_or_code(text, code):
    result = check("heating", unit_code=text)
    assert result.ok and result.values["unit_code"] == code


def test_unknown_unit_names_the_units():
    message = only_error(check("heating", unit_code="清徐县"), "unit_code")
    assert "清徐县" in message and "榆次区" in message and "晋中开发区" in message


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2020-11-03", "2020/11/3", "2020.11.03", "2020年11月3日", "2020年11月3", " 2020-11-3 ", "２０２０-１１-０３",
     "2020-11-03T00:00:00", "20201103", dt.date(2020, 11, 3), dt.datetime(2020, 11, 3, 14, 30), 44138, 44138.0,
     "2020-11-03 00:00:00", "2020/11/3 8:30", "2020 - 11 - 03"],
)
def test_date_formats(value):
    result = check("trucks", eliminated_date=value)
    assert result.ok, [p.text() for p in result.problems]
    assert result.values["eliminated_date"] == dt.date(2020, 11, 3)


@pytest.mark.parametrize(("value", "why"), [("2020-02-30", "不是存在的日期"), ("下个月", "无法识别"),
                                             ("11/3/2020", "无法识别"), (12, "不是有效的日期"), (True, "不是日期")])
def test_bad_dates(value, why):
    assert why in only_error(check("trucks", eliminated_date=value), "eliminated_date")


@pytest.mark.parametrize(
    ("key", "field", "changes"),
    [("heating", "done_date", {}), ("trucks", "eliminated_date", {}), ("boilers", "actual_date", {}),
     ("vocs", "actual_date", {})],
)
def test_actual_dates_never_in_the_future(key, field, changes):
    result = check(key, **{field: TODAY + dt.timedelta(days=1)}, **changes)
    assert "晚于今天" in only_error(result, field)
    assert check(key, **{field: TODAY}, **changes).ok


def test_planned_dates_may_lie_ahead():
    assert check("kilns", planned_date=TODAY + dt.timedelta(days=60)).ok


def test_implausible_dates_warn():
    result = check("kilns", planned_date="2015-06-30")
    assert result.ok and problems_of(result, "planned_date", WARNING)


@pytest.mark.parametrize(
    ("day", "ok"),
    [("2018-12-31", False), ("2019-01-01", True), ("2021-12-31", True), ("2022-01-01", False)],
)
def test_truck_elimination_window(day, ok):
    result = check_record("trucks", {**VALID["trucks"], "eliminated_date": day}, today=dt.date(2022, 6, 30))
    assert result.ok is ok
    if not ok:
        assert "2019-01-01 至 2021-12-31" in only_error(result, "eliminated_date")


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [("1,234.5", 1234.5), ("12,000", 12000.0), ("１２０", 120.0), (" 85 ", 85.0), (85, 85.0),
                        ("0.5", 0.5), (".5", 0.5)],
)
def test_numbers_as_text(text, value):
    result = check("heating", area_m2=text)
    assert result.ok and result.values["area_m2"] == value


@pytest.mark.parametrize("text", ["八十", "12,34", "1.2.3", "85平方米", "1,2345"])
def test_bad_numbers(text):
    assert "不是数字" in only_error(check("heating", area_m2=text), "area_m2")


def test_negative_amounts_are_errors():
    assert "负数" in only_error(check("heating", area_m2="-5"), "area_m2")
    assert "负数" in only_error(check("heating", subsidy_yuan="-5"), "subsidy_yuan")
    assert "负数" in only_error(check("trucks", subsidy_yuan="-1"), "subsidy_yuan")


# --- 身份证号 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.40702e17, 140702195803121234.0, "1.40702E+17", "1.40702e+17", "1E17",
                                   140702195803121234])
def test_id_number_turned_into_a_number_by_excel(value):
    message = only_error(check("heating", id_number=value), "id_number")
    assert message == ID_AS_NUMBER
    assert "文本" in message


def test_id_number_rules():
    assert check("heating", id_number=ID.lower()).values["id_number"] == ID
    assert check("heating", id_number=f" {ID} ").ok
    assert check("heating", id_number="").ok  # optional
    assert "18位" in only_error(check("heating", id_number=ID[:17]), "id_number")
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert "校验位" in only_error(check("heating", id_number=wrong), "id_number")
    bad_birth = "140702" + "19580230" + "123"
    assert "出生日期" in only_error(check("heating", id_number=bad_birth + checkdigits.id_check_char(bad_birth)),
                                    "id_number")
    assert "数字" in only_error(check("heating", id_number="14070219580312123A"), "id_number")


def test_id_numbers_are_masked():
    assert mask_id_number(ID) == ID[:6] + "********" + ID[-4:]
    assert mask_id_number("140702195803121234") == "140702********1234"
    assert mask_id_number(None) == "" and mask_id_number("") == ""
    assert mask_id_number("12345") == "*****"


# --- plates and VINs ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["晋K·12345", "晋k 12345", "晋K-12345", "晋Ｋ１２３４５", " 晋K12345 ", "晋K.12345"])
def test_plate_normalisation(text):
    result = check("trucks", plate=text)
    assert result.ok and result.values["plate"] == "晋K12345"


def test_new_energy_plate_with_six_characters():
    assert check("trucks", plate="晋KD12345").values["plate"] == "晋KD12345"


@pytest.mark.parametrize(("text", "why"), [("K12345", "省份简称"), ("晋K1234", "省份简称"), ("晋KO1234", "I 或 O"),
                                           ("晋1K2345", "省份简称"), ("哈K12345", "省份简称")])
def test_bad_plates(text, why):
    assert why in only_error(check("trucks", plate=text), "plate")


def test_vin_rules():
    assert check("trucks", vin=VIN.lower()).values["vin"] == VIN
    for letter in "IOQ":
        bad = VIN[:12] + letter + VIN[13:]
        assert "I、O、Q" in only_error(check("trucks", vin=bad), "vin")
    assert "17位" in only_error(check("trucks", vin=VIN[:16]), "vin")
    wrong = VIN[:8] + ("1" if VIN[8] != "1" else "2") + VIN[9:]
    message = only_error(check("trucks", vin=wrong), "vin")
    assert "第9位" in message and f"“{VIN[8]}”" in message


def test_non_commercial_trucks_are_refused_and_blank_usage_means_commercial():
    assert "非营运" in only_error(check("trucks", usage="非营运"), "usage")
    result = check("trucks", usage="")
    assert result.ok and result.values["usage"] == "营运"


# --- boilers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.4MW", 2.0), ("1.4 MW", 2.0), ("2.8mw", 4.0), ("7兆瓦", 10.0), ("１．４ＭＷ", 2.0), ("4蒸吨/小时", 4.0),
     ("4t/h", 4.0), ("10", 10.0), (6, 6.0), ("1,400", 1400.0)],
)
def test_boiler_capacity_and_mw_conversion(text, value):
    result = check("boilers", capacity_th=text, fuel="燃气", measure="低氮改造")
    assert result.ok and result.values["capacity_th"] == pytest.approx(value)


@pytest.mark.parametrize("text", ["0", "-2", "0MW"])
def test_boiler_capacity_must_be_positive(text):
    assert "大于0" in only_error(check("boilers", capacity_th=text), "capacity_th")


@pytest.mark.parametrize(
    ("fuel", "capacity", "measure", "warns"),
    [("燃煤", "20", "超低排放改造", True), ("燃煤", "34.9", "达标治理", True), ("燃煤", "1.4MW", "低氮改造", True),
     ("燃煤", "20", "淘汰拆除", False), ("燃煤", "20", "清洁能源替代", False), ("燃煤", "35", "超低排放改造", False),
     ("燃煤", "75", "超低排放改造", False), ("燃气", "20", "低氮改造", False), ("生物质", "4", "达标治理", False)],
)
def test_small_coal_boilers_should_go(fuel, capacity, measure, warns):
    result = check("boilers", fuel=fuel, capacity_th=capacity, measure=measure)
    assert result.ok
    warning = problems_of(result, "measure", WARNING)
    assert bool(warning) is warns
    if warns:
        assert "35蒸吨/小时以下燃煤锅炉" in warning[0].message


def test_boiler_credit_code_is_optional_but_checked():
    assert check("boilers", credit_code="").ok
    assert check("boilers", credit_code=USCC).values["credit_code"] == USCC
    assert "校验位" in only_error(check("boilers", credit_code=USCC[:17] + ("0" if USCC[17] != "0" else "1")),
                                  "credit_code")


@pytest.mark.parametrize(("text", "why"), [("91140781MA0K1234", "18位"), ("91140781MA0K12345I", "无效字符")])
def test_bad_credit_codes(text, why):
    assert why in only_error(check("kilns", credit_code=text), "credit_code")


# --- VOCs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "disposal", "ok"),
    [("2", "铅封", True), ("1", "取消", True), ("3", "安装自动监控", True), ("0", "无", True), ("", "", True),
     ("0", "", True), ("2", "无", False), ("2", "", False)],
)
def test_bypass_needs_a_disposal(count, disposal, ok):
    result = check("vocs", category="旁路排查整治", bypass_count=count, bypass_disposal=disposal,
                   planned_date="2021-03-31")
    assert result.ok is ok
    if not ok:
        assert "处置方式" in only_error(result, "bypass_disposal")


def test_bypass_count_is_a_whole_number_not_below_zero():
    assert "负数" in only_error(check("vocs", bypass_count="-1"), "bypass_count")
    assert "整数" in only_error(check("vocs", bypass_count="1.5"), "bypass_count")
    assert check("vocs", bypass_count="2.0", bypass_disposal="铅封").values["bypass_count"] == 2


def test_bypass_items_are_due_by_the_end_of_march_2021():
    late = check("vocs", category="旁路排查整治", planned_date="2021-04-30", actual_date="", status="施工中")
    assert late.ok and "2021年3月31日" in problems_of(late, "planned_date", WARNING)[0].message
    assert not check("vocs", category="旁路排查整治", planned_date="2021-03-31").problems
    assert not check("vocs", category="VOCs综合治理", planned_date="2021-04-30", actual_date="", status="施工中").problems


# --- statuses and dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "status", "field"),
    [("heating", "已完工", "done_date"), ("heating", "已验收", "done_date"), ("boilers", "已完成", "actual_date"),
     ("boilers", "已销号", "actual_date"), ("kilns", "已完成", "actual_date"), ("vocs", "已销号", "actual_date")],
)
def test_done_status_needs_its_date(key, status, field):
    message = only_error(check(key, status=status, **{field: ""}), field)
    assert status in message and "必须填写" in message


@pytest.mark.parametrize(("key", "field"), [("heating", "done_date"), ("boilers", "actual_date")])
def test_open_status_with_a_date_warns(key, field):
    result = check(key, status="施工中", **{field: "2020-10-01"})
    assert result.ok and problems_of(result, field, WARNING)


def test_open_status_without_a_date_is_fine():
    assert not check("heating", status="未开工", done_date="", keeps_coal_stove="").problems


@pytest.mark.parametrize(
    ("keeps", "done", "warns"),
    [("否", "2020-10-20", True), ("否", "2020-12-31", True), ("否", "2021-01-05", False), ("是", "2020-10-20", False),
     ("", "2020-10-20", False), ("N", "2020-10-20", True)],
)
def test_households_of_2020_keep_their_coal_stove(keeps, done, warns):
    result = check("heating", keeps_coal_stove=keeps, done_date=done)
    assert result.ok
    warning = problems_of(result, "keeps_coal_stove", WARNING)
    assert bool(warning) is warns
    if warns:
        assert "采暖季" in warning[0].message


@pytest.mark.parametrize(("text", "value"), [("是", "是"), ("否", "否"), ("Y", "是"), ("no", "否"), ("√", "是"),
                                             (True, "是"), (False, "否")])
def test_yes_no(text, value):
    assert check("heating", keeps_coal_stove=text).values["keeps_coal_stove"] == value


def test_bad_yes_no():
    assert "是" in only_error(check("heating", keeps_coal_stove="也许"), "keeps_coal_stove")


# --- other fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "stored"), [("0354-3012345", "0354-3012345"), (13835412345.0, "13835412345"),
                                               ("138 3541 2345", "13835412345"), ("(0354)3012345", "0354-3012345")])
def test_phone_numbers(value, stored):
    assert check("heating", phone=value).values["phone"] == stored


def test_bad_phone_and_long_text():
    assert "电话" in only_error(check("heating", phone="打村委会"), "phone")
    assert "过长" in only_error(check("heating", householder="王" * 41), "householder")


def test_every_problem_names_its_field_and_why():
    result = check("trucks", unit_code="", plate="K1", vin="123", emission_std="国五", usage="非营运",
                   eliminated_date="明天")
    assert {p.field for p in result.errors} == {"unit_code", "plate", "vin", "emission_std", "usage",
                                               "eliminated_date"}
    for p in result.problems:
        assert p.header and p.message and p.text().startswith(p.header + "：")


# --- duplicates -----------------------------------------------------------------------------------


def test_duplicate_rules_of_the_data_dictionary():
    rules = {k: [(r.fields, r.severity) for r in d.duplicate_rules] for k, d in LEDGERS.items()}
    assert rules["heating"] == [(("id_number",), ERROR), (("unit_code", "township", "village", "householder"), WARNING)]
    assert rules["trucks"] == [(("vin",), ERROR), (("plate",), ERROR)]


def test_duplicate_keys_and_messages():
    heating = ledger("heating").duplicate_rules
    values = check("heating").values
    assert rule_key(heating[0], values) == (ID,)
    assert rule_key(heating[0], {**values, "id_number": None}) is None
    assert rule_key(heating[1], values) == ("140702", "东阳镇", "东阳村", "王建国")
    p = duplicate_problem(ledger("heating"), heating[1], "第5行")
    assert p.severity == WARNING and p.field == "unit_code" and "第5行" in p.message
    p = duplicate_problem(ledger("trucks"), ledger("trucks").duplicate_rules[0], "已有记录")
    assert p.is_error and p.header == "车辆识别代号" and "只能登记一次" in p.message


# --- properties of the parsers --------------------------------------------------------------------

anything = st.one_of(
    st.text(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.none(), st.booleans(),
    st.dates(), st.datetimes(),
)


@pytest.mark.slow
@given(anything)
def test_parse_date_raises_only_invalid(value):
    try:
        result = parse_date(value)
    except Invalid as exc:
        assert str(exc)
    else:
        assert result is None or isinstance(result, dt.date)


@given(st.text(alphabet=st.sampled_from("0123456789-/.年月日 ０１２３４５６７８９T:")))
def test_parse_date_raises_only_invalid_on_date_like_text(text):
    try:
        parse_date(text)
    except Invalid:
        pass


@given(st.dates(dt.date(2000, 1, 1), dt.date(2050, 12, 31)))
def test_parse_date_reads_every_written_form(day):
    forms = [
        day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day:%Y.%m.%d}", f"{day.year}年{day.month}月{day.day}日",
        (day - dt.date(1899, 12, 30)).days, float((day - dt.date(1899, 12, 30)).days),
        dt.datetime.combine(day, dt.time(9, 30)),
    ]
    for form in forms:
        assert parse_date(form) == day, form


@given(st.text())
def test_normalize_plate_is_idempotent(text):
    once = normalize_plate(text)
    assert normalize_plate(once) == once


@given(st.sampled_from("京津冀晋蒙陕豫鲁"), st.sampled_from("ABCDEFGHJKLM"),
       st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=5, max_size=5),
       st.sampled_from(["", " ", "·", "-", "．"]), st.booleans())
def test_plate_spellings_agree(province, letter, tail, sep, lower):
    canonical = f"{province}{letter}{tail}"
    written = f"{province}{letter.lower() if lower else letter}{sep}{tail}"
    assert parse_plate(written) == canonical == parse_plate(canonical)


@given(st.integers(-10**12, 10**12))
def test_parse_number_reads_thousands_separators(n):
    assert parse_number(f"{n:,}") == n
    assert parse_number(str(n)) == n


@given(st.floats(-1e9, 1e9, allow_nan=False))
def test_parse_number_reads_formatted_decimals(x):
    assert parse_number(f"{x:,.2f}") == float(f"{x:.2f}")
    assert parse_number(f"{x:.3f}") == float(f"{x:.3f}")


@given(anything)
def test_parse_number_raises_only_invalid(value):
    try:
        result = parse_number(value)
    except Invalid:
        return
    assert result is None or (isinstance(result, float) and math.isfinite(result))


@given(st.one_of(st.text(), st.floats(), st.integers()))
def test_identifier_parsers_raise_only_invalid(value):
    for parse in (parse_id_number, parse_vin, parse_uscc, parse_plate, parse_capacity):
        try:
            parse(value)
        except Invalid:
            pass


@pytest.mark.slow
@given(st.sampled_from(list(LEDGERS)), st.data())
def test_check_record_never_crashes_on_arbitrary_cells(key, data):
    d = ledger(key)
    raw = {c.key: data.draw(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none()), label=c.key)
           for c in d.columns}
    result = check_record(d, raw, today=TODAY)
    assert set(result.values) == set(d.keys)
    for p in result.problems:
        assert p.field in d.keys and p.severity in (ERROR, WARNING) and p.message


def outcome(parse, value) -> tuple[str, object]:
    """What a parser makes of a value: ("ok", result) or ("invalid", the reason)."""
    try:
        return ("ok", parse(value))
    except Invalid as exc:
        return ("invalid", str(exc))


@given(st.one_of(
    st.text(alphabet="0123456789Xx", min_size=18, max_size=18),
    st.builds(lambda first17: first17 + checkdigits.id_check_char(first17), st.text("0123456789", min_size=17, max_size=17)),
    st.text(min_size=16, max_size=20),
))
def test_id_number_fast_path_agrees_with_the_general_path(text):
    """18 plain ASCII characters take a shortcut; padded with spaces they take the general path."""
    assert outcome(parse_id_number, text) == outcome(parse_id_number, f" {text}\u3000")


@pytest.mark.slow
@given(st.sampled_from(list(LEDGERS)), st.data())
def test_check_record_gives_the_same_result_however_often_a_value_repeats(key, data):
    """Parse results are remembered per column: a second and third check of the same cells agree."""
    d = ledger(key)
    raw = {c.key: data.draw(st.one_of(st.text(max_size=12), st.integers(-5, 50_000), st.floats(), st.none(),
                                      st.sampled_from([*c.choices, "是", "否", "2020-11-03", "44138"])), label=c.key)
           for c in d.columns}
    first = check_record(d, raw, today=TODAY)
    assert check_record(d, dict(raw), today=TODAY) == first == check_record(d, raw, today=TODAY)


@given(st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_phone_fast_path_agrees_with_the_general_path(digits):
    """Plain digit strings take a shortcut; with a space around them they take the general path."""
    assert outcome(parse_phone, digits) == outcome(parse_phone, f" {digits}")
