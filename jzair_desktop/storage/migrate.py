"""Creating and upgrading the schema through Alembic (never `create_all`)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError

from jzair_desktop import paths
from jzair_desktop.errors import DatabaseBusyError, DatabaseError, JzairError
from jzair_desktop.fsutil import replace_file
from jzair_desktop.storage.engine import (
    db_path_of,
    server_display,
    translate_connect_error,
    translate_operational_error,
)

log = logging.getLogger(__name__)


# pg_advisory_xact_lock key held while a server database is migrated ("jzair" in ASCII).
MIGRATION_LOCK_KEY = 0x6A7A616972


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(paths.migrations_dir()))
    return cfg


def _scripts_signature(location: Path) -> tuple:
    """Names, sizes and times of the revision scripts: a changed or added script reads them again."""
    versions = location / "versions"
    try:
        entries = sorted(os.scandir(versions), key=lambda e: e.name)
    except OSError:
        return ()
    return tuple((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries if e.name.endswith(".py"))


@functools.lru_cache(maxsize=8)
def _revisions(location: str, signature: tuple) -> tuple[str, frozenset[str]]:
    # Alembic compiles every revision script each time it reads the folder (~0.1-0.2 s); they do not change
    # while the program runs, so each folder is read once (the signature catches a script added beside it).
    cfg = Config()
    cfg.set_main_option("script_location", location)
    script = ScriptDirectory.from_config(cfg)
    return script.get_current_head(), frozenset(s.revision for s in script.walk_revisions())


def _script_info() -> tuple[str, frozenset[str]]:
    location = paths.migrations_dir()
    return _revisions(str(location), _scripts_signature(location))


def head_revision() -> str:
    return _script_info()[0]


def known_revisions() -> set[str]:
    return set(_script_info()[1])


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SADatabaseError as exc:
        where = db_path_of(str(engine.url)) or engine.url.render_as_string(hide_password=True)
        if engine.dialect.name != "sqlite":
            translated = translate_connect_error(exc, engine.url)
            if translated is not exc:
                raise translated from exc
            raise DatabaseError(
                f"无法读取服务器上的数据库：{server_display(engine.url)}（{exc.orig}）\n"
                "请检查数据库名和账户的权限；数据库未被改动。"
            ) from exc
        if isinstance(exc, OperationalError) and isinstance(translate_operational_error(exc), DatabaseBusyError):
            raise DatabaseBusyError(
                f"数据库正被另一个程序（或另一个窗口）占用，暂时无法打开：{where}\n"
                "请关闭正在使用它的程序后重试；数据库文件未被改动。"
            ) from exc
        raise DatabaseError(
            f"无法读取数据库，文件可能已损坏或不是本程序的数据库：{where}（{exc.orig}）\n"
            "请用 --db 指定正确的数据库文件，或从备份恢复；该文件未被改动。"
        ) from exc


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str
    backup: Path | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _newer_error(rev: str, where: object) -> DatabaseError:
    if isinstance(where, URL):
        return DatabaseError(
            f"该数据库由更新版本的程序创建（架构版本 {rev}），本程序无法使用：{server_display(where)}\n"
            "请把这台电脑上的程序升级到与其他电脑相同的最新版本后再连接；数据库未被改动。"
        )
    return DatabaseError(
        f"该数据库由更新版本的程序创建（架构版本 {rev}），本程序无法打开：{where}\n"
        "请安装最新版本的程序后再打开；数据库文件未被改动。"
    )


def _foreign_error(tables: list[str], where: object) -> DatabaseError:
    shown = "、".join(tables[:5]) + ("等" if len(tables) > 5 else "")
    if isinstance(where, URL):
        return DatabaseError(
            f"服务器上的这个数据库不是本程序的数据库（其中已有数据表：{shown}）：{server_display(where)}\n"
            "请连接为本程序新建的空数据库（或本程序的数据库）；该数据库未被改动。"
        )
    return DatabaseError(
        f"该文件是 SQLite 数据库，但不是本程序的数据库（其中已有数据表：{shown}）：{where}\n"
        "请用 --db 指定本程序的数据库文件，或指定一个新文件名；该文件未被改动。"
    )


def _where(engine: Engine) -> object:
    """What a message names: the SQLite file, or the server database's URL (shown without its password)."""
    return db_path_of(str(engine.url)) or engine.url


def check_not_newer(engine: Engine) -> str | None:
    rev = current_revision(engine)
    if rev is not None and rev not in known_revisions():
        raise _newer_error(rev, _where(engine))
    return rev


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def has_wal_data(path: Path) -> bool:
    """A -wal file with frames beside the database: committed data not yet merged into the file."""
    try:
        return wal_of(path).stat().st_size > 32  # more than the WAL header
    except OSError:
        return False


