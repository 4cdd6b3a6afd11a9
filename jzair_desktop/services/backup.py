"""Backups of the database file, their rotation, and restoring one.

A backup is a ``.jzbak`` file: a ZIP archive (readable by any unzip tool) holding two members,

- ``manifest.json``: format, program version, schema revision, creation time, source path, size and
  SHA-256 of the database, live records per ledger, the fingerprint of the installation's signing key;
- ``jzair.sqlite3``: a consistent copy of the database taken with SQLite's online backup API (so the
  application may keep running), checked with ``PRAGMA integrity_check`` and stored in rollback-journal
  mode, so it is one self-contained file. The installation's private signing key is taken out of the
  copy (overwritten with secure_delete): a backup on a USB stick cannot sign packages for the installation.

Backups made without an explicit target are named ``jzair-YYYYMMDD-HHMMSS.jzbak`` (local time) and kept
in ``<user data folder>/backups/``; only files named like that are ever pruned.

Restoring checks everything first (ZIP CRCs, manifest, SHA-256, integrity check, schema revision known to
this program), keeps the current database beside it as ``<name>.恢复前-YYYYMMDD-HHMMSS<suffix>``, then
swaps the file in with ``os.replace``; an older schema is migrated afterwards.

Times without a zone in this module (backup names, ``now`` arguments) are local wall-clock times.
Nothing here may run on the GUI thread for large databases: it reads and writes whole files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jzair_desktop import __version__, paths
from jzair_desktop.errors import DatabaseBusyError, DatabaseError, JzairError, PermissionDenied
from jzair_desktop.fsutil import replace_file
from jzair_desktop.services import audit, authority
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.audit_anchor import HEAD_KEY, Head, head_from_json
from jzair_desktop.services.database import Database, open_database
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import busy_timeout_ms, db_path_of, sqlite_url, url_display, write_session
from jzair_desktop.storage.models import LEDGER_MODELS
from jzair_desktop.taskstate import Cancelled, TaskState

log = logging.getLogger(__name__)

BACKUP_SUFFIX = ".jzbak"
BACKUP_PREFIX = "jzair-"
MANIFEST_NAME = "manifest.json"
DB_MEMBER = "jzair.sqlite3"
FORMAT = "jzair-backup"
FORMAT_VERSION = 1
SETTINGS_FILE_NAME = "backup-settings.json"
DEFAULT_KEEP_DAILY = 14
DEFAULT_KEEP_MONTHLY = 12

_NAME_RE = re.compile(r"^jzair-(\d{8})-(\d{6})(?:-(\d+))?\.jzbak$")
_MAX_MANIFEST_BYTES = 1 << 20
_CHUNK = 1 << 20


class BackupError(JzairError):
    """A backup could not be made, read or restored; the database was left as it was."""


# --------------------------------------------------------------------------------------------------
# Plain data


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, from its manifest (checked against the contents where verified)."""

    path: Path
    created_at: dt.datetime  # timezone-aware
    app_version: str
    schema_revision: str
    source: str
    sha256: str
    db_size: int
    size: int  # bytes of the .jzbak file
    records: dict[str, int] = field(default_factory=dict)  # live records per ledger key
    installation_key: str | None = None  # fingerprint of the signing key of the installation backed up
    audit_head: Head | None = None  # the audit chain's head in the copy (None: a backup of an older version)

    def as_json(self) -> dict:
        return {
            "path": str(self.path),
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "app_version": self.app_version,
            "schema_revision": self.schema_revision,
            "source": self.source,
            "sha256": self.sha256,
            "db_size": self.db_size,
            "size": self.size,
            "records": dict(self.records),
            "installation_key": self.installation_key,
            "audit_head": self.audit_head.as_json() if self.audit_head else None,
        }


@dataclass(frozen=True)
class RestoreResult:
    database: Path | str  # the file, or a server database's URL without its password
    backup: BackupInfo
    previous_copy: Path | None  # the database as it was before the restore (None: there was none)
    revision_restored: str  # schema revision inside the backup
    revision: str  # schema revision now (after migrating an older backup)

    @property
    def migrated(self) -> bool:
        return self.revision != self.revision_restored


@dataclass(frozen=True)
class BackupEntry:
    """A backup file in a backup folder, dated by its name (copying a file changes its mtime)."""

    path: Path
    taken_at: dt.datetime  # naive local time
    sequence: int = 1  # 2, 3, … for a second backup within the same second


@dataclass(frozen=True)
class PruneResult:
    kept: list[Path]
    removed: list[Path]
    failed: list[tuple[Path, str]]  # files that could not be deleted, with the reason (Chinese)


@dataclass(frozen=True)
class BackupSettings:
    """The user's backup preferences (``backup-settings.json`` in the user data folder)."""

    keep_daily: int = DEFAULT_KEEP_DAILY
    keep_monthly: int = DEFAULT_KEEP_MONTHLY
    extra_folder: Path | None = None  # a second place for every automatic backup, e.g. a USB drive
    folder: Path | None = None  # None: <user data folder>/backups

    def backup_folder(self) -> Path:
        return self.folder if self.folder is not None else default_backup_folder()

    def as_json(self) -> dict:
        return {
            "keep_daily": self.keep_daily,
            "keep_monthly": self.keep_monthly,
            "extra_folder": str(self.extra_folder) if self.extra_folder is not None else None,
            "folder": str(self.folder) if self.folder is not None else None,
        }


@dataclass(frozen=True)
class AutoBackupResult:
    backup: BackupInfo
    extra_copy: Path | None  # the copy in the extra folder, if one is configured and it worked
    extra_error: str | None  # why the extra copy failed (Chinese), if it did
    pruned: list[Path]
    prune_failed: list[tuple[Path, str]]


# --------------------------------------------------------------------------------------------------
# Small helpers


def default_backup_folder() -> Path:
    return paths.private_dir(paths.data_dir() / "backups")


def backup_file_name(when: dt.datetime, sequence: int = 1) -> str:
    """``jzair-20201130-235959.jzbak`` (``-2``, ``-3`` … for more backups within the same second)."""
    stamp = _local_naive(when).strftime("%Y%m%d-%H%M%S")
    tail = f"-{sequence}" if sequence > 1 else ""
    return f"{BACKUP_PREFIX}{stamp}{tail}{BACKUP_SUFFIX}"


def parse_backup_name(name: str) -> tuple[dt.datetime, int] | None:
    """The time and sequence number in a backup's file name, or None if it is not one of ours."""
    m = _NAME_RE.match(name)
    if not m:
        return None
    try:
        when = dt.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return when, int(m.group(3) or 1)


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.astimezone()


def _local_naive(when: dt.datetime) -> dt.datetime:
    return when.astimezone().replace(tzinfo=None) if when.tzinfo is not None else when


def _unique_path(folder: Path, make_name) -> Path:  # noqa: ANN001 - make_name(sequence) -> str
    for sequence in range(1, 10_000):
        candidate = folder / make_name(sequence)
        if not candidate.exists():
            return candidate
    raise BackupError(f"文件夹中同名文件过多，无法确定新文件名：{folder}")


