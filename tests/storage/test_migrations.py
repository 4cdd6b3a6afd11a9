"""The schema is made and changed only by the Alembic migrations under db/, and they agree with the models."""

from __future__ import annotations

import re
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from jzair_desktop import paths
from jzair_desktop.errors import DatabaseError
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.storage import migrate
from jzair_desktop.storage.engine import make_engine, sqlite_url
from jzair_desktop.storage.models import Base

PACKAGE = Path(__file__).resolve().parents[2] / "jzair_desktop"


def dump(path: Path) -> list[str]:
    """The whole content of a SQLite file as SQL statements (independent of page layout)."""
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def revision_of(path: Path) -> str | None:
    con = sqlite3.connect(path)
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def backups_beside(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if "升级前备份" in p.name)


def older_revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    head = script.get_current_head()
    return [s.revision for s in script.walk_revisions() if s.revision != head]


def migrate_to(path: Path, revision: str) -> None:
    """A database file at `revision`, made with Alembic the way an older version of the program left it."""
    engine = make_engine(sqlite_url(path))
    try:
        cfg = migrate.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def test_upgrade_from_empty_reaches_head(db_path):
    assert not db_path.exists()
    db, result = open_database(sqlite_url(db_path), create=True)
    try:
        head = migrate.head_revision()
        assert result is not None
        assert (result.before, result.after, result.backup) == (None, head, None)
        assert migrate.current_revision(db.engine) == head
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    finally:
        db.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert revision_of(db_path) == head


