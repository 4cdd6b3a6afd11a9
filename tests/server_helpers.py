"""Helpers for server-mode tests: a port where nothing listens, one that never answers, a connection cut
in the middle of a write (the server ends our session, as a network break or a server restart does)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from jzair_desktop.services.server import ServerConnection


def connection_of(url: str) -> tuple[ServerConnection, str]:
    """The ServerConnection and password a test server's URL names."""
    u = make_url(url)
    return ServerConnection(u.host, u.port, u.database, u.username), u.password


def closed_port() -> int:
    """A local port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A local port that accepts connections and never answers (a server hanging, a firewall eating replies)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


class ConnectionCutter:
    """Ends the server session of the connection that is about to run a statement containing `marker`
    (pg_terminate_backend, waiting until it is gone), `times` times: what a network break or a restarted server
    does to a client in the middle of its transaction."""

    def __init__(self, engine: Engine, pg_server, marker: str, *, times: int = 1) -> None:  # noqa: ANN001
        self.engine = engine
        self.pg_server = pg_server
        self.marker = marker.lower()
        self.left = times
        self.cut = 0
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn, cursor, statement, *_args) -> None:  # noqa: ANN001
        if self.left <= 0 or self.marker not in statement.lower():
            return
        self.left -= 1
        pid = cursor.connection.info.backend_pid
        self.pg_server.execute(f"SELECT pg_terminate_backend({int(pid)}, 5000)")
        self.cut += 1

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
