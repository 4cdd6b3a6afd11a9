"""A throw-away PostgreSQL server for the tests: one cluster per test process, a fresh database per test.

The cluster is made with `initdb` and started with `pg_ctl` on a free local TCP port (127.0.0.1 only), with
password logins (scram-sha-256) so that a wrong password is refused as on an office server, and with the
durability settings off (fsync, full_page_writes, synchronous_commit) because nothing in it is kept. It is
started once, on first use, by the test process that needs it (each pytest-xdist worker makes its own), and
stopped and deleted when that process ends.

PostgreSQL refuses to run as root: when the tests run as root (CI), the server binaries run as an unprivileged
account through `runuser` -- JZAIR_PG_OS_USER, else `postgres` (Debian's package makes it), else `nobody`.

Where the binaries are: JZAIR_PG_BIN (a folder), else the newest /usr/lib/postgresql/<version>/bin (15 or
newer), else `initdb` and `pg_ctl` on PATH. JZAIR_TEST_PG_URL names an existing server instead (an account
that may create databases, e.g. postgresql+psycopg://jzair:secret@dbhost:5432/postgres).

When no server can be started the PostgreSQL tests are skipped with the reason; JZAIR_REQUIRE_PG=1 (CI)
turns that into a failure.

A fresh database per test: `create_database(template=...)` copies a database with CREATE DATABASE ...
TEMPLATE (milliseconds, against a second or more for migrating a new one); `migrated_template()` is such a
template, migrated to the newest schema with the plan's reference data, made once per process.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PG_BIN_ENV = "JZAIR_PG_BIN"
PG_OS_USER_ENV = "JZAIR_PG_OS_USER"
PG_URL_ENV = "JZAIR_TEST_PG_URL"
REQUIRE_ENV = "JZAIR_REQUIRE_PG"
MIN_VERSION = 15
SUPERUSER = "jzair_test"
DRIVER = "postgresql+psycopg"
START_TIMEOUT_S = 60

_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "shared_buffers": "32MB",
    "max_connections": "200",
    "max_wal_size": "256MB",
    "checkpoint_timeout": "30min",
    "log_min_messages": "warning",
    "logging_collector": "off",
    "timezone": "UTC",
    "lc_messages": "C",
}


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server could be had here (binaries missing, start failed); the message says why."""


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "no", "false")


def find_bin_dir() -> Path:
    """The folder holding initdb, pg_ctl and postgres (version 15 or newer)."""
    given = os.environ.get(PG_BIN_ENV, "").strip()
    if given:
        folder = Path(given)
        if not (folder / "initdb").exists():
            raise ServerUnavailable(f"{PG_BIN_ENV}={given} has no initdb")
        return folder
    # Debian's folder, on POSIX only: under Wine "/usr/lib/postgresql" is the Linux folder seen through drive Z:,
    # whose programs a Windows Python cannot run.
    root = Path("/usr/lib/postgresql")
    if os.name == "posix" and root.is_dir():
        versions = sorted(
            (int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / "bin" / "initdb").exists()),
            reverse=True,
        )
        if versions and versions[0] >= MIN_VERSION:
            return root / str(versions[0]) / "bin"
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    raise ServerUnavailable(
        f"PostgreSQL {MIN_VERSION}+ server binaries not found (install Debian's postgresql, or set {PG_BIN_ENV})"
    )


