"""The ledger table model: ids plus paged rows, sort in SQL, display formatting, Qt's model tester."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from jzair_desktop.domain.validation import check_record
from jzair_desktop.gui.models.ledger_table import (
    PAGE_SIZE,
    LedgerTableModel,
    RecordRole,
    format_number,
    format_value,
)
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.ledgers import RecordQuery
from tests.gui import ledger_samples as samples

N = 450  # three pages


@pytest.fixture
def heating_db(db):
    rows = []
    for n in range(N):
        unit = "140702" if n % 3 else "140727"
        raw = samples.heating(n, unit_code=unit, householder=f"户主{n:04d}",
                              status="已验收" if n % 2 else "施工中",
                              done_date="2020-10-15" if n % 2 else "")
        checked = check_record("heating", raw, today=samples.TODAY)
        assert checked.ok, checked.errors
        rows.append(checked.values)
    with ledger_service.write_records(db) as s:
        ledger_service.insert_many(s, "heating", rows, actor=BUILTIN_ADMIN)
    return db


def col(model: LedgerTableModel, key: str) -> int:
    return model.ledger.keys.index(key)


def test_model_passes_qt_model_tester(qtmodeltester, heating_db):
    model = LedgerTableModel(heating_db, "heating", actor=BUILTIN_ADMIN)
    assert model.rowCount() == N
    qtmodeltester.check(model, force_py=True)


def test_model_tester_on_an_empty_and_a_filtered_model(qtmodeltester, heating_db):
    empty = LedgerTableModel(heating_db, "heating", query=RecordQuery(text="没有这个人"))
    assert empty.rowCount() == 0
    qtmodeltester.check(empty, force_py=True)
    filtered = LedgerTableModel(heating_db, "heating", query=RecordQuery(unit_code="140727"))
    assert filtered.rowCount() == len(range(0, N, 3))
    qtmodeltester.check(filtered, force_py=True)


def test_rows_are_fetched_page_by_page(heating_db):
    model = LedgerTableModel(heating_db, "heating")
    assert model.cached_pages() == 0  # only ids so far
    assert model.data(model.index(0, col(model, "householder"))) == "户主0000"
    assert model.fetches == 1
    model.data(model.index(PAGE_SIZE - 1, 0))
    assert model.fetches == 1  # same page
    assert model.data(model.index(N - 1, col(model, "householder"))) == f"户主{N - 1:04d}"
    assert model.fetches == 2 and model.cached_pages() == 2


def test_display_formatting(heating_db):
    model = LedgerTableModel(heating_db, "heating")
    row = 1  # 榆次区, 已验收
    rec = model.data(model.index(row, 0), RecordRole)
    full_id = rec.values["id_number"]
    shown_id = model.data(model.index(row, col(model, "id_number")))
    assert shown_id == full_id[:6] + "********" + full_id[-4:]
    assert full_id not in shown_id
    assert model.data(model.index(row, col(model, "unit_code"))) == "榆次区"
    assert model.data(model.index(row, col(model, "subsidy_yuan"))) == "12,000"
    assert model.data(model.index(row, col(model, "area_m2"))) == "85.5"
    assert model.data(model.index(row, col(model, "done_date"))) == "2020-10-15"
    right = model.data(model.index(row, col(model, "subsidy_yuan")), Qt.ItemDataRole.TextAlignmentRole)
    assert right & int(Qt.AlignmentFlag.AlignRight)
    left = model.data(model.index(row, col(model, "householder")), Qt.ItemDataRole.TextAlignmentRole)
    assert not left & int(Qt.AlignmentFlag.AlignRight)
    assert model.headerData(col(model, "id_number"), Qt.Orientation.Horizontal) == "身份证号"
    assert model.headerData(0, Qt.Orientation.Vertical) == "1"


def test_format_helpers():
    assert format_number(1234567.0) == "1,234,567"
    assert format_number(1234.5) == "1,234.5"
    assert format_number(0.7143) == "0.7143"
    assert format_number(12) == "12"
    heating = samples.heating()
    from jzair_desktop.domain.ledgers import ledger

    d = ledger("heating")
    assert format_value(d.column("unit_code"), "140799") == "晋中开发区"
    assert format_value(d.column("done_date"), dt.date(2020, 1, 2)) == "2020-01-02"
    assert format_value(d.column("remarks"), None) == ""
    assert format_value(d.column("id_number"), heating["id_number"]).count("*") == 8


def test_sort_on_columns_goes_through_sql(heating_db):
    model = LedgerTableModel(heating_db, "heating")
    name = col(model, "householder")
    model.sort(name, Qt.SortOrder.DescendingOrder)
    assert model.query.sort == "householder" and model.query.descending
    assert model.data(model.index(0, name)) == f"户主{N - 1:04d}"
    assert model.sort_column() == name
    model.sort(col(model, "status"), Qt.SortOrder.AscendingOrder)
    statuses = [model.data(model.index(r, col(model, "status"))) for r in range(N)]
    assert statuses == sorted(statuses)
    model.sort(-1)
    assert model.query.sort is None
    assert model.data(model.index(0, name)) == "户主0000"


def test_sort_keeps_persistent_indexes_on_the_same_record(heating_db):
    model = LedgerTableModel(heating_db, "heating")
    from PySide6.QtCore import QPersistentModelIndex

    keep = QPersistentModelIndex(model.index(5, 0))
    record_id = model.record_id(5)
    model.sort(col(model, "householder"), Qt.SortOrder.DescendingOrder)
    assert keep.isValid()
    assert model.record_id(keep.row()) == record_id
    assert keep.row() != 5


def test_deleted_rows_are_grey_in_the_recycle_bin(heating_db):
    live = LedgerTableModel(heating_db, "heating")
    rec = live.record(0)
    ledger_service.delete_record(heating_db, "heating", rec.uuid, actor=BUILTIN_ADMIN)
    live.requery()
    assert live.rowCount() == N - 1
    assert live.data(live.index(0, 0), Qt.ItemDataRole.ForegroundRole) is None
    trash = LedgerTableModel(heating_db, "heating", query=RecordQuery(deleted=True))
    assert trash.rowCount() == 1
    assert trash.data(trash.index(0, 0), Qt.ItemDataRole.ForegroundRole) is not None
    assert "删除" in trash.data(trash.index(0, 0), Qt.ItemDataRole.ToolTipRole)


def test_a_record_deleted_after_the_query_shows_as_gone(heating_db):
    model = LedgerTableModel(heating_db, "heating")
    with ledger_service.write_records(heating_db) as s:
        from sqlalchemy import delete

        from jzair_desktop.storage.models import HeatingRecord

        s.execute(delete(HeatingRecord).where(HeatingRecord.id == model.record_id(0)))
    assert model.record(0) is None
    assert model.data(model.index(0, 0)) == "（已不存在）"
    assert model.data(model.index(0, 1)) is None


def test_a_county_clerk_model_shows_only_the_own_unit(heating_db):
    clerk = Actor(name="祁县填报员", role="county_clerk", unit_code="140727")
    model = LedgerTableModel(heating_db, "heating", actor=clerk)
    assert model.rowCount() == len(range(0, N, 3))
    units = {model.data(model.index(r, 0)) for r in range(model.rowCount())}
    assert units == {"祁县"}