def _sqlite_uri(path: Path, mode: str) -> str:
    return f"{Path(path).resolve().as_uri()}?mode={mode}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    # Makes a rename durable on POSIX; Windows has no directory handles to flush (NTFS journals renames).
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_quietly(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _os_error_message(exc: OSError, what: str, where: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", -1)):
        return f"磁盘空间不足（或文件超过了允许的大小），{what}没有完成：{where}"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"没有写入权限或存储介质是只读的，{what}没有完成：{where}"
    return f"{what}失败：{where}（{exc.strerror or exc}）"


def _sqlite_error_message(exc: sqlite3.Error, what: str, where: Path) -> JzairError:
    code = getattr(exc, "sqlite_errorcode", 0) or 0
    primary = code & 0xFF
    text = str(exc).lower()
    if primary in (5, 6) or "locked" in text:
        return DatabaseBusyError(f"数据库正被另一个程序（或另一个窗口）使用，{what}没有完成，请稍后再试：{where}")
    if primary == 13 or code == 778 or "disk is full" in text:
        return BackupError(f"磁盘空间不足（或文件超过了允许的大小），{what}没有完成：{where}")
    if primary in (11, 26) or "malformed" in text or "not a database" in text:
        return BackupError(f"数据库文件已损坏或不是本程序的数据库，{what}没有完成：{where}（{exc}）")
    if primary == 10 or "disk i/o" in text:
        return BackupError(f"读写文件时发生磁盘错误，{what}没有完成：{where}\n请检查磁盘空间和存储设备后重试。")
    return BackupError(f"{what}失败：{where}（{exc}）")


def _check(state: TaskState | None, done: int = -1, total: int = 1000, text: str = "", *, step: bool = False) -> None:
    """Raise Cancelled when the job was cancelled; report progress (in thousandths) when `done` >= 0
    (`step`: the start of a new step, always reported)."""
    if state is None:
        return
    if done >= 0:
        state.progress(done, total, text, force=step)
    state.check_cancelled()


def _integrity_problems(db_file: Path, state: TaskState | None = None) -> list[str]:
    """``PRAGMA integrity_check`` of a standalone SQLite file: [] when it is sound."""
    conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True)
    if state is not None:
        conn.set_progress_handler(lambda: 1 if state.cancelled else 0, 20_000)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.OperationalError:
        _check(state)  # interrupted by the progress handler: the job was cancelled
        raise
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def _revision_of(db_file: Path) -> str | None:
    conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True)
    try:
        has = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()[0]
        if not has:
            return None
        revs = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version").fetchall()]
    finally:
        conn.close()
    if len(revs) != 1:
        return None
    return str(revs[0])


def _audit_head(db_file: Path) -> Head | None:
    """(seq, hash) of the newest audit entry in a standalone copy; seq 0 for an empty trail."""
    conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True)
    try:
        has = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").fetchone()[0]
        if not has:
            return None
        row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return Head(int(row[0]), str(row[1])) if row else Head(0, "0" * 64)


def _live_records(db_file: Path) -> dict[str, int]:
    conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        out = {}
        for key, model in LEDGER_MODELS.items():
            table = model.__tablename__
            if table in tables:
                out[key] = int(conn.execute(f'SELECT count(*) FROM "{table}" WHERE deleted_at IS NULL').fetchone()[0])
    finally:
        conn.close()
    return out


# --------------------------------------------------------------------------------------------------
# Making a backup


def make_backup(
    db: Database, out: Path | None = None, *, now: dt.datetime | None = None, state: TaskState | None = None,
    actor: Actor | None = None,
) -> BackupInfo:
    """Back up the database of `db` (which may stay open and in use) to `out`.

    `out` None: a new ``jzair-YYYYMMDD-HHMMSS.jzbak`` in the default backup folder; `out` a folder: a
    new such name in it; otherwise the file `out` (replaced if it is an older backup; any other existing
    file is refused). The file appears complete or not at all (written under a temporary name, then
    renamed). Raises BackupError (or DatabaseBusyError) with a Chinese message; no file is left behind.
    `state`: progress, and cancellation (Cancelled) at any moment before the file is in place.
    `actor`: who asked for it (``jzair backup --out``): administrators only, checked first, and audited.
    """
    if actor is not None:
        check_may_backup(actor)
    source = db.path
    if source is None:
        if db.engine.dialect.name != "postgresql":
            raise BackupError(f"只能备份 SQLite 数据库文件或 PostgreSQL 服务器数据库，当前数据库是：{db.location}")
        info = backup_server_database(db, out, now=now, state=state)
    else:
        info = backup_database_file(source, out, now=now, state=state)
    if actor is not None:
        audit_backup(db, actor, [info.path])
    return info


