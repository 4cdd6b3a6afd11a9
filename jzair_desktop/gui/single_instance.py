"""One running window per database file.

The first program to open a database takes a lock file named after the database file's identity
(QLockFile in the user's data folder; the lock of a program that crashed is taken over, since QLockFile
checks whether the process that wrote it still runs) and listens on a local socket of the same name
(QLocalServer: a named pipe on Windows, a socket file on Linux). A second program on the same file finds
the lock taken and asks the first one what it is doing: a first program whose window is open is named to
the user, who may bring it forward (``activate``); a first program that is only finishing (its window is
closed, the exit backup runs) is waited for, and the second one then opens the file itself.

The identity of a file is the pair (device, inode) (on Windows: volume serial number and file ID) once the
file exists, and always also its real path (symbolic links resolved, case folded on Windows), so another
spelling of the same file (a link, ``..``, another case, a mapped drive letter beside its UNC path) meets
the same lock. A program holds both locks; a file that does not exist yet gets its identity lock as soon
as it has been created (`SingleInstance.add_key`).

The lock decides who is first (two programs started at the same moment cannot both win, which a local
server alone does not promise on Windows); the socket only carries the questions.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Qt, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import APP_TITLE, paths

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
ACK = b"ok\n"
STATE = b"state\n"
RUNNING = b"running\n"
EXITING = b"exiting\n"


def _hashed(text: str) -> str:
    return "jzair-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def path_key_text(location: str | Path) -> str:
    """The real path of a database file: links resolved, case folded where the file system ignores case."""
    text = os.path.realpath(os.path.abspath(str(location)))
    if sys.platform == "win32":
        text = os.path.normcase(text).casefold()
    return text


def file_identity(location: str | Path) -> str | None:
    """(device, inode) of an existing file (Windows: volume serial number and file ID); None if unknown."""
    try:
        st = os.stat(location)
    except OSError:
        return None
    if not st.st_ino:  # file systems without file IDs (some network file systems on Windows)
        return None
    return f"{st.st_dev}:{st.st_ino}"


def instance_key(location: str | Path) -> str:
    """The name of the lock and the socket for a database file's real path (or a database URL)."""
    text = str(location)
    if "://" not in text:
        text = path_key_text(text)
    return _hashed(text)


def identity_key(location: str | Path) -> str | None:
    """The name of the lock and the socket for an existing file's identity; None before it exists."""
    ident = file_identity(location)
    return _hashed(f"file:{ident}") if ident is not None else None


def instance_keys(location: str | Path) -> list[str]:
    """Every lock a program on this database takes: the file's identity (if it exists) and its real path."""
    keys = [instance_key(location)]
    if "://" not in str(location):
        ident = identity_key(location)
        if ident is not None:
            keys.insert(0, ident)
    return keys


