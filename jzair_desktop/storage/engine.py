"""The engine: opening a database file safely, with SQLite pragmas applied on every connection."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from jzair_desktop.errors import (
    DatabaseBusyError,
    DatabaseError,
    QueryTooComplex,
    ServerBusy,
    ServerUnavailable,
)
from jzair_desktop.storage import netshare

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
BUSY_TIMEOUT_ENV = "JZAIR_BUSY_TIMEOUT_MS"

BUSY_MESSAGE = "数据库正被另一个程序（或另一个窗口）使用，请稍后再试。"
READONLY_MESSAGE = "数据库是只读的，无法保存。请检查文件权限或存储介质是否写保护。"
FULL_MESSAGE = "磁盘空间已满，无法保存。本次操作的数据没有写入，请清理磁盘后重试。"
WRITE_FAILED_MESSAGE = (
    "写入数据库文件失败（磁盘空间可能已满、文件超过了系统允许的大小，或存储设备出错）。"
    "本次操作的数据没有写入，请清理磁盘或检查存储设备后重试。"
)
IO_MESSAGE = "读写数据库时发生磁盘错误，本次操作没有写入。请检查存储设备。"
CANTOPEN_MESSAGE = (
    "无法打开数据库文件：文件可能已被移走或删除、U 盘等存储设备已断开，或文件所在的介质是只读的。"
    "本次操作没有写入。"
)
TOO_COMPLEX_MESSAGE = "查询条件过长或过于复杂，数据库无法执行。请缩短搜索内容或减少筛选条件后重试；数据没有改动。"
# SQLite's words for a statement beyond its limits (a huge LIKE pattern, too many terms or variables).
_TOO_COMPLEX = ("pattern too complex", "expression tree is too large", "too many sql variables",
                "too many terms", "string or blob too big", "parser stack overflow", "statement too long")

# SQLite result codes (primary code = extended code & 0xFF).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 8, 10, 13, 14
_SQLITE_IOERR_WRITE = 778  # what a failed write() reports, e.g. EFBIG past a file size limit


def busy_timeout_ms() -> int:
    """How long a connection waits for another writer: 5 s, or JZAIR_BUSY_TIMEOUT_MS (read at each connect)."""
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not raw:
        return BUSY_TIMEOUT_MS
    try:
        return max(0, int(raw))
    except ValueError:
        log.warning("ignoring %s=%r (not a whole number of milliseconds)", BUSY_TIMEOUT_ENV, raw)
        return BUSY_TIMEOUT_MS


def sqlite_url(path: Path) -> str:
    if netshare.is_unc(str(path)):  # resolving would ask the network; such a file is refused anyway
        return "sqlite:///" + Path(path).as_posix()
    return "sqlite:///" + Path(path).resolve().as_posix()


def db_path_of(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


# SQLite's own limit on a database's full path, in UTF-8 bytes with its longest side file name ("-journal"):
# 512 in the unix VFS, 1040 in the win32 one. Windows itself stops at 259 characters unless long paths are on.
_SQLITE_MAX_PATH_BYTES = 1040 if sys.platform == "win32" else 512
_WINDOWS_MAX_PATH = 260


def _windows_long_paths_enabled() -> bool:
    """Windows 10 1607+: the LongPathsEnabled policy (the programs' manifests declare longPathAware).
    True where the question does not exist (Wine, which has no such limit)."""
    import ctypes

    try:
        ask = ctypes.windll.ntdll.RtlAreLongPathsEnabled
    except (AttributeError, OSError):
        return True
    ask.restype = ctypes.c_ubyte
    return bool(ask())


def path_too_long_message(path: Path) -> str | None:
    """A Chinese message when the database's path is longer than SQLite (or Windows) can open, else None."""
    full = os.path.abspath(path) + "-journal"
    chars = len(full) - len("-journal")
    if len(full.encode("utf-8", "surrogateescape")) >= _SQLITE_MAX_PATH_BYTES:
        limit = ""
    elif sys.platform == "win32" and len(full) >= _WINDOWS_MAX_PATH and not _windows_long_paths_enabled():
        limit = "这台电脑的 Windows 没有启用长路径支持，数据库的完整路径须少于 250 个字符。"
    else:
        return None
    return (
        f"数据库文件的路径太长（{chars} 个字符），无法打开：{path}\n{limit}"
        "请把数据库放到路径较短的文件夹中（如 D:\\台账），或用 --db 指定较短的路径；没有写入任何文件。"
    )


def check_database_file(path: Path, *, create: bool) -> None:
    """Refuse, with a message naming the file, what cannot be a usable database. Never writes to it."""
    path = Path(path)
    where = netshare.network_location(path)  # before any file call: a UNC path may take long to answer
    if where is not None:
        raise DatabaseError(netshare.network_share_message(path, where))
    too_long = path_too_long_message(path)
    if too_long:
        raise DatabaseError(too_long)
    if not path.exists():
        if not create:
            raise DatabaseError(f"数据库文件不存在：{path}\n请先运行“jzair init”创建数据库，或用 --db 指定正确的文件。")
        parent = path.parent
        if not parent.exists():
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"无法创建数据库所在文件夹：{parent}（{exc.strerror}）") from exc
        if not os.access(parent, os.W_OK):
            raise DatabaseError(f"无法在文件夹中创建数据库（没有写入权限）：{parent}")
        return
    if path.is_dir():
        raise DatabaseError(f"指定的数据库路径是一个文件夹，不是数据库文件：{path}")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(f"无法读取数据库文件：{path}（{exc.strerror}）") from exc
    if head and head != SQLITE_HEADER:
        raise DatabaseError(
            f"该文件不是本程序的数据库（不是 SQLite 数据库文件）：{path}\n请用 --db 指定正确的数据库文件；该文件未被改动。"
        )
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise DatabaseError(
            f"数据库文件或其所在文件夹是只读的：{path}\n请把数据库复制到可写的位置（如“文档”文件夹），或取消文件的只读属性。"
        )


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling breaks SAVEPOINT).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
        try:
            mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError:
            mode = None
        if str(mode).lower() != "wal":
            # Network shares and read-only media cannot hold WAL's shared memory.
            with contextlib.suppress(sqlite3.OperationalError):
                cur.execute("PRAGMA journal_mode=DELETE")
        cur.execute("PRAGMA synchronous=FULL")
    finally:
        cur.close()