def server_label(url: str) -> str:
    """A server database as a backup's manifest and messages name it: its URL without the password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def backup_server_database(
    db: Database, out: Path | None = None, *, now: dt.datetime | None = None, state: TaskState | None = None
) -> BackupInfo:
    """`make_backup` of a PostgreSQL database: every table copied, from one consistent snapshot, into a SQLite
    file of the same schema (storage.dbcopy), which then goes into the same .jzbak as a file's backup would: it
    restores to SQLite or to a server alike."""
    when = _aware(now) if now is not None else _now()
    label = server_label(db.url)
    revision = migrate.current_revision(db.engine)
    if revision is None:
        raise BackupError(f"数据库尚未初始化（没有架构版本），没有生成备份：{label}")
    if revision != migrate.head_revision():
        raise BackupError(f"服务器数据库的架构版本（{revision}）与本程序（{migrate.head_revision()}）不同，"
                          f"请先用本程序打开它完成升级后再备份：{label}")
    target = _backup_target(None, out, when)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(_os_error_message(exc, "创建备份文件夹", target.parent)) from exc
    with tempfile.TemporaryDirectory(prefix="jzair-backup-") as tmp:
        copy = Path(tmp) / DB_MEMBER
        _check(state, 0, text="正在从服务器复制数据库…", step=True)
        _server_to_file(db, copy, state)
        _finish_backup(copy, target, label, when, state)
    info = read_manifest(target)
    log.info("backup of %s written to %s (%d bytes)", label, target, info.size)
    return info


def _server_to_file(db: Database, copy: Path, state: TaskState | None) -> None:
    """Every table of the server database into a new SQLite file `copy` (rollback-journal mode, standing alone)."""
    from jzair_desktop.storage import dbcopy

    local, _ = open_database(sqlite_url(copy), create=True)
    try:
        tables = dbcopy.tables()
        src = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        try:
            with src.begin(), write_session(local.engine) as s:
                conn = s.connection()
                dbcopy.empty_tables(conn, tables)

                def progress(_table: str, _n: int) -> None:
                    _check(state, 200, text="正在从服务器复制数据库…")

                copied = dbcopy.copy_tables(src, conn, tables, progress=progress)
                expected = dbcopy.counts(src, tables)
                if copied != expected:
                    raise BackupError(f"从服务器复制的行数不一致，没有生成备份：{server_label(db.url)}")
        finally:
            src.close()
    finally:
        local.dispose()
    conn = sqlite3.connect(copy)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def backup_database_file(
    source: Path, out: Path | None = None, *, now: dt.datetime | None = None, state: TaskState | None = None
) -> BackupInfo:
    """`make_backup` for a database file given by its path."""
    source = Path(source)
    when = _aware(now) if now is not None else _now()
    if not source.is_file():
        raise BackupError(f"要备份的数据库文件不存在：{source}")
    target = _backup_target(source, out, when)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(_os_error_message(exc, "创建备份文件夹", target.parent)) from exc

    with tempfile.TemporaryDirectory(prefix="jzair-backup-") as tmp:
        copy = Path(tmp) / DB_MEMBER
        _online_copy(source, copy, state)
        _finish_backup(copy, target, str(source.resolve()), when, state)
    info = read_manifest(target)
    log.info("backup of %s written to %s (%d bytes)", source, target, info.size)
    return info


def _finish_backup(copy: Path, target: Path, source: str, when: dt.datetime, state: TaskState | None) -> None:
    """The standalone copy `copy` checked, its key taken out, and zipped with its manifest to `target`."""
    key = _strip_private_key(copy)
    _check(state, 450, text="正在检查数据库…", step=True)
    problems = _integrity_problems(copy, state)
    if problems:
        raise BackupError(
            f"数据库完整性检查未通过，没有生成备份：{source}\n"
            f"问题：{'；'.join(problems[:5])}\n请尽快用较早的备份恢复，或联系技术支持。"
        )
    revision = _revision_of(copy)
    if revision is None:
        raise BackupError(f"数据库尚未初始化（没有架构版本），没有生成备份：{source}")
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": __version__,
        "schema_revision": revision,
        "created_at": when.isoformat(timespec="seconds"),
        "source": source,
        "sha256": _sha256(copy),
        "db_size": copy.stat().st_size,
        "records": _live_records(copy),
        "installation_key": key,
    }
    head = _audit_head(copy)
    if head is not None:
        manifest[HEAD_KEY] = head.as_json()
    _check(state, 500, text="正在压缩…", step=True)
    _write_zip(target, manifest, copy, state)


def _backup_target(source: Path | None, out: Path | None, when: dt.datetime) -> Path:
    if out is None:
        return _unique_path(default_backup_folder(), lambda n: backup_file_name(when, n))
    out = Path(out)
    if out.is_dir():
        return _unique_path(out, lambda n: backup_file_name(when, n))
    resolved = out.resolve()
    src = source.resolve() if source is not None else None
    if src is not None and resolved in (src, Path(f"{src}-wal"), Path(f"{src}-shm"), Path(f"{src}-journal")):
        raise BackupError(f"备份文件不能写到数据库文件本身：{out}")
    if out.exists():
        try:
            read_manifest(out)
        except BackupError as exc:
            raise BackupError(f"目标文件已存在，且不是本程序的备份文件，未覆盖：{out}") from exc
    return out


def _online_copy(source: Path, copy: Path, state: TaskState | None = None) -> None:
    """A transaction-consistent copy of a live database (one backup step holds one read snapshot; with a
    `state`, steps of 4 MB that SQLite restarts if another connection writes in between)."""
    try:
        src = sqlite3.connect(_sqlite_uri(source, "rw"), uri=True, timeout=busy_timeout_ms() / 1000)
    except sqlite3.Error as exc:
        raise _sqlite_error_message(exc, "备份", source) from exc
    try:
        dst = sqlite3.connect(copy)
        try:
            if state is None:
                src.backup(dst)
            else:
                def step(_status: int, remaining: int, total: int) -> None:
                    _check(state, 400 * (total - remaining) // max(total, 1), text="正在复制数据库…")

                _check(state, 0, text="正在复制数据库…", step=True)
                src.backup(dst, pages=1024, progress=step)
            # The copy must stand alone: no -wal beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise _sqlite_error_message(exc, "备份", source) from exc
    finally:
        src.close()


def _strip_private_key(copy: Path) -> str | None:
    """Take the installation's signing key out of a backup copy (overwritten, not only unlinked); returns
    its fingerprint for the manifest. A backup on a USB stick then cannot sign packages in this
    installation's name; a restore on the same installation keeps the key it has (see SECURITY.md for a
    lost key: a new one is made and the city re-pins it after checking the fingerprint by phone)."""
    conn = sqlite3.connect(copy)
    try:
        if "installation_key" not in _tables(conn):
            return None
        row = conn.execute("SELECT fingerprint FROM installation_key WHERE id = 1").fetchone()
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("DELETE FROM installation_key")
        conn.commit()
        return row[0] if row else None
    except sqlite3.Error as exc:
        raise _sqlite_error_message(exc, "备份", copy) from exc
    finally:
        conn.close()


def _write_zip(target: Path, manifest: dict, db_copy: Path, state: TaskState | None = None) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    size = max(db_copy.stat().st_size, 1)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                zf.writestr(MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=2))
                if state is None:
                    zf.write(db_copy, DB_MEMBER)
                else:  # in chunks, so that a cancel is seen within one chunk
                    done = 0
                    with db_copy.open("rb") as src, zf.open(DB_MEMBER, "w", force_zip64=size > 2**31) as dst:
                        while chunk := src.read(_CHUNK):
                            dst.write(chunk)
                            done += len(chunk)
                            _check(state, 500 + 400 * done // size, text="正在压缩…")
            fh.flush()
            os.fsync(fh.fileno())
        bad = _read_back(tmp, state)  # what reached the disk
        if bad is not None:
            raise BackupError(f"写入的备份文件读回校验失败（{bad}），备份没有完成：{target}")
        replace_file(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        _remove_quietly(tmp)
        raise BackupError(_os_error_message(exc, "备份", target)) from exc
    except BaseException:
        _remove_quietly(tmp)
        raise


def _read_back(file: Path, state: TaskState | None) -> str | None:
    """The first member whose CRC does not match (like ZipFile.testzip), reading in cancellable chunks."""
    with zipfile.ZipFile(file) as zf:
        if state is None:
            return zf.testzip()
        total = max(sum(i.file_size for i in zf.infolist()), 1)
        done = 0
        for info in zf.infolist():
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(_CHUNK):
                        done += len(chunk)
                        _check(state, 900 + 100 * done // total, text="正在校验备份文件…")
            except zipfile.BadZipFile:
                return info.filename
    return None


# --------------------------------------------------------------------------------------------------
# Reading and verifying a backup


def _damaged(file: Path, detail: str = "") -> BackupError:
    tail = f"（{detail}）" if detail else ""
    return BackupError(f"备份文件已损坏或不是本程序的备份文件，无法使用：{file}{tail}")


@contextlib.contextmanager
def _open_zip(file: Path) -> Iterator[zipfile.ZipFile]:
    if not file.is_file():
        raise BackupError(f"备份文件不存在：{file}")
    try:
        with zipfile.ZipFile(file) as zf:
            yield zf
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise _damaged(file, str(exc)) from exc
    except OSError as exc:
        raise BackupError(f"无法读取备份文件：{file}（{exc.strerror or exc}）") from exc


def _manifest_of(zf: zipfile.ZipFile, file: Path) -> BackupInfo:
    names = set(zf.namelist())
    if MANIFEST_NAME not in names or DB_MEMBER not in names:
        raise _damaged(file, "缺少清单或数据库")
    if zf.getinfo(MANIFEST_NAME).file_size > _MAX_MANIFEST_BYTES:
        raise _damaged(file, "清单过大")
    try:
        data = json.loads(zf.read(MANIFEST_NAME).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _damaged(file, "清单无法读取") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _damaged(file, "清单格式不对")
    version = data.get("format_version")
    if not isinstance(version, int):
        raise _damaged(file, "清单格式不对")
    if version > FORMAT_VERSION:
        raise BackupError(f"该备份由更新版本的程序制作（备份格式 {version}），本程序无法读取：{file}\n请安装最新版本的程序。")
    try:
        created = dt.datetime.fromisoformat(str(data["created_at"]))
        records = {str(k): int(v) for k, v in dict(data.get("records") or {}).items()}
        info = BackupInfo(
            path=file,
            created_at=_aware(created),
            app_version=str(data["app_version"]),
            schema_revision=str(data["schema_revision"]),
            source=str(data["source"]),
            sha256=str(data["sha256"]).lower(),
            db_size=int(data["db_size"]),
            size=file.stat().st_size,
            records=records,
            installation_key=str(data["installation_key"]) if data.get("installation_key") else None,
            audit_head=head_from_json(data.get(HEAD_KEY)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _damaged(file, "清单内容不完整") from exc
    if not re.fullmatch(r"[0-9a-f]{64}", info.sha256):
        raise _damaged(file, "清单中的校验值不对")
    return info


def read_manifest(file: Path) -> BackupInfo:
    """The manifest of a backup file (cheap: the database inside is not checked)."""
    file = Path(file)
    with _open_zip(file) as zf:
        return _manifest_of(zf, file)


def _check_revision_known(info: BackupInfo) -> None:
    if info.schema_revision not in migrate.known_revisions():
        raise BackupError(
            f"该备份来自更新版本的程序（架构版本 {info.schema_revision}），本程序无法恢复：{info.path}\n"
            "请安装最新版本的程序后再恢复；当前数据库没有改动。"
        )


def verify_backup(file: Path, *, extract_to: Path | None = None) -> BackupInfo:
    """Check a backup completely: ZIP CRCs, manifest, SHA-256 and integrity of the database inside, and
    that this program knows its schema revision. With `extract_to`, the checked database is left there.

    Raises BackupError with a Chinese message naming the file.
    """
    file = Path(file)
    with _open_zip(file) as zf:
        info = _manifest_of(zf, file)
        _check_revision_known(info)
        _check_unpacked_size(zf, file, info, Path(extract_to).parent if extract_to is not None else None)
        bad = zf.testzip()
        if bad is not None:
            raise _damaged(file, f"“{bad}”校验失败")
        if extract_to is not None:
            _extract_db(zf, file, info, Path(extract_to))
            return info
        with tempfile.TemporaryDirectory(prefix="jzair-verify-") as tmp:
            _extract_db(zf, file, info, Path(tmp) / DB_MEMBER)
    return info


# A database packs to about a quarter of its size (README); one of free pages packs far better, but not
# a thousand to one as a zip bomb does. Beyond this ratio and size a backup is refused before unpacking.
_MAX_PACK_RATIO = 200
_RATIO_FROM_BYTES = 64 << 20
_SPACE_MARGIN = 64 << 20


def _check_unpacked_size(zf: zipfile.ZipFile, file: Path, info: BackupInfo, folder: Path | None) -> None:
    """Refuse, before anything is unpacked or written, a backup whose database would unpack to far more than
    its packed size suggests (a 2 MB file that unpacks to 2 GB), or to more than the disk has free. The zip
    directory's size must be the manifest's: zipfile then never unpacks more than that."""
    member = zf.getinfo(DB_MEMBER)
    if member.file_size != info.db_size:
        raise _damaged(file, "数据库大小与清单不符")
    if info.db_size > _RATIO_FROM_BYTES and info.db_size > member.compress_size * _MAX_PACK_RATIO:
        raise BackupError(
            f"备份文件“{file.name}”只有 {member.compress_size / 1e6:,.1f} MB，里面的数据库却声称解压后有 "
            f"{info.db_size / 1e6:,.0f} MB（超过 {_MAX_PACK_RATIO} 倍），不像是本程序制作的备份，可能是“压缩炸弹”。"
            "没有解压，当前数据库没有改动。"
        )
    where = folder if folder is not None else Path(tempfile.gettempdir())
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return
    if info.db_size + _SPACE_MARGIN > free:
        raise BackupError(
            f"磁盘空间不足：恢复备份“{file.name}”需要约 {(info.db_size + _SPACE_MARGIN) / 1e6:,.0f} MB，"
            f"“{where}”所在磁盘只剩 {free / 1e6:,.0f} MB。请清理磁盘后再试；当前数据库没有改动。"
        )


def _extract_db(zf: zipfile.ZipFile, file: Path, info: BackupInfo, dest: Path) -> None:
    h = hashlib.sha256()
    size = 0
    try:
        with zf.open(DB_MEMBER) as src, dest.open("wb") as out:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise BackupError(_os_error_message(exc, "解压备份", dest)) from exc
    if size != info.db_size or h.hexdigest() != info.sha256:
        raise _damaged(file, "数据库校验值不符")
    try:
        problems = _integrity_problems(dest)
        revision = _revision_of(dest)
    except sqlite3.Error as exc:
        raise _damaged(file, f"数据库无法打开：{exc}") from exc
    if problems:
        raise _damaged(file, "数据库完整性检查未通过：" + "；".join(problems[:3]))
    if revision != info.schema_revision:
        raise _damaged(file, "数据库架构版本与清单不符")


# --------------------------------------------------------------------------------------------------
# Restoring


class ForeignBackupError(BackupError):
    """The backup was made by another installation; restoring it needs the administrator's explicit yes."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


