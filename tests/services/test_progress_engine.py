"""The progress engine against hand-computed figures (services.progress)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from jzair_desktop.domain.reference import CITY_CODE, reference
from jzair_desktop.errors import JzairError
from jzair_desktop.services import milestones, monthly, progress, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.monthly import FigureEntry
from jzair_desktop.services.targets import TargetEntry
from tests.services.progress_records import add

D = dt.date
AS_OF = D(2020, 11, 15)
YC, TG, YS = "140702", "140703", "140721"  # 榆次区, 太谷区, 榆社县
DELETED = {"deleted_at": dt.datetime(2020, 11, 1, 9, 0), "deleted_by": "测试"}


@pytest.fixture
def scenario(db):
    # trucks: every live record is done on its eliminated_date
    add(db, "trucks", YC, 3, eliminated_date=D(2020, 10, 5))
    add(db, "trucks", YC, 2, eliminated_date=D(2020, 11, 10))
    add(db, "trucks", YC, 1, eliminated_date=D(2020, 10, 5), **DELETED)  # soft-deleted: never counts
    add(db, "trucks", YC, 1, eliminated_date=D(2020, 12, 1))  # after the as-of date
    add(db, "trucks", TG, 4, eliminated_date=D(2020, 11, 2))
    # heating: done when 已完工/已验收 with a done date on or before the as-of date
    add(db, "heating", YC, 3, method="气代煤", status="已完工", done_date=D(2020, 10, 10))
    add(db, "heating", YC, 1, method="气代煤", status="已验收", done_date=D(2020, 10, 20))
    add(db, "heating", YC, 2, method="气代煤", status="施工中", done_date=None)
    add(db, "heating", YC, 2, method="电代煤", status="已完工", done_date=D(2020, 10, 25))
    add(db, "heating", YC, 1, method="气代煤", status="已完工", done_date=D(2020, 11, 20))
    add(db, "heating", YC, 1, method="气代煤", status="已完工", done_date=D(2020, 10, 10), **DELETED)
    # boilers: coal below 35 t/h, all found = the target
    add(db, "boilers", YC, 1, fuel="燃煤", capacity_th=10.0, status="已完成", actual_date=D(2020, 10, 20))
    add(db, "boilers", YC, 1, fuel="燃煤", capacity_th=20.0, status="施工中", actual_date=None)
    add(db, "boilers", YC, 1, fuel="燃煤", capacity_th=40.0, status="已完成", actual_date=D(2020, 10, 20))
    add(db, "boilers", YC, 1, fuel="燃气", capacity_th=10.0, status="已完成", actual_date=D(2020, 10, 20))
    add(db, "boilers", YC, 1, fuel="燃煤", capacity_th=10.0, status="施工中", actual_date=None, **DELETED)
    # kilns: per-record plans
    # (three enterprises: the plan counts enterprises by 统一社会信用代码)
    add(db, "kilns", YC, 1, category="工业炉窑治理", status="已完成", actual_date=D(2020, 11, 1),
        planned_date=D(2020, 11, 1), credit_code="91140700MA0000001A")
    add(db, "kilns", YC, 1, category="工业炉窑治理", status="施工中", actual_date=None,
        planned_date=D(2020, 11, 10), enterprise="甲焦化厂", credit_code="91140700MA0000002B")
    add(db, "kilns", YC, 1, category="工业炉窑治理", status="未开工", actual_date=None,
        planned_date=D(2020, 12, 31), credit_code="91140700MA0000003C")
    add(db, "kilns", YC, 1, category="无组织排放治理", status="已完成", actual_date=D(2020, 11, 20),
        planned_date=D(2020, 11, 1), enterprise="乙建材厂")
    targets.set_targets(
        db,
        BUILTIN_ADMIN,
        [
            TargetEntry("trucks.eliminated", YC, 10),
            TargetEntry("trucks.eliminated", TG, 4),
            TargetEntry("trucks.eliminated", YS, 8),
            TargetEntry("heating.gas", YC, 4),
            TargetEntry("heating.electric", YC, 4),
            TargetEntry("kilns.kiln", YC, 4),
            TargetEntry("kilns.fugitive", YC, 1),
            TargetEntry("bus.new_energy", YC, 10),
        ],
    )
    monthly.set_figures(
        db,
        BUILTIN_ADMIN,
        [
            FigureEntry(YC, "bus.new_energy", "2020-10", 3),
            FigureEntry(YC, "bus.new_energy", "2020-11", 2),
            FigureEntry(YC, "bus.new_energy", "2020-12", 5),  # after the as-of month
            FigureEntry(YC, "dust.sweeping", "2020-10", 70),
            FigureEntry(YC, "dust.sweeping", "2020-11", 60),
            FigureEntry(YC, "dust.sweeping", "2020-12", 80),
            FigureEntry(TG, "dust.sweeping_county", "2020-10", 66),
            FigureEntry(YC, "dust.fall", "2020-11", 12),
        ],
    )
    # the milestones due before the as-of date are done (the first one late)
    for key, unit, day in (("steel.xintai_ultra_low", "介休市", D(2020, 10, 16)),
                           ("steel.xintai_assessment", "介休市", D(2020, 10, 29)),
                           ("rail.yangmei_siding", "全市", D(2020, 10, 26))):
        milestones.set_milestone(db, BUILTIN_ADMIN, key, unit, day, "测试依据〔2020〕1号", today=D(2021, 3, 31))
    return db


def table(db, as_of=AS_OF):
    return {(r.indicator, r.unit_code): r for r in progress.compute_progress(db, as_of)}


def test_trucks_hand_computed(scenario):
    t = table(scenario)
    schedule = 45 / 91  # 2020-10-01 … 2020-11-15 of 2020-10-01 … 2020-12-31
    yc = t[("trucks.eliminated", YC)]
    assert (yc.county, yc.target, yc.done, yc.month_increment) == ("榆次区", 10, 5, 2)
    assert yc.completion == pytest.approx(0.5)
    assert yc.schedule == pytest.approx(schedule)
    assert yc.status == "on_track"
    assert yc.due == D(2020, 12, 31)
    tg = t[("trucks.eliminated", TG)]
    assert (tg.done, tg.completion, tg.status, tg.month_increment) == (4, 1.0, "done", 4)
    ys = t[("trucks.eliminated", YS)]
    assert (ys.done, ys.completion, ys.status) == (0, 0.0, "behind")
    assert (tg.rank, yc.rank, ys.rank) == (1, 2, 3)
    other = t[("trucks.eliminated", "140722")]  # 左权县: no target split
    assert (other.target, other.completion, other.status, other.rank) == (None, None, "no_target", None)
    assert other.status_label == "未分解"
    city = t[("trucks.eliminated", CITY_CODE)]
    assert (city.county, city.target, city.done, city.month_increment, city.rank) == ("全市", 8869, 9, 6, None)
    assert city.completion == pytest.approx(9 / 8869)
    assert city.status == "behind"


def test_heating_status_and_date_rules(scenario):
    t = table(scenario)
    gas = t[("heating.gas", YC)]
    assert (gas.done, gas.completion, gas.status) == (4, 1.0, "done")  # 3 已完工 + 1 已验收; 施工中 not
    electric = t[("heating.electric", YC)]
    assert (electric.done, electric.completion, electric.schedule) == (2, 0.5, 1.0)
    assert electric.status == "overdue"  # due 2020-10-31, below 100 %
    total = t[("heating.total", YC)]
    assert (total.done, total.target, total.completion, total.status) == (6, None, None, "no_target")
    # the gas record done on 2020-11-20 counts from then on
    later = table(scenario, D(2020, 11, 20))
    assert later[("heating.gas", YC)].done == 5
    assert later[("heating.gas", YC)].month_increment == 1


def test_schedule_edges_through_the_engine(scenario):
    before = table(scenario, D(2020, 9, 30))[("heating.electric", YC)]
    assert (before.done, before.schedule, before.status) == (0, 0.0, "on_track")
    start = table(scenario, D(2020, 10, 1))[("heating.electric", YC)]
    assert (start.schedule, start.status) == (0.0, "on_track")
    on_due = table(scenario, D(2020, 10, 31))[("heating.electric", YC)]
    assert (on_due.done, on_due.schedule, on_due.status) == (2, 1.0, "behind")
    after = table(scenario, D(2020, 11, 1))[("heating.electric", YC)]
    assert (after.schedule, after.status) == (1.0, "overdue")


def test_all_found_targets(scenario):
    t = table(scenario)
    yc = t[("boilers.coal_lt35", YC)]
    # coal < 35 t/h, live: the 10 t/h one (done) and the 20 t/h one (施工中); 40 t/h, gas, deleted excluded
    assert (yc.target, yc.done, yc.completion, yc.status) == (2, 1, 0.5, "overdue")
    tg = t[("boilers.coal_lt35", TG)]
    assert (tg.target, tg.completion, tg.status, tg.rank) == (0, None, "no_target", None)
    assert tg.status_label == "无任务"
    city = t[("boilers.coal_lt35", CITY_CODE)]
    assert (city.target, city.done) == (2, 1)
    bypass = t[("vocs.bypass", CITY_CODE)]
    assert (bypass.target, bypass.completion, bypass.status) == (0, None, "no_target")


def test_monthly_counts_and_rates(scenario):
    # Issue 17: rates are limits, judged month by month against the limit with no schedule tolerance;
    # 机械化清扫率 has two limits (75 % 市城区 = 榆次区/开发区, 65 % the county towns).
    t = table(scenario)
    bus = t[("bus.new_energy", YC)]
    assert (bus.target, bus.done, bus.month_increment) == (10, 5, 2)  # December not yet
    assert bus.schedule == pytest.approx(45 / 181)
    assert bus.status == "on_track" and bus.kind == "cumulative"
    sweep = t[("dust.sweeping", YC)]
    assert (sweep.target, sweep.done, sweep.value_month, sweep.kind) == (75, 60, "2020-11", "limit")
    assert sweep.completion == pytest.approx(60 / 75)
    assert (sweep.status, sweep.status_label, sweep.months_met, sweep.months_reported) == ("not_met", "未达标", 0, 2)
    assert t[("dust.sweeping", TG)].status_label == "无任务" and not t[("dust.sweeping", TG)].in_scope
    tg = t[("dust.sweeping_county", TG)]
    assert (tg.target, tg.done, tg.status, tg.value_month, tg.met_text) == (65, 66, "met", "2020-10", "达标月数 1/1")
    ys = t[("dust.sweeping_county", YS)]
    assert (ys.done, ys.status, ys.status_label) == (None, "no_data", "未报送")
    assert (tg.rank, ys.rank) == (1, 2)
    city = t[("dust.sweeping", CITY_CODE)]
    # 全市 counts the units meeting their own limit; it is not an average judged against 75
    assert (city.target, city.done, city.status, city.months_met, city.months_reported) == (75, None, "not_met", 0, 1)
    fall = t[("dust.fall", YC)]
    assert fall.completion == pytest.approx(9 / 12) and fall.status == "not_met"  # at most 9: 12 misses
    december = table(scenario, D(2020, 12, 31))
    # missed in October and November, met in December: met now, the misses stay visible (1/3)
    assert (december[("dust.sweeping", YC)].status, december[("dust.sweeping", YC)].met_text) == ("met", "达标月数 1/3")
    assert december[("bus.new_energy", YC)].done == 10


def test_rates_before_the_first_month_closes(scenario):
    t = table(scenario, D(2020, 10, 15))
    assert t[("straw.utilization", YS)].status == "no_data"  # nothing reported: no judgement yet
    assert t[("dust.sweeping", YC)].schedule == 1.0  # no schedule tolerance for a limit
    assert t[("dust.sweeping", YC)].status == "not_met"  # October: 70 < 75


def test_city_is_the_sum_of_units(scenario):
    rows = progress.compute_progress(scenario, D(2021, 1, 10))
    ref = reference()
    assert len(rows) == len(ref.indicators) * (len(ref.units) + 1)
    for ind in ref.indicators:
        if ind.measure != "count" or ind.kind != "cumulative" or ind.city_level:
            continue
        units = [r for r in rows if r.indicator == ind.key and not r.is_city]
        [city] = [r for r in rows if r.indicator == ind.key and r.is_city]
        assert city.done == sum(r.done for r in units)
        assert city.month_increment == sum(r.month_increment for r in units)


def test_deleted_and_later_records_do_not_count(scenario):
    t = table(scenario)
    assert t[("trucks.eliminated", YC)].done == 5  # 7 records: one deleted, one after the as-of date
    assert table(scenario, D(2021, 1, 1))[("trucks.eliminated", YC)].done == 6


def test_one_query_per_ledger(scenario):
    statements = []

    def record(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        statements.append(statement)

    event.listen(scenario.engine, "before_cursor_execute", record)
    try:
        progress.compute_progress(scenario, AS_OF)
    finally:
        event.remove(scenario.engine, "before_cursor_execute", record)
    # Issue 17: indicators counting enterprises (kilns, VOCs) take one grouped query each over their ledger.
    ref = reference()
    for ledger in ("heating", "trucks", "boilers", "kilns", "vocs"):
        inds = [i for i in ref.indicators if i.ledger == ledger]
        by_enterprise = sum(1 for i in inds if i.count_by == "enterprise")
        expected = by_enterprise + (1 if by_enterprise < len(inds) else 0)
        hits = [s for s in statements if f"FROM {ledger}" in s]
        assert len(hits) == expected, (ledger, hits)
        assert all("GROUP BY" in h for h in hits)


def test_unit_filter(scenario):
    rows = progress.compute_progress(scenario, AS_OF, unit="榆次区")
    assert {r.unit_code for r in rows} == {YC}
    assert len(rows) == len(reference().indicators)
    by_code = progress.compute_progress(scenario, AS_OF, unit=YC)
    assert by_code == rows
    with pytest.raises(JzairError, match="未知的县"):
        progress.compute_progress(scenario, AS_OF, unit="东城区")


def test_warnings_worst_first(scenario):
    rows = progress.warnings(scenario, AS_OF)
    assert rows, "expected warnings"
    assert all(r.status in ("overdue", "behind", "not_met") and not r.is_city for r in rows)
    assert [(r.indicator, r.unit_code) for r in rows[:2]] == [("heating.electric", YC), ("boilers.coal_lt35", YC)]
    kinds = [r.status for r in rows]
    assert kinds == sorted(kinds, key=lambda s: 0 if s in ("overdue", "not_met") else 1)
    behind = [r for r in rows if r.status == "behind"]
    gaps = [r.gap for r in behind]
    assert gaps == sorted(gaps, reverse=True)
    keys = [(r.indicator, r.unit_code) for r in rows]
    # a limit not met is as serious as an overdue count (issue 17), so it comes before a behind one
    assert keys.index(("dust.sweeping", YC)) < keys.index(("trucks.eliminated", YS))
    assert ("trucks.eliminated", YC) not in keys  # on track
    with_city = progress.warnings(scenario, AS_OF, include_city=True)
    assert any(r.is_city for r in with_city)


def test_overdue_items(scenario):
    items = progress.overdue_items(scenario, AS_OF)
    assert [(i.indicator, i.label, i.days_overdue) for i in items] == [
        ("kilns.fugitive", "乙建材厂", 14),  # done only on 2020-11-20: open at the as-of date
        ("kilns.kiln", "甲焦化厂", 5),
    ]
    assert items[1].status == "施工中" and items[1].county == "榆次区"
    assert progress.overdue_items(scenario, AS_OF, unit=TG) == []
    assert [i.label for i in progress.overdue_items(scenario, D(2020, 11, 25))] == ["甲焦化厂"]


def test_progress_history(scenario):
    days = [D(2020, 10, 1), D(2020, 10, 5), D(2020, 11, 10), D(2020, 11, 15), D(2020, 12, 31)]
    points = progress.progress_history(scenario, "trucks.eliminated", days, unit="榆次区")
    assert [p.done for p in points] == [0, 3, 5, 5, 6]
    assert points[-1].completion == pytest.approx(0.6)
    assert points[-1].schedule == 1.0
    city = progress.progress_history(scenario, "trucks.eliminated", days)
    assert [p.done for p in city] == [0, 3, 9, 9, 10]  # 太谷区 adds 4 on 2020-11-02
    bus = progress.progress_history(scenario, "bus.new_energy", [D(2020, 10, 31), D(2020, 11, 15), D(2021, 1, 1)], YC)
    assert [p.done for p in bus] == [3, 5, 10]
    # the engine and the history agree on the same day
    assert city[3].done == table(scenario)[("trucks.eliminated", CITY_CODE)].done


def test_empty_database(db):
    rows = progress.compute_progress(db, AS_OF)
    city = [r for r in rows if r.is_city and r.indicator == "trucks.eliminated"][0]
    assert (city.target, city.done, city.status) == (8869, 0, "behind")
    assert all(r.status == "no_target" for r in rows if not r.is_city and r.kind == "cumulative")
