"""A full disk, a file size limit and read-only media: a clear Chinese message, no damaged database, and
exactly the data from before.

How each case is made real on Linux (the tests skip where the machine does not allow it):
- file size limit: the writer runs in a child process with RLIMIT_FSIZE lowered and SIGXFSZ ignored,
  so write() fails with EFBIG (SQLite reports SQLITE_IOERR_WRITE, "disk I/O error");
- a full disk: a 1 MiB tmpfs mounted in a private mount namespace (``unshare -m``; needs root or user
  namespaces), where write() fails with ENOSPC (SQLite reports SQLITE_FULL);
- read-only media: a read-only bind mount in a private mount namespace;
- a read-only file: chmod 0444; root ignores file modes, so as root the child runs without the
  CAP_DAC_OVERRIDE capability (``setpriv``), which makes the kernel enforce them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from jzair_desktop.errors import DatabaseError
from jzair_desktop.services import backup as bk
from jzair_desktop.storage import engine as engine_mod
from jzair_desktop.storage.engine import make_engine, write_session
from tests.storage.safety_helpers import add_sample_data, dump, heating_row, integrity, run_child

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="file size limits and mounts are set up the Linux way"),
    pytest.mark.sqlite_only("a full disk and file size limits under SQLite's own file"),
]


def _can_run(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def can_mount(tmp_path) -> bool:
    probe = tmp_path / "mount-probe"
    probe.mkdir(exist_ok=True)
    return shutil.which("unshare") is not None and _can_run(
        ["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)]
    )


def in_private_mount(script: str) -> list[str]:
    """argv prefix: run the child after `script` (shell) has mounted things only it can see."""
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", f'{script} && exec "$@"', "sh"]


def without_dac_override() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None or not _can_run(
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "true"]
    ):
        pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE: file modes would be ignored")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@pytest.fixture
def filled(db):
    add_sample_data(db.engine)
    db.dispose()
    return db


# -------------------------------------------------------------------------------------- file size limit

BIG_WRITE_UNDER_LIMIT = """
import json, os, resource, signal, sys, pathlib
from jzair_desktop.errors import JzairError
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import sqlite_url
from tests.storage.safety_helpers import add_heating

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing us
path, extra = pathlib.Path(sys.argv[1]), int(sys.argv[2])
db, _ = open_database(sqlite_url(path))
add_heating(db.engine, 1, tag="限制前")  # the connection is open, in WAL mode, with a -wal file
wal = path.with_name(path.name + "-wal")
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (max(path.stat().st_size, wal.stat().st_size) + extra, hard))
result = {}
try:
    add_heating(db.engine, 3000, tag="大批", remarks="很长的备注" * 200)
    result["ok"] = True
except JzairError as exc:
    result.update(ok=False, type=type(exc).__name__, message=str(exc))
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # room again: the same program carries on
add_heating(db.engine, 1, tag="之后")
db.dispose()
print(json.dumps(result, ensure_ascii=False))
"""


@pytest.mark.slow
@pytest.mark.parametrize("extra", [0, 4096, 65536, 1 << 20])
def test_big_write_past_a_file_size_limit_fails_clearly_and_keeps_the_data(filled, extra):
    """`extra`: how far past the current file sizes the limit lies, so the write fails at different points."""
    before = dump(filled.path)
    result = run_child(BIG_WRITE_UNDER_LIMIT, filled.path, extra)
    assert result == {"ok": False, "type": "DatabaseError", "message": engine_mod.WRITE_FAILED_MESSAGE}
    assert integrity(filled.path) == "ok"
    after = dump(filled.path)
    assert [r for r in after["heating"] if "大批村" in r] == []
    assert len([r for r in after["heating"] if "限制前村" in r]) == 1
    assert len([r for r in after["heating"] if "之后村" in r]) == 1
    after["heating"] = [r for r in after["heating"] if "限制前村" not in r and "之后村" not in r]
    assert after == before


BACKUP_UNDER_LIMIT = """
import json, resource, signal, sys, pathlib
from jzair_desktop.errors import JzairError
from jzair_desktop.services.backup import backup_database_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
source, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
# room for the source's 32 KiB -shm index, not for a copy of the database
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    backup_database_file(source, out)
    print(json.dumps({"ok": True}))
