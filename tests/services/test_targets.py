"""Targets per unit (services.targets): checks, all-or-nothing writes, the split table, the demo split."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError, PermissionDenied, ValidationFailed
from jzair_desktop.services import air, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.targets import TargetEntry
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import CountyTarget
from tests.services.progress_records import add

CLERK = Actor(name="榆次填报员", role="county_clerk", unit_code="140702")
VIEWER = Actor(name="观察员", role="viewer")


def stored(db) -> dict:
    with read_session(db.engine) as s:
        return targets.stored_targets(s)


def count(db) -> int:
    with read_session(db.engine) as s:
        return s.scalar(select(func.count()).select_from(CountyTarget))


def split_of(db, key):
    return next(t for t in targets.target_table(db) if t.indicator == key)


def test_set_by_name_or_code_and_clear(db):
    t = targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", "1,200")
    assert (t.unit_code, t.county, t.value) == ("140702", "榆次区", 1200)
    targets.set_target(db, BUILTIN_ADMIN, "国三及以下营运柴油货车淘汰", "140703", 300)
    targets.set_target(db, BUILTIN_ADMIN, "coking.capacity_cut", "介休市", "12.5")  # 万吨 may be decimal
    assert stored(db) == {
        ("trucks.eliminated", "140702"): 1200,
        ("trucks.eliminated", "140703"): 300,
        ("coking.capacity_cut", "140781"): 12.5,
    }
    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", "")
    assert ("trucks.eliminated", "140702") not in stored(db)


@pytest.mark.parametrize(
    ("indicator", "unit", "value", "message"),
    [
        ("trucks.eliminated", "榆次区", "-1", "不能为负数"),
        ("trucks.eliminated", "榆次区", -0.5, "不能为负数"),
        ("trucks.eliminated", "榆次区", "abc", "必须是数字"),
        ("trucks.eliminated", "榆次区", "nan", "有限的数字"),
        ("trucks.eliminated", "榆次区", "inf", "有限的数字"),
        ("trucks.eliminated", "榆次区", True, "必须是数字"),
        ("trucks.eliminated", "榆次区", "10.5", "必须是整数"),
        ("trucks.eliminated", "东城区", "10", "未知的县（区、市）：“东城区”。可选：榆次区"),
        ("trucks.gone", "榆次区", "10", "未知的指标：“trucks.gone”。可选：heating.total（散煤治理）"),
        ("boilers.coal_lt35", "榆次区", "3", "由台账自动计算"),
        ("vocs.bypass", "榆次区", "3", "由台账自动计算"),
        # issue 17: 机械化清扫率 is a limit of its own per scope (75 % 市城区), never split
        ("dust.sweeping", "榆次区", "70", "是限值指标，每月不得低于 75%"),
        ("bus.new_energy", "太谷区", "5", "只涉及榆次区、晋中开发区，不涉及“太谷区”"),
    ],
)
def test_bad_targets_are_refused_with_nothing_written(db, indicator, unit, value, message):
    targets.set_target(db, BUILTIN_ADMIN, "heating.gas", "祁县", 100)
    with pytest.raises(JzairError) as err:
        targets.set_target(db, BUILTIN_ADMIN, indicator, unit, value)
    assert message in str(err.value)
    assert stored(db) == {("heating.gas", "140727"): 100}


def test_only_the_city_office_sets_targets(db):
    with pytest.raises(PermissionDenied, match="只有市级管理员"):
        targets.set_target(db, CLERK, "trucks.eliminated", "榆次区", 10)
    with pytest.raises(PermissionDenied):
        targets.set_targets(db, VIEWER, [TargetEntry("trucks.eliminated", "榆次区", 10)])
    with pytest.raises(PermissionDenied):
        targets.split_city_targets(db, {"140702": 1}, CLERK)
    assert count(db) == 0


def test_many_targets_all_or_nothing(db):
    entries = [
        TargetEntry("trucks.eliminated", "榆次区", 10, where="第4行"),
        TargetEntry("trucks.eliminated", "太谷区", -3, where="第5行"),
        TargetEntry("heating.gas", "火星", 3, where="第6行"),
        TargetEntry("trucks.eliminated", "140702", 11, where="第7行"),
    ]
    with pytest.raises(ValidationFailed) as err:
        targets.set_targets(db, BUILTIN_ADMIN, entries)
    problems = err.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("第5行：") and "不能为负数" in problems[0]
    assert problems[1].startswith("第6行：") and "火星" in problems[1]
    assert problems[2].startswith("第7行：") and "重复" in problems[2]
    assert "未做任何改动" in str(err.value)
    assert count(db) == 0
    result = targets.set_targets(db, BUILTIN_ADMIN, entries[:1])
    assert (result.set, result.cleared, result.unchanged) == (1, 0, 0)
    again = targets.set_targets(db, BUILTIN_ADMIN, entries[:1])
    assert (again.set, again.unchanged) == (0, 1)


def test_split_table_states(db):
    assert split_of(db, "trucks.eliminated").state == "unset"
    assert split_of(db, "trucks.eliminated").missing == tuple(u.name for u in reference().units)
    codes = [u.code for u in reference().units]
    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", codes[0], 8000)
    partial = split_of(db, "trucks.eliminated")
    assert (partial.state, partial.total, partial.city_target, partial.mismatch) == ("partial", 8000, 8869, True)
    targets.set_targets(db, BUILTIN_ADMIN, [TargetEntry("trucks.eliminated", c, 0) for c in codes[1:-1]]
                        + [TargetEntry("trucks.eliminated", codes[-1], 869)])
    done = split_of(db, "trucks.eliminated")
    assert (done.state, done.total, done.mismatch, done.missing) == ("complete", 8869, False, ())
    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", codes[-1], 870)
    over = split_of(db, "trucks.eliminated")
    assert (over.state, over.total, over.mismatch) == ("mismatch", 8870, True)
    assert over.state_text == "合计与市级目标不一致"


def test_all_found_and_rate_targets_in_the_table(db):
    add(db, "boilers", "140702", 3, fuel="燃煤", capacity_th=10.0)
    add(db, "boilers", "140702", 1, fuel="燃煤", capacity_th=35.0)  # not below 35
    add(db, "boilers", "140703", 1, fuel="燃煤", capacity_th=34.9)
    add(db, "boilers", "140703", 1, fuel="燃煤", capacity_th=1.0,
        deleted_at=dt.datetime(2020, 11, 1), deleted_by="测试")
    boilers = split_of(db, "boilers.coal_lt35")
    values = {u.unit_code: u.value for u in boilers.units}
    assert (values["140702"], values["140703"], values["140721"]) == (3, 1, 0)
    assert (boilers.rule, boilers.city_target, boilers.total, boilers.state) == ("all_found", 4, 4, "auto")
    # issue 17: two limits, each for the units it concerns (无任务 elsewhere)
    sweeping = split_of(db, "dust.sweeping")
    assert sweeping.rule == "rate" and sweeping.city_target == 75
    assert {u.value for u in sweeping.units if u.in_scope} == {75}
    assert {u.unit_code for u in sweeping.units if u.in_scope} == {"140702", "140799"}
    county = split_of(db, "dust.sweeping_county")
    assert {u.value for u in county.units if u.in_scope} == {65} and county.city_target == 65
    straw = split_of(db, "straw.utilization")
    assert {u.value for u in straw.units} == {90}


def test_split_city_targets_sums_exactly(db):
    ref = reference()
    weights = {u.code: float(i + 1) for i, u in enumerate(ref.units)}
    weights["140799"] = 0.0  # 开发区 takes no share
    split = targets.split_city_targets(db, weights, BUILTIN_ADMIN)
    assert set(split) == {i.key for i in targets.splittable_indicators()}
    for key, shares in split.items():
        ind = ref.indicator(key)
        assert sum(shares.values()) == ind.target
        assert shares.get("140799", 0) == 0
        assert split_of(db, key).state == "complete"
    # issue 17: a target is split only to the units in its scope; 散煤治理 is the sum of its four parts
    assert set(split["coking.capacity_cut"]) == set(ref.indicator("coking.capacity_cut").scope)
    assert all(split["heating.total"][c] == sum(split[k][c] for k in ref.indicator("heating.total").parts)
               for c in weights)
    # 8869 over weights 1..11 (sum 66): 134.38…·k, largest remainders get the extra vehicles
    trucks = split["trucks.eliminated"]
    assert [trucks[u.code] for u in ref.units] == [134, 269, 403, 538, 672, 806, 941, 1075, 1209, 1344, 1478, 0]


def test_split_city_targets_refuses_bad_weights(db):
    with pytest.raises(JzairError, match="未知的县"):
        targets.split_city_targets(db, {"999999": 1.0}, BUILTIN_ADMIN)
    with pytest.raises(JzairError, match="不小于0"):
        targets.split_city_targets(db, {"140702": -1.0}, BUILTIN_ADMIN)
    with pytest.raises(JzairError, match="大于0"):
        targets.split_city_targets(db, {"140702": 0.0}, BUILTIN_ADMIN)
    assert count(db) == 0


def test_largest_remainder_hand_computed():
    # 10 over 1:1:1 → quotas 3.33…: one unit gets the extra, the first in order
    assert targets.largest_remainder(10, {"a": 1, "b": 1, "c": 1}, ["a", "b", "c"]) == {"a": 4, "b": 3, "c": 3}
    # 7 over 0.5:0.3:0.2 → 3.5, 2.1, 1.4 → floors 3, 2, 1 (6); largest remainder .5 → a
    assert targets.largest_remainder(7, {"a": 0.5, "b": 0.3, "c": 0.2}, ["a", "b", "c"]) == {"a": 4, "b": 2, "c": 1}


@given(
    st.integers(min_value=0, max_value=100_000),
    st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=1, max_size=12).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_largest_remainder_properties(total, ws):
    keys = [f"u{i}" for i in range(len(ws))]
    weights = dict(zip(keys, ws, strict=True))
    shares = targets.largest_remainder(total, weights, keys)
    assert sum(shares.values()) == total
    wsum = sum(ws)
    for k in keys:
        quota = total * weights[k] / wsum
        assert math.floor(quota) <= shares[k] <= math.floor(quota) + 1
        assert shares[k] >= 0


@pytest.mark.slow
@given(st.integers(min_value=0, max_value=10**9))
def test_parse_figure_reads_thousands_and_full_width(n):
    assert targets.parse_figure(f"{n:,}", what="x") == n
    full = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert targets.parse_figure(full, what="x") == n
    assert targets.parse_figure(f" {n} ", what="x") == n


def test_parse_figure_refuses():
    for bad in ("", "  ", None, "1,2", "12a", "--1", True):
        with pytest.raises(JzairError):
            targets.parse_figure(bad, what="目标")


def test_changes_are_audited_and_the_chain_verifies(db):
    from jzair_desktop.services import audit, audit_verify, monthly

    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", 10)
    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", 12)
    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", 12)  # unchanged: no entry
    targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", "")
    monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-11", 3)
    air.set_air_quality(db, BUILTIN_ADMIN, "市城区", "2020-11", pm25=40)
    rows = audit.query_log(db, newest_first=False)
    mine = [(r.action, r.ledger, r.detail) for r in rows]
    assert mine == [
        ("create", "county_targets", "榆次区“国三及以下营运柴油货车淘汰”目标：未分解 → 10"),
        ("update", "county_targets", "榆次区“国三及以下营运柴油货车淘汰”目标：10 → 12"),
        ("delete", "county_targets", "榆次区“国三及以下营运柴油货车淘汰”目标：12 → 未分解"),
        ("create", "monthly_figures", "榆次区 2020-11“新能源公交替换（市建成区）”：空 → 3"),
        ("create", "air_quality", "市城区 2020-11 空气质量：PM2.5 40，重污染天数 空"),
    ]
    assert audit_verify.verify(db).ok


def test_with_accounts_the_builtin_admin_writes_nothing(db):
    from jzair_desktop.services import accounts

    accounts.add_user(db, BUILTIN_ADMIN, "市级管理员甲", "city_admin", "Jinzhong#2020ok")
    with pytest.raises(PermissionDenied, match="请先以账户登录"):
        targets.set_target(db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", 10)
    assert count(db) == 0
    admin = Actor(name="市级管理员甲", role="city_admin")
    targets.set_target(db, admin, "trucks.eliminated", "榆次区", 10)
    assert count(db) == 1