BACKUP_ROLES = ("city_admin", "county_admin")  # a backup is the whole database, the signing key included


def may_backup(actor: Actor) -> bool:
    return actor.role in BACKUP_ROLES


def check_may_backup(actor: Actor) -> None:
    """A backup holds every unit's personal data and the private signing key: administrators only."""
    if not may_backup(actor):
        raise PermissionDenied(f"用户“{actor.name}”不是管理员，不能备份数据库（备份包含全部个人信息和本机的签名密钥）。")


def check_may_change_backup_settings(actor: Actor) -> None:
    """Where the routine backups (and their copies, e.g. on a USB drive) go decides who carries the whole
    database away: administrators only, like a backup itself."""
    if not may_backup(actor):
        raise PermissionDenied(f"用户“{actor.name}”不是管理员，不能更改备份设置（备份文件夹和附加备份文件夹决定整个数据库的副本存放在哪里）。")


def audit_backup(db: Database, actor: Actor, files: Sequence[Path]) -> None:
    """Audit a backup made: by whom, to where (each file written)."""
    where = "；".join(str(f) for f in files)
    audit.record_access(db, actor, "backup", f"备份到：{where}")


def may_restore(actor: Actor) -> bool:
    """Restoring replaces every unit's data and every account: an administrator's act only."""
    return authority.is_administrator(actor)


def check_may_restore(actor: Actor) -> None:
    """The role check alone (the CLI asks it before anything is read; `restore_backup` checks everything)."""
    authority.check_administrator(actor, authority.ACT_RESTORE)


# What the current database file is, for the restore: only a file that is missing or really damaged
# may be restored over without an administrator's login. A locked or busy file is neither.
MISSING, DAMAGED, SOUND = "missing", "damaged", "sound"


def database_condition(db_file: Path) -> str:
    """MISSING, DAMAGED or SOUND; raises DatabaseBusyError while another program holds the file locked."""
    db_file = Path(db_file)
    if not db_file.exists() or (db_file.is_file() and db_file.stat().st_size == 0):
        return MISSING
    try:
        conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True, timeout=busy_timeout_ms() / 1000)
    except sqlite3.Error as exc:
        return _condition_from(exc, db_file)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.Error as exc:
        return _condition_from(exc, db_file)
    finally:
        conn.close()
    return SOUND if rows == ["ok"] else DAMAGED


