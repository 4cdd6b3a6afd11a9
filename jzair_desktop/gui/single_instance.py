"""One running window per database file.

The first program to open a database takes a lock file named after a hash of the database's path
(QLockFile in the user's data folder; the lock of a program that crashed is taken over, since QLockFile
checks whether the process that wrote it still runs) and listens on a local socket of the same name
(QLocalServer: a named pipe on Windows, a socket file on Linux). A second program on the same file finds
the lock taken, tells the user, and on request connects and sends ``activate``: the first one brings its
window to the front.

The lock decides who is first (two programs started at the same moment cannot both win, which a local
server alone does not promise on Windows); the socket only carries the request.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Qt, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QMessageBox, QWidget

from jzair_desktop import APP_TITLE, paths

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
ACK = b"ok\n"


def instance_key(location: str | Path) -> str:
    """The name of the lock and the socket for a database file (or a database URL)."""
    text = str(location)
    if "://" not in text:
        text = os.path.normcase(os.path.abspath(text))  # Windows paths are case-insensitive
    return "jzair-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class SingleInstance(QObject):
    """The lock and the local server of one database file. GUI thread only.

    `acquire()` True: this is the first instance; it now listens, and `activation_requested` fires when
    another instance asks. False: another instance has the file open; call `ask_to_activate()`.
    """

    activation_requested = Signal()

    def __init__(self, key: str, *, lock_dir: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        folder = Path(lock_dir) if lock_dir is not None else paths.data_dir() / "instances"
        folder.mkdir(parents=True, exist_ok=True)
        self.lock_path = folder / f"{key}.lock"
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # held for the program's life: stale only if its process is gone
        self._server: QLocalServer | None = None

    @property
    def is_primary(self) -> bool:
        return self._lock.isLocked()

    def acquire(self) -> bool:
        if self._lock.isLocked():
            return True
        if not self._lock.tryLock(0):
            if self._lock.error() != QLockFile.LockError.LockFailedError:
                # The lock file cannot be written (read-only data folder …): run without the guard.
                log.warning("single-instance lock %s unusable (%s)", self.lock_path, self._lock.error())
                return True
            return False
        self._listen()
        return True

    def _listen(self) -> None:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.key):
            # A socket file left by a program that crashed (Linux): we hold the lock, so it is nobody's.
            QLocalServer.removeServer(self.key)
            if not server.listen(self.key):
                log.warning("cannot listen on %s: %s", self.key, server.errorString())
                return
        server.newConnection.connect(self._on_connection)
        self._server = server

    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._on_ready(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._on_ready(sock)

    def _on_ready(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        line = bytes(sock.readLine().data())
        if line == ACTIVATE:
            sock.write(ACK)
            sock.flush()
            self.activation_requested.emit()
        sock.disconnectFromServer()

    def ask_to_activate(self, timeout_ms: int = 3000) -> bool:
        """Ask the first instance to come forward. True when it answered (waits up to `timeout_ms`)."""
        allow_foreground_switch()
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            sock = QLocalSocket()
            sock.connectToServer(self.key)
            if sock.waitForConnected(200):
                sock.write(ACTIVATE)
                sock.flush()
                if sock.bytesToWrite():
                    sock.waitForBytesWritten(1000)
                # Short waits with sleeps between: Qt's waitFor… calls keep Python's lock while they block.
                while not sock.canReadLine() and time.monotonic() < deadline:
                    if sock.state() != QLocalSocket.LocalSocketState.ConnectedState and not sock.bytesAvailable():
                        break
                    sock.waitForReadyRead(20)
                    time.sleep(0.005)
                answered = sock.canReadLine() and bytes(sock.readLine().data()) == ACK
                sock.abort()
                return answered
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)  # the first instance may still be starting up

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()


def allow_foreground_switch() -> None:
    """Windows only lets the foreground program hand the foreground on: let the first instance take it."""
    if sys.platform == "win32":
        import ctypes

        try:
            ctypes.windll.user32.AllowSetForegroundWindow(-1)  # ASFW_ANY
        except (AttributeError, OSError):
            pass


def bring_forward(window: QWidget) -> None:
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()


def already_running_message(location: str) -> str:
    return (
        f"本程序已经在另一个窗口中打开了这个数据库：\n{location}\n\n"
        "同一个数据库只能在一个窗口中使用，以免两边的修改互相覆盖。\n"
        "是否切换到已经打开的窗口？"
    )


def tell_already_running(instance: SingleInstance, location: str) -> None:
    """The second instance's dialog: offer to bring the first one forward (then this one exits)."""
    box = QMessageBox(QMessageBox.Icon.Information, APP_TITLE, already_running_message(location))
    switch = box.addButton("切换到已打开的窗口", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(switch)
    box.exec()
    if box.clickedButton() is switch and not instance.ask_to_activate():
        QMessageBox.warning(
            None, APP_TITLE,
            "已打开的窗口没有响应。请在任务栏中找到它；如果它已无法使用，请关闭它后重新打开本程序。",
        )


def claim_database(url: str) -> SingleInstance | None:
    """This program's claim on the database at `url`; None when another instance has it (the user was
    told, and offered to bring that one forward)."""
    from jzair_desktop.storage.engine import db_path_of

    file = db_path_of(url)
    location = str(file) if file is not None else url
    instance = SingleInstance(instance_key(file if file is not None else url))
    if instance.acquire():
        return instance
    tell_already_running(instance, location)
    return None
