"""Creating and upgrading the schema through Alembic (never `create_all`)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError

from jzair_desktop import paths
from jzair_desktop.errors import DatabaseBusyError, DatabaseError, JzairError
from jzair_desktop.storage.engine import db_path_of, translate_operational_error

log = logging.getLogger(__name__)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(paths.migrations_dir()))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SADatabaseError as exc:
        where = db_path_of(str(engine.url)) or engine.url.render_as_string(hide_password=True)
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


def check_not_newer(engine: Engine) -> str | None:
    rev = current_revision(engine)
    if rev is not None and rev not in known_revisions():
        where = db_path_of(str(engine.url)) or engine.url
        raise DatabaseError(
            f"该数据库由更新版本的程序创建（架构版本 {rev}），本程序无法打开：{where}\n"
            "请安装最新版本的程序后再打开；数据库文件未被改动。"
        )
    return rev


def backup_copy(db_file: Path, label: str) -> Path:
    """A consistent copy of a SQLite file beside it (online backup API)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = db_file.with_name(f"{db_file.stem}.升级前备份-{label}-{stamp}{db_file.suffix}")
    src = sqlite3.connect(db_file)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def upgrade(engine: Engine) -> MigrationResult:
    """Bring the schema to the newest revision, keeping a copy of an existing file first."""
    before = check_not_newer(engine)
    head = head_revision()
    if before == head:
        return MigrationResult(before, head, None)
    backup = None
    db_file = db_path_of(str(engine.url))
    if db_file is not None and db_file.exists() and db_file.stat().st_size > 0:
        with engine.connect() as conn:
            has_tables = bool(inspect(conn).get_table_names())
        if has_tables:
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
        where = db_path_of(str(engine.url)) or engine.url.render_as_string(hide_password=True)
        copy = f"\n升级前的副本：{backup}" if backup is not None else ""
        raise DatabaseError(
            f"数据库升级失败（架构版本 {before or '无'} → {head}），数据库未被改动：{where}\n"
            f"原因：{type(exc).__name__}: {exc}{copy}\n请把日志文件交给技术支持人员。"
        ) from exc
    finally:
        engine.dispose()  # connections had foreign_keys switched off
    return MigrationResult(before, head, backup)