def _condition_from(exc: sqlite3.Error, db_file: Path) -> str:
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc).lower()
    if code in (5, 6) or "locked" in text or "busy" in text:
        raise _restore_lock_error(exc, db_file) from exc
    if code in (11, 26) or "malformed" in text or "not a database" in text:
        return DAMAGED
    # Cannot open for another reason (permissions, a folder): not proven damaged.
    raise _restore_lock_error(exc, db_file) from exc


@dataclass(frozen=True)
class _Installation:
    """What tells installations apart, as far as this branch knows (see services.authority)."""

    key: str | None  # fingerprint of the installation's signing key
    city_key: str | None  # the pinned city key (a county installation)
    accounts: int  # number of accounts
    admins: frozenset[tuple[str, str]]  # active administrators: (name, role)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _installation_of(db_file: Path, manifest_key: str | None = None) -> _Installation:
    conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True, timeout=busy_timeout_ms() / 1000)
    try:
        tables = _tables(conn)
        key = city = None
        if "installation_key" in tables:
            row = conn.execute("SELECT fingerprint FROM installation_key WHERE id = 1").fetchone()
            key = row[0] if row else None
        if "package_pins" in tables:
            row = conn.execute("SELECT fingerprint FROM package_pins WHERE scope = 'city'").fetchone()
            city = row[0] if row else None
        accounts, admins = 0, frozenset()
        if "users" in tables:
            accounts = int(conn.execute("SELECT count(*) FROM users").fetchone()[0])
            admins = frozenset(
                (n, r) for n, r in conn.execute("SELECT name, role FROM users WHERE NOT disabled")
                if r in authority.ADMIN_ROLES)
    except sqlite3.Error as exc:
        raise _sqlite_error_message(exc, "恢复", db_file) from exc
    finally:
        conn.close()
    return _Installation(key or manifest_key, city, accounts, admins)


def _short(fp: str) -> str:
    return f"{fp[:4].upper()} {fp[4:8].upper()} … {fp[-4:].upper()}"


def _foreign_reasons(current: _Installation, restored: _Installation) -> list[str]:
    reasons = []
    if current.key and restored.key and current.key != restored.key:
        reasons.append(f"备份来自另一台安装（签名公钥 {_short(restored.key)}，本机为 {_short(current.key)}）")
    if current.city_key and restored.city_key and current.city_key != restored.city_key:
        reasons.append(f"备份中绑定的市级公钥（{_short(restored.city_key)}）与本机绑定的（{_short(current.city_key)}）不同")
    # Once the installation record exists: a backup of another unit's installation is one more reason here.
    return reasons


def _check_restore_allowed(
    db_file: Path, staged: Path, info: BackupInfo, actor: Actor | None, allow_foreign: bool,
) -> str:
    """Every rule of a restore that depends on the current database and the backup's contents; returns
    the current database's condition."""
    if actor is not None and actor != BUILTIN_ADMIN:
        check_may_restore(actor)
    condition = database_condition(db_file)
    if condition != SOUND:
        return condition  # nothing to protect: restoring is how a missing or damaged database gets repaired
    _check_installations(_installation_of(db_file), _installation_of(staged, info.installation_key), info, actor,
                         allow_foreign)
    return condition


def _check_installations(current: _Installation, restored: _Installation, info: BackupInfo, actor: Actor | None,
                         allow_foreign: bool) -> None:
    """The rules of a restore between the current database's installation and the backup's."""
    if current.accounts:
        if actor is None or actor == BUILTIN_ADMIN:
            raise PermissionDenied("本数据库已启用用户账户：恢复数据库须由管理员登录后进行。当前数据库没有改动。")
        if (actor.name, actor.role) not in current.admins:
            raise PermissionDenied(f"用户“{actor.name}”不是本数据库中有效的管理员账户，不能恢复数据库。当前数据库没有改动。")
        if not restored.accounts:
            raise BackupError(
                f"该备份中没有任何用户账户，而当前数据库已启用用户账户：恢复后任何人都可以不登录、以系统管理员身份"
                f"使用程序，因此不能恢复：{info.path}\n当前数据库没有改动。")
    elif actor is not None and actor != BUILTIN_ADMIN:
        check_may_restore(actor)
    reasons = _foreign_reasons(current, restored)
    if reasons and not allow_foreign:
        raise ForeignBackupError(
            "该备份不是本安装的备份：" + "；".join(reasons) + "。\n"
            "恢复它会用另一台安装的数据和账户替换本机的全部数据。若确实要恢复，请管理员明确确认"
            "（命令行加 --other-installation）。当前数据库没有改动。", reasons)


