"""Backups and restore: consistent copies of a live database, refusal of damaged or newer backups, the
pre-restore copy, rotation, settings and the command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jzair_desktop import paths
from jzair_desktop.cli import main as cli_main
from jzair_desktop.errors import DatabaseBusyError
from jzair_desktop.services import audit
from jzair_desktop.services import backup as bk
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.database import open_database
from jzair_desktop.services.info import info
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import make_engine, sqlite_url
from tests.services.admin_helpers import PASSWORDS, fast_hasher, make_users  # noqa: F401 - fast_hasher: a fixture
from tests.storage.safety_helpers import (
    add_heating,
    add_sample_data,
    add_truck,
    child_argv,
    child_env,
    count_rows,
    dump,
    integrity,
    sha256,
)

NOW = dt.datetime(2020, 11, 30, 23, 59, 59)


def info_without_path(url: str) -> dict:
    db, _ = open_database(url)
    try:
        data = info(db)
    finally:
        db.dispose()
    data.pop("database")
    return data


def leftovers(folder: Path) -> list[str]:
    """Temporary or pre-restore files a failed restore must not leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".restore", ".part")) or "恢复前" in p.name)


def build_jzbak(out: Path, db_file: Path, **manifest_changes) -> Path:
    """A backup file made by hand (independently of the service), with a consistent manifest."""
    data = db_file.read_bytes()
    import hashlib

    manifest = {
        "format": "jzair-backup",
        "format_version": 1,
        "app_version": "9.9.9",
        "schema_revision": migrate.head_revision(),
        "created_at": "2020-11-30T23:59:59+08:00",
        "source": str(db_file),
        "sha256": hashlib.sha256(data).hexdigest(),
        "db_size": len(data),
        "records": {},
    }
    manifest.update(manifest_changes)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        zf.writestr("jzair.sqlite3", data)
    return out


@pytest.fixture
def filled(db):
    add_sample_data(db.engine)
    return db


# ---------------------------------------------------------------------------------------------- backup


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_backup_is_a_checked_zip_with_manifest_in_the_default_folder(filled):
    info_ = bk.make_backup(filled, now=NOW)
    assert info_.path.parent == paths.data_dir() / "backups"
    assert info_.path.name == "jzair-20201130-235959.jzbak"
    assert info_.schema_revision == migrate.head_revision()
    assert info_.records == {"heating": 10, "trucks": 1, "boilers": 0, "kilns": 0, "vocs": 0, "sites": 0, "problems": 0}
    assert info_.source == str(filled.path.resolve())
    with zipfile.ZipFile(info_.path) as zf:
        assert sorted(zf.namelist()) == ["jzair.sqlite3", "manifest.json"]
        manifest = json.loads(zf.read("manifest.json"))
        raw = zf.read("jzair.sqlite3")
    assert manifest["sha256"] == info_.sha256 and manifest["db_size"] == len(raw)
    assert manifest["created_at"].startswith("2020-11-30T23:59:59")
    # the copy stands alone (rollback-journal mode: header bytes 18/19 are 1, not WAL's 2)
    assert raw[:16] == b"SQLite format 3\x00" and raw[18:20] == b"\x01\x01"
    assert bk.verify_backup(info_.path).sha256 == info_.sha256
    # a second backup within the same second gets its own name
    assert bk.make_backup(filled, now=NOW).path.name == "jzair-20201130-235959-2.jzbak"
    assert not [p for p in info_.path.parent.iterdir() if p.suffix == ".part"]


