"""连接服务器: the office's PostgreSQL server as the database (设置 → 数据库 → 连接服务器, and at start).

The connection's fields are kept in the GUI's settings file (gui.ini, group ``server``); the password never is:
it is asked for, or kept in the OS credential store (services.server, through keyring) when 记住密码 is ticked.
Connecting runs off the GUI thread with the connect timeout of services.server; 取消 gives up waiting at once
(a late answer is closed unused), so the window never hangs without a way out.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import run_task
from jzair_desktop.services import server
from jzair_desktop.services.database import Database
from jzair_desktop.services.server import ServerConnection

log = logging.getLogger(__name__)

SETTINGS_GROUP = "server"
LOCAL = "local"  # the answer of 使用本机数据库 at start

STYLE = """
QLabel#serverTitle { font-size: 13pt; font-weight: bold; }
QLabel#serverHint { color: #555; }
QLabel#serverStatus { padding: 4px 0; }
QLabel#serverStatus[error="true"] { color: #c62828; }
"""


# ------------------------------------------------------------------------------------------ saved connection
def saved_connection() -> ServerConnection | None:
    """The server connection saved in the settings file, or None (the program uses its local database file)."""
    settings = GuiContext.settings()
    settings.beginGroup(SETTINGS_GROUP)
    values = {key: settings.value(key) for key in settings.childKeys()}
    settings.endGroup()
    return ServerConnection.from_settings(values)


def save_connection(conn: ServerConnection) -> None:
    """Keep the connection's fields (never its password) in the settings file."""
    settings = GuiContext.settings()
    settings.remove(SETTINGS_GROUP)
    settings.beginGroup(SETTINGS_GROUP)
    for key, value in conn.as_settings().items():
        settings.setValue(key, value)
    settings.endGroup()
    settings.sync()


def clear_connection() -> None:
    """Back to the local database file at the next start; a kept password is removed from the credential store."""
    conn = saved_connection()
    if conn is not None:
        server.forget_password(conn)
    settings = GuiContext.settings()
    settings.remove(SETTINGS_GROUP)
    settings.sync()


