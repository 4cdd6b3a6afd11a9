"""A migrated database made once per test process and copied for each test that needs a fresh one.

Migrating a new file through Alembic takes 0.1-0.3 s; copying the result takes about a millisecond. Every
copy is a real, separate SQLite file (0600 like the program's own), opened through `open_database` exactly
as a new database is; under pytest-xdist each worker process makes its own template.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from jzair_desktop import paths
from jzair_desktop.services.database import Database, load_reference_data, open_database
from jzair_desktop.storage.engine import sqlite_url

_template: Path | None = None


def template_file() -> Path:
    """The closed template: migrated to the newest schema, with the plan's reference data. Never open it."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="jzair-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "模板.sqlite3"
        database, _ = open_database(sqlite_url(path), create=True)
        try:
            load_reference_data(database)
        finally:
            database.dispose()  # the last connection closes: the WAL is folded in and removed
        _template = path
    return _template


def copy_template(path: Path) -> Path:
    """Put a fresh copy of the template at `path` (which must not exist) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    paths.create_private_file(path)
    shutil.copyfile(template_file(), path)
    return path


def fresh_database(path: Path, *, url: str | None = None) -> Database:
    """A new database at `path` with the plan's reference data, as `open_database(create=True)` would make it.

    A file already at `path` is opened (and migrated) as it is, like `open_database(create=True)` does.
    With `url` (a server database copied from tests/pgserver.py's template) that database is opened instead.
    """
    if url is None and not path.exists():
        copy_template(path)
    database, _ = open_database(url or sqlite_url(path), create=True)
    try:
        load_reference_data(database)
    except BaseException:
        database.dispose()
        raise
    return database


def cli_db_args(database: Database) -> list[str]:
    """The command line options that name `database`: --db FILE for SQLite, --db-url URL for a server."""
    if database.path is not None:
        return ["--db", str(database.path)]
    return ["--db-url", database.url]


def db_args(where: Path | Database) -> list[str]:
    """--db FILE for a SQLite file given by path, else the options naming the test's database."""
    if isinstance(where, Database):
        return cli_db_args(where)
    return ["--db", str(where)]
