"""A small backup that unpacks to gigabytes is refused before anything is written (issue 16, finding 8)."""

from __future__ import annotations

import hashlib
import json
import time
import zipfile

import pytest

from jzair_desktop.services import backup as bk
from tests.exchange.samples import write_zip_raw

GB = 1 << 30


def bomb_of(good, out, *, db_size: int, claimed_size: int | None = None):
    """A .jzbak with the good backup's manifest, but a database member of `db_size` zero bytes (about 2 MB
    packed) and a manifest whose size agrees with it (the SHA-256 is not reached: the size refuses it)."""
    with zipfile.ZipFile(good) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    block = bytes(1 << 20)
    manifest["db_size"] = claimed_size if claimed_size is not None else db_size
    manifest["sha256"] = hashlib.sha256(b"").hexdigest()
    return write_zip_raw(out, {
        "manifest.json": [(json.dumps(manifest).encode(), 1)],
        "jzair.sqlite3": [(block, db_size >> 20)],
    })


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.slow
def test_a_2_mb_backup_that_unpacks_to_2_gb_is_refused_before_writing(db, tmp_path):
    good = bk.make_backup(db, tmp_path / "好.jzbak").path
    db.dispose()
    bomb = bomb_of(good, tmp_path / "炸弹.jzbak", db_size=2 * GB)
    assert bomb.stat().st_size < 3 << 20
    before = db.path.read_bytes()
    listing = files_in(db.path.parent)
    started = time.perf_counter()
    with pytest.raises(bk.BackupError, match="压缩炸弹") as err:
        bk.restore_backup(db.path, bomb)
    assert "炸弹.jzbak" in str(err.value)
    assert time.perf_counter() - started < 5  # refused without unpacking 2 GB
    assert db.path.read_bytes() == before and files_in(db.path.parent) == listing
    with pytest.raises(bk.BackupError, match="压缩炸弹"):
        bk.verify_backup(bomb)


def test_a_size_in_the_manifest_that_differs_from_the_zip_is_refused(db, tmp_path):
    good = bk.make_backup(db, tmp_path / "好.jzbak").path
    db.dispose()
    bomb = bomb_of(good, tmp_path / "不符.jzbak", db_size=8 << 20, claimed_size=4096)
    with pytest.raises(bk.BackupError, match="数据库大小与清单不符"):
        bk.verify_backup(bomb)


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_a_database_larger_than_the_free_space_is_refused(db, tmp_path, monkeypatch):
    good = bk.make_backup(db, tmp_path / "好.jzbak").path
    db.dispose()
    real = bk.shutil.disk_usage

    def small_disk(path):
        usage = real(path)
        return type(usage)(usage.total, usage.total - 1000, 1000)

    monkeypatch.setattr(bk.shutil, "disk_usage", small_disk)
    with pytest.raises(bk.BackupError, match="磁盘空间不足"):
        bk.restore_backup(db.path, good)