def _on_begin(conn) -> None:  # noqa: ANN001 - SQLAlchemy Connection
    if conn.get_execution_options().get("immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite connections get foreign keys, WAL and a busy timeout; server connections
    a connect timeout (the client never hangs on a server that does not answer)."""
    parsed = parse_url(url)
    kwargs: dict = {}
    if parsed.get_backend_name() == "postgresql":
        # What the URL itself says (a saved connection of the GUI sets its own timeouts) is kept.
        defaults = {"connect_timeout": connect_timeout_s(), "application_name": "jzair"}
        kwargs["connect_args"] = {k: v for k, v in defaults.items() if k not in parsed.query}
        kwargs["pool_pre_ping"] = True  # a connection the server dropped meanwhile is replaced, not used
    engine = create_engine(parsed, echo=echo, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
    return engine


# --- server databases (PostgreSQL) -------------------------------------------------------------------------
CONNECT_TIMEOUT_S = 10
CONNECT_TIMEOUT_ENV = "JZAIR_CONNECT_TIMEOUT_S"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
URL_EXAMPLE = "postgresql+psycopg://用户名@服务器:5432/数据库名"


def connect_timeout_s() -> int:
    """Seconds to wait for a server to answer a connection: 10, or JZAIR_CONNECT_TIMEOUT_S (at least 1)."""
    raw = os.environ.get(CONNECT_TIMEOUT_ENV, "").strip()
    try:
        return max(1, int(raw)) if raw else CONNECT_TIMEOUT_S
    except ValueError:
        log.warning("ignoring %s=%r (not a whole number of seconds)", CONNECT_TIMEOUT_ENV, raw)
        return CONNECT_TIMEOUT_S


def parse_url(url: str) -> URL:
    """`url` parsed; a malformed URL or a database kind the program does not support is refused in Chinese.

    A PostgreSQL URL without a driver uses psycopg 3 (the driver the program ships)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"数据库地址格式不正确：{url_display(url)}\n正确的格式如：{URL_EXAMPLE}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseError(
            f"不支持的数据库类型“{backend}”：{url_display(url)}\n"
            f"本程序只支持本机的 SQLite 数据库文件（--db）和 PostgreSQL 服务器（如 {URL_EXAMPLE}）。"
        )
    if backend == "postgresql":
        driver = parsed.get_driver_name()
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        elif driver != "psycopg":
            raise DatabaseError(
                f"不支持的 PostgreSQL 驱动“{driver}”：{url_display(url)}\n请使用 postgresql+psycopg://…（或 postgresql://…）。"
            )
        if not parsed.database:
            raise DatabaseError(f"数据库地址中没有数据库名：{url_display(url)}\n正确的格式如：{URL_EXAMPLE}")
    return parsed


