"""Server mode: a connection to the office's PostgreSQL server, its password in the OS credential store.

The connection's fields (server, port, database, account) are plain data the GUI keeps in its settings file;
the password never goes there: it is asked for at start, or kept through `keyring` (Windows: the Credential
Manager) when the user ticks 记住密码. No Qt here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from jzair_desktop.errors import DatabaseError, JzairError, ValidationFailed
from jzair_desktop.services.database import Database, open_database
from jzair_desktop.storage.engine import translate_server_error

log = logging.getLogger(__name__)

DRIVER = "postgresql+psycopg"
DEFAULT_PORT = 5432
DEFAULT_DATABASE = "jzair"
DEFAULT_ACCOUNT = "jzair_app"
CONNECT_TIMEOUT_S = 10
# A write waiting longer than this for another clerk's lock gives up (nothing written) and offers 重试.
LOCK_TIMEOUT_MS = 15_000
# A server that stops answering in the middle of an operation (a cable pulled, a server switched off) is noticed
# within about half a minute instead of the window waiting for ever: unacknowledged data and TCP keepalives.
TCP_USER_TIMEOUT_MS = 30_000
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "20", "keepalives_interval": "5", "keepalives_count": "3"}
KEYRING_SERVICE = "jzair_desktop 数据库服务器"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.\-:]{0,252})$")  # a name, IPv4 or IPv6 address


@dataclass(frozen=True)
class ServerConnection:
    """Where the office's database lives and which PostgreSQL login the program uses (never the password)."""

    host: str
    port: int = DEFAULT_PORT
    database: str = DEFAULT_DATABASE
    account: str = DEFAULT_ACCOUNT

    def problems(self) -> list[str]:
        """What is wrong with the fields, in words (empty: usable)."""
        out = []
        if not self.host.strip():
            out.append("请填写服务器（计算机名或 IP 地址）。")
        elif not _HOST.match(self.host.strip()):
            out.append(f"服务器“{self.host}”不是有效的计算机名或 IP 地址（不要带 http:// 或路径）。")
        if not 1 <= int(self.port) <= 65535:
            out.append(f"端口 {self.port} 无效，应为 1～65535 之间的整数（PostgreSQL 默认 {DEFAULT_PORT}）。")
        if not _NAME.match(self.database.strip()):
            out.append(f"数据库名“{self.database}”无效：只能用英文字母、数字和下划线，且不能以数字开头。")
        if not _NAME.match(self.account.strip()):
            out.append(f"账户“{self.account}”无效：只能用英文字母、数字和下划线，且不能以数字开头。")
        return out

    def checked(self) -> ServerConnection:
        """The connection with surrounding blanks removed; refused with the problems when it is not usable."""
        problems = self.problems()
        if problems:
            raise ValidationFailed("\n".join(problems), problems)
        return ServerConnection(self.host.strip(), int(self.port), self.database.strip(), self.account.strip())

    @property
    def label(self) -> str:
        """How the connection is named to the user: 账户@服务器:端口/数据库."""
        return f"{self.account}@{self.host}:{self.port}/{self.database}"

    @property
    def credential_name(self) -> str:
        """The entry's user name in the credential store (one password per account, server and database)."""
        return self.label

    def url(self, password: str | None) -> str:
        """The SQLAlchemy URL (psycopg 3) with the connect and lock timeouts and the keepalives; the password
        inside is never shown (str of a URL object hides it; Database.location too)."""
        query = {"connect_timeout": str(CONNECT_TIMEOUT_S), "application_name": "jzair_desktop",
                 "options": f"-c lock_timeout={int(LOCK_TIMEOUT_MS)}", "tcp_user_timeout": str(TCP_USER_TIMEOUT_MS),
                 **KEEPALIVES}
        return URL.create(
            DRIVER, username=self.account, password=password or None, host=self.host, port=int(self.port),
            database=self.database, query=query,
        ).render_as_string(hide_password=False)

    def as_settings(self) -> dict[str, Any]:
        """The fields the settings file keeps (no password, by construction)."""
        return {"host": self.host, "port": int(self.port), "database": self.database, "account": self.account}

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> ServerConnection | None:
        """The saved connection, or None when none is saved (or what is saved is unusable)."""
        host = str(values.get("host") or "").strip()
        if not host:
            return None
        try:
            port = values.get("port")
            conn = cls(host, DEFAULT_PORT if port in (None, "") else int(port),
                       str(values.get("database") or DEFAULT_DATABASE),
                       str(values.get("account") or DEFAULT_ACCOUNT))
        except (TypeError, ValueError):
            return None
        return None if conn.problems() else conn


# ------------------------------------------------------------------------------------- credential store
def _keyring() -> Any:
    import keyring

    return keyring


def saved_password(conn: ServerConnection) -> str | None:
    """The password kept in the OS credential store for `conn`, or None (none kept, or no store usable)."""
    try:
        return _keyring().get_password(KEYRING_SERVICE, conn.credential_name)
    except Exception as exc:  # noqa: BLE001 - a broken store means: ask for the password
        log.warning("cannot read the credential store: %s", exc)
        return None


def remember_password(conn: ServerConnection, password: str) -> None:
    """Keep `password` in the OS credential store. Refused with a message when there is no usable store."""
    try:
        _keyring().set_password(KEYRING_SERVICE, conn.credential_name, password)
    except Exception as exc:  # noqa: BLE001 - keyring's errors differ per backend
        log.warning("cannot write to the credential store: %s", exc)
        raise JzairError(
            "无法把密码保存到系统的凭据管理器（这台电脑没有可用的凭据存储）。连接设置已保存，每次启动时会询问密码。"
        ) from exc


def forget_password(conn: ServerConnection) -> None:
    """Remove the kept password of `conn`, if any."""
    try:
        _keyring().delete_password(KEYRING_SERVICE, conn.credential_name)
    except Exception as exc:  # noqa: BLE001 - none kept, or no store: nothing to remove
        log.info("no password removed from the credential store: %s", exc)


# ------------------------------------------------------------------------------------- connecting
def open_server(conn: ServerConnection, password: str) -> Database:
    """Open the server database (checked and upgraded like a file). Every failure is a Chinese message naming
    the server; one that cannot be reached within the connect timeout raises ServerUnavailable (重试)."""
    conn = conn.checked()
    try:
        db, _ = open_database(conn.url(password), create=True)
    except (DBAPIError, DatabaseError) as exc:
        raise connect_error(conn, exc) from exc
    return db


def connect_error(conn: ServerConnection, exc: BaseException) -> JzairError:
    """The user's message for a failed connection to `conn`: the server's failure found in `exc` or what caused
    it, named with the server; a JzairError about the database itself (a newer schema, another program's
    tables) as it is."""
    where = f"（服务器 {conn.host}:{conn.port}，数据库“{conn.database}”，账户“{conn.account}”）"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, DBAPIError):
        cause = cause.__cause__
    if cause is None:
        return exc if isinstance(exc, JzairError) else DatabaseError(f"无法打开服务器上的数据库{where}：{exc}")
    translated = translate_server_error(cause)
    if isinstance(translated, JzairError):
        return type(translated)(f"{translated}\n{where}")
    if isinstance(exc, JzairError):
        return exc
    log.error("connecting to %s failed: %s", conn.label, exc)
    return DatabaseError(f"无法连接数据库服务器{where}：{_first_line(cause)}")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]
