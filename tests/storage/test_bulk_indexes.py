"""Indexes built after a large bulk insert (storage.bulk): same schema afterwards, same checks during."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError

from jzair_desktop.domain import checkdigits
from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.services import audit
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.storage import bulk

TABLES = ("heating", "audit_log")


def schema(db_path) -> list[tuple]:
    con = sqlite3.connect(db_path)
    try:
        return con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        con.close()


def index_names(conn, table: str) -> set[str]:
    return {r[0] for r in conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,))}


def households(n: int, start: int = 0) -> list[tuple]:
    rows = []
    for i in range(start, start + n):
        body = f"1407021950{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        rows.append(("140702", "东阳镇", f"村{i // 1000}", f"户主{i}", body + checkdigits.id_check_char(body), None,
                     80.5, "电代煤", "已完工", dt.date(2020, 10, 1), 3000.0, "是", None))
    return rows


@pytest.mark.sqlite_only("SQLite's bulk route drops and rebuilds indexes (read from sqlite_master)")
def test_a_large_first_import_leaves_the_schema_exactly_as_it_was(db, db_path):
    before = schema(db_path)
    with svc.write_records(db) as s:
        conn = s.connection()
        with bulk.indexes_built_after(conn, {"heating": 12_000, "audit_log": 12_000}) as dropped:
            assert dropped == list(TABLES)
            assert index_names(conn, "heating") == {"sqlite_autoindex_heating_1"}  # the uuid UNIQUE stays
        assert index_names(conn, "heating") > {"ix_heating_progress", "ix_heating_id_number"}
    assert schema(db_path) == before


@pytest.mark.sqlite_only("SQLite's bulk route drops and rebuilds indexes (read from sqlite_master)")
@pytest.mark.slow
def test_insert_many_with_expected_rows_gives_the_same_records_audit_and_schema(db, db_path):
    before = schema(db_path)
    rows = households(bulk.MIN_ROWS)
    with svc.write_records(db) as s:
        assert svc.insert_many(s, "heating", iter(rows), actor=BUILTIN_ADMIN, expected=len(rows)) == len(rows)
    assert schema(db_path) == before
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # The rebuilt index answers as the table does.
        by_index = con.execute("SELECT count(*) FROM heating INDEXED BY ix_heating_id_number WHERE id_number > ''")
        assert by_index.fetchone() == (len(rows),)
    finally:
        con.close()
    report = verify(db)
    assert report.ok and report.records == len(rows)
    assert [e.action for e in audit.query_log(db, limit=3)] == ["import", "create", "create"]


@pytest.mark.sqlite_only("SQLite's bulk route drops and rebuilds indexes (read from sqlite_master)")
def test_small_inserts_and_inserts_into_a_larger_table_keep_their_indexes(db):
    with svc.write_records(db) as s:
        conn = s.connection()
        with bulk.indexes_built_after(conn, {"heating": bulk.MIN_ROWS - 1}) as dropped:
            assert dropped == []
        svc.insert_many(s, "heating", households(200), actor=BUILTIN_ADMIN)
        with bulk.indexes_built_after(conn, {"heating": bulk.MIN_ROWS}, min_rows=100) as dropped:
            assert dropped == ["heating"]
        with bulk.indexes_built_after(conn, {"heating": 150}, min_rows=100) as dropped:
            assert dropped == []  # 150 new rows would not double a table of 200


def test_uniqueness_is_still_checked_and_a_failure_rolls_back_with_the_indexes(db, db_path):
    before = schema(db_path)
    rows = households(300)
    with pytest.raises(IntegrityError), svc.write_records(db) as s:
        conn = s.connection()
        with bulk.indexes_built_after(conn, {"heating": 300}, min_rows=1):
            svc.insert_many(s, "heating", [{**dict(zip(ledger("heating").keys, r, strict=True)), "uuid": "same"}
                                           for r in rows[:2]], actor=BUILTIN_ADMIN)
    assert schema(db_path) == before
    assert svc.count_records(db, "heating") == 0


@pytest.mark.sqlite_only("SQLite's bulk route drops and rebuilds indexes (read from sqlite_master)")
def test_a_caller_that_goes_on_after_a_failure_still_has_its_indexes(db, db_path):
    before = schema(db_path)
    with svc.write_records(db) as s:
        conn = s.connection()
        with pytest.raises(ValueError), bulk.indexes_built_after(conn, {"heating": 300}, min_rows=1):
            raise ValueError("stop")
        assert index_names(conn, "heating") > {"ix_heating_progress"}
    assert schema(db_path) == before


@pytest.mark.sqlite_only("SQLite's bulk route drops and rebuilds indexes (read from sqlite_master)")
@pytest.mark.slow
@pytest.mark.parametrize("cancel_at", ["正在写入数据库（", "正在提交…"])
def test_a_large_import_cancelled_while_writing_leaves_rows_audit_and_schema_as_they_were(db, db_path, tmp_path,
                                                                                         cancel_at):
    from jzair_desktop.services import excel as excel_service
    from jzair_desktop.taskstate import Cancelled, TaskState
    from tests.storage.big_ledger import write_heating_xlsx
    from tests.storage.safety_helpers import dump

    with svc.write_records(db) as s:
        svc.insert_many(s, "heating", households(5, start=900_000), actor=BUILTIN_ADMIN)
    db.dispose()
    before_schema, before_rows = schema(db_path), dump(db_path)
    seen = []

    def listener(done, total, text):
        seen.append(text)
        # Inside the insert, some rows written (indexes dropped) / after it (indexes built again).
        if text.startswith(cancel_at) and (done >= 1_000 or cancel_at == "正在提交…"):
            state.cancel()

    state = TaskState(listener)
    path = write_heating_xlsx(tmp_path / "榆次区.xlsx", bulk.MIN_ROWS + 2_000)
    with pytest.raises(Cancelled):
        excel_service.import_ledger(db, "heating", path, "榆次区", actor=BUILTIN_ADMIN,
                                    today=dt.date(2021, 3, 31), state=state)
    assert seen[-1].startswith(cancel_at)
    db.dispose()
    assert schema(db_path) == before_schema and dump(db_path) == before_rows
