"""`db copy` (issue 20): SQLite -> PostgreSQL -> SQLite gives identical rows in every table and a verifying
audit chain; a target that holds data, a non-administrator and the source itself are refused, writing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, select

from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.services import dbcopy, submission
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.database import open_database
from jzair_desktop.services.packages.export import export_county_package
from jzair_desktop.storage.engine import sqlite_url
from jzair_desktop.storage.models import Base
from tests.services.admin_helpers import JIEXIU, PASSWORDS, YUCI, fast_hasher, make_users, raw  # noqa: F401

TODAY = dt.date(2021, 1, 15)


def _fill(db, tmp_path) -> None:  # noqa: ANN001
    """Records of every ledger created, changed, deleted; a submission; a package export (signing key, counter)."""
    for key in LEDGER_KEYS:
        a = svc.create_record(db, key, raw(key, 1, YUCI), actor=BUILTIN_ADMIN, today=TODAY).uuid
        b = svc.create_record(db, key, raw(key, 2, JIEXIU), actor=BUILTIN_ADMIN, today=TODAY).uuid
        svc.update_record(db, key, a, {**raw(key, 1, YUCI), "remarks": "修改：含“引号”和\n换行"}, actor=BUILTIN_ADMIN,
                          today=TODAY)
        svc.delete_record(db, key, b, actor=BUILTIN_ADMIN)
    submission.submit_month(db, "榆次区", "2020-12", BUILTIN_ADMIN, today=TODAY)
    export_county_package(db, "榆次区", "2020-12", tmp_path / "包.jzpkg", actor=BUILTIN_ADMIN)


def _dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table as Python values, sorted in Python (the backends order text keys by their own
    collations)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


@pytest.mark.sqlite_only("copies a SQLite file to the server and back")
def test_round_trip_sqlite_postgresql_sqlite(db, pg_empty_url, tmp_path):
    _fill(db, tmp_path)
    users = make_users(db)
    admin = users["admin"]
    before = _dump(db.url)
    assert verify(db).ok

    there = dbcopy.copy_database(db, pg_empty_url, actor=admin)
    assert there.inherited == [] and there.records["heating"] == 2 and there.audit_entries == len(before["audit_log"])
    assert _dump(pg_empty_url) == before

    back_url = sqlite_url(tmp_path / "回来.sqlite3")
    server, _ = open_database(pg_empty_url)
    try:
        back = dbcopy.copy_database(server, back_url, actor=admin)
    finally:
        server.dispose()
    assert back.head == there.head
    assert _dump(back_url) == before
    copy, _ = open_database(back_url)
    try:
        assert verify(copy).ok
        # The copy works as a database of its own: a new record's audit entry continues the same chain.
        svc.create_record(copy, "heating", raw("heating", 9, JIEXIU), actor=admin, today=TODAY)
        assert verify(copy).ok
    finally:
        copy.dispose()


def test_a_target_with_data_is_refused_and_left_alone(db, pg_url, tmp_path):
    _fill(db, tmp_path)
    target, _ = open_database(pg_url)
    try:
        svc.create_record(target, "trucks", raw("trucks", 7, JIEXIU), actor=BUILTIN_ADMIN, today=TODAY)
        before = _dump(pg_url)
        with pytest.raises(JzairError, match="不是空的.*台账记录 1 条.*没有复制任何数据"):
            dbcopy.copy_database(db, pg_url, actor=BUILTIN_ADMIN)
        assert _dump(pg_url) == before
    finally:
        target.dispose()


def test_only_an_administrator_copies_and_never_onto_the_source(db, pg_empty_url):
    users = make_users(db)
    with pytest.raises(PermissionDenied, match="不是管理员"):
        dbcopy.copy_database(db, pg_empty_url, actor=users["yuci"])
    with pytest.raises(JzairError, match="不能复制到自身"):
        dbcopy.copy_database(db, db.url, actor=users["admin"])
    engine = create_engine(pg_empty_url)
    try:
        with engine.connect() as conn:  # not even migrated
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").scalar() == 0
    finally:
        engine.dispose()