except JzairError as exc:
    print(json.dumps({"ok": False, "type": type(exc).__name__, "message": str(exc)}, ensure_ascii=False))
"""


@pytest.mark.slow
def test_backup_past_a_file_size_limit_fails_clearly_and_leaves_no_file(filled, tmp_path):
    out_dir = tmp_path / "备份"
    out_dir.mkdir()
    before = dump(filled.path)
    result = run_child(BACKUP_UNDER_LIMIT, filled.path, out_dir / "b.jzbak")
    assert result["ok"] is False and result["type"] == "BackupError"
    assert result["message"].startswith("磁盘空间不足（或文件超过了允许的大小），备份没有完成")
    assert list(out_dir.iterdir()) == []
    assert dump(filled.path) == before and integrity(filled.path) == "ok"


# ------------------------------------------------------------------------------------------- full disk

FULL_DISK = """
import json, shutil, sys, pathlib
from jzair_desktop.errors import JzairError
from jzair_desktop.services import backup as bk
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import sqlite_url
from tests.storage.safety_helpers import add_heating, count_rows, integrity

small, source, good_backup = (pathlib.Path(a) for a in sys.argv[1:4])
db_file = small / "台账.sqlite3"
shutil.copyfile(source, db_file)
out = {}
db, _ = open_database(sqlite_url(db_file))
try:
    add_heating(db.engine, 3000, tag="大批", remarks="很长的备注" * 200)
    out["write"] = "ok"
except JzairError as exc:
    out["write"] = str(exc)
db.dispose()
out["integrity"] = integrity(db_file)
out["big_rows"] = count_rows(db_file, where="village = '大批村'")
out["rows"] = count_rows(db_file)
# closing the last connection gave the -wal file's space back: fill the disk up again
with open(small / "填充", "wb", buffering=0) as fh:
    try:
        while True:
            fh.write(bytes(4096))
    except OSError:
        pass
try:
    bk.backup_database_file(source, small / "备份.jzbak")
    out["backup"] = "ok"
except JzairError as exc:
    out["backup"] = str(exc)
try:
    bk.restore_backup(db_file, good_backup)
    out["restore"] = "ok"
except JzairError as exc:
    out["restore"] = str(exc)
out["files"] = sorted(p.name for p in small.iterdir())
# (on a completely full disk a WAL database cannot even be read: its -shm index needs space)
(small / "填充").unlink()
out["rows_after_restore_attempt"] = count_rows(db_file)
out["integrity_after_restore_attempt"] = integrity(db_file)
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.slow
def test_full_disk_gives_clear_messages_and_keeps_the_data(filled, tmp_path):
    if not can_mount(tmp_path):
        pytest.skip("cannot mount a small tmpfs here (needs root or user namespaces)")
    small = tmp_path / "小盘"
    small.mkdir()
    good = bk.backup_database_file(filled.path, tmp_path / "好备份.jzbak").path
    rows = len(dump(filled.path)["heating"])
    result = run_child(
        FULL_DISK, small, filled.path, good,
        argv_prefix=in_private_mount(f"mount -t tmpfs -o size=1m tmpfs '{small}'"),
    )
    assert result["write"] == engine_mod.FULL_MESSAGE
    assert result["integrity"] == "ok"
    assert result["big_rows"] == 0 and result["rows"] == rows
    assert result["backup"].startswith("磁盘空间不足（或文件超过了允许的大小），备份没有完成")
    # refused before unpacking: the backup's database would not fit on the disk
    assert result["restore"].startswith("磁盘空间不足：恢复备份")
    assert "当前数据库没有改动" in result["restore"]
    # no half-written backup, no staged restore file, no pre-restore copy: only the database itself
    assert [f for f in result["files"] if not f.startswith("台账.sqlite3")] == ["填充"]
    assert result["rows_after_restore_attempt"] == rows
    assert result["integrity_after_restore_attempt"] == "ok"


# ------------------------------------------------------------------------------------------- read-only

