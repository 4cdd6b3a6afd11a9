"""Long paths with Chinese folder names. Files the app writes itself (backups, workbooks) work in folders past
Windows' classic 260-character limit (python.exe and the frozen programs are long-path aware; Windows 10/11 also
needs the LongPathsEnabled policy). A database path longer than SQLite can open (512 bytes on Linux, 1040 on
Windows, 259 characters on a Windows without long paths) is refused with a message saying so, not reported as
a damaged file, and nothing is created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jzair_desktop.cli import main
from jzair_desktop.errors import DatabaseError
from jzair_desktop.services import backup, excel
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.storage.engine import path_too_long_message, sqlite_url


def deep_folder(base: Path, length: int, part: str) -> Path:
    folder, i = base, 0
    while len(str(folder)) < length:
        i += 1
        folder = folder / f"{i:02d}{part}"
    return folder


def test_backup_restore_and_export_in_a_folder_past_260_characters(db_path, tmp_path):
    long_folder = deep_folder(tmp_path, 300, "_晋中市攻坚台账备份文件夹")
    long_folder.mkdir(parents=True)
    assert len(str(long_folder)) > 260
    db, _ = open_database(sqlite_url(db_path), create=True)
    try:
        load_reference_data(db)
        info = backup.make_backup(db, long_folder)
    finally:
        db.dispose()
    assert info.path.parent == long_folder and info.path.is_file()
    backup.verify_backup(info.path)
    backup.restore_backup(db_path, info.path)
    template = excel.save_template("heating", long_folder / "清洁取暖导入模板.xlsx")
    assert template.read_bytes()[:2] == b"PK"


def test_a_database_path_sqlite_cannot_open_is_refused_as_too_long(tmp_path, capsys):
    folder = deep_folder(tmp_path, 700, "_晋中市大气污染综合治理攻坚台账")  # > 1040 UTF-8 bytes
    target = folder / "台账.sqlite3"
    assert path_too_long_message(target) is not None
    with pytest.raises(DatabaseError) as err:
        open_database(sqlite_url(target), create=True)
    assert "路径太长" in str(err.value) and "台账.sqlite3" in str(err.value)
    assert main(["--db", str(target), "init"]) == DatabaseError.exit_code
    assert "路径太长" in capsys.readouterr().err
    assert not folder.exists()  # not even the folders were made


def test_a_short_path_is_not_too_long(db_path):
    assert path_too_long_message(db_path) is None
    assert len(os.fsencode(str(db_path))) < 200