def url_display(url: str | URL) -> str:
    """A database URL as it may be shown or logged: never with its password."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))
    return parsed.render_as_string(hide_password=True)


def server_display(url: str | URL) -> str:
    """Where a server database is, for a message: 数据库 db（服务器 host:port，用户 user）."""
    u = url if isinstance(url, URL) else make_url(url)
    return f"服务器 {u.host or 'localhost'}:{u.port or 5432} 上的数据库“{u.database}”（账户 {u.username or '（未指定）'}）"


def translate_connect_error(exc: SQLAlchemyError, url: str | URL) -> Exception:
    """The user's message, naming the server, for a server that cannot be reached or refuses us when the
    database is opened; other errors unchanged (inside a session: translate_server_error)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    low = text.lower()
    where = server_display(url)
    if "password authentication failed" in low or "no password supplied" in low \
            or ("role" in low and "does not exist" in low):
        return DatabaseError(f"无法登录{where}：用户名或密码错误。\n请核对账户和密码（向单位的信息技术人员确认）。")
    if "database" in low and "does not exist" in low:
        return DatabaseError(f"服务器上没有这个数据库：{where}\n请核对数据库名，或请信息技术人员先在服务器上创建它。")
    if "timeout expired" in low or "timed out" in low:
        return DatabaseError(
            f"连接数据库服务器超时（{connect_timeout_s()} 秒内没有应答）：{where}\n"
            "请检查服务器是否开机、网络是否连通、防火墙是否放行该端口，然后重试。"
        )
    if "connection refused" in low or "could not connect" in low or "connection failed" in low \
            or "name or service not known" in low or "could not translate host name" in low \
            or "no route to host" in low or "network is unreachable" in low:
        return DatabaseError(
            f"无法连接到数据库服务器：{where}\n服务器可能没有启动，或服务器名、端口不对，或被防火墙阻挡。请检查后重试。"
        )
    if "permission denied" in low:
        return DatabaseError(f"数据库账户没有所需的权限：{where}\n请信息技术人员按说明为该账户授权。")
    if "server closed the connection" in low or "terminating connection" in low or "connection is lost" in low \
            or "consuming input failed" in low or "connection is closed" in low:
        return DatabaseError(SERVER_LOST_MESSAGE)
    return exc


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except OperationalError as exc:
            raise translate_operational_error(exc) from exc
        except InterfaceError as exc:  # psycopg: "the connection is closed" (lost before the statement)
            if not _is_server_error(exc):
                raise
            raise translate_server_error(exc) from exc


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction: commits on success, rolls back everything on any error.

    On SQLite it takes the write lock at BEGIN (BEGIN IMMEDIATE), so a second writer waits for the
    busy timeout and then gets a clear message, instead of failing half-way through.
    """
    bind = engine.execution_options(immediate=True) if engine.dialect.name == "sqlite" else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            with session.begin():
                yield session
        except OperationalError as exc:
            raise translate_operational_error(exc) from exc
        except InterfaceError as exc:  # psycopg: "the connection is closed" (lost before the statement)
            if not _is_server_error(exc):
                raise
            raise translate_server_error(exc) from exc


def translate_operational_error(exc: DBAPIError) -> Exception:
    """The user's message for a SQLite failure (busy, read-only, disk full, write error) or a server's (lost
    connection, busy); other errors unchanged."""
    if _is_server_error(exc):
        return translate_server_error(exc)
    orig = exc.orig
    text = str(orig).lower() if orig is not None else str(exc).lower()
    code = getattr(orig, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text or "busy" in text:
        return DatabaseBusyError(BUSY_MESSAGE)
    if primary == _SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return DatabaseError(READONLY_MESSAGE)
    if primary == _SQLITE_FULL or "disk is full" in text or "database or disk is full" in text:
        return DatabaseError(FULL_MESSAGE)
    if code == _SQLITE_IOERR_WRITE:
        return DatabaseError(WRITE_FAILED_MESSAGE)
    if primary == _SQLITE_IOERR or "disk i/o" in text:
        return DatabaseError(IO_MESSAGE)
    if primary == _SQLITE_CANTOPEN or "unable to open database file" in text:
        return DatabaseError(CANTOPEN_MESSAGE)
    if any(words in text for words in _TOO_COMPLEX):
        return QueryTooComplex(TOO_COMPLEX_MESSAGE)
    return exc


# ------------------------------------------------------------------------------------------- PostgreSQL
SERVER_LOST_MESSAGE = (
    "与数据库服务器的连接已断开（网络中断，或服务器已停止/重启）。本次操作没有写入任何数据；"
    "请检查网络后再试。"
)
SERVER_BUSY_MESSAGE = "数据库服务器正忙：其他人正在修改同一批数据。本次操作没有写入任何数据，请稍后再试。"
SERVER_DOWN_MESSAGE = "无法连接数据库服务器：服务器没有启动，或服务器地址、端口不对，或被防火墙拦截。"
SERVER_TIMEOUT_MESSAGE = "连接数据库服务器超时：服务器在规定时间内没有响应。请检查网络、服务器地址和防火墙。"
# (words in psycopg's / libpq's message, the user's message); the first match wins.
_SERVER_MESSAGES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("password authentication failed", "no password supplied", "password is required"),
     "服务器拒绝登录：密码错误，或该账户不存在。"),
    (("no pg_hba.conf entry",),
     "服务器不允许这台电脑连接（服务器的 pg_hba.conf 中没有允许本机的条目），请服务器管理员添加。"),
    (("does not exist",), "服务器上没有这个数据库或账户，请检查数据库名和账户，或请服务器管理员先创建。"),
    (("timeout expired", "timed out"), SERVER_TIMEOUT_MESSAGE),
    (("invalid response to ssl negotiation", "received invalid response", "invalid startup packet"),
     "该地址和端口上不是 PostgreSQL 数据库服务器，请检查服务器地址和端口。"),
    (("could not translate host name", "failed to resolve host", "name or service not known",
      "nodename nor servname", "no such host", "temporary failure in name resolution"),
     "找不到数据库服务器：请检查服务器的计算机名或 IP 地址。"),
    (("connection refused", "is the server running", "the database system is starting up",
      "the database system is shutting down", "no route to host", "network is unreachable"),
     SERVER_DOWN_MESSAGE),
    (("too many clients", "remaining connection slots"),
     "数据库服务器的连接数已满，请稍后重试，或请服务器管理员调大 max_connections。"),
    (("server closed the connection", "terminating connection", "connection is lost", "connection is closed",
      "connection already closed", "consuming input failed", "ssl syscall", "could not receive data",
      "could not send data", "eof detected", "connection reset", "broken pipe", "lost synchronization",
      "server conn crashed"),
     SERVER_LOST_MESSAGE),
    (("deadlock detected", "could not serialize access", "lock timeout", "could not obtain lock",
      "canceling statement due to statement timeout"),
     SERVER_BUSY_MESSAGE),
    (("permission denied", "must be owner"),
     "数据库账户没有执行此操作所需的权限。请服务器管理员按说明书“多人共用（服务器模式）”一节授予权限；"
     "升级数据库架构须用架构所有者账户。本次操作没有写入。"),
)
_RETRY_LATER = frozenset({SERVER_LOST_MESSAGE, SERVER_DOWN_MESSAGE, SERVER_TIMEOUT_MESSAGE})


def _is_server_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return orig is not None and type(orig).__module__.split(".")[0] == "psycopg"


def server_error_message(exc: BaseException) -> str | None:
    """The user's message for a database server's failure (connecting, a lost connection, busy), else None."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).lower()
    for words, message in _SERVER_MESSAGES:
        if any(w in text for w in words):
            return message
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return SERVER_LOST_MESSAGE
    return None


def translate_server_error(exc: DBAPIError) -> Exception:
    """A server's failure as the error the user sees: ServerUnavailable (lost or unreachable: 重试 once it is
    back), ServerBusy (a conflicting writer: 重试), DatabaseError; other errors unchanged."""
    message = server_error_message(exc)
    if message is None:
        return exc
    if message in _RETRY_LATER:
        return ServerUnavailable(message)
    if message == SERVER_BUSY_MESSAGE:
        return ServerBusy(message)
    return DatabaseError(message)
