"""Search text that would break the query (issue 22, item 3): a clear message, never a database error."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from jzair_desktop.errors import JzairError
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.ledgers import SEARCH_MAX_CHARS, RecordQuery
from jzair_desktop.storage.engine import read_session
from tests.gui import ledger_samples as samples


def test_overlong_search_text_is_refused_with_a_message_not_a_database_error(db):
    samples.create(db, "heating", 1)
    pasted = "晋中市榆次区东阳镇车辋村" * 1500  # ~18,000 characters: SQLite's LIKE pattern limit is 50,000 bytes
    for call in (ledger_service.query_ids, ledger_service.count_records):
        with pytest.raises(JzairError) as err:
            call(db, "heating", RecordQuery(text=pasted))
        assert not isinstance(err.value, SQLAlchemyError)
        assert f"{SEARCH_MAX_CHARS}" in str(err.value) and "搜索" in str(err.value)
    # The limit itself still searches.
    assert ledger_service.query_ids(db, "heating", RecordQuery(text="户" * SEARCH_MAX_CHARS)) == []


@pytest.mark.sqlite_only("SQLite's own limits on a LIKE pattern's complexity")
def test_a_query_sqlite_finds_too_complex_becomes_a_clear_message(db):
    with pytest.raises(JzairError) as err, read_session(db.engine) as s:
        s.execute(text("SELECT 'a' LIKE :p"), {"p": "%" + "晋" * 20_000 + "%"}).all()
    assert "过长" in str(err.value) or "过于复杂" in str(err.value)
