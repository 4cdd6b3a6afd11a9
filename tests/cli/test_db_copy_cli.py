"""`jzair db copy --to URL`: copies, says what it checked, hides the password, is audited; refuses a target with data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jzair_desktop.cli import main as cli_main
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import read_session, sqlite_url
from jzair_desktop.storage.models import AuditEntry
from tests.services.admin_helpers import PASSWORDS, fast_hasher, make_users  # noqa: F401
from tests.services.test_dbcopy import _fill


@pytest.mark.sqlite_only("copies the SQLite file given by --db to the server")
def test_cli_db_copy(db, db_path, pg_empty_url, tmp_path, capsys, monkeypatch):
    _fill(db, tmp_path)
    make_users(db)
    db.dispose()
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["王主任"])
    assert cli_main(["--user", "王主任", "--db", str(db_path), "db", "copy", "--to", pg_empty_url]) == 0
    out = capsys.readouterr().out
    assert "行数与原数据库一致" in out and "审计链校验通过" in out
    assert "***" in out and pg_empty_url.split(":")[2].split("@")[0] not in out  # the password is not shown
    # Audited in the source: who copied, to where.
    source, _ = open_database(sqlite_url(db_path))
    try:
        with read_session(source.engine) as s:
            last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
            assert last.action == "db_copy" and last.user_name == "王主任" and "***" in last.detail
            assert s.scalar(select(func.count()).select_from(AuditEntry)) > 10
    finally:
        source.dispose()
    assert cli_main(["--user", "王主任", "--db", str(db_path), "db", "copy", "--to", pg_empty_url]) != 0
    assert "不是空的" in capsys.readouterr().err