def test_models_and_migrations_agree(db):
    """Autogenerate's comparison of the migrated schema with the models finds nothing to change (no drift)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True, "target_metadata": Base.metadata}
        )
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == [], "models and migrations differ; add a migration under db/versions:\n" + "\n".join(
        map(repr, diffs)
    )


def test_every_revision_has_a_predecessor_chain_to_one_head():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    revisions = list(script.walk_revisions())
    assert [r for r in revisions if r.down_revision is None] == [revisions[-1]]


def test_production_code_never_creates_tables_itself():
    """Tables come from the migrations only: no create_all / Table.create in the package."""
    pattern = re.compile(r"\.create_all\(|\b__table__\.create\(|\bTable\([^)]*\)\.create\(")
    offenders = [
        f"{p.relative_to(PACKAGE.parent)}:{n}"
        for p in PACKAGE.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_a_new_database_keeps_no_backup(db_path):
    db, result = open_database(sqlite_url(db_path), create=True)
    db.dispose()
    assert result is not None and result.backup is None
    assert backups_beside(db_path) == []


def test_an_up_to_date_database_is_left_alone(db_path):
    db, _ = open_database(sqlite_url(db_path), create=True)
    load_reference_data(db)
    db.dispose()
    before = dump(db_path)
    db, result = open_database(sqlite_url(db_path))
    db.dispose()
    assert result is None
    assert backups_beside(db_path) == []
    assert dump(db_path) == before


def test_an_existing_empty_file_is_migrated_without_a_backup(db_path):
    db_path.write_bytes(b"")
    db, result = open_database(sqlite_url(db_path), create=True)
    db.dispose()
    assert result is not None and result.before is None and result.backup is None
    assert revision_of(db_path) == migrate.head_revision()


@pytest.fixture
def next_release(tmp_path, monkeypatch):
    """Call it to switch to a copy of db/ with one more revision ("9999") on top of the real head, as the next
    release will ship; returns the real head."""

    def switch(*, fail: bool = False) -> str:
        head = migrate.head_revision()
        scripts = tmp_path / "db-next"
        shutil.copytree(paths.migrations_dir(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
        (scripts / "versions" / "9999_probe.py").write_text(
            textwrap.dedent(
                f"""\
                import sqlalchemy as sa
                from alembic import op

                revision = "9999"
                down_revision = "{head}"
                branch_labels = None
                depends_on = None


                def upgrade() -> None:
                    op.create_table("zz_probe", sa.Column("id", sa.Integer(), primary_key=True))
                    with op.batch_alter_table("units") as batch:
                        batch.add_column(sa.Column("zz_note", sa.Text(), nullable=True))
                    op.execute("UPDATE units SET zz_note = name")
                    {"raise RuntimeError('probe: this migration fails half-way')" if fail else "pass"}
                """
            ),
            encoding="utf-8",
        )
        monkeypatch.setattr(paths, "migrations_dir", lambda: scripts)
        assert migrate.head_revision() == "9999"
        return head

    return switch


def test_a_copy_is_kept_beside_the_file_before_a_migration_changes_it(tmp_path, next_release):
    folder = tmp_path / "县里的数据"
    folder.mkdir()
    db_path = folder / "台账.sqlite3"
    db, _ = open_database(sqlite_url(db_path), create=True)
    load_reference_data(db)
    db.dispose()
    before = dump(db_path)

    old_head = next_release()
    db, result = open_database(sqlite_url(db_path))
    try:
        with db.engine.connect() as conn:
            assert "zz_probe" in inspect(conn).get_table_names()
    finally:
        db.dispose()
    assert result is not None and (result.before, result.after) == (old_head, "9999")
    assert result.backup is not None and result.backup.parent == folder
    assert backups_beside(db_path) == [result.backup]
    assert old_head in result.backup.name and result.backup.suffix == ".sqlite3"
    assert revision_of(result.backup) == old_head
    assert dump(result.backup) == before
    assert revision_of(db_path) == "9999"


def test_a_failed_migration_leaves_the_database_as_it_was(tmp_path, next_release, capsys):
    db_path = tmp_path / "台账.sqlite3"
    db, _ = open_database(sqlite_url(db_path), create=True)
    load_reference_data(db)
    db.dispose()
    before = dump(db_path)
    old_head = next_release(fail=True)

    with pytest.raises(DatabaseError) as info:
        open_database(sqlite_url(db_path))
    message = str(info.value)
    assert "升级失败" in message and str(db_path) in message and "未被改动" in message
    assert dump(db_path) == before
    assert revision_of(db_path) == old_head
    [backup] = backups_beside(db_path)
    assert str(backup) in message and dump(backup) == before

    from jzair_desktop.cli import main

    assert main(["--db", str(db_path), "info"]) == 2
    assert "升级失败" in capsys.readouterr().err
    assert dump(db_path) == before


def test_a_database_of_the_next_release_is_refused_and_left_unchanged(tmp_path, next_release, monkeypatch):
    db_path = tmp_path / "新版本.sqlite3"
    this_release = paths.migrations_dir
    next_release()
    db, _ = open_database(sqlite_url(db_path), create=True)
    db.dispose()
    assert revision_of(db_path) == "9999"
    monkeypatch.setattr(paths, "migrations_dir", this_release)
    before = db_path.read_bytes()

    with pytest.raises(DatabaseError, match="更新版本") as info:
        open_database(sqlite_url(db_path))
    assert str(db_path) in str(info.value) and "9999" in str(info.value)
    assert db_path.read_bytes() == before
    assert backups_beside(db_path) == []


@pytest.mark.parametrize("revision", older_revisions())
def test_upgrade_from_each_released_revision_keeps_data_and_a_copy(tmp_path, revision):
    db_path = tmp_path / f"旧版-{revision}.sqlite3"
    migrate_to(db_path, revision)
    con = sqlite3.connect(db_path)
    con.execute("INSERT INTO app_meta (key, value) VALUES ('probe', '旧数据')")
    con.commit()
    con.close()
    before = dump(db_path)

    db, result = open_database(sqlite_url(db_path))
    db.dispose()
    assert result is not None and (result.before, result.after) == (revision, migrate.head_revision())
    assert result.backup is not None and dump(result.backup) == before
    con = sqlite3.connect(db_path)
    assert con.execute("SELECT value FROM app_meta WHERE key = 'probe'").fetchone() == ("旧数据",)
    con.close()


@pytest.mark.sqlite_only("the copy of a SQLite file kept beside it")
def test_backup_copies_never_overwrite_each_other(db):
    first = migrate.backup_copy(db.path, "0001")
    second = migrate.backup_copy(db.path, "0001")
    assert first != second and first.is_file() and second.is_file()
    assert dump(first) == dump(second) == dump(db.path)
    assert not list(db.path.parent.glob("*.part"))


# --- the same migrations on a PostgreSQL server (tests/pgserver.py) -----------------------------------------

def test_upgrade_from_empty_reaches_head_on_a_server(pg_empty_url):
    db, result = open_database(pg_empty_url, create=True)
    try:
        head = migrate.head_revision()
        assert result is not None and (result.before, result.after, result.backup) == (None, head, None)
        assert migrate.current_revision(db.engine) == head
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        load_reference_data(db)
    finally:
        db.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


@pytest.mark.parametrize("revision", older_revisions())
def test_upgrade_from_each_released_revision_keeps_data_on_a_server(pg_empty_url, revision):
    engine = make_engine(pg_empty_url)
    try:
        cfg = migrate.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO app_meta (key, value) VALUES ('probe', '旧数据')")
    finally:
        engine.dispose()
    db, result = open_database(pg_empty_url)
    try:
        assert result is not None and (result.before, result.after) == (revision, migrate.head_revision())
        assert result.backup is None  # a server's backups are the office's pg_dump (README)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT value FROM app_meta WHERE key = 'probe'").scalar() == "旧数据"
    finally:
        db.dispose()


def test_two_clients_starting_on_an_empty_server_database_at_once_both_open_it(pg_empty_url):
    import threading

    results: list[object] = []

    def start() -> None:
        try:
            db, _ = open_database(pg_empty_url, create=True)
            results.append(migrate.current_revision(db.engine))
            db.dispose()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=start, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [migrate.head_revision()] * 2


def test_a_login_without_schema_rights_gets_a_message_naming_the_owner_step(pg_server, pg_empty_url):
    """PostgreSQL 15 lets only the owner create tables in `public`: the office's app login cannot migrate."""
    from sqlalchemy.engine import make_url

    from tests.pgserver import quote_ident

    login = pg_server.new_name("login")
    database = make_url(pg_empty_url).database
    pg_server.execute(f"CREATE ROLE {quote_ident(login)} LOGIN PASSWORD 'clerk-pass'")
    try:
        pg_server.execute(f"GRANT CONNECT ON DATABASE {quote_ident(database)} TO {quote_ident(login)}")
        with pytest.raises(DatabaseError) as info:
            open_database(pg_server.url(database, user=login, password="clerk-pass"), create=True)
        message = str(info.value)
        assert "没有修改数据库结构的权限" in message and "init" in message and "clerk-pass" not in message
        engine = make_engine(pg_empty_url)
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []  # nothing half-made
        engine.dispose()
    finally:
        pg_server.drop_database(database)
        pg_server.execute(f"DROP ROLE IF EXISTS {quote_ident(login)}")
