"""Air quality written as a grid (services.air): checked first, all or nothing, audited, removable."""

from __future__ import annotations

import pytest

from jzair_desktop.errors import ValidationFailed
from jzair_desktop.services import air, audit
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.air import AUDIT_AIR, CITY_AREA, AirEntry, problem_field, set_air_quality_many

YC, TG = "140702", "140703"


def stored(db):
    return {(v.area, v.month): (v.pm25, v.heavy_days) for v in air.air_quality(db)}


def air_log(db):
    return audit.query_log(db, audit.AuditQuery(ledger=AUDIT_AIR), newest_first=False)


def test_many_months_in_one_go_with_an_audit_entry_each(db):
    n = set_air_quality_many(db, BUILTIN_ADMIN, [
        AirEntry(CITY_AREA, "2020-11", "52", 1),
        AirEntry("榆次区", "2020年12月", 64.5, None),
        AirEntry(TG, "2021-02", None, "3"),
    ])
    assert n == 3
    assert stored(db) == {(CITY_AREA, "2020-11"): (52.0, 1), (YC, "2020-12"): (64.5, None), (TG, "2021-02"): (None, 3)}
    log = air_log(db)
    assert [e.action for e in log] == ["create"] * 3
    # The audited state carries who changed the month and when (compared by `audit verify`).
    assert log[0].after == {"area": CITY_AREA, "month": "2020-11", "pm25": 52.0, "heavy_days": 1,
                            "updated_at": log[0].after["updated_at"], "updated_by": BUILTIN_ADMIN.name}
    assert log[0].after["updated_at"].startswith(log[0].at.date().isoformat())
    assert log[1].unit_code == YC and log[0].unit_code is None
    # Unchanged months write nothing; a changed one is an update; both blank removes the month.
    assert set_air_quality_many(db, BUILTIN_ADMIN, [AirEntry(CITY_AREA, "2020-11", 52, 1)]) == 0
    assert set_air_quality_many(db, BUILTIN_ADMIN, [AirEntry(CITY_AREA, "2020-11", 50, 1),
                                                    AirEntry(YC, "2020-12", "", None)]) == 2
    assert stored(db) == {(CITY_AREA, "2020-11"): (50.0, 1), (TG, "2021-02"): (None, 3)}
    assert [e.action for e in air_log(db)][-2:] == ["update", "delete"]
    assert set_air_quality_many(db, BUILTIN_ADMIN, [AirEntry(YC, "2021-01", None, None)]) == 0  # nothing to remove


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (AirEntry(YC, "2020-11", "1000.5", None, where="榆次区 2020-11"), "0 至 1000"),
        (AirEntry(YC, "2020-11", "-1", None, where="榆次区 2020-11"), "0 至 1000"),
        (AirEntry(YC, "2021-02", None, 29, where="榆次区 2021-02"), "0 至 28"),
        (AirEntry(YC, "2020-11", None, 1.5, where="榆次区 2020-11"), "整数"),
        (AirEntry(YC, "2020-11", "高", None, where="榆次区 2020-11"), "必须是数字"),
        (AirEntry("太原市", "2020-11", 40, None, where="太原市 2020-11"), "未知的空气质量区域"),
        (AirEntry(YC, "2019-11", 40, None, where="榆次区 2019-11"), "不在可填报的范围内"),
    ],
)
def test_a_bad_value_refuses_the_whole_grid(db, entry, words):
    with pytest.raises(ValidationFailed) as caught:
        set_air_quality_many(db, BUILTIN_ADMIN, [AirEntry(TG, "2020-11", 40, 0), entry])
    assert stored(db) == {} and air_log(db) == []
    assert len(caught.value.problems) == 1 and words in caught.value.problems[0]
    assert caught.value.problems[0].startswith(entry.where)


def test_problems_name_their_cell(db):
    with pytest.raises(ValidationFailed) as caught:
        set_air_quality_many(db, BUILTIN_ADMIN, [
            AirEntry(YC, "2020-11", 2000, 40, where="榆次区 2020-11"),
            AirEntry("外县", "2020-11", 1, 1, where="外县 2020-11"),
        ])
    problems = caught.value.problems
    assert "有 3 处错误" in caught.value.message and "未做任何改动" in caught.value.message
    assert problem_field(problems[0], "榆次区 2020-11")[0] == "pm25"
    assert problem_field(problems[1], "榆次区 2020-11")[0] == "heavy_days"
    assert problem_field(problems[2], "外县 2020-11")[0] is None
    assert problem_field(problems[2], "榆次区 2020-11") is None


def test_permissions_and_duplicates(db):
    clerk = Actor("王五", "county_clerk", YC)
    assert set_air_quality_many(db, clerk, [AirEntry(YC, "2020-11", 40, 0)]) == 1
    with pytest.raises(ValidationFailed, match="只有市级管理员"):
        set_air_quality_many(db, clerk, [AirEntry(CITY_AREA, "2020-11", 40, 0)])
    with pytest.raises(ValidationFailed, match="只能填报本县"):
        set_air_quality_many(db, clerk, [AirEntry(TG, "2020-11", 40, 0)])
    with pytest.raises(ValidationFailed, match="只读用户"):
        set_air_quality_many(db, Actor("赵六", "viewer"), [AirEntry(YC, "2020-11", 40, 0)])
    with pytest.raises(ValidationFailed, match="重复"):
        set_air_quality_many(db, BUILTIN_ADMIN, [AirEntry(YC, "2020-12", 40, 0), AirEntry("榆次区", "2020-12", 41, 0)])
    assert stored(db) == {(YC, "2020-11"): (40.0, 0)}
