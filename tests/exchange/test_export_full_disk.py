"""An export to a full disk (or past a file size limit) ends with its clean message only: no
"Exception ignored … OSError" tracebacks afterwards, no raw OSError, no file left (issue 16, finding 11)."""

from __future__ import annotations

import sys

import pytest

from tests.storage.safety_helpers import run_child
from tests.storage.test_disk_full import can_mount, in_private_mount

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="size limits and mounts are set up the Linux way")

EXPORT = """
import contextlib, io, json, os, pathlib, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing us
from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import JzairError
from jzair_desktop.services import excel as excel_service, ledgers
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.storage.engine import sqlite_url
from tests.gui import ledger_samples as samples

work, dest, limit = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
db, _ = open_database(sqlite_url(work / "台账.sqlite3"), create=True)
load_reference_data(db)
rows = [check_record("heating", samples.heating(n, householder=f"户主{n}", remarks="备注" * 20),
                     today=samples.TODAY).values for n in range(3000)]
with ledgers.write_records(db) as s:
    ledgers.insert_many(s, "heating", rows, actor=BUILTIN_ADMIN)
if limit:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
err = io.StringIO()
message = None
with contextlib.redirect_stderr(err):
    try:
        excel_service.export_ledger(db, "heating", dest, actor=BUILTIN_ADMIN)
    except JzairError as exc:
        message = str(exc)
    import gc
    gc.collect()  # what used to print "Exception ignored …" did so when the leftovers were collected
db.dispose()
print(json.dumps({"message": message, "stderr": err.getvalue(), "left": sorted(os.listdir(dest.parent))}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("limit", [60_000, 400_000])
def test_export_past_a_file_size_limit_gives_only_its_clean_message(tmp_path, limit):
    out = tmp_path / "导出"
    out.mkdir()
    result = run_child(EXPORT, tmp_path, out / "台账.xlsx", limit)
    assert result["message"] and "无法写入文件" in result["message"] and "没有生成文件" in result["message"]
    assert "Exception ignored" not in result["stderr"] and "Traceback" not in result["stderr"], result["stderr"]
    assert result["left"] == []


@pytest.mark.slow
def test_export_to_a_full_disk_gives_only_its_clean_message(tmp_path):
    if not can_mount(tmp_path):
        pytest.skip("cannot mount a small tmpfs here")
    full = tmp_path / "U盘"
    full.mkdir()
    prefix = in_private_mount(f"mount -t tmpfs -o size=96k tmpfs '{full}'")
    result = run_child(EXPORT, tmp_path, full / "台账.xlsx", 0, argv_prefix=prefix)
    assert result["message"] and "磁盘空间不足" in result["message"]
    assert "Exception ignored" not in result["stderr"] and "Traceback" not in result["stderr"], result["stderr"]
    assert result["left"] == []
