"""Shared fixtures: every test gets its own data folder; `db` is a real, migrated SQLite file."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from jzair_desktop.services.database import Database, load_reference_data, open_database  # noqa: E402
from jzair_desktop.storage.engine import sqlite_url  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    data = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("JZAIR_DATA_DIR", str(data))
    monkeypatch.delenv("JZAIR_DB", raising=False)
    monkeypatch.delenv("JZAIR_PASSWORD", raising=False)
    return data


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "台账.sqlite3"


@pytest.fixture
def db(db_path) -> Database:
    """A fresh database file, migrated to the newest schema, with the plan's reference data."""
    database, _ = open_database(sqlite_url(db_path), create=True)
    load_reference_data(database)
    yield database
    database.dispose()
