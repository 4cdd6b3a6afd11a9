"""锁定 and 切换用户: the window's content hidden behind a login, and the idle lock for shared office PCs.

The main window shows the LockPanel in place of its pages (menus disabled, open dialogs hidden); a login as the
same user unlocks, a login as another user rebuilds the pages for that user. The IdleWatcher locks the window
after a configurable time without keyboard or mouse input (设置 → 空闲自动锁定; 0 = never).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop import APP_TITLE
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.dialogs.login import remember_user
from jzair_desktop.services import accounts
from jzair_desktop.services.actor import Actor

if TYPE_CHECKING:
    from jzair_desktop.gui.context import GuiContext

IDLE_KEY = "security/idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 30
MAX_IDLE_MINUTES = 24 * 60

STYLE = """
QFrame#lockCard { background: white; border: 1px solid #c9d3dd; border-radius: 6px; }
QLabel#lockTitle { font-size: 15pt; font-weight: bold; }
QLabel#lockHint { color: #555; }
QLabel#lockError { color: #c62828; }
"""


def idle_minutes(ctx: GuiContext) -> int:
    """The idle-lock time in minutes from the settings file (0: never); bad values give the default."""
    value = ctx.settings().value(IDLE_KEY, DEFAULT_IDLE_MINUTES)
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return DEFAULT_IDLE_MINUTES
    return minutes if 0 <= minutes <= MAX_IDLE_MINUTES else DEFAULT_IDLE_MINUTES


def set_idle_minutes(ctx: GuiContext, minutes: int) -> None:
    s = ctx.settings()
    s.setValue(IDLE_KEY, int(minutes))
    s.sync()


class LockPanel(QWidget):
    """A login in place of the window's pages; `unlocked(actor)` fires after a successful login."""

    unlocked = Signal(object)
    quit_requested = Signal()

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("lockPanel")
        self.setStyleSheet(STYLE)
        self.title = QLabel()
        self.title.setObjectName("lockTitle")
        self.hint = QLabel()
        self.hint.setObjectName("lockHint")
        self.hint.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setObjectName("lockName")
        self.name.setMaxLength(accounts.MAX_NAME_LENGTH)
        self.name.returnPressed.connect(self.try_login)
        self.password = QLineEdit()
        self.password.setObjectName("lockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.try_login)
        self.error = QLabel()
        self.error.setObjectName("lockError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.login_button = QPushButton("登录")
        self.login_button.setObjectName("lockLogin")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self.try_login)
        quit_button = QPushButton("退出程序")
        quit_button.clicked.connect(self.quit_requested)

        card = QFrame()
        card.setObjectName("lockCard")
        card.setFixedWidth(440)
        form = QFormLayout()
        form.addRow("用户名：", self.name)
        form.addRow("密码：", self.password)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(quit_button)
        buttons.addWidget(self.login_button)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.addWidget(self.title)
        inner.addWidget(self.hint)
        inner.addSpacing(6)
        inner.addLayout(form)
        inner.addWidget(self.error)
        inner.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def prepare(self, *, switching: bool) -> None:
        """Fill the names and texts for a lock (the current user's name given) or a switch (name empty)."""
        current = self.ctx.actor
        self.name.clear()
        if switching:
            self.title.setText("切换用户")
            self.hint.setText(f"当前用户“{current.name}”已退出。请以要使用的账户登录。")
            self.name.setText("")
        else:
            self.title.setText("已锁定")
            self.hint.setText(f"窗口已锁定，内容已隐藏。“{current.name}”输入密码即可继续；"
                              "其他人也可以用自己的账户登录（切换用户）。")
            self.name.setText(current.name)
        self.password.clear()
        self.error.hide()
        (self.password if self.name.text() else self.name).setFocus()

    def try_login(self) -> bool:
        name = self.name.text().strip()
        if not name:
            self.show_error("请输入用户名。")
            return False
        try:
            actor = accounts.authenticate(self.ctx.db, name, self.password.text())
        except JzairError as exc:
            self.show_error(str(exc))
            self.password.clear()
            self.password.setFocus()
            return False
        remember_user(self.ctx.db, actor.name)
        self.password.clear()
        self.error.hide()
        self.unlocked.emit(actor)
        return True

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class IdleWatcher(QObject):
    """Calls `on_idle` after `minutes` without keyboard or mouse input anywhere in the application."""

    INPUT = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                       QEvent.Type.Wheel, QEvent.Type.TouchBegin})

    timed_out = Signal()

    def __init__(self, minutes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.timed_out)
        self.set_minutes(minutes)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_minutes(self, minutes: int) -> None:
        self.minutes = max(0, int(minutes))
        if self.minutes:
            self.timer.start(self.minutes * 60_000)
        else:
            self.timer.stop()

    def reset(self) -> None:
        if self.minutes:
            self.timer.start(self.minutes * 60_000)

    def pause(self) -> None:
        self.timer.stop()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in self.INPUT and self.timer.isActive():
            self.timer.start()  # restart with the same interval
        return False


def hide_dialogs(window: QWidget) -> list[QDialog]:
    """Hide every visible dialog (their content must not show over a locked window); returns them."""
    hidden = []
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QDialog) and w.isVisible() and w is not window:
            w.hide()
            hidden.append(w)
    return hidden


def lock_title() -> str:
    return f"已锁定 - {APP_TITLE}"


def same_user(a: Actor, b: Actor) -> bool:
    return (a.name, a.role, a.unit_code) == (b.name, b.role, b.unit_code)