def test_backup_into_a_folder_or_a_named_file(filled, tmp_path):
    folder = tmp_path / "U盘" / "备份"
    folder.mkdir(parents=True)
    assert bk.make_backup(filled, folder, now=NOW).path == folder / "jzair-20201130-235959.jzbak"
    named = tmp_path / "台账备份.jzbak"
    first = bk.make_backup(filled, named)
    add_heating(filled.engine, 2, tag="丙")
    second = bk.make_backup(filled, named)  # an older backup may be replaced
    assert first.path == second.path == named
    assert bk.read_manifest(named).records["heating"] == 12


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_backup_refuses_to_overwrite_other_files_or_the_database(filled, tmp_path):
    other = tmp_path / "汇总表.xlsx"
    other.write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(bk.BackupError, match="不是本程序的备份文件"):
        bk.make_backup(filled, other)
    assert other.read_bytes() == b"PK\x03\x04 not ours"
    before = sha256(filled.path)
    with pytest.raises(bk.BackupError, match="不能写到数据库文件本身"):
        bk.make_backup(filled, filled.path)
    assert sha256(filled.path) == before


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_backup_is_consistent_while_a_reader_holds_an_old_snapshot(filled):
    reader = sqlite3.connect(filled.path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        old = reader.execute("SELECT count(*) FROM heating").fetchone()[0]
        add_heating(filled.engine, 25, tag="读时写入")  # commits while the reader's snapshot stays open
        info_ = bk.make_backup(filled, now=NOW)
        assert reader.execute("SELECT count(*) FROM heating").fetchone()[0] == old  # still in its snapshot
    finally:
        reader.close()
    with zipfile.ZipFile(info_.path) as zf, (filled.path.parent / "copy.sqlite3").open("wb") as fh:
        fh.write(zf.read("jzair.sqlite3"))
    copy = filled.path.parent / "copy.sqlite3"
    assert integrity(copy) == "ok"
    assert count_rows(copy) == old + 25  # the backup holds every committed transaction


WRITER = """
import sys, pathlib
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import make_engine, sqlite_url
from tests.services.admin_helpers import PASSWORDS, fast_hasher, make_users  # noqa: F401 - fast_hasher: a fixture
from tests.storage.safety_helpers import add_heating
db, _ = open_database(sqlite_url(pathlib.Path(sys.argv[1])))
stop = pathlib.Path(sys.argv[2])
started = pathlib.Path(sys.argv[3])
batch = 0
while not stop.exists() and batch < 5000:
    add_heating(db.engine, 20, tag=f"批{batch}")
    batch += 1
    if batch == 3:
        started.write_text("go")
db.dispose()
print(batch)
"""


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.slow
def test_backups_taken_while_another_process_writes_hold_whole_transactions(filled, tmp_path):
    stop, started = tmp_path / "stop", tmp_path / "started"
    base = count_rows(filled.path)
    proc = subprocess.Popen(
        [*child_argv(WRITER), str(filled.path), str(stop), str(started)],
        env=child_env(), cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True,
    )
    try:
        while not started.exists():
            assert proc.poll() is None, "writer died"
            time.sleep(0.02)
        infos = [bk.make_backup(filled, now=NOW + dt.timedelta(seconds=i)) for i in range(3)]
    finally:
        stop.write_text("stop")
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    batches = int(out.strip())
    counts = []
    for n, info_ in enumerate(infos):
        copy = tmp_path / f"copy{n}.sqlite3"
        with zipfile.ZipFile(info_.path) as zf:
            copy.write_bytes(zf.read("jzair.sqlite3"))
        assert integrity(copy) == "ok"
        conn = sqlite3.connect(copy)
        per_batch = conn.execute(
            "SELECT village, count(*) FROM heating WHERE village LIKE '批%' GROUP BY village"
        ).fetchall()
        conn.close()
        assert all(c == 20 for _, c in per_batch), "a backup holds part of a transaction"
        counts.append(count_rows(copy))
        assert (counts[-1] - base) % 20 == 0
    assert counts == sorted(counts)
    assert counts[0] >= base + 3 * 20  # the writer had committed three batches before the first backup
    assert count_rows(filled.path) == base + batches * 20 and integrity(filled.path) == "ok"


# --------------------------------------------------------------------------------------------- restore


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_restore_gives_identical_info_and_tables_and_keeps_the_previous_database(filled):
    url, path = filled.url, filled.path
    expected_info = info_without_path(url)
    info_ = bk.make_backup(filled, now=NOW)
    filled.dispose()
    expected = dump(path)
    # work continues after the backup: more rows, a deleted unit's rows
    add_heating(filled.engine, 4, tag="备份后")
    filled.dispose()
    changed = dump(path)
    assert changed != expected

    result = bk.restore_backup(url, info_.path, now=dt.datetime(2026, 11, 28, 12, 0, 0))

    assert result.database == path and not result.migrated
    assert result.previous_copy == path.with_name("台账.恢复前-20261128-120000.sqlite3")
    assert dump(path) == expected
    assert integrity(path) == "ok"
    assert info_without_path(url) == expected_info
    assert dump(result.previous_copy) == changed  # nothing of the later work is lost
    assert integrity(result.previous_copy) == "ok"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".restore")]


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.slow
def test_restore_keeps_rows_that_were_only_in_the_write_ahead_log(filled, tmp_path):
    """A program killed after committing leaves its rows in the -wal file: the pre-restore copy must hold
    them, and that -wal must never be applied to the restored file."""
    info_ = bk.make_backup(filled, now=NOW)
    filled.dispose()
    expected = dump(filled.path)
    code = """
    import os, sys, pathlib
    from jzair_desktop.services.database import open_database
    from jzair_desktop.storage.engine import sqlite_url
    from tests.storage.safety_helpers import add_heating
    db, _ = open_database(sqlite_url(pathlib.Path(sys.argv[1])))
    add_heating(db.engine, 9, tag="仅在日志中")
    os._exit(0)  # no checkpoint, no close: the rows live only in the -wal file
    """
    proc = subprocess.run([*child_argv(code), str(filled.path)], env=child_env(),
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    wal = filled.path.with_name(filled.path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0

    result = bk.restore_backup(filled.path, info_.path)

    assert not wal.exists() and not filled.path.with_name(filled.path.name + "-shm").exists()
    assert dump(filled.path) == expected and integrity(filled.path) == "ok"
    assert count_rows(result.previous_copy, where="village = '仅在日志中村'") == 9


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_restore_to_a_new_place_and_over_an_unusable_file(filled, tmp_path):
    info_ = bk.make_backup(filled, now=NOW)
    filled.dispose()
    expected = dump(filled.path)

    fresh = tmp_path / "新电脑" / "台账.sqlite3"
    result = bk.restore_backup(sqlite_url(fresh), info_.path)
    assert result.previous_copy is None and dump(fresh) == expected

    broken = tmp_path / "坏了.sqlite3"
    garbage = b"this is no database" * 100
    broken.write_bytes(garbage)
    result = bk.restore_backup(broken, info_.path)
    assert dump(broken) == expected
    assert result.previous_copy.read_bytes() == garbage


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_restore_is_refused_while_the_database_is_open_elsewhere(filled, monkeypatch):
    monkeypatch.setenv("JZAIR_BUSY_TIMEOUT_MS", "100")
    info_ = bk.make_backup(filled, now=NOW)
    add_heating(filled.engine, 1, tag="打开着")  # the fixture's engine keeps a connection in its pool
    before = dump(filled.path)
    with pytest.raises(DatabaseBusyError, match="正被另一个程序（或另一个窗口）使用，无法恢复"):
        bk.restore_backup(filled.url, info_.path)
    assert dump(filled.path) == before
    assert leftovers(filled.path.parent) == []


def _fresh_target(template: Path, folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    target = folder / "台账.sqlite3"
    shutil.copyfile(template, target)
    return target


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.parametrize(
    "damage",
    ["flip-db-data", "flip-manifest", "truncate-0", "truncate-22", "truncate-half", "truncate-1", "garbage",
     "missing"],
)
def test_damaged_backup_is_refused_and_the_database_is_unchanged(filled, tmp_path, damage):
    good = bk.make_backup(filled, now=NOW).path
    add_heating(filled.engine, 2, tag="当前")
    filled.dispose()
    before = sha256(filled.path)
    blob = bytearray(good.read_bytes())
    bad = tmp_path / "坏备份.jzbak"
    with zipfile.ZipFile(good) as zf:
        db_at = zf.getinfo("jzair.sqlite3").header_offset + 30 + len("jzair.sqlite3")
        man_at = zf.getinfo("manifest.json").header_offset + 30 + len("manifest.json")
    if damage == "flip-db-data":
        blob[db_at + 100] ^= 0x01
    elif damage == "flip-manifest":
        blob[man_at + 5] ^= 0x20
    elif damage.startswith("truncate"):
        keep = {"truncate-0": 0, "truncate-22": 22, "truncate-half": len(blob) // 2, "truncate-1": len(blob) - 1}
        blob = blob[: keep[damage]]
    elif damage == "garbage":
        blob = bytearray(b"SQLite format 3\x00" + bytes(4000))
    if damage != "missing":
        bad.write_bytes(bytes(blob))
    with pytest.raises(bk.BackupError) as err:
        bk.restore_backup(filled.url, bad)
    assert str(bad) in str(err.value)
    assert sha256(filled.path) == before
    assert leftovers(filled.path.parent) == []


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_backup_whose_database_differs_from_its_manifest_is_refused(filled, tmp_path):
    filled.dispose()
    other = tmp_path / "其他.sqlite3"
    shutil.copyfile(filled.path, other)
    bad = build_jzbak(tmp_path / "b.jzbak", other)
    conn = sqlite3.connect(other)
    conn.execute("UPDATE units SET name = '改过' WHERE code = '140702'")
    conn.commit()
    conn.close()
    with zipfile.ZipFile(bad) as zf:  # keep the old manifest, put the changed database in
        manifest = zf.read("manifest.json")
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", manifest)
        zf.writestr("jzair.sqlite3", other.read_bytes())
    before = sha256(filled.path)
    with pytest.raises(bk.BackupError, match="校验值不符"):
        bk.restore_backup(filled.path, bad)
    assert sha256(filled.path) == before


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_flipped_byte_is_refused_or_harmless(filled, tmp_path, data):
    """Whatever single byte is damaged, a restore either refuses (database untouched) or restores exactly
    the backed-up contents (the byte was in a part nothing depends on, e.g. a file time)."""
    good = tmp_path / "good.jzbak"
    if not good.exists():
        bk.make_backup(filled, good)
        filled.dispose()
        shutil.copyfile(filled.path, tmp_path / "template.sqlite3")
    expected = dump(tmp_path / "template.sqlite3")
    blob = bytearray(good.read_bytes())
    at = data.draw(st.integers(0, len(blob) - 1), label="offset")
    blob[at] ^= data.draw(st.integers(1, 255), label="xor")
    bad = tmp_path / "flipped.jzbak"
    bad.write_bytes(bytes(blob))
    target = _fresh_target(tmp_path / "template.sqlite3", tmp_path / "work")
    add_heating_raw(target)
    before_sha, before = sha256(target), dump(target)
    try:
        bk.restore_backup(target, bad)
    except bk.BackupError:
        assert sha256(target) == before_sha and dump(target) == before
    else:
        assert dump(target) == expected and integrity(target) == "ok"


def add_heating_raw(target: Path) -> None:
    """Make the current database differ from the backup (plain sqlite3: no pooled connection left open)."""
    conn = sqlite3.connect(target)
    conn.execute("UPDATE units SET name = name || '（当前）' WHERE code = '140702'")
    conn.commit()
    conn.close()


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_backup_from_a_newer_schema_is_refused(filled, tmp_path):
    filled.dispose()
    newer = tmp_path / "newer.sqlite3"
    shutil.copyfile(filled.path, newer)
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff_future'")
    conn.commit()
    conn.close()
    file = build_jzbak(tmp_path / "newer.jzbak", newer, schema_revision="ffff_future")
    before = sha256(filled.path)
    with pytest.raises(bk.BackupError, match="更新版本的程序（架构版本 ffff_future）"):
        bk.restore_backup(filled.url, file)
    assert sha256(filled.path) == before
    later_format = build_jzbak(tmp_path / "format2.jzbak", filled.path, format_version=2)
    with pytest.raises(bk.BackupError, match="更新版本的程序制作"):
        bk.restore_backup(filled.url, later_format)
    assert sha256(filled.path) == before
    # a hand-made backup in the same format and the current schema is accepted
    ok = build_jzbak(tmp_path / "ok.jzbak", filled.path)
    assert bk.verify_backup(ok).app_version == "9.9.9"


EXTRA_REVISION = '''
"""test-only revision: one more table"""
import sqlalchemy as sa
from alembic import op

revision = "9999_test_extra"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("test_extra", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("test_extra")
'''


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_backup_from_an_older_schema_is_migrated_after_restore(filled, tmp_path, monkeypatch):
    info_ = bk.make_backup(filled, now=NOW)  # made at today's head
    filled.dispose()
    expected_ledgers = {t: rows for t, rows in dump(filled.path).items() if t != "alembic_version"}
    newer_program = tmp_path / "db"
    shutil.copytree(paths.migrations_dir(), newer_program, ignore=shutil.ignore_patterns("__pycache__"))
    (newer_program / "versions" / "9999_test_extra.py").write_text(
        EXTRA_REVISION.format(down=migrate.head_revision()), encoding="utf-8"
    )
    monkeypatch.setattr(paths, "migrations_dir", lambda: newer_program)
    assert migrate.head_revision() == "9999_test_extra"

    result = bk.restore_backup(filled.url, info_.path)

    assert result.migrated
    assert (result.revision_restored, result.revision) == (info_.schema_revision, "9999_test_extra")
    restored = dump(filled.path)
    assert restored.pop("test_extra") == []
    assert restored.pop("alembic_version") == [("9999_test_extra",)]
    assert restored == expected_ledgers
    assert integrity(filled.path) == "ok"


def test_backup_made_at_the_first_schema_revision_is_migrated_by_the_real_migrations(tmp_path):
    from alembic import command

    first = "0001"
    old = tmp_path / "旧版本.sqlite3"
    engine = make_engine(sqlite_url(old))
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, first)
    engine.dispose()
    conn = sqlite3.connect(old)
    conn.execute("INSERT INTO units (code, name, aliases, sort_order) VALUES ('140702', '榆次区', '', 1)")
    conn.commit()
    conn.close()
    info_ = bk.backup_database_file(old, tmp_path / "旧.jzbak")
    assert info_.schema_revision == first

    target = tmp_path / "台账.sqlite3"
    result = bk.restore_backup(target, info_.path)

    assert result.migrated and result.revision == migrate.head_revision()
    assert integrity(target) == "ok"
    assert dump(target)["units"] == [("140702", "榆次区", "", 1)]


# --------------------------------------------------------------------------------------------- rotation


def d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("stamps", "daily", "monthly", "kept"),
    [
        ([], 14, 12, set()),
        (["2020-11-30 10:00"], 0, 0, {0}),  # the newest is always kept
        (["2020-11-30 08:00", "2020-11-30 18:00", "2020-11-29 18:00"], 14, 12, {1, 2}),
        (["2020-11-30 08:00", "2020-11-30 18:00", "2020-11-29 18:00"], 1, 0, {1}),
        # a long pause: only the days that have backups count, so nothing recent is lost
        (["2019-01-05 09:00", "2019-01-06 09:00", "2020-11-30 09:00"], 2, 0, {1, 2}),
        # monthly keeps the newest of each month beyond the daily ones
        (["2020-09-01 09:00", "2020-09-20 09:00", "2020-10-03 09:00", "2020-10-04 09:00", "2020-11-30 09:00"],
         1, 12, {1, 3, 4}),
        (["2020-09-01 09:00", "2020-09-20 09:00", "2020-10-03 09:00", "2020-10-04 09:00", "2020-11-30 09:00"],
         1, 2, {3, 4}),
        (["2020-11-30 09:00", "2020-11-30 09:00"], 14, 12, {1}),  # equal times: the later one
    ],
)
def test_backups_to_keep_table(stamps, daily, monthly, kept):
    assert bk.backups_to_keep([d(s) for s in stamps], daily=daily, monthly=monthly) == kept


stamp_lists = st.lists(st.datetimes(min_value=dt.datetime(2019, 1, 1), max_value=dt.datetime(2022, 12, 31)),
                       max_size=60)


@given(stamps=stamp_lists, daily=st.integers(0, 20), monthly=st.integers(0, 15))
def test_backups_to_keep_properties(stamps, daily, monthly):
    kept = bk.backups_to_keep(stamps, daily=daily, monthly=monthly)
    if not stamps:
        assert kept == set()
        return
    newest = max(range(len(stamps)), key=lambda i: (stamps[i], i))
    assert newest in kept
    assert len(kept) <= max(1, daily + monthly)

    def newest_per(key):
        best = {}
        for i, s in enumerate(stamps):
            k = key(s)
            if k not in best or (s, i) > (stamps[best[k]], best[k]):
                best[k] = i
        return best

    per_day = newest_per(lambda s: s.date())
    per_month = newest_per(lambda s: (s.year, s.month))
    assert kept <= set(per_day.values())  # never two of one day
    for day in sorted(per_day, reverse=True)[:daily]:
        assert per_day[day] in kept
    for month in sorted(per_month, reverse=True)[:monthly]:
        assert per_month[month] in kept
    # pruning again changes nothing
    kept_list = sorted(kept)
    again = bk.backups_to_keep([stamps[i] for i in kept_list], daily=daily, monthly=monthly)
    assert again == set(range(len(kept_list)))


def test_prune_backups_deletes_only_old_backups_of_ours(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    start = dt.datetime(2020, 1, 1, 12, 0, 0)
    for n in range(400):  # one a day for 400 days, two on the last day
        (folder / bk.backup_file_name(start + dt.timedelta(days=n))).write_bytes(b"x")
    (folder / bk.backup_file_name(start + dt.timedelta(days=399), 2)).write_bytes(b"x")
    others = ["说明.txt", "jzair-2020.jzbak", "jzair-20200101-120000.zip", "jzair-20201301-120000.jzbak"]
    for name in others:
        (folder / name).write_bytes(b"keep me")

    result = bk.prune_backups(folder, daily=14, monthly=12)

    left = {e.taken_at for e in bk.list_backups(folder)}
    last_day = start + dt.timedelta(days=399)
    assert result.failed == []
    assert len(result.kept) == len(list(bk.list_backups(folder)))
    assert sorted(p.name for p in folder.iterdir() if p.name in others) == sorted(others)
    assert (folder / bk.backup_file_name(last_day, 2)).exists()
    assert not (folder / bk.backup_file_name(last_day)).exists()  # the earlier one of the same day goes
    for n in range(14):
        assert last_day - dt.timedelta(days=n) in left
    months = {(t.year, t.month) for t in left}
    assert len(months) == 12
    # the last day is 2021-02-03: the newest of February and of January 2021 are among the 14 days
    assert len(left) == 14 + 12 - 2


def test_last_backup_time_and_daily_schedule(tmp_path):
    folder = tmp_path / "backups"
    assert bk.last_backup_time(folder) is None
    assert bk.auto_backup_due(folder, NOW)
    folder.mkdir()
    (folder / bk.backup_file_name(dt.datetime(2020, 11, 29, 22, 0, 0))).write_bytes(b"x")
    assert bk.last_backup_time(folder) == dt.datetime(2020, 11, 29, 22, 0, 0)
    assert bk.auto_backup_due(folder, NOW)
    (folder / bk.backup_file_name(dt.datetime(2020, 11, 30, 0, 5, 0))).write_bytes(b"x")
    assert not bk.auto_backup_due(folder, NOW)
    assert bk.last_backup_time(folder) == dt.datetime(2020, 11, 30, 0, 5, 0)
    assert bk.auto_backup_due(folder, NOW + dt.timedelta(minutes=1))  # next day
    # a backup stamped in the future (wrong clock) does not stop today's
    (folder / bk.backup_file_name(dt.datetime(2020, 12, 1, 23, 0, 0))).write_bytes(b"x")
    assert bk.auto_backup_due(folder, dt.datetime(2020, 12, 1, 9, 0, 0))
    assert bk.last_backup_time() is None  # default folder, still empty


# ---------------------------------------------------------------------------------------------- settings


def test_backup_settings_defaults_round_trip_and_errors(tmp_path):
    assert bk.backup_settings() == bk.BackupSettings(14, 12, None, None)
    assert bk.BackupSettings().backup_folder() == paths.data_dir() / "backups"
    wanted = bk.BackupSettings(keep_daily=7, keep_monthly=24, extra_folder=tmp_path / "U盘", folder=None)
    file = bk.save_backup_settings(wanted, actor=BUILTIN_ADMIN)
    assert file == paths.data_dir() / "backup-settings.json"
    assert bk.backup_settings() == wanted
    file.write_text("{not json", encoding="utf-8")
    with pytest.raises(bk.BackupError, match="备份设置文件有误") as err:
        bk.backup_settings()
    assert str(file) in str(err.value)
    for bad in ({"keep_daily": -1}, {"keep_monthly": "十二"}, {"keep_daily": True}, {"extra_folder": 3}, []):
        file.write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(bk.BackupError, match="备份设置文件有误"):
            bk.backup_settings()
    file.write_text(json.dumps({"keep_daily": 3, "unknown": 1}), encoding="utf-8")
    assert bk.backup_settings().keep_daily == 3


def test_auto_backup_copies_to_the_extra_folder_and_rotates(filled, tmp_path):
    usb = tmp_path / "U盘"
    usb.mkdir()
    main_folder = paths.data_dir() / "backups"
    main_folder.mkdir()
    for n in range(20):
        (main_folder / bk.backup_file_name(NOW - dt.timedelta(days=20 - n))).write_bytes(b"old")
    settings_ = bk.BackupSettings(keep_daily=5, keep_monthly=0, extra_folder=usb)

    result = bk.auto_backup(filled, settings=settings_, now=NOW)

    assert result.extra_error is None
    assert result.extra_copy == usb / result.backup.path.name
    assert result.extra_copy.read_bytes() == result.backup.path.read_bytes()
    assert len(bk.list_backups(main_folder)) == 5 and len(result.pruned) == 16
    assert bk.list_backups(main_folder)[0].path == result.backup.path

    missing = bk.BackupSettings(extra_folder=tmp_path / "没插的U盘")
    result = bk.auto_backup(filled, settings=missing, now=NOW + dt.timedelta(hours=1))
    assert result.backup.path.exists()
    assert "附加备份文件夹不存在" in result.extra_error


# ------------------------------------------------------------------------------------------ command line


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.slow
def test_cli_backup_and_restore_round_trip(filled, capsys, monkeypatch, tmp_path):
    filled.dispose()
    base = ["--db", str(filled.path)]
    assert cli_main([*base, "info", "--json"]) == 0
    info_json = json.loads(capsys.readouterr().out)
    assert cli_main([*base, "progress", "--as-of", "2020-12-31", "--json"]) == 0
    progress_json = json.loads(capsys.readouterr().out)

    assert cli_main([*base, "backup"]) == 0
    out = capsys.readouterr().out
    assert "已备份到：" in out and "备份已通过完整性检查" in out and "清洁取暖 10" in out
    file = bk.list_backups(paths.data_dir() / "backups")[0].path
    assert cli_main([*base, "backup", "--out", str(tmp_path / "手动.jzbak")]) == 0
    capsys.readouterr()

    add_heating(filled.engine, 3, tag="备份后")
    add_truck(filled.engine, "晋K54321")
    filled.dispose()
    assert cli_main([*base, "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) != info_json
    assert cli_main([*base, "progress", "--as-of", "2020-12-31", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) != progress_json
    before = sha256(filled.path)

    # not a terminal and no --yes: refused, nothing changed
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli_main([*base, "restore", str(file)]) == 2
    assert "请加上 --yes" in capsys.readouterr().err
    assert sha256(filled.path) == before

    # a terminal: the answer decides
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert cli_main([*base, "restore", str(file)]) == 1
    assert "已取消" in capsys.readouterr().out and sha256(filled.path) == before
    monkeypatch.setattr("builtins.input", lambda prompt: "是")
    assert cli_main([*base, "restore", str(file)]) == 0
    out = capsys.readouterr().out
    assert "检查通过" in out and "恢复前的数据库已另存为" in out
    assert cli_main([*base, "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == info_json
    assert cli_main([*base, "progress", "--as-of", "2020-12-31", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == progress_json

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli_main([*base, "restore", str(tmp_path / "手动.jzbak"), "--yes"]) == 0
    capsys.readouterr()
    damaged = tmp_path / "坏.jzbak"
    damaged.write_bytes(file.read_bytes()[:-10])
    assert cli_main([*base, "restore", str(damaged), "--yes"]) == 2
    assert "备份文件已损坏" in capsys.readouterr().err
    assert len([p for p in filled.path.parent.iterdir() if "恢复前" in p.name]) == 2
    assert os.path.exists(filled.path)


def ledgers_and_settings(path: Path) -> dict:
    """The database's tables but the audit log (which records logins, refused ones too)."""
    return {k: v for k, v in dump(path).items() if k != "audit_log"}


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.slow
@pytest.mark.usefixtures("fast_hasher")
def test_cli_restore_asks_for_a_login_once_accounts_exist_and_is_audited(filled, capsys, monkeypatch, tmp_path):
    make_users(filled)
    filled.dispose()
    base = ["--db", str(filled.path)]
    # The sample rows were written outside the audited services: since opening no longer re-baselines
    # silently, an administrator registers them (audited) before the backup is taken.
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["王主任"])
    assert cli_main([*base, "--user", "王主任", "audit", "baseline", "--reason", "样例数据写在审计之外"]) == 0
    assert "已重新登记审计起点" in capsys.readouterr().out
    file = bk.make_backup(filled, tmp_path, now=NOW).path
    filled.dispose()
    before = ledgers_and_settings(filled.path)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.delenv("JZAIR_PASSWORD", raising=False)
    # No login: refused before anything is touched.
    assert cli_main([*base, "restore", str(file), "--yes"]) == 4
    assert "--user" in capsys.readouterr().err and ledgers_and_settings(filled.path) == before
    # Neither a read-only user nor a clerk may restore: an administrator's act (issue 16 finding 2).
    for name in ("钱七", "李四"):
        monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS[name])
        assert cli_main([*base, "--user", name, "restore", str(file), "--yes"]) == 2
        assert "只有管理员可以恢复数据库" in capsys.readouterr().err and ledgers_and_settings(filled.path) == before
    # The administrator restores; the restored trail ends with who restored what, and still verifies.
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["王主任"])
    assert cli_main([*base, "--user", "王主任", "restore", str(file), "--yes"]) == 0
    capsys.readouterr()
    restored, _ = open_database(sqlite_url(filled.path))
    try:
        last = audit.query_log(restored, limit=1)[0]
        assert (last.action, last.user_name) == ("db_restore", "王主任")
        assert file.name in last.detail and "恢复前的数据库另存为" in last.detail
        assert verify(restored).ok
    finally:
        restored.dispose()


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_a_database_that_cannot_be_opened_is_restored_without_a_login(filled, capsys, monkeypatch, tmp_path):
    file = bk.make_backup(filled, tmp_path, now=NOW).path
    filled.dispose()
    filled.path.write_bytes(b"not a database at all" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{filled.path}{suffix}").unlink(missing_ok=True)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli_main(["--db", str(filled.path), "restore", str(file), "--yes"]) == 0
    out = capsys.readouterr()
    assert "恢复不需要登录" in out.err and "已恢复数据库" in out.out
    assert integrity(filled.path) == "ok"


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
def test_a_restore_whose_audit_entry_cannot_be_written_puts_the_previous_database_back(filled, monkeypatch):
    from jzair_desktop.services.actor import BUILTIN_ADMIN

    info_ = bk.make_backup(filled, now=NOW)
    add_heating(filled.engine, 2, tag="恢复前的新数据")
    filled.dispose()
    before = dump(filled.path)

    def refuse(*_a, **_k):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(audit, "append", refuse)
    with pytest.raises(bk.BackupError, match="写入恢复的审计记录失败，已放回恢复前的数据库"):
        bk.restore_backup(filled.url, info_.path, actor=BUILTIN_ADMIN)
    assert dump(filled.path) == before and integrity(filled.path) == "ok"
    kept = [p for p in filled.path.parent.iterdir() if "恢复前" in p.name]  # the copy stays, as after any restore
    assert len(kept) == 1 and dump(kept[0]) == before
    assert not [p for p in filled.path.parent.iterdir() if p.name.endswith((".restore", ".part"))]


# ---------------------------------------------------------------------------------------------- cancel


@pytest.mark.sqlite_only("reads or replaces the SQLite file itself (its copy, swap, schema and locks); the server's backup and restore: test_backup_server.py")
@pytest.mark.parametrize("stage", ["正在复制数据库…", "正在检查数据库…", "正在压缩…", "正在校验备份文件…"])
def test_a_cancelled_backup_leaves_every_folder_as_it_was(filled, tmp_path, stage, monkeypatch):
    """Cancelled at any step before the new file is in place: no new backup, no temporary file, and the
    earlier backups untouched (the exit backup's 取消 relies on this)."""
    import tempfile

    from jzair_desktop.taskstate import Cancelled, TaskState

    scratch = tmp_path / "临时"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    folder = tmp_path / "备份"
    settings = bk.BackupSettings(folder=folder, keep_daily=1, keep_monthly=0)
    earlier = bk.auto_backup(filled, settings=settings, now=NOW - dt.timedelta(days=3)).backup.path
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    seen: list[str] = []

    def listener(done: int, total: int, text: str) -> None:
        seen.append(text)
        if text == stage:
            state.cancel()

    state = TaskState(listener)
    with pytest.raises(Cancelled):
        bk.auto_backup(filled, settings=settings, now=NOW, state=state)
    assert stage in seen
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing new, nothing pruned
    assert earlier.is_file() and bk.verify_backup(earlier).records["heating"] == 10
    assert list(scratch.iterdir()) == []


def test_a_backup_with_progress_matches_one_without(filled, tmp_path):
    from jzair_desktop.taskstate import TaskState

    steps: list[tuple[int, int, str]] = []
    with_state = bk.make_backup(filled, tmp_path / "a.jzbak", now=NOW, state=TaskState(lambda *a: steps.append(a)))
    plain = bk.make_backup(filled, tmp_path / "b.jzbak", now=NOW)
    assert with_state.sha256 == plain.sha256 and with_state.records == plain.records
    assert bk.verify_backup(with_state.path).records == plain.records
    done = [d for d, _t, _x in steps]
    assert done == sorted(done) and done[-1] == 1000


def test_cancelling_the_copy_to_the_extra_folder_keeps_the_main_backup(filled, tmp_path):
    from jzair_desktop.taskstate import TaskState

    usb = tmp_path / "U盘"
    usb.mkdir()
    settings = bk.BackupSettings(folder=tmp_path / "备份", extra_folder=usb)

    def listener(done: int, total: int, text: str) -> None:
        if "附加备份文件夹" in text:
            state.cancel()

    state = TaskState(listener)
    result = bk.auto_backup(filled, settings=settings, now=NOW, state=state)
    assert result.backup.path.is_file() and result.extra_copy is None
    assert "已取消复制到附加备份文件夹" in result.extra_error
    assert list(usb.iterdir()) == []
