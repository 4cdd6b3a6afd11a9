"""services.ledgers on a real SQLite file: writes, permissions, duplicates, listing, nothing half-saved."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update

from jzair_desktop.domain import checkdigits
from jzair_desktop.errors import NotFoundError, PermissionDenied, ValidationFailed
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.ledgers import RecordQuery
from jzair_desktop.storage.engine import read_session, write_session
from jzair_desktop.storage.models import Base, HeatingRecord

ADMIN = Actor("市级管理员", "city_admin")
CLERK = Actor("x", "county_clerk", "140702")  # 榆次区
VIEWER = Actor("查看者", "viewer")
TODAY = dt.date(2021, 3, 31)


def id_number(n: int, area: str = "140702") -> str:
    body = f"{area}19{50 + n % 40:02d}0{1 + n % 9}{10 + n % 18:02d}{n % 1000:03d}"
    return body + checkdigits.id_check_char(body)


def vin(n: int) -> str:
    draft = f"LZZ5BLSJ0AN{n:06d}"
    return draft[:8] + checkdigits.vin_check_char(draft) + draft[9:]


def household(n: int = 1, **changes) -> dict:
    raw = {
        "unit_code": "榆次区", "township": "东阳镇", "village": "东阳村", "householder": f"王{n}号",
        "id_number": id_number(n), "method": "电代煤", "status": "已完工", "done_date": "2020-10-20",
        "keeps_coal_stove": "是", "area_m2": "85",
    }
    raw.update(changes)
    return raw


def truck(n: int = 1, **changes) -> dict:
    raw = {
        "unit_code": "介休市", "plate": f"晋K{n:05d}", "vin": vin(n), "emission_std": "国三", "vehicle_type": "重型货车",
        "owner": "张三", "method": "报废拆解", "eliminated_date": "2020-11-03",
    }
    raw.update(changes)
    return raw


def table_counts(db) -> dict[str, int]:
    """Rows of every table of the schema: the proof that a failed operation wrote nothing."""
    with read_session(db.engine) as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def create(db, ledger_key: str, raw: dict, actor: Actor = ADMIN) -> str:
    return svc.create_record(db, ledger_key, raw, actor=actor, today=TODAY).uuid


# --- create, update, delete, restore --------------------------------------------------------------


def test_create_stores_typed_normalised_values(db):
    result = svc.create_record(db, "heating", household(area_m2="1,085.5", method="1-电代煤"), actor=ADMIN,
                               today=TODAY)
    assert result.warnings == []
    row = svc.get_record(db, "heating", result.uuid)
    assert row.values["unit_code"] == "140702" and row.unit_name == "榆次区"
    assert row.values["area_m2"] == 1085.5 and row.values["method"] == "电代煤"
    assert row.values["done_date"] == dt.date(2020, 10, 20)
    assert row.created_by == row.updated_by == ADMIN.name
    assert row.deleted_at is None
    assert len(result.uuid) == 36


def test_update_changes_values_and_stamps(db):
    record = create(db, "heating", household())
    with write_session(db.engine) as s:
        s.execute(update(HeatingRecord).values(updated_at=dt.datetime(2020, 1, 1)))
    svc.update_record(db, "heating", record, household(status="已验收", area_m2="90"), actor=CLERK, today=TODAY)
    row = svc.get_record(db, "heating", record)
    assert row.values["status"] == "已验收" and row.values["area_m2"] == 90.0
    assert row.updated_by == "x" and row.updated_at > dt.datetime(2020, 1, 1)
    assert row.created_by == ADMIN.name


def test_updating_with_identical_values_changes_nothing(db):
    record = create(db, "heating", household())
    old = dt.datetime(2020, 1, 1, 8, 0)
    with write_session(db.engine) as s:
        s.execute(update(HeatingRecord).values(updated_at=old, updated_by="旧"))
    before = table_counts(db)
    # The same values, written differently (as a form or a sheet would give them).
    svc.update_record(db, "heating", record, household(area_m2="85.0", done_date="2020/10/20", method=" 电代煤 "),
                      actor=ADMIN, today=TODAY)
    row = svc.get_record(db, "heating", record)
    assert row.updated_at == old and row.updated_by == "旧"
    assert table_counts(db) == before


def test_soft_delete_and_restore(db):
    keep = create(db, "heating", household(1))
    gone = create(db, "heating", household(2))
    svc.delete_record(db, "heating", gone, actor=ADMIN)
    assert svc.count_records(db, "heating") == 1
    assert [r.uuid for r in svc.list_records(db, "heating")] == [keep]
    deleted = svc.list_records(db, "heating", RecordQuery(deleted=True))
    assert [r.uuid for r in deleted] == [gone] and deleted[0].deleted_by == ADMIN.name
    svc.delete_record(db, "heating", gone, actor=ADMIN)  # again: nothing changes
    assert svc.count_records(db, "heating", RecordQuery(deleted=True)) == 1
    svc.restore_record(db, "heating", gone, actor=ADMIN)
    assert svc.count_records(db, "heating") == 2
    assert svc.get_record(db, "heating", gone).deleted_at is None


def test_a_deleted_record_cannot_be_edited_and_unknown_records_are_named(db):
    record = create(db, "heating", household())
    svc.delete_record(db, "heating", record, actor=ADMIN)
    with pytest.raises(ValidationFailed, match="已删除"):
        svc.update_record(db, "heating", record, household(), actor=ADMIN, today=TODAY)
    with pytest.raises(NotFoundError, match="找不到该记录"):
        svc.get_record(db, "heating", "00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFoundError):
        svc.delete_record(db, "heating", "00000000-0000-4000-8000-000000000000", actor=ADMIN)


def test_restore_refuses_a_duplicate_that_appeared_meanwhile(db):
    first = create(db, "trucks", truck(1))
    svc.delete_record(db, "trucks", first, actor=ADMIN)
    create(db, "trucks", truck(1, unit_code="祁县"))  # the same vehicle, entered again
    before = table_counts(db)
    with pytest.raises(ValidationFailed, match="无法恢复"):
        svc.restore_record(db, "trucks", first, actor=ADMIN)
    assert table_counts(db) == before
    assert svc.get_record(db, "trucks", first).deleted_at is not None


# --- duplicates -----------------------------------------------------------------------------------


def test_same_vin_in_another_unit_is_an_error(db):
    create(db, "trucks", truck(7))
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as info:
        create(db, "trucks", truck(7, unit_code="祁县", plate="晋K99999"))
    message = str(info.value)
    assert "车辆识别代号" in message and "介休市" in message and "只能登记一次" in message
    assert any(p.field == "vin" and p.is_error for p in info.value.problems)
    assert table_counts(db) == before


def test_same_plate_is_an_error_and_the_own_record_is_no_duplicate(db):
    record = create(db, "trucks", truck(1))
    with pytest.raises(ValidationFailed, match="号牌号码"):
        create(db, "trucks", truck(2, plate="晋K·00001"))
    svc.update_record(db, "trucks", record, truck(1, owner="李四"), actor=ADMIN, today=TODAY)
    assert svc.get_record(db, "trucks", record).values["owner"] == "李四"


def test_same_id_number_anywhere_is_an_error(db):
    create(db, "heating", household(1))
    with pytest.raises(ValidationFailed, match="相同身份证号"):
        create(db, "heating", household(2, id_number=id_number(1), unit_code="介休市"))


def test_same_householder_in_the_same_village_is_saved_with_a_warning(db):
    create(db, "heating", household(1, householder="王建国"))
    result = svc.create_record(db, "heating", household(2, householder="王建国"), actor=ADMIN, today=TODAY)
    assert [p.severity for p in result.warnings] == ["warning"]
    assert "同一乡镇、村的同名户主" in result.warnings[0].message
    assert svc.count_records(db, "heating") == 2
    other_village = svc.create_record(db, "heating", household(3, householder="王建国", village="修文村"),
                                      actor=ADMIN, today=TODAY)
    assert other_village.warnings == []


def test_a_deleted_record_is_no_duplicate(db):
    record = create(db, "trucks", truck(3))
    svc.delete_record(db, "trucks", record, actor=ADMIN)
    create(db, "trucks", truck(3))
    assert svc.count_records(db, "trucks") == 1


# --- permissions ----------------------------------------------------------------------------------


def test_county_clerk_writes_only_the_own_unit(db):
    jiexiu = create(db, "heating", household(1, unit_code="介休市", id_number=id_number(1, "140781")))
    before = table_counts(db)
    with pytest.raises(PermissionDenied, match="介休市"):
        create(db, "heating", household(2, unit_code="介休市"), actor=CLERK)
    with pytest.raises(PermissionDenied):
        svc.update_record(db, "heating", jiexiu, household(1, unit_code="介休市", id_number=id_number(1, "140781"),
                                                           status="已验收"), actor=CLERK, today=TODAY)
    with pytest.raises(PermissionDenied):
        svc.delete_record(db, "heating", jiexiu, actor=CLERK)
    assert table_counts(db) == before
    assert svc.get_record(db, "heating", jiexiu).values["status"] == "已完工"


def test_county_clerk_cannot_move_an_own_record_to_another_unit(db):
    own = create(db, "heating", household(1), actor=CLERK)
    with pytest.raises(PermissionDenied):
        svc.update_record(db, "heating", own, household(1, unit_code="介休市"), actor=CLERK, today=TODAY)
    assert svc.get_record(db, "heating", own).values["unit_code"] == "140702"


def test_a_blank_unit_becomes_the_clerks_own(db):
    record = create(db, "heating", household(1, unit_code=""), actor=CLERK)
    assert svc.get_record(db, "heating", record).values["unit_code"] == "140702"
    with pytest.raises(ValidationFailed, match="必填"):
        create(db, "heating", household(2, unit_code=""), actor=ADMIN)


def test_a_clerk_sees_only_the_own_unit(db):
    create(db, "heating", household(1))
    create(db, "heating", household(2, unit_code="介休市"))
    assert svc.count_records(db, "heating", RecordQuery(unit_code="140781"), actor=CLERK) == 1
    rows = svc.list_records(db, "heating", RecordQuery(unit_code="140781"), actor=CLERK)
    assert [r.unit_code for r in rows] == ["140702"]
    assert svc.count_records(db, "heating", RecordQuery(unit_code="140781"), actor=ADMIN) == 1


def test_a_viewer_cannot_write(db):
    record = create(db, "heating", household(1))
    svc.delete_record(db, "heating", create(db, "heating", household(2)), actor=ADMIN)
    deleted = svc.list_records(db, "heating", RecordQuery(deleted=True))[0].uuid
    before = table_counts(db)
    with pytest.raises(PermissionDenied, match="只读"):
        create(db, "heating", household(3), actor=VIEWER)
    with pytest.raises(PermissionDenied):
        svc.update_record(db, "heating", record, household(1, status="已验收"), actor=VIEWER, today=TODAY)
    with pytest.raises(PermissionDenied):
        svc.delete_record(db, "heating", record, actor=VIEWER)
    with pytest.raises(PermissionDenied):
        svc.restore_record(db, "heating", deleted, actor=VIEWER)
    assert table_counts(db) == before


# --- nothing half-saved ---------------------------------------------------------------------------


def test_a_failed_create_writes_nothing_and_names_every_problem(db):
    create(db, "heating", household(1))
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as info:
        create(db, "heating", household(2, householder="", method="烧柴", done_date="", id_number=1.40702e17))
    fields = {p.field for p in info.value.problems if p.is_error}
    assert fields == {"householder", "method", "done_date", "id_number"}
    assert str(info.value).startswith("记录未保存")
    assert table_counts(db) == before


def test_a_failed_update_keeps_the_record_as_it_was(db):
    record = create(db, "heating", household(1))
    stored = svc.get_record(db, "heating", record)
    before = table_counts(db)
    with pytest.raises(ValidationFailed):
        svc.update_record(db, "heating", record, household(1, area_m2="很大", done_date="2099-01-01"), actor=ADMIN,
                          today=TODAY)
    assert svc.get_record(db, "heating", record) == stored
    assert table_counts(db) == before


def test_a_failed_batch_delete_deletes_none(db):
    mine = create(db, "heating", household(1))
    theirs = create(db, "heating", household(2, unit_code="介休市"))
    with pytest.raises(PermissionDenied):
        svc.delete_records(db, "heating", [mine, theirs], actor=CLERK)
    assert svc.count_records(db, "heating") == 2


def test_a_cancelled_batch_delete_or_restore_writes_nothing(db):
    from jzair_desktop.taskstate import Cancelled, TaskState

    uuids = [create(db, "heating", household(n)) for n in range(1, 4)]

    def cancel_during_the_first(done, total, text) -> None:  # noqa: ANN001
        seen.append(text)
        state.cancel()  # while the first record is written: the second one's progress report stops it

    seen: list[str] = []
    state = TaskState(cancel_during_the_first)
    with pytest.raises(Cancelled):
        svc.delete_records(db, "heating", uuids, actor=ADMIN, state=state)
    assert svc.count_records(db, "heating") == 3 and seen[0] == "正在删除 0 / 3 条…"
    assert svc.delete_records(db, "heating", uuids, actor=ADMIN, state=TaskState()) == 3
    seen.clear()
    state = TaskState(cancel_during_the_first)
    with pytest.raises(Cancelled):
        svc.restore_records(db, "heating", uuids, actor=ADMIN, state=state)
    assert svc.count_records(db, "heating") == 0 and seen[0] == "正在恢复 0 / 3 条…"
    assert svc.ids_of(db, "heating", [uuids[2], "没有这条", uuids[0]]) == [
        r.id for r in (svc.get_record(db, "heating", u) for u in (uuids[2], uuids[0]))]


# --- listing: filters, search, sort, paging, counts -----------------------------------------------


@pytest.fixture
def listed(db):
    """Six households in three units with different statuses, methods and dates."""
    rows = [
        household(1, householder="张三", village="东阳村", status="已完工", done_date="2020-09-01"),
        household(2, householder="李四", village="修文村", status="已验收", done_date="2020-10-15", method="气代煤"),
        household(3, householder="王五", status="施工中", done_date="", keeps_coal_stove=""),
        household(4, unit_code="介休市", householder="赵六", township="义安镇", village="太平村", status="已完工",
                  done_date="2020-11-20", id_number=id_number(4, "140781")),
        household(5, unit_code="介休市", householder="张七", township="张兰镇", village="张兰村", status="未开工",
                  done_date="", keeps_coal_stove="", method="集中供热", id_number=id_number(5, "140781")),
        household(6, unit_code="祁县", householder="孙八", township="昭馀镇", village="西关村", status="已验收",
                  done_date="2020-08-08", id_number=id_number(6, "140727"), method="集中供热"),
    ]
    return db, {r["householder"]: create(db, "heating", r) for r in rows}


def names(db, q: RecordQuery, **kw) -> list[str]:
    return [r.values["householder"] for r in svc.list_records(db, "heating", q, **kw)]


def test_filter_by_unit_status_and_method(listed):
    db, _ = listed
    assert set(names(db, RecordQuery(unit_code="140781"))) == {"赵六", "张七"}
    assert set(names(db, RecordQuery(filters={"status": "已完工"}))) == {"张三", "赵六"}
    assert set(names(db, RecordQuery(unit_code="140702", filters={"status": "已完工"}))) == {"张三"}
    assert set(names(db, RecordQuery(filters={"method": "集中供热"}))) == {"张七", "孙八"}
    assert names(db, RecordQuery(filters={"status": ""})) == names(db, RecordQuery())
    assert svc.count_records(db, "heating", RecordQuery(filters={"status": "已验收", "method": "集中供热"})) == 1


def test_filter_by_date_range(listed):
    db, _ = listed
    q = RecordQuery(date_from=dt.date(2020, 9, 1), date_to=dt.date(2020, 10, 31))
    assert set(names(db, q)) == {"张三", "李四"}
    assert set(names(db, RecordQuery(date_from=dt.date(2020, 11, 1)))) == {"赵六"}
    assert set(names(db, RecordQuery(date_to=dt.date(2020, 8, 31)))) == {"孙八"}


def test_free_text_search(listed):
    db, _ = listed
    assert set(names(db, RecordQuery(text="张"))) == {"张三", "张七"}  # 张兰镇/张兰村 match too: same record
    assert names(db, RecordQuery(text="修文")) == ["李四"]
    assert names(db, RecordQuery(text=id_number(6, "140727")[-6:])) == ["孙八"]
    assert set(names(db, RecordQuery(text="介休"))) == {"赵六", "张七"}  # the unit's name
    assert names(db, RecordQuery(text="没有这个人")) == []
    assert names(db, RecordQuery(text="%")) == names(db, RecordQuery())  # no SQL wildcards from the user
    assert set(names(db, RecordQuery(text="  王五 "))) == {"王五"}


def test_sort_with_blanks_last_in_both_directions(listed):
    db, _ = listed
    up = names(db, RecordQuery(sort="done_date"))
    down = names(db, RecordQuery(sort="done_date", descending=True))
    assert up[:4] == ["孙八", "张三", "李四", "赵六"]
    assert down[:4] == ["赵六", "李四", "张三", "孙八"]
    assert set(up[4:]) == set(down[4:]) == {"王五", "张七"}
    assert names(db, RecordQuery(sort="no_such_column")) == names(db, RecordQuery())  # insertion order
    assert names(db, RecordQuery(descending=True)) == list(reversed(names(db, RecordQuery())))


def test_paging_and_ids(listed):
    db, uuids = listed
    q = RecordQuery(sort="householder")
    everything = names(db, q)
    pages = [names(db, q, offset=o, limit=4) for o in (0, 4, 8)]
    assert pages[0] + pages[1] == everything and pages[2] == [] and len(pages[0]) == 4
    ids = svc.query_ids(db, "heating", q)
    assert [r.values["householder"] for r in svc.fetch_rows(db, "heating", ids)] == everything
    assert [r.uuid for r in svc.fetch_rows(db, "heating", ids[2:4])] == [uuids[n] for n in everything[2:4]]
    assert svc.fetch_rows(db, "heating", []) == []
    assert svc.count_records(db, "heating") == 6
    assert svc.count_records(db, "heating", RecordQuery(text="张")) == 2


def test_townships_for_the_forms_suggestions(listed):
    db, _ = listed
    assert svc.townships(db, "heating", "140781") == ["义安镇", "张兰镇"]
    assert "东阳镇" in svc.townships(db, "heating", None)
    assert svc.townships(db, "trucks", None) == []


def test_every_ledger_round_trips_through_the_service(db):
    raw = {
        "trucks": truck(11),
        "boilers": {"unit_code": "祁县", "org_name": "祁县人民医院", "boiler_no": "1#", "capacity_th": "1.4MW",
                    "fuel": "燃煤", "measure": "淘汰拆除", "planned_date": "2020-10-31", "status": "施工中"},
        "kilns": {"unit_code": "灵石县", "enterprise": "灵石县宏泰焦化有限公司", "credit_code": "91350100M000100Y43",
                  "industry": "焦化", "category": "工业炉窑治理", "content": "干熄焦装置建设",
                  "planned_date": "2020-12-31", "status": "未开工"},
        "vocs": {"unit_code": "开发区", "enterprise": "晋中华盛制药有限公司", "credit_code": "91350100M000100Y43",
                 "industry": "化工", "category": "旁路排查整治", "bypass_count": "2", "bypass_disposal": "铅封",
                 "planned_date": "2021-03-31", "actual_date": "2021-03-01", "status": "已完成"},
    }
    for key, values in raw.items():
        record = create(db, key, values)
        assert svc.count_records(db, key) == 1
        assert svc.get_record(db, key, record).uuid == record
    assert svc.get_record(db, "boilers", svc.list_records(db, "boilers")[0].uuid).values["capacity_th"] == 2.0
    with read_session(db.engine) as s:  # stored as real SQL values, readable by any tool
        stored = s.execute(text("select capacity_th, planned_date from boilers")).one()
    # SQLite keeps a DATE as ISO text; PostgreSQL as a date its driver reads back as one
    assert tuple(stored) == (2.0, "2020-10-31" if db.engine.dialect.name == "sqlite" else dt.date(2020, 10, 31))


def test_fresh_uuids_are_distinct_version_4_uuids_in_canonical_text():
    import itertools
    import uuid

    made = list(itertools.islice(svc.fresh_uuids(batch=7), 50))
    assert len(set(made)) == 50
    for made_text in made:
        u = uuid.UUID(made_text)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == made_text
