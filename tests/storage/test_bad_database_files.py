"""A missing, read-only, locked, non-SQLite or newer database file: a Chinese message naming the file, and the
file is not changed (same bytes, nothing created beside it)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jzair_desktop.cli import main
from jzair_desktop.errors import DatabaseBusyError, DatabaseError
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.storage.engine import sqlite_url


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in folder.iterdir() if p.is_file()}


def make_db(path: Path) -> Path:
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    db.dispose()
    return path


def refused(capsys, path: Path, *command: str) -> str:
    """Run `jzair --db path command…`, expect the user's error exit (2), return what it printed to stderr."""
    code = main(["--db", str(path), *command])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("错误："), err
    assert str(path) in err, err
    return err


def test_a_missing_file_is_named_and_not_created(tmp_path, capsys):
    path = tmp_path / "没有这个文件.sqlite3"
    with pytest.raises(DatabaseError) as info:
        open_database(sqlite_url(path))
    assert str(path) in str(info.value) and "不存在" in str(info.value)
    err = refused(capsys, path, "info")
    assert "jzair init" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [("info",), ("init",), ("plan",)])
def test_a_text_file_named_sqlite3_is_refused_unchanged(tmp_path, capsys, command):
    path = tmp_path / "台账.sqlite3"
    path.write_text("县（区、市）,户主姓名\n榆次区,张三\n", encoding="utf-8")
    before = folder_state(tmp_path)
    err = refused(capsys, path, *command)
    assert "不是 SQLite" in err and "未被改动" in err
    assert folder_state(tmp_path) == before


def test_a_damaged_sqlite_file_is_refused_unchanged(tmp_path, capsys):
    path = tmp_path / "损坏.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    before = folder_state(tmp_path)
    err = refused(capsys, path, "init")
    assert "损坏" in err and "未被改动" in err
    assert folder_state(tmp_path) == before


def test_a_database_from_a_newer_version_is_refused_unchanged(tmp_path, capsys):
    path = make_db(tmp_path / "新版程序的库.sqlite3")
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    before = folder_state(tmp_path)
    with pytest.raises(DatabaseError, match="更新版本"):
        open_database(sqlite_url(path))
    for command in (("info",), ("init",)):
        err = refused(capsys, path, *command)
        assert "ffff" in err and "最新版本" in err and "未被改动" in err
    assert folder_state(tmp_path) == before


def test_a_locked_database_is_refused_with_a_clear_message(tmp_path, capsys, monkeypatch):
    path = make_db(tmp_path / "被占用.sqlite3")
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "200")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode=DELETE")  # a rollback-journal lock also keeps readers out
        holder.execute("BEGIN EXCLUSIVE")
        before = sha256(path)
        with pytest.raises(DatabaseBusyError) as info:
            open_database(sqlite_url(path))
        assert str(path) in str(info.value) and "占用" in str(info.value)
        err = refused(capsys, path, "info")
        assert "占用" in err
        assert sha256(path) == before
    finally:
        holder.close()


@contextmanager
def read_only(target: Path) -> Iterator[None]:
    """Make a file or folder read-only for this process. As root, file modes do not apply (root may write
    anyway), so the immutable attribute (chattr +i) is used instead; without it the test is skipped.
    Windows: a file gets the read-only attribute (what Explorer's 只读 box sets); folders have no such thing
    there (the attribute does not stop writes into a folder; only an ACL does, which Wine does not enforce)."""
    if sys.platform == "win32":
        if target.is_dir():
            pytest.skip("Windows ignores the read-only attribute of a folder; denying writes needs an ACL")
        mode = target.stat().st_mode
        target.chmod(0o444)
        try:
            yield
        finally:
            target.chmod(mode)
        return
    if os.geteuid() != 0:
        mode = target.stat().st_mode
        target.chmod(0o555 if target.is_dir() else 0o444)
        try:
            yield
        finally:
            target.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(target)], capture_output=True).returncode != 0:
        pytest.skip("running as root, where file modes do not apply, and chattr +i is not available here")
    try:
        assert not os.access(target, os.W_OK)
        yield
    finally:
        subprocess.run([chattr, "-i", str(target)], check=True)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_database_is_refused_unchanged(tmp_path, capsys, what):
    folder = tmp_path / "只读"
    folder.mkdir()
    path = make_db(folder / "台账.sqlite3")
    before = folder_state(folder)
    with read_only(path if what == "file" else folder):
        with pytest.raises(DatabaseError) as info:
            open_database(sqlite_url(path))
        assert "只读" in str(info.value) and str(path) in str(info.value)
        for command in (("info",), ("init",)):
            err = refused(capsys, path, *command)
            assert "只读" in err and "可写的位置" in err
    assert folder_state(folder) == before


def test_a_folder_given_as_database_is_refused(tmp_path, capsys):
    folder = tmp_path / "数据库.sqlite3"
    folder.mkdir()
    err = refused(capsys, folder, "init")
    assert "文件夹" in err
    assert list(folder.iterdir()) == []


def rollback_journal(path: Path) -> None:
    """Switch a file from WAL to a classic rollback journal, as other programs (and older tools) leave it."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()


def test_another_programs_sqlite_database_is_refused_unchanged(tmp_path, capsys):
    path = tmp_path / "通讯录.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO contacts (name) VALUES ('张三')")
    con.commit()
    con.close()
    before = folder_state(tmp_path)
    for command in (("init",), ("info",)):
        err = refused(capsys, path, *command)
        assert "不是本程序的数据库" in err and "contacts" in err and "未被改动" in err
    assert folder_state(tmp_path) == before


def test_a_newer_database_in_rollback_journal_mode_keeps_every_byte(tmp_path, capsys):
    """Not even the switch to WAL (which rewrites two header bytes) happens to a file that is refused."""
    path = make_db(tmp_path / "新版.sqlite3")
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    rollback_journal(path)
    before = folder_state(tmp_path)
    err = refused(capsys, path, "init")
    assert "更新版本" in err and "ffff" in err
    assert folder_state(tmp_path) == before