def _os_user() -> str | None:
    """The account the server runs as when we are root (None: run as ourselves)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd  # POSIX only; root is a POSIX notion here (on Windows the server runs as ourselves)

    given = os.environ.get(PG_OS_USER_ENV, "").strip()
    for name in ([given] if given else ["postgres", "nobody"]):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise ServerUnavailable(f"running as root and no unprivileged account for PostgreSQL ({PG_OS_USER_ENV})")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _url(user: str, password: str, host: str, port: int, database: str) -> str:
    from sqlalchemy.engine import URL

    return URL.create(DRIVER, username=user, password=password, host=host, port=port,
                      database=database).render_as_string(hide_password=False)


@dataclass
class PgServer:
    """A running server this process may create and drop databases on."""

    host: str
    port: int
    user: str
    password: str
    maintenance_db: str = "postgres"
    data_dir: Path | None = None  # set when this process started the server (and must stop it)
    bin_dir: Path | None = None
    os_user: str | None = None
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _admin: object | None = None  # a psycopg connection in autocommit mode

    # -- URLs -------------------------------------------------------------------------------------------------
    def url(self, database: str, *, user: str | None = None, password: str | None = None) -> str:
        """A SQLAlchemy URL (postgresql+psycopg://...) for `database` on this server."""
        return _url(user or self.user, self.password if password is None else password,
                    self.host, self.port, database)

    def libpq_kwargs(self, database: str) -> dict:
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password,
                "dbname": database, "connect_timeout": 10}

    # -- administration ---------------------------------------------------------------------------------------
    def admin(self):  # noqa: ANN201 - psycopg.Connection
        """The process's own autocommit connection to the maintenance database (CREATE/DROP DATABASE)."""
        import psycopg

        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(**self.libpq_kwargs(self.maintenance_db), autocommit=True)
        return self._admin

    def execute(self, sql: str) -> None:
        self.admin().execute(sql)

    def new_name(self, prefix: str = "t") -> str:
        return f"jz{prefix}_{os.getpid()}_{next(self._counter)}_{secrets.token_hex(3)}"

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (empty, or a copy of `template`, which must have no connections); its name."""
        name = name or self.new_name()
        sql = f"CREATE DATABASE {quote_ident(name)}"
        if template:
            self.execute(sql + f" TEMPLATE {quote_ident(template)} STRATEGY FILE_COPY")
            return name
        # A Chinese collation by default, as on a server installed on a Chinese Windows: text sorts by pinyin
        # there, not by code point as in SQLite (the product must not depend on the server's collation).
        try:
            self.execute(sql + " TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'zh-Hans-CN'"
                         " LC_COLLATE 'C' LC_CTYPE 'C'")
        except Exception:  # a server built without ICU
            self.execute(sql + " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections are still open to it."""
        self.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")

    def stop(self) -> None:
        """Close our connection; stop and delete the cluster if this process started it."""
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
        if self.data_dir is None or self.bin_dir is None:
            return
        data, self.data_dir = self.data_dir, None
        with contextlib.suppress(Exception):
            _run(self.bin_dir, self.os_user, ["pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w"],
                 timeout=60)
        shutil.rmtree(data.parent, ignore_errors=True)


