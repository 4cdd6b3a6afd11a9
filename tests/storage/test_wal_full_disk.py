"""Finding 5: a disk that fills up while an import's data sits committed in the WAL.

The data is committed (in the -wal file) but merging it into the database file (the checkpoint) needs
the file to grow, which a full disk refuses. The database is healthy: every later open must see the WAL
(never read the file alone, which is a half-merged mix), say clearly in Chinese when the disk is still
full, and carry on normally, with every row there, once space is free. Made real with a small tmpfs in a
private mount namespace (root or user namespaces), as in test_disk_full.py.
"""

from __future__ import annotations

import sys

import pytest

from tests.storage.safety_helpers import dump, run_child
from tests.storage.test_disk_full import can_mount, in_private_mount

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="the small disk is a Linux tmpfs"),
    pytest.mark.sqlite_only("SQLite's WAL file on a full disk"),
]

FILL_DURING_IMPORT = """
import json, os, shutil, sqlite3, sys, pathlib
from sqlalchemy import text
from jzair_desktop.errors import JzairError
from jzair_desktop.services.database import open_database
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import sqlite_url
from tests.storage.safety_helpers import add_heating

small, source = (pathlib.Path(a) for a in sys.argv[1:3])
db_file = small / "台账.sqlite3"
wal = small / "台账.sqlite3-wal"
shutil.copyfile(source, db_file)
out = {}
db, _ = open_database(sqlite_url(db_file))
with db.engine.connect() as conn:  # the import's data stays in the WAL until the connection closes
    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    conn.exec_driver_sql("PRAGMA journal_mode").fetchall()
add_heating(db.engine, 400, tag="导入", remarks="备注" * 100)
out["wal_after_import"] = wal.stat().st_size
filler = small / "填充"
with open(filler, "wb", buffering=0) as fh:  # something else fills the disk
    try:
        while True:
            fh.write(bytes(4096))
    except OSError:
        pass
db.dispose()  # closing tries to merge the WAL into the file: no room to grow it
out["wal_left"] = wal.exists() and wal.stat().st_size > 0

def open_now(label):
    try:
        db2, _ = open_database(sqlite_url(db_file))
        with db2.engine.connect() as conn:
            out[label + "_rows"] = conn.execute(text("SELECT count(*) FROM heating WHERE village = '导入村'")).scalar()
        db2.dispose()
        out[label] = "ok"
    except JzairError as exc:
        out[label] = str(exc)

open_now("open_while_full")
filler.unlink()
open_now("open_after_freeing")
out["wal_after_freeing"] = wal.stat().st_size if wal.exists() else 0
con = sqlite3.connect(db_file)
out["integrity"] = con.execute("PRAGMA integrity_check").fetchone()[0]
con.close()
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.slow
def test_a_disk_filled_during_an_import_leaves_a_database_that_opens_once_space_is_free(db, tmp_path):
    if not can_mount(tmp_path):
        pytest.skip("cannot mount a small tmpfs here (needs root or user namespaces)")
    db.dispose()
    before = len(dump(db.path)["heating"])
    small = tmp_path / "小盘"
    small.mkdir()
    result = run_child(FILL_DURING_IMPORT, small, db.path,
                       argv_prefix=in_private_mount(f"mount -t tmpfs -o size=2m tmpfs '{small}'"))
    assert result["wal_left"], "the scenario needs the import's data left in the WAL"
    # Still full: a clear message (the data is safe in the WAL), not "database disk image is malformed".
    assert result["open_while_full"].startswith("磁盘空间已满：数据库最近保存的数据还在“台账.sqlite3-wal”文件中（没有丢失）")
    assert "malformed" not in result["open_while_full"]
    # Space freed: the next start merges the WAL and carries on with every row.
    assert result["open_after_freeing"] == "ok", result
    assert result["open_after_freeing_rows"] == 400 + before
    assert result["integrity"] == "ok" and result["wal_after_freeing"] == 0
