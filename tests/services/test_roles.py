"""Role rules at the service level, for every ledger and every write path: a clerk of 榆次区 cannot write
介休市, a viewer cannot write at all, a clerk can write the own unit; a refused write changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from tests.services.admin_helpers import JIEXIU, YUCI, fast_hasher, make_users, raw, snapshot  # noqa: F401

TODAY = dt.date(2021, 1, 15)


@pytest.fixture
def users(db, fast_hasher):  # noqa: F811
    return make_users(db)


def _typed(ledger_key: str, n: int, unit: str) -> dict:
    checked = check_record(ledger_key, raw(ledger_key, n, unit), today=TODAY)
    assert checked.ok, checked.problems
    return checked.values


def _create(db, key, n, unit, actor):
    return svc.create_record(db, key, raw(key, n, unit), actor=actor, today=TODAY).uuid


def _bulk_insert(db, key, n, unit, actor):
    with svc.write_records(db) as s:
        svc.insert_many(s, key, [_typed(key, n, unit)], actor=actor)


def _bulk_update(db, key, uuid, actor, **changes):
    with svc.write_records(db) as s:
        svc.update_values(s, key, uuid, changes, actor=actor)


WRITE_PATHS = ("create", "update", "update_move", "delete", "restore", "delete_many", "restore_many",
               "bulk_insert", "bulk_update", "bulk_update_move")


def _attempt(db, path, key, actor, jiexiu_uuid, jiexiu_deleted_uuid, yuci_uuid):
    if path == "create":
        _create(db, key, 90, JIEXIU, actor)
    elif path == "update":
        svc.update_record(db, key, jiexiu_uuid, {**raw(key, 1, JIEXIU), "remarks": "改"}, actor=actor, today=TODAY)
    elif path == "update_move":  # an own record moved to another unit
        svc.update_record(db, key, yuci_uuid, raw(key, 3, JIEXIU), actor=actor, today=TODAY)
    elif path == "delete":
        svc.delete_record(db, key, jiexiu_uuid, actor=actor)
    elif path == "restore":
        svc.restore_record(db, key, jiexiu_deleted_uuid, actor=actor)
    elif path == "delete_many":  # the own record comes first: the refusal must roll it back too
        svc.delete_records(db, key, [yuci_uuid, jiexiu_uuid], actor=actor)
    elif path == "restore_many":
        svc.restore_records(db, key, [jiexiu_deleted_uuid], actor=actor)
    elif path == "bulk_insert":
        _bulk_insert(db, key, 91, JIEXIU, actor)
    elif path == "bulk_update":
        _bulk_update(db, key, jiexiu_uuid, actor, remarks="改")
    elif path == "bulk_update_move":
        _bulk_update(db, key, yuci_uuid, actor, unit_code=JIEXIU)
    else:
        raise AssertionError(path)


@pytest.fixture
def records(db, users):
    """Per ledger: a live 介休市 record, a deleted 介休市 record and a live 榆次区 record."""
    admin = users["admin"]
    out = {}
    for key in LEDGER_KEYS:
        j = _create(db, key, 1, JIEXIU, admin)
        jd = _create(db, key, 2, JIEXIU, admin)
        svc.delete_record(db, key, jd, actor=admin)
        y = _create(db, key, 3, YUCI, admin)
        out[key] = (j, jd, y)
    return out


@pytest.mark.parametrize("key", LEDGER_KEYS)
@pytest.mark.parametrize("who", ["yuci", "viewer"])
def test_refused_and_nothing_changed(db, db_path, users, records, key, who):
    actor = users[who]
    before = snapshot(db)
    for path in WRITE_PATHS:
        with pytest.raises(PermissionDenied) as err:
            _attempt(db, path, key, actor, *records[key])
        text = str(err.value)
        if who == "viewer":
            assert "只读" in text, (path, text)
        else:
            assert "介休市" in text and "李四" in text, (path, text)
        assert snapshot(db) == before, path


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_clerk_writes_own_unit_through_every_path(db, users, records, key):
    clerk = users["yuci"]
    _, _, own = records[key]
    new = _create(db, key, 50, YUCI, clerk)
    svc.update_record(db, key, new, {**raw(key, 50, YUCI), "remarks": "改"}, actor=clerk, today=TODAY)
    svc.delete_record(db, key, new, actor=clerk)
    svc.restore_record(db, key, new, actor=clerk)
    assert svc.delete_records(db, key, [new, own], actor=clerk) == 2
    assert svc.restore_records(db, key, [new, own], actor=clerk) == 2
    _bulk_insert(db, key, 51, YUCI, clerk)
    _bulk_update(db, key, own, clerk, remarks="批量改")
    assert svc.get_record(db, key, own).values["remarks"] == "批量改"
    # A clerk's record without a unit gets the clerk's own.
    blank = svc.create_record(db, key, {**raw(key, 52, YUCI), "unit_code": ""}, actor=clerk, today=TODAY).uuid
    assert svc.get_record(db, key, blank).unit_code == YUCI


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_admin_writes_any_unit(db, users, records, key):
    admin = users["admin"]
    j, jd, y = records[key]
    in_jiexiu = svc.RecordQuery(unit_code=JIEXIU)
    assert svc.count_records(db, key, in_jiexiu) == 1

    svc.update_record(db, key, j, {**raw(key, 1, JIEXIU), "remarks": "市级核实"}, actor=admin, today=TODAY)
    updated = svc.get_record(db, key, j)
    assert (updated.unit_code, updated.values["remarks"], updated.updated_by) == (JIEXIU, "市级核实", admin.name)

    svc.restore_record(db, key, jd, actor=admin)
    restored = svc.get_record(db, key, jd)
    assert restored.deleted_at is None and restored.deleted_by is None and restored.unit_code == JIEXIU
    assert svc.count_records(db, key, in_jiexiu) == 2
    assert svc.count_records(db, key, svc.RecordQuery(unit_code=JIEXIU, deleted=True)) == 0

    _bulk_insert(db, key, 60, JIEXIU, admin)
    assert svc.count_records(db, key, in_jiexiu) == 3
    inserted = [r for r in svc.list_records(db, key, in_jiexiu) if r.uuid not in (j, jd)]
    assert len(inserted) == 1 and inserted[0].created_by == admin.name
    assert inserted[0].values == {**inserted[0].values, **_typed(key, 60, JIEXIU)}

    _bulk_update(db, key, y, admin, remarks="市级改")
    other = svc.get_record(db, key, y)
    assert (other.unit_code, other.values["remarks"], other.updated_by) == (YUCI, "市级改", admin.name)


def test_disabled_or_unknown_or_stale_actor_cannot_write(db, db_path, users):
    from jzair_desktop.services import accounts

    admin, clerk = users["admin"], users["yuci"]
    accounts.disable_user(db, admin, "李四")
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="停用"):
        _create(db, "heating", 70, YUCI, clerk)
    with pytest.raises(PermissionDenied, match="不存在"):
        _create(db, "heating", 71, YUCI, Actor("冒名者", "city_admin"))
    with pytest.raises(PermissionDenied, match="登录"):
        _create(db, "heating", 72, YUCI, BUILTIN_ADMIN)
    # A viewer claiming to be a city_admin (the role no longer matches the account).
    with pytest.raises(PermissionDenied, match="角色"):
        _create(db, "heating", 73, YUCI, Actor("钱七", "city_admin"))
    assert snapshot(db) == before