def _run(bin_dir: Path, os_user: str | None, argv: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    cmd = [str(bin_dir / argv[0]), *argv[1:]]
    if os_user is not None:
        cmd = ["runuser", "-u", os_user, "--", *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd="/", check=False,
                          stdin=subprocess.DEVNULL)


def _watch(bin_dir: Path, os_user: str | None, data: Path, folder: Path) -> None:
    """A watchdog that stops and deletes the cluster when this process is gone without doing it itself
    (killed, a pytest-xdist worker crashed): no server outlives its test run. It polls every 2 s and ends
    with the process; it has its own session, so killing the test run's process group leaves it to clean up."""
    if sys.platform == "win32":
        return
    stop = [str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"]
    if os_user is not None:
        stop = ["runuser", "-u", os_user, "--", *stop]
    script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
              f"{' '.join(shlex.quote(a) for a in stop)} >/dev/null 2>&1; rm -rf {shlex.quote(str(folder))}")
    subprocess.Popen(["sh", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True, cwd="/")


def start_server() -> PgServer:
    """initdb + pg_ctl start a new cluster on a free port; raises ServerUnavailable with the reason."""
    bin_dir = find_bin_dir()
    os_user = _os_user()
    folder = Path(tempfile.mkdtemp(prefix="jzair-pg-"))
    data = folder / "data"
    password = secrets.token_urlsafe(16)
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if os_user is not None:
        import pwd

        entry = pwd.getpwnam(os_user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    try:
        init = _run(bin_dir, os_user, [
            "initdb", "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}", "-E", "UTF8",
            "--locale=C", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions",
        ], timeout=180)
        if init.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {(init.stderr or init.stdout).strip()[-800:]}")
        pwfile.unlink()
        options = " ".join(f"-c {k}={v}" for k, v in _SERVER_SETTINGS.items())
        log_file = folder / "server.log"
        for _attempt in range(5):
            port = _free_port()
            start = _run(bin_dir, os_user, [
                "pg_ctl", "start", "-D", str(data), "-w", "-t", str(START_TIMEOUT_S), "-l", str(log_file),
                "-o", f"-p {port} -k {folder} {options}",
            ], timeout=START_TIMEOUT_S + 30)
            if start.returncode == 0:
                break
            log_text = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
            if "could not bind" not in log_text and "already in use" not in log_text:
                raise ServerUnavailable(f"pg_ctl start failed: {(start.stderr or start.stdout).strip()[-400:]}"
                                        f"\n{log_text[-800:]}")
        else:
            raise ServerUnavailable("pg_ctl start failed: no free port after 5 tries")
    except ServerUnavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ServerUnavailable(f"could not run the PostgreSQL binaries: {exc}") from exc
    server = PgServer("127.0.0.1", port, SUPERUSER, password, data_dir=data, bin_dir=bin_dir, os_user=os_user)
    atexit.register(server.stop)
    _watch(bin_dir, os_user, data, folder)
    deadline = time.monotonic() + 30
    while True:  # pg_ctl -w has seen the server accept connections; make sure ours gets in
        try:
            server.admin()
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                server.stop()
                raise ServerUnavailable(f"server started but refuses connections: {exc}") from exc
            time.sleep(0.2)
    return server


def external_server(url: str) -> PgServer:
    """A server named by JZAIR_TEST_PG_URL (never stopped or deleted by us)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    server = PgServer(u.host or "127.0.0.1", u.port or 5432, u.username or "", u.password or "",
                      maintenance_db=u.database or "postgres")
    try:
        server.admin()
    except Exception as exc:
        raise ServerUnavailable(f"{PG_URL_ENV}: cannot connect: {exc}") from exc
    atexit.register(server.stop)
    return server


_server: PgServer | None = None
_unavailable: str | None = None


def server() -> PgServer:
    """The process's server, started on first use; raises ServerUnavailable (remembered) when there is none."""
    global _server, _unavailable
    if _server is not None:
        return _server
    if _unavailable is not None:
        raise ServerUnavailable(_unavailable)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable = "psycopg is not installed (pip install 'psycopg[binary]')"
        raise ServerUnavailable(_unavailable) from None
    try:
        url = os.environ.get(PG_URL_ENV, "").strip()
        _server = external_server(url) if url else start_server()
    except ServerUnavailable as exc:
        _unavailable = str(exc)
        raise
    return _server


def server_or_skip() -> PgServer:
    """The server, or skip the test saying why (a failure instead under JZAIR_REQUIRE_PG=1)."""
    try:
        return server()
    except ServerUnavailable as exc:
        if required():
            pytest.fail(f"PostgreSQL required ({REQUIRE_ENV}=1) but unavailable: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL server unavailable: {exc}")


_template_name: str | None = None


def migrated_template() -> str:
    """The name of a database migrated to the newest schema with the plan's reference data (made once).

    Used only as a template: it is never connected to after it is made.
    """
    global _template_name
    if _template_name is None:
        from jzair_desktop.services.database import load_reference_data, open_database

        srv = server()
        name = srv.create_database(srv.new_name("template"))
        database, _ = open_database(srv.url(name), create=True)
        try:
            load_reference_data(database)
        finally:
            database.dispose()
        _template_name = name
    return _template_name



# -- pytest fixtures (tests/conftest.py imports them) ---------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    """The test process's PostgreSQL server (skips the test when none can be started)."""
    return server_or_skip()


@pytest.fixture
def pg_empty_url(pg_server: PgServer):
    """The URL of a new, empty database (no schema) of the test's own, dropped afterwards."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def pg_url(pg_server: PgServer):
    """The URL of a new database of the test's own, migrated with the plan's reference data, dropped afterwards."""
    name = pg_server.create_database(template=migrated_template())
    yield pg_server.url(name)
    pg_server.drop_database(name)


if __name__ == "__main__":  # a quick check by hand: python -m tests.pgserver
    t0 = time.monotonic()
    srv = server()
    print(f"server on port {srv.port} in {time.monotonic() - t0:.2f} s", file=sys.stderr)
    t0 = time.monotonic()
    tpl = migrated_template()
    print(f"migrated template in {time.monotonic() - t0:.2f} s", file=sys.stderr)
    t0 = time.monotonic()
    names = [srv.create_database(template=tpl) for _ in range(10)]
    print(f"10 copies in {time.monotonic() - t0:.2f} s", file=sys.stderr)
    for n in names:
        srv.drop_database(n)
    srv.stop()