class SingleInstance(QObject):
    """The locks and local servers of one database file. GUI thread only.

    `acquire()` True: this is the first instance; it now listens, and `activation_requested` fires when
    another instance asks. False: another instance has the file open; see `ask_state()` and
    `ask_to_activate()`. `set_exiting()` makes the answer to other instances "finishing, wait for me".
    """

    activation_requested = Signal()

    def __init__(self, key: str | list[str], *, lock_dir: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        keys = [key] if isinstance(key, str) else list(key)
        self.keys = keys
        self.key = keys[0]
        self._folder = Path(lock_dir) if lock_dir is not None else paths.data_dir() / "instances"
        self._folder.mkdir(parents=True, exist_ok=True)
        self.lock_path = self._folder / f"{self.key}.lock"
        self._locks: dict[str, QLockFile] = {k: self._new_lock(k) for k in keys}
        self._held: list[str] = []
        self._servers: list[QLocalServer] = []
        self.blocked_key: str | None = None  # the key another instance holds (after a failed acquire)
        self.exiting = False

    def _new_lock(self, key: str) -> QLockFile:
        lock = QLockFile(str(self._folder / f"{key}.lock"))
        lock.setStaleLockTime(0)  # held for the program's life: stale only if its process is gone
        return lock

    @property
    def is_primary(self) -> bool:
        return bool(self._held) and len(self._held) == len(self.keys)

    def acquire(self) -> bool:
        """Take every lock; on any one held elsewhere, give back those taken and return False."""
        if self.is_primary:
            return True
        for key in self.keys:
            if key in self._held:
                continue
            if not self._take(key):
                self.blocked_key = key
                self._give_back()
                return False
        self.blocked_key = None
        for key in self.keys:
            self._listen(key)
        return True

    def add_key(self, key: str | None) -> bool:
        """Also hold `key` (the identity of a file created after `acquire`). False: another instance has it."""
        if key is None or key in self.keys:
            return True
        self._locks[key] = self._new_lock(key)
        if not self._take(key):
            del self._locks[key]
            self.blocked_key = key
            return False
        self.keys.append(key)
        self._listen(key)
        return True

    def _take(self, key: str) -> bool:
        lock = self._locks[key]
        if lock.isLocked():
            return True
        if not lock.tryLock(0):
            if lock.error() != QLockFile.LockError.LockFailedError:
                # The lock file cannot be written (read-only data folder …): run without the guard.
                log.warning("single-instance lock %s unusable (%s)", key, lock.error())
                self._held.append(key)
                return True
            return False
        self._held.append(key)
        return True

    def _give_back(self) -> None:
        for key in self._held:
            lock = self._locks[key]
            if lock.isLocked():
                lock.unlock()
        self._held.clear()

    def _listen(self, key: str) -> None:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(key):
            # A socket file left by a program that crashed (Linux): we hold the lock, so it is nobody's.
            QLocalServer.removeServer(key)
            if not server.listen(key):
                log.warning("cannot listen on %s: %s", key, server.errorString())
                return
        server.newConnection.connect(lambda s=server: self._on_connection(s))
        self._servers.append(server)

    def _on_connection(self, server: QLocalServer) -> None:
        while server.hasPendingConnections():
            sock = server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._on_ready(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._on_ready(sock)

    def _on_ready(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        line = bytes(sock.readLine().data())
        if line == ACTIVATE:
            sock.write(EXITING if self.exiting else ACK)
            sock.flush()
            if not self.exiting:
                self.activation_requested.emit()
        elif line == STATE:
            sock.write(EXITING if self.exiting else RUNNING)
            sock.flush()
        sock.disconnectFromServer()

    def set_exiting(self) -> None:
        """The window has closed; the program only finishes (exit backup): others should wait, not ask."""
        self.exiting = True

    def _ask(self, message: bytes, timeout_ms: int) -> bytes | None:
        """Send `message` to the first instance and return its answer line (None: nobody answered)."""
        key = self.blocked_key or self.key
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            sock = QLocalSocket()
            sock.connectToServer(key)
            if sock.waitForConnected(200):
                sock.write(message)
                sock.flush()
                if sock.bytesToWrite():
                    sock.waitForBytesWritten(1000)
                # Short waits with sleeps between: Qt's waitFor… calls keep Python's lock while they block.
                while not sock.canReadLine() and time.monotonic() < deadline:
                    if sock.state() != QLocalSocket.LocalSocketState.ConnectedState and not sock.bytesAvailable():
                        break
                    sock.waitForReadyRead(20)
                    time.sleep(0.005)
                answer = bytes(sock.readLine().data()) if sock.canReadLine() else None
                sock.abort()
                return answer
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)  # the first instance may still be starting up

    def ask_state(self, timeout_ms: int = 1000) -> str:
        """What the first instance does: "running" (its window is open), "exiting" (finishing), or
        "unknown" (it does not answer: it is just starting, ending, or hangs)."""
        answer = self._ask(STATE, timeout_ms)
        if answer == RUNNING:
            return "running"
        if answer == EXITING:
            return "exiting"
        return "unknown"

    def ask_to_activate(self, timeout_ms: int = 3000) -> bool:
        """Ask the first instance to come forward. True when it answered (waits up to `timeout_ms`)."""
        allow_foreground_switch()
        return self._ask(ACTIVATE, timeout_ms) == ACK

    def release(self) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()
        self._give_back()


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


class WaitForPrevious(QDialog):
    """“上一次打开的程序正在退出…”: shown while a finishing first instance still holds the database.

    Polls the lock; accepts as soon as this program got it, rejects on 取消. `UNKNOWN_LIMIT_S`: a first
    instance that neither answers nor lets go for that long is taken as running (hung or starting)."""

    POLL_MS = 100
    UNKNOWN_LIMIT_S = 10.0

    def __init__(self, instance: SingleInstance, location: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.instance = instance
        self.setObjectName("waitForPrevious")
        self.setWindowTitle(APP_TITLE)
        self.setModal(True)
        layout = QVBoxLayout(self)
        text = QLabel(
            "上一次打开的本程序正在退出（正在备份数据库），完成后将自动打开：\n"
            f"{location}\n\n请稍候。"
        )
        text.setObjectName("waitText")
        text.setWordWrap(True)
        layout.addWidget(text)
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(False)
        layout.addWidget(bar)
        buttons = QDialogButtonBox()
        cancel = buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setObjectName("waitCancel")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        self.found_running = False
        self._unknown_since: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self.poll)

    def start(self) -> None:
        self._timer.start()

    def poll(self) -> bool:
        """Try the lock again; True (and accepted) once this program holds it."""
        if self.instance.acquire():
            self._timer.stop()
            self.accept()
            return True
        state = self.instance.ask_state(300)
        if state == "running":
            self.found_running = True
        elif state == "unknown":
            now = time.monotonic()
            self._unknown_since = self._unknown_since or now
            if now - self._unknown_since >= self.UNKNOWN_LIMIT_S:
                self.found_running = True
        else:
            self._unknown_since = None
        if self.found_running:
            self._timer.stop()
            self.reject()
        return False


def wait_for_previous(instance: SingleInstance, location: str, *, quiet_ms: int = 1500) -> str:
    """Wait while the first instance finishes: "acquired", "running" (it is a live window after all) or
    "cancelled". The dialog only appears when the wait lasts longer than `quiet_ms`."""
    deadline = time.monotonic() + quiet_ms / 1000
    while time.monotonic() < deadline:
        if instance.acquire():
            return "acquired"
        QApplication.processEvents()
        time.sleep(0.05)
    dialog = WaitForPrevious(instance, location)
    dialog.start()
    if dialog.poll():
        return "acquired"
    if dialog.found_running:
        return "running"
    dialog.exec()
    if instance.is_primary:
        return "acquired"
    return "running" if dialog.found_running else "cancelled"


def claim_database(url: str) -> SingleInstance | None:
    """This program's claim on the database at `url`; None when another instance has it (the user was
    told, and offered to bring that one forward) or the user gave up waiting for a finishing one."""
    from jzair_desktop.services.database import file_of, location_of

    file = file_of(url)
    location = location_of(url)  # a server's without its password
    instance = SingleInstance(instance_keys(file if file is not None else "server://" + location))
    if instance.acquire():
        return instance
    state = instance.ask_state()
    if state != "running":
        outcome = wait_for_previous(instance, location)
        if outcome == "acquired":
            return instance
        if outcome == "cancelled":
            return None
    tell_already_running(instance, location)
    return None
