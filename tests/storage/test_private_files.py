"""Files and keys private to the user (issue 16 finding 9): another local user cannot read the database
(personal data, the signing key), its WAL, the logs or the backups. POSIX modes; on Windows the data lives
in the user's own profile folder and nothing is chmod-ed."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from pathlib import Path

import pytest

from jzair_desktop import log as app_log
from jzair_desktop import paths
from jzair_desktop.services import backup as bk
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.services.packages import keys as package_keys
from jzair_desktop.storage.engine import sqlite_url
from tests.storage.safety_helpers import add_heating

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # the usual default: files 0644, folders 0755
    yield
    os.umask(old)


@posix_only
def test_attack_another_local_user_reads_the_database_wal_and_key(tmp_path, open_umask, monkeypatch):
    data = tmp_path / "数据"
    monkeypatch.setenv("JZAIR_DATA_DIR", str(data))
    assert mode(paths.data_dir()) == 0o700
    db_file = paths.default_db_path()
    db, _ = open_database(sqlite_url(db_file), create=True)
    try:
        load_reference_data(db)
        package_keys.identity(db)  # the private signing key is in the database
        add_heating(db.engine, 2, tag="私密")
        assert mode(db_file) == 0o600
        wal = db_file.with_name(db_file.name + "-wal")
        assert wal.exists() and mode(wal) == 0o600
        shm = db_file.with_name(db_file.name + "-shm")
        assert mode(shm) & 0o077 == 0
        backup = bk.make_backup(db, now=dt.datetime(2020, 12, 1, 9, 0, 0))
        assert mode(backup.path) == 0o600 and mode(backup.path.parent) == 0o700
    finally:
        db.dispose()
    # a restore over it keeps the restored database and the kept copy private, even over a 0644 file
    os.chmod(db_file, 0o644)
    result = bk.restore_backup(sqlite_url(db_file), backup.path)
    assert mode(db_file) == 0o600 and mode(result.previous_copy) == 0o600


@posix_only
def test_an_existing_open_data_folder_is_made_private(tmp_path, open_umask, monkeypatch):
    data = tmp_path / "旧数据"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    monkeypatch.setenv("JZAIR_DATA_DIR", str(data))
    assert mode(paths.data_dir()) == 0o700 and mode(paths.log_dir()) == 0o700


@posix_only
def test_the_log_file_is_private(tmp_path, open_umask, monkeypatch):
    monkeypatch.setenv("JZAIR_DATA_DIR", str(tmp_path / "日志"))
    monkeypatch.setattr(app_log, "_configured", False)
    root = logging.getLogger()
    before = list(root.handlers)
    file = app_log.setup_logging()
    try:
        assert file is not None and mode(file) == 0o600
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()


def test_make_private_never_fails(tmp_path, monkeypatch):
    """Portable: on Windows (os.name 'nt') nothing is chmod-ed, and a failing chmod is not an error."""
    f = tmp_path / "a.txt"
    f.write_text("x")
    monkeypatch.setattr(os, "chmod", lambda *a, **k: (_ for _ in ()).throw(PermissionError("FAT")))
    assert paths.make_private(f) == f
    monkeypatch.setattr(os, "name", "nt")
    assert paths.make_private(tmp_path / "不存在") == tmp_path / "不存在"
