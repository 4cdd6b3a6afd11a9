"""Shared fixtures: every test gets its own data folder; `db` is a real, migrated database of its own.

In the storage, services and cli layers every test using `db` runs twice: on a SQLite file and on a database of
its own on a throw-away PostgreSQL server (tests/pgserver.py). Without a server the PostgreSQL half is skipped
(the summary says so); JZAIR_REQUIRE_PG=1 makes it fail instead. A test about SQLite's files themselves
(WAL, file modes, a full disk under the file) is marked `sqlite_only` with the reason.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# In CI (CI=true) the property tests draw the same examples on every run, so a run's colour depends on the
# change under test, not on chance; on a developer's machine they draw new examples each time (and keep the
# failing ones in .hypothesis/), which is where new counterexamples are found.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from jzair_desktop.services.database import Database  # noqa: E402
from tests import pgserver  # noqa: E402
from tests.dbtemplate import fresh_database, template_file  # noqa: E402
from tests.pgserver import pg_empty_url, pg_server, pg_url  # noqa: E402,F401 - fixtures

# The test layers run on both backends (the `backend` parameter of `db`).
BOTH_BACKENDS_LAYERS = ("storage", "services", "cli")
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): a test of SQLite's files; runs on the SQLite backend only")


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    layer = Path(str(metafunc.definition.path)).parent.name
    if layer in BOTH_BACKENDS_LAYERS and metafunc.definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """"sqlite" or "postgresql": the database `db` is on (SQLite outside the layers run on both)."""
    return getattr(request, "param", "sqlite")


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
def db(backend, db_path) -> Database:
    """A fresh database, migrated to the newest schema, with the plan's reference data.

    A copy of a template migrated once per test process (tests/dbtemplate.py, tests/pgserver.py): each test
    still gets its own SQLite file, or its own PostgreSQL database (dropped afterwards).
    """
    if backend == "postgresql":
        server = pgserver.server_or_skip()
        name = server.create_database(template=pgserver.migrated_template())
        try:
            database = fresh_database(db_path, url=server.url(name))
        except BaseException:
            server.drop_database(name)
            raise
        yield database
        database.dispose()
        server.drop_database(name)
        return
    database = fresh_database(db_path)
    yield database
    database.dispose()


@pytest.fixture(scope="session", autouse=True)
def _db_template():
    """Migrate the template database before any test can change the migrations folder (a test may)."""
    return template_file()


def _on_postgresql(item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("backend") == "postgresql":
        return True
    return "pg_server" in getattr(item, "fixturenames", ())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if _on_postgresql(item):
        outcome.get_result().user_properties.append(("postgresql", True))


def pytest_terminal_summary(terminalreporter):
    """Say plainly whether the PostgreSQL half ran (it is skipped when no server can be started)."""
    ran = skipped = 0
    reason = ""
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if ("postgresql", True) not in getattr(report, "user_properties", ()):
                continue
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "skipped":
                skipped += 1
                if not reason and isinstance(report.longrepr, tuple):
                    reason = str(report.longrepr[2])
            elif report.when == "call" or outcome == "error":
                ran += 1
    if not ran and not skipped:
        return
    if ran == 0:
        terminalreporter.write_line(
            f"PostgreSQL: NOT RUN - {skipped} PostgreSQL tests skipped ({reason or 'no server'}); "
            f"set {pgserver.REQUIRE_ENV}=1 to make that a failure", yellow=True, bold=True)
    else:
        terminalreporter.write_line(
            f"PostgreSQL: {ran} tests ran on a throw-away PostgreSQL server ({skipped} skipped)", green=True)
