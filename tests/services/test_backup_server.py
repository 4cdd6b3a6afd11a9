"""Backups of a PostgreSQL database (issue 20): the same .jzbak from either backend, restored into either. A backup
of the server restores into a SQLite file and the other way round, every table's rows identical and the audit chain
verifying; restoring over a server database with accounts takes its administrator, keeps the installation's signing
key and backs the server's data up first; a refused restore leaves the server as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, select

from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.errors import PermissionDenied
from jzair_desktop.services import backup, submission
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.database import open_database
from jzair_desktop.services.packages.export import export_county_package
from jzair_desktop.storage.engine import sqlite_url
from jzair_desktop.storage.models import Base
from tests.services.admin_helpers import JIEXIU, YUCI, fast_hasher, make_users, raw  # noqa: F401

TODAY = dt.date(2021, 1, 15)
KEY_TABLE = "installation_key"


def _fill(db, tmp_path) -> None:  # noqa: ANN001
    for key in LEDGER_KEYS:
        a = svc.create_record(db, key, raw(key, 1, YUCI), actor=BUILTIN_ADMIN, today=TODAY).uuid
        b = svc.create_record(db, key, raw(key, 2, JIEXIU), actor=BUILTIN_ADMIN, today=TODAY).uuid
        svc.update_record(db, key, a, {**raw(key, 1, YUCI), "remarks": "改过"}, actor=BUILTIN_ADMIN, today=TODAY)
        svc.delete_record(db, key, b, actor=BUILTIN_ADMIN)
    submission.submit_month(db, "榆次区", "2020-12", BUILTIN_ADMIN, today=TODAY)
    export_county_package(db, "榆次区", "2020-12", tmp_path / "包.jzpkg", actor=BUILTIN_ADMIN)


def _dump(url: str, *, skip: tuple[str, ...] = (KEY_TABLE,)) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # sorted in Python: the backends order text keys by their own collations
            return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                    for t in Base.metadata.sorted_tables if t.name not in skip}
    finally:
        engine.dispose()


def test_server_backup_restores_into_a_file(pg_url, tmp_path):
    server, _ = open_database(pg_url)
    try:
        _fill(server, tmp_path)
        make_users(server)
        info = backup.make_backup(server, tmp_path / "服务器.jzbak")
    finally:
        server.dispose()
    assert info.records["heating"] == 1 and "***" in info.source and "postgresql" in info.source
    before = _dump(pg_url)
    file = tmp_path / "本机.sqlite3"
    backup.restore_backup(sqlite_url(file), info.path)
    assert _dump(sqlite_url(file)) == before
    copy, _ = open_database(sqlite_url(file))
    try:
        assert verify(copy).ok
    finally:
        copy.dispose()


def test_file_backup_restores_into_an_empty_server_database(db, pg_empty_url, tmp_path):
    _fill(db, tmp_path)
    info = backup.make_backup(db, tmp_path / "本机.jzbak")
    before = _dump(db.url)
    result = backup.restore_backup(pg_empty_url, info.path)
    assert result.previous_copy is None and "***" in str(result.database)
    assert _dump(pg_empty_url) == before
    server, _ = open_database(pg_empty_url)
    try:
        assert verify(server).ok
    finally:
        server.dispose()


def test_restore_over_a_server_with_accounts(db, pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path / "data"))
    _fill(db, tmp_path)
    make_users(db)
    info = backup.make_backup(db, tmp_path / "本机.jzbak")
    wanted = _dump(db.url, skip=(KEY_TABLE, "audit_log"))

    server, _ = open_database(pg_url)
    try:
        users = make_users(server)
        export_county_package(server, "介休市", "2020-12", tmp_path / "服务器包.jzpkg", actor=users["admin"])
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            key = conn.exec_driver_sql(f"SELECT fingerprint FROM {KEY_TABLE}").scalar()
        engine.dispose()
        server_before = _dump(pg_url, skip=())

        with pytest.raises(PermissionDenied):
            backup.restore_backup(pg_url, info.path, actor=users["yuci"])
        with pytest.raises(PermissionDenied, match="管理员"):
            backup.restore_backup(pg_url, info.path, actor=None)
        assert _dump(pg_url, skip=()) == server_before  # refused: untouched

        result = backup.restore_backup(pg_url, info.path, actor=users["admin"], allow_foreign=True)
        assert result.previous_copy is not None and result.previous_copy.name.startswith("jzair-恢复前-")
        kept = tmp_path / "恢复前.sqlite3"  # the server's data before the restore, restorable as any backup
        backup.restore_backup(sqlite_url(kept), result.previous_copy)
        assert _dump(sqlite_url(kept))["users"] == server_before["users"]
        after = _dump(pg_url, skip=(KEY_TABLE, "audit_log"))
        assert after == wanted
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT fingerprint FROM {KEY_TABLE}").scalar() == key  # kept its own key
            last = conn.exec_driver_sql("SELECT action, user_name FROM audit_log ORDER BY seq DESC LIMIT 1").one()
        engine.dispose()
        assert tuple(last) == ("db_restore", "王主任")
        assert verify(server).ok
    finally:
        server.dispose()
