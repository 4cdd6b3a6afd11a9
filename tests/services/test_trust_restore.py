"""Restore as an attacker tries it (issue 16 finding 2, issue 22): every refusal is in services/backup.py,
so the command line and 设置 → 从备份恢复… are both covered; and the private key stays out of backups."""

from __future__ import annotations

import sqlite3
import threading
import zipfile

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.errors import DatabaseBusyError, PermissionDenied
from jzair_desktop.services import backup as bk
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.services.packages import keys as package_keys
from jzair_desktop.storage.engine import sqlite_url
from tests.services.admin_helpers import PASSWORDS, fast_hasher, make_users, query, sql  # noqa: F401
from tests.services.test_backup import build_jzbak
from tests.storage.safety_helpers import add_heating, add_sample_data, dump

pytestmark = pytest.mark.usefixtures("fast_hasher")


def data_of_dump(tables: dict) -> dict:
    return {k: v for k, v in tables.items() if k not in ("audit_log", "app_meta")}


def data_of(path) -> dict:  # noqa: ANN001
    return data_of_dump(dump(path))


@pytest.fixture
def with_users(db):
    add_sample_data(db.engine)
    package_keys.identity(db)  # the installation's key pair
    users = make_users(db)
    return db, users


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_attack_a_clerk_or_viewer_restoring_is_refused_by_the_service(with_users, tmp_path):
    db, users = with_users
    file = bk.make_backup(db, tmp_path).path
    add_heating(db.engine, 2, tag="恢复前")
    db.dispose()
    before = dump(db.path)
    for who in ("yuci", "viewer"):
        with pytest.raises(PermissionDenied, match="只有管理员可以恢复数据库"):
            bk.restore_backup(db.url, file, actor=users[who])
        assert dump(db.path) == before
    # no login at all over a sound database with accounts: refused too
    for actor in (None, BUILTIN_ADMIN):
        with pytest.raises(PermissionDenied, match="须由管理员登录"):
            bk.restore_backup(db.url, file, actor=actor)
    assert dump(db.path) == before
    assert not [p for p in db.path.parent.iterdir() if "恢复前" in p.name]
    # the administrator may
    result = bk.restore_backup(db.url, file, actor=users["admin"])
    assert result.previous_copy is not None


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_attack_an_administrator_role_not_in_this_database_is_refused(with_users, tmp_path):
    db, users = with_users
    file = bk.make_backup(db, tmp_path).path
    db.dispose()
    sql(db.path, "UPDATE users SET disabled = 1 WHERE name = ?", ("王主任",))
    with pytest.raises(PermissionDenied, match="不是本数据库中有效的管理员账户"):
        bk.restore_backup(db.url, file, actor=users["admin"])


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_attack_a_backup_without_accounts_is_never_restored_over_accounts(db, tmp_path, fast_hasher):  # noqa: F811
    add_sample_data(db.engine)
    empty = bk.make_backup(db, tmp_path / "无账户.jzbak").path  # made before any account existed
    users = make_users(db)
    db.dispose()
    before = dump(db.path)
    with pytest.raises(bk.BackupError, match="该备份中没有任何用户账户"):
        bk.restore_backup(db.url, empty, actor=users["admin"])
    assert dump(db.path) == before


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_attack_a_backup_of_another_installation_needs_an_explicit_yes(with_users, tmp_path):
    db, users = with_users
    other_path = tmp_path / "其他" / "台账.sqlite3"
    other, _ = open_database(sqlite_url(other_path), create=True)
    load_reference_data(other)
    package_keys.identity(other)
    make_users(other)
    foreign = bk.make_backup(other, tmp_path / "其他安装.jzbak").path
    other.dispose()
    db.dispose()
    before = dump(db.path)
    with pytest.raises(bk.ForeignBackupError, match="备份来自另一台安装") as caught:
        bk.restore_backup(db.url, foreign, actor=users["admin"])
    assert caught.value.reasons and dump(db.path) == before
    # the CLI refuses without --other-installation and restores with it
    base = ["--db", str(db.path), "--user", "王主任"]
    import os

    os.environ["JZAIR_PASSWORD"] = PASSWORDS["王主任"]
    try:
        assert cli_main([*base, "restore", str(foreign), "--yes"]) == 2
        assert data_of(db.path) == data_of_dump(before)  # the login itself is audited; nothing else
        assert cli_main([*base, "restore", str(foreign), "--yes", "--other-installation"]) == 0
    finally:
        del os.environ["JZAIR_PASSWORD"]


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.parametrize("extra", [
    "CREATE TRIGGER spy AFTER INSERT ON heating BEGIN UPDATE users SET role = 'city_admin'; END",
    "CREATE VIEW everything AS SELECT * FROM heating",
    "CREATE TABLE stash (x TEXT)",
    "ALTER TABLE heating ADD COLUMN secret TEXT",
])
def test_attack_a_backup_with_extra_schema_objects_is_refused(db, tmp_path, extra):
    add_sample_data(db.engine)
    db.dispose()
    tampered_db = tmp_path / "改过.sqlite3"
    con = sqlite3.connect(db.path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    tampered_db.write_bytes(db.path.read_bytes())
    con = sqlite3.connect(tampered_db)
    con.execute(extra)
    con.commit()
    con.close()
    file = build_jzbak(tmp_path / "改过.jzbak", tampered_db)
    before = dump(db.path)
    with pytest.raises(bk.BackupError, match="数据库结构与本程序建立的不一致"):
        bk.restore_backup(db.url, file)
    assert dump(db.path) == before
    # the untampered file passes the same check
    clean = build_jzbak(tmp_path / "原样.jzbak", db.path)
    bk.restore_backup(db.url, clean)


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_attack_a_locked_database_is_not_damaged_and_needs_a_login(with_users, tmp_path, monkeypatch, capsys):
    """Today a lock held for 20 s made the CLI restore without any login."""
    db, _users = with_users
    file = bk.make_backup(db, tmp_path).path
    db.dispose()
    before = dump(db.path)
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "200")
    locker = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    locker.execute("PRAGMA journal_mode=DELETE")
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseBusyError):
            bk.database_condition(db.path)
        monkeypatch.setattr("sys.stdin.isatty", lambda: False)
        released = threading.Timer(0.5, locker.rollback)
        released.start()
        code = cli_main(["--db", str(db.path), "restore", str(file), "--yes"])
        released.join()
    finally:
        locker.close()
    err = capsys.readouterr().err
    assert code != 0 and "恢复不需要登录" not in err
    assert data_of(db.path) == data_of_dump(before)


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_backups_hold_no_private_key_and_a_restore_keeps_the_installations_key(with_users, tmp_path):
    db, users = with_users
    key_before = query(db.path, "SELECT private_key, fingerprint FROM installation_key")
    file = bk.make_backup(db, tmp_path).path
    with zipfile.ZipFile(file) as zf:
        raw = zf.read("jzair.sqlite3")
    assert key_before[0][0] not in raw  # not even in a free page
    extracted = tmp_path / "解压.sqlite3"
    extracted.write_bytes(raw)
    assert query(extracted, "SELECT count(*) FROM installation_key") == [(0,)]
    assert bk.read_manifest(file).installation_key == key_before[0][1]
    db.dispose()
    bk.restore_backup(db.url, file, actor=users["admin"])
    assert query(db.path, "SELECT private_key, fingerprint FROM installation_key") == key_before
    # restored on a new machine (no database there): no key; a new one is made when first needed
    fresh = tmp_path / "新电脑" / "台账.sqlite3"
    bk.restore_backup(sqlite_url(fresh), file)
    new_db, _ = open_database(sqlite_url(fresh))
    try:
        assert package_keys.identity(new_db).fingerprint != key_before[0][1]
    finally:
        new_db.dispose()


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_attack_a_clerk_or_viewer_backing_up_or_redirecting_backups_is_refused_by_the_service(with_users, tmp_path):
    """A backup is the whole database (every unit's personal data): 设置 → 立即备份 and the backup folders are
    administrators' acts in the service, as `jzair backup` is; a viewer cannot point the extra folder at a USB
    drive and press 立即备份."""
    db, users = with_users
    usb = tmp_path / "U盘"
    settings_file = bk.settings_file()
    before_settings = settings_file.read_bytes() if settings_file.exists() else None
    for who in ("yuci", "viewer"):
        with pytest.raises(PermissionDenied, match="不能更改备份设置"):
            bk.save_backup_settings(bk.BackupSettings(extra_folder=usb), actor=users[who])
        assert (settings_file.read_bytes() if settings_file.exists() else None) == before_settings
        with pytest.raises(PermissionDenied, match="不能备份数据库"):
            bk.auto_backup(db, settings=bk.BackupSettings(extra_folder=usb, folder=tmp_path / "备份"),
                           actor=users[who])
        with pytest.raises(PermissionDenied, match="不能备份数据库"):
            bk.make_backup(db, usb, actor=users[who])
    assert not usb.exists() and not (tmp_path / "备份").exists()
    assert not query(db.path, "SELECT 1 FROM audit_log WHERE action = 'backup'")
    # the administrator may, and it is audited (by whom, to where: both copies)
    usb.mkdir()  # the drive plugged in
    bk.save_backup_settings(bk.BackupSettings(extra_folder=usb, folder=tmp_path / "备份"), actor=users["admin"])
    result = bk.auto_backup(db, actor=users["admin"])
    assert result.extra_copy is not None and result.extra_copy.parent == usb
    rows = query(db.path, "SELECT user_name, detail FROM audit_log WHERE action = 'backup'")
    assert len(rows) == 1 and rows[0][0] == "王主任"
    assert str(result.backup.path) in rows[0][1] and str(result.extra_copy) in rows[0][1]