def check_file(path: Path) -> None:
    """Look into an existing SQLite file without changing its data (read-only, no WAL switch) and refuse a
    newer version's database or another program's, before any read-write connection touches it.

    The file alone is read (immutable: no lock, no journal) only when no -wal file holds committed data:
    otherwise the file may be half-merged (a checkpoint cut short by a full disk) and only the file with
    its WAL is the database, so it is read read-only through SQLite's WAL index."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    mode = "?mode=ro" if has_wal_data(path) else "?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(path.resolve().as_uri() + mode, uri=True)
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
            rev = None
            if "alembic_version" in tables:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                rev = row[0] if row else None
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (5, 6):  # busy, locked: another program is writing (not damage)
            raise DatabaseBusyError(
                f"数据库正被另一个程序（或另一个窗口）占用，暂时无法打开：{path}\n请关闭正在使用它的程序后重试；数据库文件未被改动。"
            ) from exc
        if code in (10, 13, 14) and has_wal_data(path):  # I/O error, full, cannot open (the WAL index needs room)
            raise DatabaseError(wal_full_message(path)) from exc
        raise DatabaseError(
            f"无法读取数据库，文件可能已损坏或不是本程序的数据库：{path}（{exc}）\n"
            "请用 --db 指定正确的数据库文件，或从备份恢复；该文件未被改动。"
        ) from exc
    if rev is not None and rev not in known_revisions():
        raise _newer_error(rev, path)
    others = sorted(t for t in tables if t != "alembic_version")
    if rev is None and others:
        raise _foreign_error(others, path)


def wal_full_message(path: Path) -> str:
    size = wal_of(path).stat().st_size if has_wal_data(path) else 0
    room = max(1, -(-size * 2 // (1024 * 1024)))
    return (
        f"磁盘空间已满：数据库最近保存的数据还在“{wal_of(path).name}”文件中（没有丢失），但无法并入数据库文件："
        f"{path}\n请清理该磁盘（至少留出 {room} MB）后重新打开程序，这些数据会自动并入；在此之前请不要删除或单独复制"
        "数据库文件及其旁边的“-wal”“-shm”文件。"
    )


def merge_wal(path: Path) -> None:
    """Merge committed data left in the -wal file (a checkpoint cut short, e.g. by a full disk) into the
    database file. A full disk is refused with a clear message; the data stays in the WAL for the next start."""
    path = Path(path)
    if not has_wal_data(path):
        return
    try:
        con = sqlite3.connect(path, timeout=1)
    except sqlite3.Error as exc:
        raise DatabaseError(wal_full_message(path)) from exc
    try:
        busy, _log, _done = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy:  # another connection reads or writes: it will merge the WAL itself
            log.info("WAL of %s not merged now: the database is in use", path)
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (5, 6):
            log.info("WAL of %s not merged now: %s", path, exc)
            return
        log.warning("could not merge the WAL of %s: %s", path, exc)
        raise DatabaseError(wal_full_message(path)) from exc
    finally:
        con.close()


def backup_copy(db_file: Path, label: str) -> Path:
    """A consistent copy of a SQLite file beside it (online backup API), never over an earlier copy.

    Written under a temporary name and renamed when complete, so a copy that exists is a whole one."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{db_file.stem}.升级前备份-{label}-{stamp}"
    target = db_file.with_name(f"{base}{db_file.suffix}")
    n = 1
    while target.exists():
        n += 1
        target = db_file.with_name(f"{base}-{n}{db_file.suffix}")
    partial = target.with_name(target.name + ".part")
    if not partial.exists():
        paths.create_private_file(partial)  # a copy of the database is as private as the database
    src = sqlite3.connect(db_file)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    replace_file(partial, target)
    return target


def upgrade(engine: Engine) -> MigrationResult:
    """Bring the schema to the newest revision, keeping a copy of an existing file first."""
    before = check_not_newer(engine)
    head = head_revision()
    if before == head:
        return MigrationResult(before, head, None)
    backup = None
    db_file = db_path_of(str(engine.url))
    with engine.connect() as conn:
        tables = sorted(t for t in inspect(conn).get_table_names() if t != "alembic_version")
    if before is None and tables:
        # Tables but no schema revision: another program's database. Never add ours to it.
        raise _foreign_error(tables, _where(engine))
    if tables and db_file is not None and db_file.exists():
        backup = backup_copy(db_file, before or "无版本")
        log.info("database copied to %s before migration", backup)
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            # Batch migrations copy tables: foreign keys must be off meanwhile (cannot change in a transaction).
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("COMMIT")
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.exec_driver_sql("BEGIN")
            if engine.dialect.name == "postgresql":
                # Several clients may start against an old schema at once: one migrates, the others wait
                # here and then find nothing left to do (Alembic reads the revision again).
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if engine.dialect.name == "sqlite":
                # Checked before COMMIT, so a migration that breaks references changes nothing.
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"foreign key check failed: {problems[:5]}")
    except JzairError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure inside the transaction: nothing was written
        if isinstance(exc, OperationalError):
            translated = translate_operational_error(exc)
            if translated is not exc:
                raise translated from exc
        log.exception("migration %s -> %s failed", before, head)
        if engine.dialect.name != "sqlite" and "permission denied" in str(exc).lower():
            raise DatabaseError(
                f"数据库需要升级到本程序的架构版本（{before or '无'} → {head}），但当前账户没有修改数据库结构的权限："
                f"{server_display(engine.url)}\n请单位的信息技术人员用数据库所有者账户运行一次"
                "“jzair --db-url postgresql+psycopg://所有者账户@服务器/数据库名 init”；数据库未被改动。"
            ) from exc
        where = db_path_of(str(engine.url)) or engine.url.render_as_string(hide_password=True)
        copy = f"\n升级前的副本：{backup}" if backup is not None else ""
        raise DatabaseError(
            f"数据库升级失败（架构版本 {before or '无'} → {head}），数据库未被改动：{where}\n"
            f"原因：{type(exc).__name__}: {exc}{copy}\n请把日志文件交给技术支持人员。"
        ) from exc
    finally:
        engine.dispose()  # connections had foreign_keys switched off
    return MigrationResult(before, head, backup)