# ------------------------------------------------------------------------------------------ the dialog
class ServerConnectDialog(QDialog):
    """Server, port, database, account and password; 连接 opens the database (`db` after accept)."""

    def __init__(self, conn: ServerConnection | None = None, *, password: str | None = None,
                 at_start: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverConnectDialog")
        self.setWindowTitle(f"连接数据库服务器 - {APP_TITLE}")
        self.setStyleSheet(STYLE)
        self.setMinimumWidth(520)
        self.db: Database | None = None
        self.choice: str | None = None  # LOCAL when 使用本机数据库 was chosen at start
        self.at_start = at_start
        self._attempt = 0  # the running attempt's number; a cancelled attempt's late answer is dropped
        self._started = 0.0
        conn = conn or ServerConnection("")

        title = QLabel("连接单位的数据库服务器（多人共用）")
        title.setObjectName("serverTitle")
        hint = QLabel(
            "几位工作人员共用一个数据库时，数据保存在单位的 PostgreSQL 服务器上。服务器地址、数据库名和账户"
            "由单位的信息管理人员提供。" + ("" if not at_start else "\n本机保存了服务器连接，" + (
                "密码保存在凭据管理器中，自动连接。" if password else "请输入密码后连接。"))
        )
        hint.setObjectName("serverHint")
        hint.setWordWrap(True)

        self.host = QLineEdit(conn.host)
        self.host.setObjectName("serverHost")
        self.host.setPlaceholderText("计算机名或 IP 地址，如 192.168.1.20")
        self.port = QSpinBox()
        self.port.setObjectName("serverPort")
        self.port.setRange(1, 65535)
        self.port.setValue(conn.port)
        self.port.setGroupSeparatorShown(False)
        self.port.setMaximumWidth(self.fontMetrics().horizontalAdvance("0") * 8 + 40)
        self.database = QLineEdit(conn.database)
        self.database.setObjectName("serverDatabase")
        self.account = QLineEdit(conn.account)
        self.account.setObjectName("serverAccount")
        self.password = QLineEdit(password or "")
        self.password.setObjectName("serverPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("记住密码（保存在系统的凭据管理器中，不写入设置文件）")
        self.remember.setObjectName("rememberPassword")
        self.remember.setChecked(password is not None)

        form = QFormLayout()
        form.addRow("服务器：", self.host)
        form.addRow("端口：", self.port)
        form.addRow("数据库：", self.database)
        form.addRow("账户：", self.account)
        form.addRow("密码：", self.password)
        form.addRow("", self.remember)

        self.status = QLabel(f"连接超时 {server.CONNECT_TIMEOUT_S} 秒；连接中可随时点“取消”。")
        self.status.setObjectName("serverStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setMinimumHeight(self.fontMetrics().height() * 3)

        self.connect_button = QPushButton("连接")
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.start_connect)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        self.local_button: QPushButton | None = None
        if at_start:
            self.local_button = QPushButton("改用本机数据库")
            self.local_button.setObjectName("localButton")
            self.local_button.setToolTip("这次不连接服务器，打开本机的数据库文件")
            self.local_button.clicked.connect(self._use_local)
            buttons.addWidget(self.local_button)
        buttons.addStretch(1)
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.cancel_button)

        self._ticker = QTimer(self)
        self._ticker.setInterval(500)
        self._ticker.timeout.connect(self._tick)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        (self.password if conn.host and not password else self.host).setFocus()

    # -- state ---------------------------------------------------------------------------------------
    @property
    def connecting(self) -> bool:
        return self._ticker.isActive()

    def connection(self) -> ServerConnection:
        return ServerConnection(self.host.text(), self.port.value(), self.database.text(), self.account.text())

    def _set_busy(self, busy: bool) -> None:
        for w in (self.host, self.port, self.database, self.account, self.password, self.remember,
                  self.connect_button, self.local_button):
            if w is not None:
                w.setEnabled(not busy)
        if busy:
            self._started = time.monotonic()
            self._ticker.start()
        else:
            self._ticker.stop()

    def _show(self, text: str, *, error: bool = False) -> None:
        self.status.setProperty("error", error)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.setText(text)

    def _tick(self) -> None:
        waited = int(time.monotonic() - self._started)
        self._show(f"正在连接 {self.host.text().strip()}:{self.port.value()} …（已等待 {waited} 秒，"
                   f"最多 {server.CONNECT_TIMEOUT_S} 秒；可点“取消”）")

    # -- connecting ----------------------------------------------------------------------------------
    def start_connect(self) -> bool:
        """Check the fields and start connecting off the GUI thread. False when the fields are refused."""
        if self.connecting:
            return False
        try:
            conn = self.connection().checked()
        except JzairError as exc:
            self._show(str(exc), error=True)
            return False
        if not self.password.text():
            self._show("请输入密码。", error=True)
            self.password.setFocus()
            return False
        self._attempt += 1
        attempt = self._attempt
        password = self.password.text()
        self._set_busy(True)
        self._tick()
        run_task(self, "正在连接数据库服务器…", lambda _state: server.open_server(conn, password),
                 show_progress=False,
                 on_success=lambda db: self._connected(attempt, conn, password, db),
                 on_error=lambda exc: self._failed(attempt, exc))
        return True

    def _connected(self, attempt: int, conn: ServerConnection, password: str, db: Database) -> None:
        if attempt != self._attempt:  # cancelled meanwhile: close the late connection unused
            db.dispose()
            return
        self._set_busy(False)
        save_connection(conn)
        if self.remember.isChecked():
            try:
                server.remember_password(conn, password)
            except JzairError as exc:
                QMessageBox.warning(self, "密码未保存", str(exc))
        else:
            server.forget_password(conn)
        self.db = db
        self._show(f"已连接：{conn.label}")
        self.accept()

    def _failed(self, attempt: int, exc: BaseException) -> None:
        if attempt != self._attempt:
            return
        self._set_busy(False)
        if isinstance(exc, JzairError):
            self._show(str(exc), error=True)
        else:
            log.error("connecting to the server failed: %r", exc)
            self._show(f"连接失败：{type(exc).__name__}: {exc}（详细信息已写入日志）", error=True)
        self.password.setFocus() if "密码" in str(exc) else self.host.setFocus()

    def cancel(self) -> None:
        """While connecting: stop waiting (the form stays open). Otherwise: close without connecting."""
        if self.connecting:
            self._attempt += 1  # the running attempt's answer is dropped (a connection it made is closed)
            self._set_busy(False)
            self._show("已取消连接，没有打开服务器上的数据库。")
            return
        self.reject()

    def reject(self) -> None:  # Esc and the window's close button behave like 取消
        if self.connecting:
            self.cancel()
            return
        super().reject()

    def _use_local(self) -> None:
        self.choice = LOCAL
        super().reject()


def connect_at_start(conn: ServerConnection) -> Database | str | None:
    """At start with a saved server connection: connect (with the kept password at once, else after it is
    typed). The database; LOCAL for 改用本机数据库; None when the user gave up (the program ends)."""
    password = server.saved_password(conn)
    dialog = ServerConnectDialog(conn, password=password, at_start=True)
    if password:
        QTimer.singleShot(0, dialog.start_connect)
    dialog.exec()
    if dialog.db is not None:
        return dialog.db
    return dialog.choice


# ------------------------------------------------------------------------------------------ 设置 → 数据库
class ServerSettingsBox(QGroupBox):
    """The 数据库 group of 设置: what this window works on, what the next start opens, 连接服务器…"""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__("数据库", parent)
        self.setObjectName("serverSettingsBox")
        self.ctx = ctx
        self.dialog: ServerConnectDialog | None = None
        self.now = QLabel()
        self.now.setWordWrap(True)
        self.next = QLabel()
        self.next.setObjectName("serverNextStart")
        self.next.setWordWrap(True)
        self.note = QLabel()
        self.note.setObjectName("serverNote")
        self.note.setWordWrap(True)
        self.connect_button = QPushButton("连接服务器…")
        self.connect_button.setObjectName("serverConnectButton")
        self.connect_button.setToolTip("几位工作人员共用单位服务器上的数据库（PostgreSQL）")
        self.connect_button.clicked.connect(self.open_dialog)
        self.local_button = QPushButton("改回本机数据库")
        self.local_button.setObjectName("useLocalButton")
        self.local_button.clicked.connect(self.use_local)
        form = QFormLayout()
        form.addRow("当前：", self.now)
        form.addRow("下次启动：", self.next)
        buttons = QHBoxLayout()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.local_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        self.load()

    def load(self) -> None:
        db = self.ctx.db
        self.now.setText(f"本机数据库文件 {db.location}" if db.path is not None else f"服务器上的数据库 {db.location}")
        conn = saved_connection()
        if conn is None:
            self.next.setText("打开本机数据库文件")
        else:
            kept = "密码保存在系统凭据管理器中" if server.saved_password(conn) else "启动时询问密码"
            self.next.setText(f"连接服务器上的数据库 {conn.label}（{kept}）")
        self.local_button.setEnabled(conn is not None)

    def open_dialog(self) -> ServerConnectDialog:
        """The 连接服务器 dialog (modeless, window-modal); a successful connection is saved for the next start."""
        conn = saved_connection()
        self.dialog = ServerConnectDialog(conn, password=server.saved_password(conn) if conn else None,
                                          parent=self.window())
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.accepted.connect(self._connected)
        self.dialog.show()
        return self.dialog

    def _connected(self) -> None:
        dialog = self.dialog
        if dialog is None or dialog.db is None:
            return
        location = dialog.db.location
        dialog.db.dispose()  # only tried here: this window keeps working on its database until restarted
        self.load()
        self.note.setText(f"已连接并保存：{location}。重新启动程序后将使用服务器上的数据库"
                          "（本机数据库文件保持不变，可随时改回）。")

    def use_local(self) -> None:
        clear_connection()
        self.load()
        self.note.setText("已改回本机数据库：重新启动程序后打开本机的数据库文件；服务器上的数据不受影响。")
