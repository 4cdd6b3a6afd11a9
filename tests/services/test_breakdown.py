"""The ledgers' breakdowns for the dashboard (services.breakdown) against hand-counted records."""

from __future__ import annotations

import datetime as dt

import pytest

from jzair_desktop.demo import generate_demo
from jzair_desktop.domain.reference import CITY_CODE
from jzair_desktop.services import breakdown, progress
from jzair_desktop.services.breakdown import all_breakdowns, breakdowns, ledger_breakdown
from tests.services.progress_records import add

D = dt.date
YC, TG = "140702", "140703"
DELETED = {"deleted_at": dt.datetime(2020, 11, 1, 9, 0), "deleted_by": "测试"}


@pytest.fixture
def records(db):
    # heating, 榆次区
    add(db, "heating", YC, 3, method="气代煤", status="已完工", done_date=D(2020, 10, 10))
    add(db, "heating", YC, 1, method="气代煤", status="已验收", done_date=D(2020, 10, 20))
    add(db, "heating", YC, 2, method="气代煤", status="施工中", done_date=None)
    add(db, "heating", YC, 1, method="气代煤", status="已完工", done_date=D(2020, 11, 20))  # done after 11-15
    add(db, "heating", YC, 1, method="气代煤", status="已完工", done_date=D(2020, 10, 10), **DELETED)
    add(db, "heating", YC, 2, method="电代煤", status="未开工", done_date=None)
    # heating, 太谷区
    add(db, "heating", TG, 4, method="集中供热", status="已验收", done_date=D(2020, 10, 5))
    # trucks
    add(db, "trucks", YC, 2, emission_std="国三", method="报废拆解", eliminated_date=D(2020, 10, 5))
    add(db, "trucks", YC, 1, emission_std="国三", method="注销", eliminated_date=D(2020, 12, 1))  # after
    add(db, "trucks", TG, 1, emission_std="国二", method="转出", eliminated_date=D(2020, 11, 2))
    # boilers: every live record, whatever its status
    add(db, "boilers", YC, 2, fuel="燃煤", measure="淘汰拆除", status="已完成", actual_date=D(2020, 10, 20))
    add(db, "boilers", YC, 1, fuel="燃煤", measure="清洁能源替代", status="未开工", actual_date=None)
    add(db, "boilers", TG, 1, fuel="燃气", measure="低氮改造", status="已完成", actual_date=D(2020, 12, 20))
    add(db, "boilers", TG, 1, fuel="燃气", measure="低氮改造", status="已完成", actual_date=D(2020, 10, 1), **DELETED)
    # vocs
    add(db, "vocs", YC, 1, category="旁路排查整治", status="已销号", actual_date=D(2020, 11, 1))
    add(db, "vocs", YC, 1, category="旁路排查整治", status="已完成", actual_date=D(2021, 1, 1))  # after
    add(db, "vocs", TG, 2, category="VOCs综合治理", status="施工中", actual_date=None)
    return db


def test_every_chart_with_the_registry_choices_in_order(records):
    charts = {b.key: b for b in all_breakdowns(records, D(2020, 11, 15))}
    assert list(charts) == [s.key for s in breakdowns()]
    heating = charts["heating"]
    assert heating.categories == ("气代煤", "电代煤", "集中供热", "其他清洁能源")
    assert heating.stacks == ("未开工", "施工中", "已完工", "已验收", "此后完工")
    assert heating.category_header == "改造方式" and heating.stack_header == "状态"
    assert charts["trucks"].stacks == ("报废拆解", "注销", "转出", "此后淘汰")
    assert charts["boilers"].stacks == ("淘汰拆除", "清洁能源替代", "超低排放改造", "低氮改造", "达标治理")
    assert charts["boilers"].after is None
    assert charts["vocs"].categories[0] == "VOCs综合治理"


def test_counts_as_of_a_date(records):
    b = ledger_breakdown(records, "heating", D(2020, 11, 15))
    assert b.count("气代煤", "已完工") == 3  # the fourth was done on 11-20, after the date
    assert b.count("气代煤", "已验收") == 1
    assert b.count("气代煤", "施工中") == 2
    assert b.count("气代煤", "此后完工") == 1
    assert b.category_total("气代煤") == 7  # the soft-deleted household is not counted
    assert b.count("电代煤", "未开工") == 2
    assert b.count("集中供热", "已验收") == 4
    assert b.total == 13
    later = ledger_breakdown(records, "heating", D(2020, 12, 31))
    assert later.count("气代煤", "已完工") == 4 and later.count("气代煤", "此后完工") == 0

    trucks = ledger_breakdown(records, "trucks", D(2020, 11, 15))
    assert trucks.count("国三", "报废拆解") == 2
    assert trucks.count("国三", "注销") == 0 and trucks.count("国三", "此后淘汰") == 1
    assert trucks.count("国二", "转出") == 1

    boilers = ledger_breakdown(records, "boilers", D(2020, 10, 1))  # the date does not matter here
    assert boilers.count("燃煤", "淘汰拆除") == 2
    assert boilers.count("燃煤", "清洁能源替代") == 1
    assert boilers.count("燃气", "低氮改造") == 1  # deleted one left out; done later still counted
    assert boilers.total == 4

    vocs = ledger_breakdown(records, "vocs", D(2020, 12, 1))
    assert vocs.count("旁路排查整治", "已销号") == 1
    assert vocs.count("旁路排查整治", "此后完成") == 1
    assert vocs.count("VOCs综合治理", "施工中") == 2


def test_one_unit(records):
    b = ledger_breakdown(records, "heating", D(2020, 11, 15), unit_code=TG)
    assert b.total == 4 and b.count("集中供热", "已验收") == 4
    empty = ledger_breakdown(records, "vocs", D(2020, 11, 15), unit_code="140799")
    assert empty.total == 0 and len(empty.categories) == 5  # the bars are there, empty


def test_unknown_values_get_their_own_bar(db):
    add(db, "heating", YC, 1, method="煤改气", status="已完工", done_date=D(2020, 10, 10))
    b = ledger_breakdown(db, "heating", D(2020, 11, 15))
    assert b.categories[-1] == "煤改气" and b.count("煤改气", "已完工") == 1


def test_unknown_chart_key(db):
    with pytest.raises(KeyError):
        breakdown.spec("kilns")


@pytest.mark.slow
def test_done_stacks_agree_with_the_progress_engine(db):
    """On the demo data, the done stacks of every method add up to what the engine counts as done."""
    generate_demo(db, seed=7, scale=0.05, today=D(2021, 3, 31))
    for as_of in (D(2020, 10, 20), D(2020, 12, 15), D(2021, 3, 31)):
        rows = {(r.indicator, r.unit_code): r for r in progress.compute_progress(db, as_of)}
        heating = ledger_breakdown(db, "heating", as_of)
        for method, key in (("气代煤", "heating.gas"), ("电代煤", "heating.electric"), ("集中供热", "heating.central"),
                            ("其他清洁能源", "heating.other")):
            done = heating.count(method, "已完工") + heating.count(method, "已验收")
            assert done == rows[(key, CITY_CODE)].done, (as_of, method)
        trucks = ledger_breakdown(db, "trucks", as_of)
        done = sum(trucks.count(c, s) for c in trucks.categories for s in trucks.stacks if s != "此后淘汰")
        assert done == rows[("trucks.eliminated", CITY_CODE)].done
        vocs = ledger_breakdown(db, "vocs", as_of, unit_code=YC)
        done = vocs.count("VOCs综合治理", "已完成") + vocs.count("VOCs综合治理", "已销号")
        assert done == rows[("vocs.treatment", YC)].done
