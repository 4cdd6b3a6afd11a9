"""Issue 17: the plan judged as the plan judges — kinds, scopes, air quality in the warnings, counting rules.

Every figure below is computed by hand in the comments next to it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from jzair_desktop.domain.reference import CITY_CODE, reference
from jzair_desktop.errors import JzairError, PermissionDenied, ValidationFailed
from jzair_desktop.services import air_targets, milestones, monthly, progress, report, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.air import AirEntry, set_air_quality_many
from jzair_desktop.services.database import load_reference_data
from jzair_desktop.services.monthly import FigureEntry
from jzair_desktop.services.targets import TargetEntry
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import (
    AirQualityBaseline,
    AirQualityGrade,
    AirQualityTarget,
    CountyTarget,
    Milestone,
    MonthlyFigure,
)
from tests.services.admin_helpers import make_users
from tests.services.progress_records import add

D = dt.date
YC, TG, HS, JX = "140702", "140703", "140723", "140781"  # 榆次区 太谷区 和顺县 介休市


def row(db, key, unit, as_of):
    return next(r for r in progress.compute_progress(db, as_of) if r.indicator == key and r.unit_code == unit)


def count(db, model) -> int:
    with read_session(db.engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)))


# --------------------------------------------------------------------------- kinds
def test_every_indicator_declares_a_kind_and_its_lead_departments():
    ref = reference()
    kinds = {i.key: i.kind for i in ref.indicators}
    assert set(kinds.values()) == {"cumulative", "limit", "milestone"}
    assert kinds["dust.fall"] == kinds["straw.utilization"] == kinds["coal.quality_sampling"] == "limit"
    assert kinds["steel.xintai_ultra_low"] == kinds["rail.yangmei_siding"] == kinds["mines.survey"] == "milestone"
    assert ref.indicator("coal.quality_sampling").departments == ("市能源局", "市市场监管局")
    assert "市城市管理局" in ref.indicator("dust.fall").departments
    assert all(i.departments for i in ref.indicators)


def test_a_limit_missed_in_one_month_and_met_later(db):
    # 降尘量 ≤ 9: 榆次区 reports 10.5 (Oct, missed), 8.0 (Nov), 8.6 (Dec)
    monthly.set_figures(db, BUILTIN_ADMIN, [FigureEntry(YC, "dust.fall", m, v)
                                            for m, v in (("2020-10", 10.5), ("2020-11", 8.0), ("2020-12", 8.6))])
    october = row(db, "dust.fall", YC, D(2020, 10, 31))
    assert (october.kind, october.status, october.status_label, october.met_text) == ("limit", "not_met", "未达标",
                                                                                      "达标月数 0/1")
    december = row(db, "dust.fall", YC, D(2020, 12, 31))
    assert (december.status, december.done, december.value_month) == ("met", 8.6, "2020-12")
    assert (december.months_met, december.months_reported) == (2, 3)  # October's miss stays visible
    assert december.schedule == 1.0  # no schedule tolerance
    quiet = row(db, "dust.fall", TG, D(2020, 12, 31))
    assert (quiet.status, quiet.status_label, quiet.months_reported) == ("no_data", "未报送", 0)
    # the warnings carry the kind's words; a met limit raises none
    assert [(w.indicator, w.status_label) for w in progress.warnings(db, D(2020, 10, 31)) if w.indicator == "dust.fall"] \
        == [("dust.fall", "未达标")]
    assert not [w for w in progress.warnings(db, D(2020, 12, 31)) if w.indicator == "dust.fall"]


def test_the_whole_year_coverage_is_a_second_indicator_judged_at_its_month(db):
    entries = [FigureEntry(YC, "coal.quality_sampling_annual", m, v)
               for m, v in (("2020-10", 70), ("2020-11", 90), ("2020-12", 96))]
    monthly.set_figures(db, BUILTIN_ADMIN, entries)
    nov = row(db, "coal.quality_sampling_annual", YC, D(2020, 11, 30))
    assert (nov.status, nov.done) == ("no_data", 90)  # not judged before 2020-12
    dec = row(db, "coal.quality_sampling_annual", YC, D(2020, 12, 31))
    assert (dec.status, dec.months_met, dec.months_reported) == ("not_met", 0, 1)  # 96 < 100


def test_a_milestone_done_late(db):
    key = "steel.xintai_ultra_low"  # due 2020-09-30, 介休市
    before = row(db, key, JX, D(2020, 9, 15))
    assert (before.kind, before.status, before.status_label) == ("milestone", "pending", "未到期")
    assert row(db, key, JX, D(2020, 10, 10)).status_label == "逾期未完成"
    milestones.set_milestone(db, BUILTIN_ADMIN, key, "介休市", "2020-10-16", "介环函〔2020〕96号", today=D(2021, 1, 1))
    late = row(db, key, JX, D(2020, 10, 31))
    assert (late.status, late.done_date, late.evidence, late.status_label) == (
        "done", D(2020, 10, 16), "介环函〔2020〕96号", "逾期完成")
    assert late.done_late and late.as_json()["done_date"] == "2020-10-16"
    assert row(db, key, JX, D(2020, 10, 10)).status == "overdue"  # as of a day before it was done
    assert row(db, key, TG, D(2020, 10, 31)).status_label == "无任务"  # 新泰钢铁 is 介休市's
    city = row(db, key, CITY_CODE, D(2020, 10, 31))
    assert (city.status, city.done_date) == ("done", D(2020, 10, 16))


@pytest.mark.slow
def test_a_milestone_needs_evidence_a_real_date_and_its_own_unit(db):
    with pytest.raises(JzairError, match="完成依据"):
        milestones.set_milestone(db, BUILTIN_ADMIN, "steel.xintai_assessment", "介休市", "2020-10-20", "  ")
    with pytest.raises(JzairError, match="晚于今天"):
        milestones.set_milestone(db, BUILTIN_ADMIN, "steel.xintai_assessment", "介休市", "2020-10-20", "报告",
                                 today=D(2020, 10, 1))
    with pytest.raises(JzairError, match="不涉及“榆次区”"):
        milestones.set_milestone(db, BUILTIN_ADMIN, "steel.xintai_assessment", "榆次区", "2020-10-20", "报告")
    with pytest.raises(JzairError, match="全市节点任务"):
        milestones.set_milestone(db, BUILTIN_ADMIN, "rail.yangmei_siding", "榆次区", "2020-10-20", "报告")
    users = make_users(db)
    with pytest.raises(PermissionDenied):  # a clerk of 榆次区 cannot record 介休市's event
        milestones.set_milestone(db, users["yuci"], "mines.survey", "介休市", "2020-12-01", "清单")
    assert count(db, Milestone) == 0


# --------------------------------------------------------------------------- counting rules
def test_kilns_of_one_enterprise_count_once_and_when_all_are_done(db):
    one, other = "91140700MA0000001A", "91140700MA0000002B"
    targets.set_target(db, BUILTIN_ADMIN, "kilns.kiln", "榆次区", 2)
    add(db, "kilns", YC, 1, credit_code=one, status="已完成", actual_date=D(2020, 11, 1))
    add(db, "kilns", YC, 1, credit_code=one, status="已完成", actual_date=D(2020, 11, 20))  # its second kiln
    add(db, "kilns", YC, 1, credit_code=other, status="已完成", actual_date=D(2020, 11, 5))
    add(db, "kilns", YC, 1, credit_code=other, status="施工中", actual_date=None)
    r = row(db, "kilns.kiln", YC, D(2020, 11, 30))
    assert (r.done, r.completion) == (1, 0.5)  # 4 rows, 2 enterprises, 1 with every kiln done
    assert row(db, "kilns.kiln", YC, D(2020, 11, 10)).done == 0  # the first one's second kiln was not done yet
    assert row(db, "kilns.kiln", YC, D(2020, 11, 30)).month_increment == 1  # done in November (its last kiln)


def test_a_boiler_brought_to_standard_is_not_eliminated_and_rural_estates_are_outside(db):
    add(db, "boilers", YC, 1, measure="淘汰拆除", status="已完成", actual_date=D(2020, 10, 20))
    add(db, "boilers", YC, 1, measure="清洁能源替代", status="已完成", actual_date=D(2020, 10, 21))
    add(db, "boilers", YC, 1, measure="达标治理", status="已完成", actual_date=D(2020, 10, 22))
    add(db, "boilers", YC, 1, measure="达标治理", status="已完成", actual_date=D(2020, 10, 22), rural_estate="是")
    r = row(db, "boilers.coal_lt35", YC, D(2020, 10, 31))
    # target: 3 found (the rural estate is the plan's exception); done: the 2 eliminated, not the 达标治理 one
    assert (r.target, r.done, r.status) == (3, 2, "behind")
    assert row(db, "boilers.coal_lt35", YC, D(2020, 11, 1)).status == "overdue"


def test_rail_freight_counts_2020_from_january_and_nothing_after_its_date(db):
    entries = [FigureEntry("全市", "rail.freight_increase", f"2020-{m:02d}", 100) for m in range(1, 13)]
    monthly.set_figures(db, BUILTIN_ADMIN, entries)
    city = row(db, "rail.freight_increase", CITY_CODE, D(2020, 12, 31))
    assert (city.done, city.target, city.completion) == (1200, 1500, 0.8)  # 12 × 100, January included
    assert row(db, "rail.freight_increase", YC, D(2020, 12, 31)).status_label == "无任务"
    with pytest.raises(ValidationFailed, match="只统计 2020-01 至 2020-12"):
        monthly.set_figures(db, BUILTIN_ADMIN, [FigureEntry("全市", "rail.freight_increase", "2021-01", 50)])
    with write_session(db.engine) as s:  # a month after the date stored by an older version does not count
        s.add(MonthlyFigure(unit_code=CITY_CODE, indicator_key="rail.freight_increase", month="2021-01", value=500,
                            updated_at=dt.datetime(2021, 2, 1), updated_by="测试"))
    assert row(db, "rail.freight_increase", CITY_CODE, D(2021, 3, 31)).done == 1200


def test_the_heating_split_reconciles_and_a_mismatch_is_flagged(db):
    split = targets.split_city_targets(db, {u.code: 1.0 for u in reference().units}, BUILTIN_ADMIN)
    for code in split["heating.total"]:
        assert split["heating.total"][code] == sum(split[k][code] for k in reference().indicator("heating.total").parts)
    with read_session(db.engine) as s:
        assert targets.parts_mismatches(s) == []
    targets.set_target(db, BUILTIN_ADMIN, "heating.total", "榆次区", 9999)
    with read_session(db.engine) as s:
        [m] = targets.parts_mismatches(s)
    assert (m.county, m.total) == ("榆次区", 9999) and "与其分项之和" in m.text
    data = report.build_report_data(db, "2020-11")
    assert any("榆次区" in n and "散煤治理" in n for n in data.extra_notes)


# --------------------------------------------------------------------------- scopes
def test_a_target_outside_the_scope_is_refused_and_nothing_is_written(db):
    with pytest.raises(ValidationFailed, match="只涉及榆次区、晋中开发区，不涉及“太谷区”"):
        targets.set_targets(db, BUILTIN_ADMIN, [TargetEntry("bus.new_energy", "榆次区", 60),
                                                TargetEntry("bus.new_energy", "太谷区", 16)])
    with pytest.raises(ValidationFailed, match="不涉及“榆次区”"):
        targets.set_target(db, BUILTIN_ADMIN, "coking.capacity_cut", "榆次区", 10)
    with pytest.raises(ValidationFailed, match="全市指标"):
        targets.set_target(db, BUILTIN_ADMIN, "rail.freight_increase", "榆次区", 10)
    with pytest.raises(ValidationFailed, match="不涉及“太谷区”"):
        monthly.set_figures(db, BUILTIN_ADMIN, [FigureEntry(TG, "bus.new_energy", "2020-11", 3)])
    assert count(db, CountyTarget) == 0 and count(db, MonthlyFigure) == 0
    split = targets.split_city_targets(db, {u.code: 1.0 for u in reference().units}, BUILTIN_ADMIN)
    assert set(split["bus.new_energy"]) == {YC, "140799"} and sum(split["bus.new_energy"].values()) == 76
    assert TG not in split["coking.capacity_cut"]


def test_existing_targets_outside_a_scope_are_reported_at_upgrade_not_dropped(db):
    with write_session(db.engine) as s:  # a split made before scopes existed
        s.add(CountyTarget(indicator_key="bus.new_energy", unit_code=TG, value=6,
                           updated_at=dt.datetime(2020, 10, 1), updated_by="测试"))
    result = load_reference_data(db)
    assert any("太谷区" in n and "新能源公交替换" in n and "已保留未删除" in n for n in result.scope_notes)
    assert count(db, CountyTarget) == 1
    assert row(db, "bus.new_energy", TG, D(2020, 11, 1)).status_label == "无任务"
    targets.set_target(db, BUILTIN_ADMIN, "bus.new_energy", "太谷区", None)  # clearing it is allowed
    assert count(db, CountyTarget) == 0


# --------------------------------------------------------------------------- air quality
BASE = {"2019-01": (90, 9), "2019-02": (80, 6), "2019-03": (60, 3),
        "2019-10": (50, 1), "2019-11": (60, 2), "2019-12": (70, 4)}


def test_limits_are_derived_from_the_grade_and_the_2019_baselines(db):
    basis = air_targets.set_air_basis(db, BUILTIN_ADMIN, "和顺县", grade=3, baselines=BASE)
    # 2021年1—3月: day-weighted 2019 Q1 mean (90·31 + 80·28 + 60·31)/90 = 76.556; grade 3 = 3 points → 74.3;
    # heavy days 9 + 6 + 3 = 18, grade 3 reduces by 2 → 16
    assert basis.limits["2021-01"] == (74.3, 16)
    # 2020年10—12月: (50·31 + 60·30 + 70·31)/92 = 5520/92 = 60.0 → ×0.97 = 58.2; days 7 − 2 = 5
    assert basis.limits["2020-10"] == (58.2, 5)
    with read_session(db.engine) as s:
        t = s.get(AirQualityTarget, (HS, "2021-01"))
        assert (t.last_month, t.pm25_max, t.heavy_days_max) == ("2021-03", 74.3, 16)


@pytest.mark.parametrize(
    ("grade", "baselines", "message"),
    [
        (7, BASE, "“和顺县”的档次应为 1 至 6 的整数，收到 7"),
        (0, BASE, "档次应为 1 至 6"),
        (2, {**BASE, "2019-02": (-4, 6)}, "“和顺县”2019-02 基准PM2.5月均浓度应大于 0"),
        (2, {**BASE, "2019-11": (60, 31)}, "“和顺县”2019-11 基准重污染天数应为 0 至 30"),
        (2, {k: v for k, v in BASE.items() if k != "2019-12"}, "“和顺县”缺少 2019-12 的基准"),
        (2, {**BASE, "2020-01": (80, 5)}, "不是方案比较的月份"),
    ],
)
def test_bad_grades_and_baselines_are_refused_naming_unit_month_and_field(db, grade, baselines, message):
    with pytest.raises(ValidationFailed, match=message):
        air_targets.set_air_basis(db, BUILTIN_ADMIN, "和顺县", grade=grade, baselines=baselines)
    assert count(db, AirQualityGrade) == count(db, AirQualityBaseline) == 0
    with read_session(db.engine) as s:
        assert s.get(AirQualityTarget, (HS, "2021-01")) is None


@pytest.mark.slow
def test_only_the_city_office_sets_grades(db):
    users = make_users(db)
    with pytest.raises(PermissionDenied):
        air_targets.set_air_basis(db, users["yuci"], "榆次区", grade=2, baselines=BASE)


def _air(db, area, values):
    set_air_quality_many(db, BUILTIN_ADMIN, [AirEntry(area, m, pm, hd) for m, (pm, hd) in values.items()])


def test_an_air_quality_period_that_can_no_longer_be_met(db):
    air_targets.set_air_basis(db, BUILTIN_ADMIN, "和顺县", grade=3, baselines=BASE)  # 2021 Q1: ≤74.3, ≤16 days
    _air(db, "和顺县", {"2021-01": (80, 3)})
    jan = {a.key: a for a in air_targets.air_progress(db, D(2021, 1, 31)) if a.area == HS}
    # period to date 80 > 74.3, but 80·31/90 = 27.6 if February and March were perfect: still achievable
    assert (jan["air.pm25"].value, jan["air.pm25"].best, jan["air.pm25"].status) == (80, 27.6, "behind")
    assert jan["air.heavy_days"].status == "on_track"
    _air(db, "和顺县", {"2021-02": (150, 10)})
    feb = {a.key: a for a in air_targets.air_progress(db, D(2021, 2, 28)) if a.area == HS}
    # (80·31 + 150·28)/59 = 6680/59 = 113.2 to date; with a perfect March 6680/90 = 74.2 ≤ 74.3: still possible
    assert (feb["air.pm25"].value, feb["air.pm25"].best, feb["air.pm25"].status) == (113.2, 74.2, "behind")
    _air(db, "和顺县", {"2021-02": (151, 18)})
    feb = {a.key: a for a in air_targets.air_progress(db, D(2021, 2, 28)) if a.area == HS}
    # (80·31 + 151·28)/90 = 6708/90 = 74.53 > 74.3 even with a perfect March: not met already
    assert (feb["air.pm25"].status, feb["air.pm25"].status_label) == ("not_met", "已无法达标")
    assert (feb["air.heavy_days"].value, feb["air.heavy_days"].status) == (21, "not_met")  # 21 > 16 already
    assert feb["air.heavy_days"].name == "重污染天数"
    city = {a.key: a for a in air_targets.air_progress(db, D(2021, 2, 28)) if a.area == "市城区"}
    assert city["air.heavy_days"].name == "重度及以上污染天数" and city["air.pm25"].limit == 72


def test_a_county_letter_names_lagging_air_quality_first(db):
    air_targets.set_air_basis(db, BUILTIN_ADMIN, "和顺县", grade=3, baselines=BASE)
    _air(db, "和顺县", {"2021-01": (95, 4), "2021-02": (90, 6)})  # to date 92.6 > 74.3: behind
    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "和顺县", 100)  # nothing eliminated: overdue
    data = report.build_report_data(db, "2021-02", letters=True)
    [letter] = [x for x in data.letters if x.unit_name == "和顺县"]
    assert letter.items[0].kind == "air_quality" and letter.items[0].indicator == "air.pm25"
    assert letter.items[0].name.startswith("2021年1—3月") and letter.items[0].departments
    assert any(w.indicator == "trucks.eliminated" and w.departments == "市交通局" for w in letter.items)
    assert letter.number.startswith(reference().plan.letter_prefix) and not letter.number.startswith("晋")
    warnings = progress.warnings(db, D(2021, 2, 28))
    assert (warnings[0].kind, warnings[0].unit_code) == ("air_quality", HS)


@pytest.mark.parametrize(
    ("indicator", "value", "message"),
    [
        ("dust.sweeping", "120", "“榆次区”2020-11的“城区机械化清扫率（市城区）”应在 0 至 100% 之间，收到 120"),
        ("dust.fall", "-0.5", "“榆次区”2020-11的“降尘量”应在 0 至 1,000吨/月·平方公里 之间，收到 -0.5"),
        ("straw.utilization", "101", "“榆次区”2020-11的“秸秆综合利用率”应在 0 至 100% 之间"),
    ],
)
def test_a_limit_outside_its_physical_range_is_refused_naming_unit_month_and_field(db, indicator, value, message):
    with pytest.raises(ValidationFailed, match=message):
        monthly.set_figures(db, BUILTIN_ADMIN, [FigureEntry(YC, "dust.fall", "2020-10", 8),
                                                FigureEntry(YC, indicator, "2020-11", value)])
    assert count(db, MonthlyFigure) == 0
