"""The login dialog shown at start-up once the database has user accounts."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.services import accounts, installation
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database

STYLE = """
QLabel#loginTitle { font-size: 15pt; font-weight: bold; }
QLabel#loginHint { color: #555; }
QLabel#loginError { color: #c62828; padding: 4px 0; }
"""


class LoginDialog(QDialog):
    """Name and password; `actor` holds the logged-in user after `accept`."""

    def __init__(
        self, db: Database, *, user: str | None = None, parent: QWidget | None = None,
        clock: Callable[[], dt.datetime] | None = None, sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.clock = clock
        self.sleep = sleep or self._wait
        self.actor: Actor | None = None
        self.setWindowTitle(f"登录 - {APP_TITLE}")
        self.setStyleSheet(STYLE)
        self.setMinimumWidth(420)

        title = QLabel(APP_TITLE)
        title.setObjectName("loginTitle")
        title.setWordWrap(True)
        inst = installation.installation_of(db)
        where = f"本机：{inst.label}\n" if inst is not None else ""
        hint = QLabel(f"请输入用户名和密码。\n{where}数据库：{db.location}")
        hint.setObjectName("loginHint")
        hint.setWordWrap(True)
        hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # A plain field: the accounts are not listed (that would hand out every name to guess a password for);
        # the name last used on this PC for this database is filled in.
        self.name = QLineEdit()
        self.name.setObjectName("loginName")
        self.name.setMaxLength(accounts.MAX_NAME_LENGTH)
        self.name.setText(user if user is not None else last_user(db))
        self.name.returnPressed.connect(self.try_login)
        self.password = QLineEdit()
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setObjectName("loginError")
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        form.addRow("用户名：", self.name)
        form.addRow("密码：", self.password)

        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton("登录", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setDefault(True)
        buttons.addButton("退出", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        (self.password if self.name.text() else self.name).setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _wait(self, seconds: float) -> None:
        """The growing delay after failed logins, with the window still painting (not a frozen dialog)."""
        self.show_error(f"登录失败次数较多，请稍候 {max(1, math.ceil(seconds))} 秒……")
        self.ok_button.setEnabled(False)
        loop = QEventLoop(self)
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
        self.ok_button.setEnabled(True)

    def try_login(self) -> bool:
        name = self.name.text().strip()
        if not name:
            self.show_error("请输入用户名。")
            self.name.setFocus()
            return False
        try:
            self.actor = accounts.authenticate(self.db, name, self.password.text(), clock=self.clock,
                                               sleep=self.sleep)
        except JzairError as exc:
            self.show_error(str(exc))
            self.password.clear()
            self.password.setFocus()
            return False
        remember_user(self.db, self.actor.name)
        self.accept()
        return True


def _last_user_key(db: Database) -> str:
    return "login/last_user_" + hashlib.sha256(db.location.encode("utf-8")).hexdigest()[:16]


def last_user(db: Database) -> str:
    """The name of the last successful login into this database on this PC ('' if none)."""
    value = GuiContext.settings().value(_last_user_key(db), "")
    return value if isinstance(value, str) else ""


def remember_user(db: Database, name: str) -> None:
    GuiContext.settings().setValue(_last_user_key(db), name)


def login(db: Database, *, user: str | None = None, parent: QWidget | None = None) -> Actor | None:
    """Ask for a login (modal). None when the user gives up."""
    dialog = LoginDialog(db, user=user, parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.actor