def _expected_schema(revision: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """What the migrations make at `revision`: {(type, name): column names (tables) or ()}."""
    cached = _SCHEMAS.get(revision)
    if cached is None:
        from alembic import command

        from jzair_desktop.storage.engine import make_engine

        with tempfile.TemporaryDirectory(prefix="jzair-schema-") as tmp:
            file = Path(tmp) / "schema.sqlite3"
            engine = make_engine(sqlite_url(file))
            try:
                cfg = migrate.alembic_config()
                with engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
            finally:
                engine.dispose()
            cached = _SCHEMAS[revision] = _schema_of(file)
    return cached


_SCHEMAS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {}


def _schema_of(db_file: Path) -> dict[tuple[str, str], tuple[str, ...]]:
    conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True)
    try:
        out = {}
        for kind, name in conn.execute("SELECT type, name FROM sqlite_master"):
            if name.startswith("sqlite_"):
                continue  # SQLite's own: autoindexes, sqlite_sequence, sqlite_stat*
            cols: tuple[str, ...] = ()
            if kind == "table":
                cols = tuple(sorted(r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')))
            out[(kind, name)] = cols
        return out
    finally:
        conn.close()


_KINDS = {"table": "表", "index": "索引", "trigger": "触发器", "view": "视图"}


def _check_schema(staged: Path, info: BackupInfo) -> None:
    """The restored file holds exactly what the migrations make: no extra trigger, view, table or column."""
    expected = _expected_schema(info.schema_revision)
    actual = _schema_of(staged)
    problems = [f"多出的{_KINDS.get(k, k)}“{n}”" for (k, n) in sorted(set(actual) - set(expected))]
    problems += [f"缺少{_KINDS.get(k, k)}“{n}”" for (k, n) in sorted(set(expected) - set(actual))]
    problems += [f"表“{n}”的列与本程序的不同" for (k, n), cols in sorted(actual.items())
                 if k == "table" and (k, n) in expected and expected[(k, n)] != cols]
    if problems:
        raise BackupError(
            f"备份中的数据库结构与本程序建立的不一致（{'；'.join(problems[:5])}），可能被改动过，不能恢复：{info.path}\n"
            "当前数据库没有改动。")


def _carry_key_over(db_file: Path, condition: str) -> bytes | None:
    """The current installation's key row (backups do not hold the private key), to keep after the restore."""
    if condition != SOUND:
        return None
    conn = sqlite3.connect(_sqlite_uri(db_file, "ro"), uri=True)
    try:
        if "installation_key" not in _tables(conn):
            return None
        return conn.execute(
            "SELECT id, public_key, private_key, fingerprint, created_at FROM installation_key WHERE id = 1").fetchone()
    finally:
        conn.close()


def _put_key(staged: Path, row: tuple | None) -> None:
    if row is None:
        return
    conn = sqlite3.connect(staged)
    try:
        if "installation_key" in _tables(conn):
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("DELETE FROM installation_key")
            conn.execute("INSERT INTO installation_key (id, public_key, private_key, fingerprint, created_at) "
                         "VALUES (?, ?, ?, ?, ?)", row)
            conn.commit()
    finally:
        conn.close()


def restore_backup(
    target: str | Path, backup_file: Path, *, now: dt.datetime | None = None, actor: Actor | None = None,
    allow_foreign: bool = False,
) -> RestoreResult:
    """Replace the database `target` (a SQLite URL or a file path) with the one in `backup_file`.

    Order: the backup is checked completely (nothing is touched if it fails); the current database is
    locked exclusively (refused with DatabaseBusyError while any other connection, in this process or
    another, has it open: dispose your own engines first), kept as ``<name>.恢复前-<time><suffix>``
    beside it, and the checked copy is renamed over it (stale ``-wal``/``-shm`` files of the old one are
    removed first so they can never be applied to the new one). A backup of an older schema is then
    migrated; if that fails the previous database is put back.

    Refused before anything is touched (services.authority): a restore over a database with accounts
    by anyone but one of its active administrators (`actor` None is allowed only over a missing or really
    damaged file, or one without accounts); a backup without accounts over a database with accounts; a
    backup whose schema is not what the migrations make (extra triggers, views, tables, columns); a backup
    of another installation unless `allow_foreign`. The current installation's private key is carried
    into the restored file (backups do not hold it).

    `actor`: who restores. The restored database's audit trail then ends with an entry saying who
    restored which backup and where the previous database was kept; if that entry cannot be written the
    previous database is put back too. Without an actor the restored file is the backup's, unchanged.
    """
    if isinstance(target, str) and is_server_url(target):
        return restore_to_server(target, backup_file, now=now, actor=actor, allow_foreign=allow_foreign)
    db_file = restore_target_file(target)
    when = _aware(now) if now is not None else _now()
    try:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{db_file.name}.", suffix=".restore", dir=db_file.parent)
    except OSError as exc:
        raise BackupError(_os_error_message(exc, "恢复", db_file.parent)) from exc
    os.close(fd)
    staged = Path(tmp_name)
    try:
        info = verify_backup(backup_file, extract_to=staged)
        _check_schema(staged, info)
        condition = _check_restore_allowed(db_file, staged, info, actor, allow_foreign)
        _put_key(staged, _carry_key_over(db_file, condition))
        previous = _swap_in(db_file, staged, when)
    finally:
        _remove_quietly(staged)
    step = "升级其数据库架构"
    try:
        db, _result = open_database(sqlite_url(db_file), create=False, upgrade=True)
        try:
            revision = migrate.current_revision(db.engine) or ""
            if actor is not None:
                step = "写入恢复的审计记录"
                _audit_restore(db, actor, info, previous)
        finally:
            db.dispose()
    except Exception as exc:
        if previous is not None:
            _put_back(previous, db_file)
            raise BackupError(
                f"备份已解压，但{step}失败，已放回恢复前的数据库：{db_file}\n原因：{exc}"
            ) from exc
        raise
    log.info("restored %s from %s (previous copy: %s)", db_file, info.path, previous)
    return RestoreResult(db_file, info, previous, info.schema_revision, revision)


def is_server_url(url: str) -> bool:
    return url.startswith("postgresql")


def _installation_of_server(conn) -> _Installation:  # noqa: ANN001 - a SQLAlchemy Connection
    from sqlalchemy import select

    from jzair_desktop.storage.models import InstallationKey, PackagePin, UserAccount

    key = conn.execute(select(InstallationKey.fingerprint).where(InstallationKey.id == 1)).scalar()
    city = conn.execute(select(PackagePin.fingerprint).where(PackagePin.scope == "city")).scalar()
    users = conn.execute(select(UserAccount.name, UserAccount.role, UserAccount.disabled)).all()
    admins = frozenset((n, r) for n, r, off in users if not off and r in authority.ADMIN_ROLES)
    return _Installation(key, city, len(users), admins)


def restore_to_server(
    url: str, backup_file: Path, *, now: dt.datetime | None = None, actor: Actor | None = None,
    allow_foreign: bool = False,
) -> RestoreResult:
    """`restore_backup` into a PostgreSQL database: the backup checked completely (as for a file), migrated to
    this program's schema in a scratch copy, the same rules (administrator, accounts, installation) checked
    against the server database; the server's current data is first backed up beside the other backups
    (``jzair-恢复前-….jzbak``, never pruned), then replaced by the backup's in one transaction, keeping the
    installation's signing key; the restore is audited. Nothing on the server changes when any step fails."""
    from jzair_desktop.storage import dbcopy
    from jzair_desktop.storage.models import InstallationKey

    when = _aware(now) if now is not None else _now()
    label = server_label(url)
    if actor is not None and actor != BUILTIN_ADMIN:
        check_may_restore(actor)
    server, _ = open_database(url, create=True)  # an empty server database is migrated to be restored into
    try:
        with tempfile.TemporaryDirectory(prefix="jzair-restore-") as tmp:
            staged = Path(tmp) / DB_MEMBER
            info = verify_backup(backup_file, extract_to=staged)
            _check_schema(staged, info)
            with server.engine.connect() as conn:
                current = _installation_of_server(conn)
                key_row = conn.execute(InstallationKey.__table__.select()).first()
            _check_installations(current, _installation_of(staged, info.installation_key), info, actor,
                                 allow_foreign)
            local, _ = open_database(sqlite_url(staged), create=False, upgrade=True)  # the scratch copy only
            try:
                previous = None
                if current.accounts or key_row is not None:
                    folder = default_backup_folder()
                    previous = backup_server_database(server, _unique_path(
                        folder, lambda n: f"{BACKUP_PREFIX}恢复前-{_local_naive(when):%Y%m%d-%H%M%S}"
                                          f"{'' if n == 1 else f'-{n}'}{BACKUP_SUFFIX}"), now=when).path
                tables = dbcopy.tables()
                with local.engine.connect() as src, src.begin(), write_session(server.engine) as s:
                    conn = s.connection()
                    dbcopy.empty_tables(conn, tables)
                    copied = dbcopy.copy_tables(src, conn, tables)
                    if copied != dbcopy.counts(src, tables):
                        raise BackupError(f"恢复时复制的行数不一致，已撤销：{label}")
                    if key_row is not None:  # backups do not hold the private key: the installation keeps its own
                        conn.execute(InstallationKey.__table__.delete())
                        conn.execute(InstallationKey.__table__.insert().values(**key_row._mapping))
                    if actor is not None:
                        made = info.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
                        kept = f"；恢复前的数据已备份为 {previous.name}" if previous is not None else ""
                        audit.append(s, actor, "db_restore", detail=f"从备份恢复数据库：{info.path.name}"
                                     f"（备份于 {made}）{kept}", verify_actor=False)
            finally:
                local.dispose()
        revision = migrate.current_revision(server.engine) or ""
    finally:
        server.dispose()
    log.info("restored %s from %s (previous data: %s)", label, info.path, previous)
    return RestoreResult(label, info, previous, info.schema_revision, revision)


def _audit_restore(db: Database, actor: Actor, info: BackupInfo, previous: Path | None) -> None:
    kept = f"；恢复前的数据库另存为 {previous.name}" if previous is not None else ""
    made = info.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    with write_session(db.engine) as s:
        # The restored accounts may not know the user (or know them in another role): not checked.
        audit.append(s, actor, "db_restore", detail=f"从备份恢复数据库：{info.path.name}（备份于 {made}）{kept}",
                     verify_actor=False)


def restore_target_file(target: str | Path) -> Path:
    if isinstance(target, str) and "://" in target:
        file = db_path_of(target)
        if file is None:
            raise BackupError(f"只能恢复到本机上的数据库文件（SQLite），当前数据库是：{url_display(target)}")
        return file
    return Path(target)


def previous_copy_name(db_file: Path, when: dt.datetime, sequence: int = 1) -> str:
    """``台账.恢复前-20261128-120000.sqlite3`` for ``台账.sqlite3``."""
    stamp = _local_naive(when).strftime("%Y%m%d-%H%M%S")
    tail = f"-{sequence}" if sequence > 1 else ""
    return f"{db_file.stem}.恢复前-{stamp}{tail}{db_file.suffix}"


_SIDE_FILES = ("-wal", "-shm", "-journal")


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _swap_in(db_file: Path, staged: Path, when: dt.datetime) -> Path | None:
    """Put `staged` in place of `db_file`, keeping the old file as a copy. Returns the copy's path."""
    if not db_file.exists():
        for suffix in _SIDE_FILES:  # leftovers of a deleted database must not meet the new one
            _remove_quietly(_side(db_file, suffix))
        _replace(staged, db_file)
        return None
    copy = _unique_path(db_file.parent, lambda n: previous_copy_name(db_file, when, n))
    paths.make_private(staged)  # the restored database is the user's alone, whatever the old file's mode was
    conn = _lock_exclusively(db_file)
    try:
        try:
            paths.create_private_file(copy)
            shutil.copyfile(db_file, copy)
            _fsync_file(copy)
        except OSError as exc:
            _remove_quietly(copy)
            raise BackupError(_os_error_message(exc, "保存恢复前的数据库副本", copy)) from exc
        for suffix in _SIDE_FILES:
            side = _side(db_file, suffix)
            if not side.exists():
                continue
            if conn is None:
                # The old file is not a usable database: keep its side files with its copy, as they were.
                shutil.copyfile(side, _side(copy, suffix))
                paths.make_private(_side(copy, suffix))
            side.unlink()
        try:
            _replace(staged, db_file, wait=0)
        except PermissionError:
            if conn is None:
                raise
            # Windows cannot rename over a file that is open, even by us: let go of the lock and retry.
            conn.close()
            conn = None
            _replace(staged, db_file)
    finally:
        if conn is not None:
            conn.close()
    return copy


def _replace(src: Path, dst: Path, *, wait: float | None = None) -> None:
    try:
        replace_file(src, dst, wait=wait)
    except PermissionError:
        raise
    except OSError as exc:
        raise BackupError(_os_error_message(exc, "恢复", dst)) from exc
    _fsync_dir(dst.parent)


def _lock_exclusively(db_file: Path) -> sqlite3.Connection | None:
    """An open connection holding the exclusive lock on `db_file`, in rollback-journal mode (so no -wal
    or -shm belongs to it any more). None if the file is not a usable database (it is replaced anyway).

    Leaving WAL mode needs the only connection to the file, so this also proves no one else has it open.
    """
    try:
        conn = sqlite3.connect(
            _sqlite_uri(db_file, "rw"), uri=True, timeout=busy_timeout_ms() / 1000, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise _restore_lock_error(exc, db_file) from exc
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        text = str(exc).lower()
        if code in (11, 26) or "malformed" in text or "not a database" in text:
            log.warning("current database %s is unusable (%s); replacing it", db_file, exc)
            return None
        raise _restore_lock_error(exc, db_file) from exc
    return conn


def _restore_lock_error(exc: sqlite3.Error, db_file: Path) -> JzairError:
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc).lower()
    if code in (5, 6) or "locked" in text or "busy" in text:
        return DatabaseBusyError(
            f"数据库正被另一个程序（或另一个窗口）使用，无法恢复：{db_file}\n"
            "请先关闭本程序的其他窗口和其他正在使用该数据库的程序，再重试。当前数据库没有改动。"
        )
    if code == 8 or "readonly" in text:
        return DatabaseError(f"数据库文件或其所在文件夹是只读的，无法恢复：{db_file}")
    return BackupError(f"无法打开当前数据库以进行恢复：{db_file}（{exc}）")


def _put_back(previous: Path, db_file: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_file.name}.", suffix=".restore", dir=db_file.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(previous, tmp)
        for suffix in _SIDE_FILES:
            _remove_quietly(_side(db_file, suffix))
        replace_file(tmp, db_file)
    finally:
        _remove_quietly(tmp)


# --------------------------------------------------------------------------------------------------
# Backup folders: listing, rotation, schedule


def list_backups(folder: Path) -> list[BackupEntry]:
    """The backups in `folder` named ``jzair-YYYYMMDD-HHMMSS[-n].jzbak``, newest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    out = []
    try:
        for path in folder.iterdir():
            parsed = parse_backup_name(path.name)
            if parsed is not None and path.is_file():
                out.append(BackupEntry(path, parsed[0], parsed[1]))
    except OSError as exc:
        raise BackupError(f"无法读取备份文件夹：{folder}（{exc.strerror or exc}）") from exc
    out.sort(key=lambda e: (e.taken_at, e.sequence), reverse=True)
    return out


def backups_to_keep(stamps: Sequence[dt.datetime], *, daily: int, monthly: int) -> set[int]:
    """Which of `stamps` (indices) a rotation keeps. Pure; ties go to the later index.

    Keeps the newest backup of each of the `daily` most recent days that have a backup, and the newest
    of each of the `monthly` most recent months that have one. Counting days and months that have
    backups (not calendar days back from today) means a long pause never deletes every backup; and the
    newest backup is always kept.
    """
    if daily < 0 or monthly < 0:
        raise ValueError("daily and monthly must not be negative")
    order = sorted(range(len(stamps)), key=lambda i: (stamps[i], i), reverse=True)
    keep: set[int] = set()
    days: set[dt.date] = set()
    months: set[tuple[int, int]] = set()
    for i in order:
        day = stamps[i].date()
        month = (stamps[i].year, stamps[i].month)
        if day not in days and len(days) < daily:
            keep.add(i)
        if month not in months and len(months) < monthly:
            keep.add(i)
        days.add(day)
        months.add(month)
    if order:
        keep.add(order[0])
    return keep


def prune_backups(folder: Path, daily: int = DEFAULT_KEEP_DAILY, monthly: int = DEFAULT_KEEP_MONTHLY) -> PruneResult:
    """Delete the backups in `folder` that `backups_to_keep` does not keep. Other files are never touched.

    A file that cannot be deleted (in use, read-only medium) is listed in `failed`, not raised: the
    rotation must never make a backup that worked look failed.
    """
    entries = list_backups(folder)[::-1]  # oldest first: of equal times, the later index is the newer one
    keep = backups_to_keep([e.taken_at for e in entries], daily=daily, monthly=monthly)
    kept, removed, failed = [], [], []
    for i, entry in enumerate(entries):
        if i in keep:
            kept.append(entry.path)
            continue
        try:
            entry.path.unlink()
            removed.append(entry.path)
        except FileNotFoundError:
            removed.append(entry.path)
        except OSError as exc:
            log.warning("could not delete old backup %s: %s", entry.path, exc)
            failed.append((entry.path, f"无法删除旧备份：{entry.path}（{exc.strerror or exc}）"))
    return PruneResult(kept, removed, failed)


def last_backup_time(folder: Path | None = None) -> dt.datetime | None:
    """The time (naive local) of the newest backup in `folder` (default backup folder), or None."""
    entries = list_backups(folder if folder is not None else default_backup_folder())
    return entries[0].taken_at if entries else None


def auto_backup_due(folder: Path | None, now: dt.datetime) -> bool:
    """Whether the daily automatic backup should run: no backup yet today (local date of `now`).

    A backup dated in the future (the clock was wrong) does not count, so backups resume.
    """
    local_now = _local_naive(now)
    entries = list_backups(folder if folder is not None else default_backup_folder())
    return not any(e.taken_at.date() == local_now.date() and e.taken_at <= local_now for e in entries)


# --------------------------------------------------------------------------------------------------
# Settings and the automatic backup


def settings_file() -> Path:
    return paths.data_dir() / SETTINGS_FILE_NAME


def _settings_error(file: Path, detail: str) -> BackupError:
    return BackupError(f"备份设置文件有误：{file}（{detail}）\n请在“设置”页重新保存备份设置，或删除该文件恢复默认设置。")


def backup_settings(file: Path | None = None) -> BackupSettings:
    """The backup settings from ``backup-settings.json`` in the user data folder (defaults if missing).

    Keys: ``keep_daily`` (0–3650), ``keep_monthly`` (0–1200), ``extra_folder`` and ``folder`` (paths or
    null); unknown keys are ignored. A malformed file raises BackupError naming it.
    """
    file = Path(file) if file is not None else settings_file()
    if not file.exists():
        return BackupSettings()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _settings_error(file, f"无法读取：{exc}") from exc
    if not isinstance(data, dict):
        raise _settings_error(file, "内容不是设置项")

    def whole(key: str, default: int, top: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise _settings_error(file, f"“{key}”应为 0 到 {top} 之间的整数")
        return value

    def folder(key: str) -> Path | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise _settings_error(file, f"“{key}”应为文件夹路径")
        return Path(value)

    return BackupSettings(
        keep_daily=whole("keep_daily", DEFAULT_KEEP_DAILY, 3650),
        keep_monthly=whole("keep_monthly", DEFAULT_KEEP_MONTHLY, 1200),
        extra_folder=folder("extra_folder"),
        folder=folder("folder"),
    )


def save_backup_settings(settings: BackupSettings, file: Path | None = None, *, actor: Actor) -> Path:
    """Write the settings (atomically) where `backup_settings` reads them; an administrator's act."""
    check_may_change_backup_settings(actor)
    file = Path(file) if file is not None else settings_file()
    text = json.dumps(settings.as_json(), ensure_ascii=False, indent=2)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".part", dir=file.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        replace_file(tmp, file)
    except OSError as exc:
        _remove_quietly(tmp)
        raise BackupError(_os_error_message(exc, "保存备份设置", file)) from exc
    return file


def auto_backup(
    db: Database, *, settings: BackupSettings | None = None, now: dt.datetime | None = None,
    state: TaskState | None = None, actor: Actor | None = None,
) -> AutoBackupResult:
    """The routine backup (GUI on exit and daily, ``jzair backup`` without ``--out``): a new backup in the
    backup folder, a copy in the extra folder if one is set, then rotation of both folders.

    A failure of the main backup raises; a failure of the extra copy (USB drive not plugged in) is
    reported in `extra_error`, since the main backup did succeed.

    `state`: progress and cancellation. Cancelled before the new backup is in place: Cancelled is raised
    and every folder is as it was (the previous backups stay). Cancelled while copying to the extra
    folder: that copy is left out (`extra_error` says so) and no folder is pruned.

    `actor`: who asked for this backup (设置 → 立即备份, ``jzair backup``): refused unless an administrator,
    before anything is written, and audited (by whom, to where) once made. None for the program's own routine
    backups (at start, hourly, on exit) into the folders an administrator chose.
    """
    if actor is not None:
        check_may_backup(actor)
    settings = settings or backup_settings()
    when = _aware(now) if now is not None else _now()
    folder = settings.backup_folder()
    info = make_backup(db, _unique_path_in(folder, when), now=when, state=state)
    extra_copy = extra_error = None
    pruned: list[Path] = []
    failed: list[tuple[Path, str]] = []
    if settings.extra_folder is not None:
        try:
            extra_copy = _copy_to_folder(info.path, settings.extra_folder, state)
            result = prune_backups(settings.extra_folder, settings.keep_daily, settings.keep_monthly)
            pruned += result.removed
            failed += result.failed
        except BackupError as exc:
            extra_error = str(exc)
        except Cancelled:
            extra_error = f"已取消复制到附加备份文件夹：{settings.extra_folder}"
            if actor is not None:
                audit_backup(db, actor, [info.path])
            return AutoBackupResult(info, None, extra_error, pruned, failed)
    result = prune_backups(folder, settings.keep_daily, settings.keep_monthly)
    pruned += result.removed
    failed += result.failed
    if actor is not None:
        audit_backup(db, actor, [p for p in (info.path, extra_copy) if p is not None])
    return AutoBackupResult(info, extra_copy, extra_error, pruned, failed)


def _unique_path_in(folder: Path, when: dt.datetime) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(_os_error_message(exc, "创建备份文件夹", folder)) from exc
    return _unique_path(folder, lambda n: backup_file_name(when, n))


def _copy_to_folder(file: Path, folder: Path, state: TaskState | None = None) -> Path:
    if not folder.is_dir():
        raise BackupError(f"附加备份文件夹不存在或无法访问（U 盘是否已插好？）：{folder}")
    parsed = parse_backup_name(file.name)
    if parsed is None:
        target = _unique_path(folder, lambda n: file.name if n == 1 else f"{file.stem}-{n}{file.suffix}")
    else:
        target = _unique_path(folder, lambda n: backup_file_name(parsed[0], parsed[1] + n - 1))
    tmp: Path | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        if state is None:
            shutil.copyfile(file, tmp)
        else:
            _copy_in_chunks(file, tmp, state)
        _fsync_file(tmp)
        replace_file(tmp, target)
        _fsync_dir(folder)
    except OSError as exc:
        _remove_quietly(tmp)
        raise BackupError(_os_error_message(exc, "复制备份到附加文件夹", folder)) from exc
    except Cancelled:
        _remove_quietly(tmp)
        raise
    return target


def _copy_in_chunks(src: Path, dst: Path, state: TaskState) -> None:
    total = max(src.stat().st_size, 1)
    done = 0
    with src.open("rb") as fin, dst.open("wb") as fout:
        while chunk := fin.read(_CHUNK):
            fout.write(chunk)
            done += len(chunk)
            _check(state, done, total, text="正在复制到附加备份文件夹…")