READ_ONLY_CHILD = """
import json, sys, pathlib
from sqlalchemy import text
from jzair_desktop.errors import JzairError
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import check_database_file, make_engine, sqlite_url, write_session

path = pathlib.Path(sys.argv[1])
out = {}
try:
    check_database_file(path, create=False)
    out["check"] = "passed"
except JzairError as exc:
    out["check"] = str(exc)
try:
    open_database(sqlite_url(path))
    out["open"] = "opened"
except JzairError as exc:
    out["open"] = str(exc)
engine = make_engine(sqlite_url(path))  # past the checks, as if the medium became read-only later
try:
    with write_session(engine) as s:
        s.execute(text("UPDATE units SET name = name || '改'"))
    out["write"] = "written"
except JzairError as exc:
    out["write"] = str(exc)
engine.dispose()
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.slow
def test_read_only_file(filled):
    before = dump(filled.path)
    prefix = without_dac_override()
    filled.path.chmod(0o444)
    try:
        result = run_child(READ_ONLY_CHILD, filled.path, argv_prefix=prefix)
    finally:
        filled.path.chmod(0o644)
    assert result["check"].startswith("数据库文件或其所在文件夹是只读的：")
    assert result["open"] == result["check"]
    assert result["write"] == engine_mod.READONLY_MESSAGE
    assert dump(filled.path) == before and integrity(filled.path) == "ok"


@pytest.mark.slow
def test_read_only_medium(filled, tmp_path):
    if not can_mount(tmp_path):
        pytest.skip("cannot make a read-only bind mount here (needs root or user namespaces)")
    before = dump(filled.path)
    ro = tmp_path / "只读介质"
    ro.mkdir()
    prefix = in_private_mount(f"mount --bind -o ro '{filled.path.parent}' '{ro}'")
    result = run_child(READ_ONLY_CHILD, ro / filled.path.name, argv_prefix=prefix)
    assert result["check"].startswith("数据库文件或其所在文件夹是只读的：")
    assert result["open"] == result["check"]
    # A WAL database cannot even be opened where its -shm file cannot be created.
    assert result["write"] == engine_mod.CANTOPEN_MESSAGE
    assert dump(filled.path) == before and integrity(filled.path) == "ok"


@pytest.mark.slow
def test_write_through_a_read_only_connection(filled):
    """Portable: SQLite's own read-only mode (URI mode=ro) gives the Chinese read-only message."""
    before = dump(filled.path)
    uri = "sqlite:///" + filled.path.resolve().as_uri() + "?mode=ro&uri=true"
    engine = make_engine(uri)
    try:
        with pytest.raises(DatabaseError) as err, write_session(engine) as s:
            add_rows_in(s)
        assert str(err.value) == engine_mod.READONLY_MESSAGE
    finally:
        engine.dispose()
    assert dump(filled.path) == before


def add_rows_in(session) -> None:
    session.add_all(heating_row("只读", n) for n in range(3))
    session.flush()


@pytest.mark.slow
def test_check_database_file_refuses_a_read_only_folder_for_a_new_database(tmp_path):
    prefix = without_dac_override()
    folder = tmp_path / "只读文件夹"
    folder.mkdir()
    folder.chmod(0o555)
    code = """
    import json, sys, pathlib
    from jzair_desktop.errors import DatabaseError
    from jzair_desktop.storage.engine import check_database_file
    try:
        check_database_file(pathlib.Path(sys.argv[1]) / "新.sqlite3", create=True)
        print(json.dumps("passed"))
    except DatabaseError as exc:
        print(json.dumps(str(exc), ensure_ascii=False))
    """
    try:
        result = run_child(code, folder, argv_prefix=prefix)
    finally:
        folder.chmod(0o755)
    assert result.startswith("无法在文件夹中创建数据库（没有写入权限）")


def test_sqlite_reports_efbig_as_a_write_error_the_engine_translates(tmp_path):
    """Pins down what SQLite reports for a file size limit, which the engine's translation relies on."""
    code = (
        "import resource, signal, sqlite3, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('CREATE TABLE t (x)')\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
        "try:\n"
        "    c.execute('INSERT INTO t VALUES (zeroblob(100000))')\n"
        "except sqlite3.OperationalError as e:\n"
        "    print(e.sqlite_errorcode, e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.sqlite3")], capture_output=True, text=True)
    assert proc.stdout.strip() == "778 disk I/O error", proc.stderr
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
