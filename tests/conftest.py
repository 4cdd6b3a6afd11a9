"""Shared fixtures: every test gets its own data folder; `db` is a real, migrated SQLite file of its own."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# In CI (CI=true) the property tests draw the same examples on every run, so a run's colour depends on the
# change under test, not on chance; on a developer's machine they draw new examples each time (and keep the
# failing ones in .hypothesis/), which is where new counterexamples are found.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from jzair_desktop.services.database import Database  # noqa: E402
from tests.dbtemplate import fresh_database, template_file  # noqa: E402
from tests.pgserver import pg_empty_url, pg_server, pg_url  # noqa: E402,F401 - fixtures


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    data = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("JZAIR_DATA_DIR", str(data))
    monkeypatch.delenv("JZAIR_DB", raising=False)
    monkeypatch.delenv("JZAIR_PASSWORD", raising=False)
    return data


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test's credential store is a fresh one in memory (never the machine's own)."""
    import keyring

    from tests.memory_keyring import MemoryKeyring

    before = keyring.get_keyring()
    store = MemoryKeyring()
    keyring.set_keyring(store)
    yield store
    keyring.set_keyring(before)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "台账.sqlite3"


@pytest.fixture
def db(db_path) -> Database:
    """A fresh database file, migrated to the newest schema, with the plan's reference data.

    A copy of a template migrated once per test process (tests/dbtemplate.py): each test still gets its own file.
    """
    database = fresh_database(db_path)
    yield database
    database.dispose()


@pytest.fixture(scope="session", autouse=True)
def _db_template():
    """Migrate the template database before any test can change the migrations folder (a test may)."""
    return template_file()
