"""What the ledger page needs from services.ledgers: fast ids, several deletes/restores at once, duplicates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import and_, select

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import PermissionDenied, ValidationFailed
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.ledgers import RecordQuery
from jzair_desktop.storage.engine import read_session
from tests.gui import ledger_samples as samples


@pytest.fixture
def seeded(db):
    rows = []
    for n in range(40):
        unit = ("140702", "140727", "140799")[n % 3]
        done = n % 2 == 0
        raw = samples.heating(
            n, unit_code=unit, householder=f"户主{n:02d}", village=f"{'东西'[n % 2]}关村",
            status="已验收" if done else "施工中", done_date=f"2020-{9 + n % 4:02d}-15" if done else "",
            remarks="低保户" if n % 5 == 0 else "",
        )
        checked = check_record("heating", raw, today=samples.TODAY)
        assert checked.ok
        rows.append(checked.values)
    with ledger_service.write_records(db) as s:
        ledger_service.insert_many(s, "heating", rows, actor=BUILTIN_ADMIN)
    return db


def orm_ids(db, q: RecordQuery, actor=None) -> list[int]:
    """The same query through the ORM, as the reference for the cursor path."""
    d = ledger("heating")
    m = ledger_service.model_of(d)
    stmt = ledger_service._ordered(d, select(m.id).where(and_(*ledger_service._where(d, q, actor))), q)
    with read_session(db.engine) as s:
        return list(s.scalars(stmt))


QUERIES = [
    RecordQuery(),
    RecordQuery(unit_code="140727"),
    RecordQuery(filters={"status": "已验收"}),
    RecordQuery(date_from=dt.date(2020, 10, 1), date_to=dt.date(2020, 11, 30)),
    RecordQuery(text="东关"),
    RecordQuery(text="开发区"),  # a unit name: an IN list of unit codes
    RecordQuery(text="低保", unit_code="140702"),
    RecordQuery(text="100%_"),  # LIKE wildcards typed by the user are not wildcards
    RecordQuery(sort="householder", descending=True),
    RecordQuery(sort="done_date"),
    RecordQuery(deleted=True),
]


@pytest.mark.parametrize("q", QUERIES, ids=range(len(QUERIES)))
def test_query_ids_matches_the_orm_query(seeded, q):
    assert ledger_service.query_ids(seeded, "heating", q) == orm_ids(seeded, q)


def test_query_ids_filters_really_filter(seeded):
    assert len(ledger_service.query_ids(seeded, "heating", RecordQuery())) == 40
    by_date = ledger_service.query_ids(seeded, "heating", RecordQuery(date_from=dt.date(2020, 11, 1)))
    rows = ledger_service.fetch_rows(seeded, "heating", by_date)
    assert rows and all(r.values["done_date"] >= dt.date(2020, 11, 1) for r in rows)
    zone = ledger_service.query_ids(seeded, "heating", RecordQuery(text="开发区"))
    assert {r.unit_code for r in ledger_service.fetch_rows(seeded, "heating", zone)} == {"140799"}
    clerk = Actor(name="祁县填报员", role="county_clerk", unit_code="140727")
    assert ledger_service.query_ids(seeded, "heating", RecordQuery(), actor=clerk) == orm_ids(
        seeded, RecordQuery(), clerk
    )


def test_delete_and_restore_several_records_in_one_go(seeded):
    rows = ledger_service.list_records(seeded, "heating", RecordQuery(), limit=3)
    uuids = [r.uuid for r in rows]
    assert ledger_service.delete_records(seeded, "heating", uuids, actor=BUILTIN_ADMIN) == 3
    assert ledger_service.count_records(seeded, "heating") == 37
    assert ledger_service.restore_records(seeded, "heating", uuids, actor=BUILTIN_ADMIN) == 3
    assert ledger_service.count_records(seeded, "heating") == 40


def test_a_refused_delete_deletes_nothing(seeded):
    rows = ledger_service.list_records(seeded, "heating", RecordQuery(sort="unit_code"), limit=40)
    own = [r.uuid for r in rows if r.unit_code == "140727"][:2]
    other = [r.uuid for r in rows if r.unit_code == "140702"][:1]
    clerk = Actor(name="祁县填报员", role="county_clerk", unit_code="140727")
    with pytest.raises(PermissionDenied):
        ledger_service.delete_records(seeded, "heating", own + other, actor=clerk)
    assert ledger_service.count_records(seeded, "heating") == 40


def test_restoring_two_records_with_the_same_id_number_is_refused_whole(db):
    a = samples.create(db, "heating", 1)
    ledger_service.delete_record(db, "heating", a, actor=BUILTIN_ADMIN)
    b = samples.create(db, "heating", 2, id_number=samples.heating(1)["id_number"])
    ledger_service.delete_record(db, "heating", b, actor=BUILTIN_ADMIN)
    with pytest.raises(ValidationFailed) as err:
        ledger_service.restore_records(db, "heating", [a, b], actor=BUILTIN_ADMIN)
    assert "身份证号" in str(err.value)
    assert ledger_service.count_records(db, "heating") == 0


def test_find_duplicates_for_the_form(db):
    uuid = samples.create(db, "heating", 1)
    values = check_record("heating", samples.heating(1), today=samples.TODAY).values
    problems = ledger_service.find_duplicates(db, "heating", values)
    assert [p.field for p in problems if p.is_error] == ["id_number"]
    assert ledger_service.find_duplicates(db, "heating", values, exclude_uuid=uuid) == []


def test_search_finds_identifiers_typed_in_full_width_and_names_in_chinese(seeded):
    row = ledger_service.list_records(seeded, "heating", RecordQuery(), limit=1)[0]
    tail = row.values["id_number"][-6:]
    full_width = "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in tail)
    assert row.id in ledger_service.query_ids(seeded, "heating", RecordQuery(text=full_width))
    assert ledger_service.query_ids(seeded, "heating", RecordQuery(text="户主07")) == [
        r.id for r in ledger_service.list_records(seeded, "heating", RecordQuery()) if r.values["householder"] == "户主07"
    ]


def test_driver_errors_on_the_fast_path_are_raised_as_sqlalchemy_errors(db):
    """So that read_session turns them into the user's messages (busy, disk full, …) as for any query."""
    import sqlite3

    from sqlalchemy import column, table
    from sqlalchemy.exc import OperationalError, ProgrammingError

    # SQLite calls a missing table an OperationalError, PostgreSQL a ProgrammingError; both arrive wrapped
    expected = OperationalError if db.engine.dialect.name == "sqlite" else ProgrammingError
    with pytest.raises(expected) as err, read_session(db.engine) as s:
        ledger_service._first_column(s, select(column("id")).select_from(table("no_such_table")))
    driver_error = sqlite3.OperationalError if db.engine.dialect.name == "sqlite" else db.engine.dialect.loaded_dbapi.Error
    assert isinstance(err.value.orig, driver_error)
    assert "no_such_table" in str(err.value)
