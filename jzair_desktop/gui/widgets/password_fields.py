"""A new password typed twice, with the rule's verdict and a strength indicator as it is typed.

Used by the set-up wizard, 新增用户 and the password dialogs; the rule itself is services.passwords."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QWidget

from jzair_desktop.errors import JzairError
from jzair_desktop.services import passwords

_COLOURS = ("#c62828", "#c62828", "#ef6c00", "#2e7d32", "#1b5e20")
RULE_TEXT = (f"至少 {passwords.MIN_LENGTH} 个字符，不能全是数字，不能与用户名相同，不能是常见的弱密码"
             "（如 password1、qwer1234）。")


class PasswordFields(QObject):
    """Two password fields added to `form`; `changed` fires on every keystroke."""

    changed = Signal()

    def __init__(self, form: QFormLayout, label: str = "密码：", *, name: Callable[[], str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or (lambda: "")
        self.first = QLineEdit()
        self.first.setObjectName("password1")
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setPlaceholderText(f"至少 {passwords.MIN_LENGTH} 个字符")
        self.second = QLineEdit()
        self.second.setObjectName("password2")
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.bar = QProgressBar()
        self.bar.setObjectName("passwordStrength")
        self.bar.setRange(0, 4)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.bar.setFixedWidth(120)
        self.verdict = QLabel()
        self.verdict.setObjectName("passwordVerdict")
        self.verdict.setWordWrap(True)
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.bar)
        box.addWidget(self.verdict, 1)
        form.addRow(label, self.first)
        form.addRow("再次输入：", self.second)
        form.addRow("密码强度：", row)
        self.first.textChanged.connect(self.update)
        self.second.textChanged.connect(self.update)
        self.update()

    def problem(self) -> str | None:
        """Why the fields cannot be used yet (None: they can)."""
        if not self.first.text():
            return "请输入密码。"
        reason = passwords.problem(self.name(), self.first.text())
        if reason is not None:
            return reason
        if self.first.text() != self.second.text():
            return "两次输入的密码不一致。"
        return None

    def update(self) -> None:
        s = passwords.strength(self.name(), self.first.text())
        self.bar.setValue(s.score)
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {_COLOURS[s.score]}; }}")
        if not self.first.text():
            text, colour = RULE_TEXT, "#555"
        elif s.reason:
            text, colour = s.reason, _COLOURS[0]
        elif self.second.text() and self.second.text() != self.first.text():
            text, colour = f"{s.label}；两次输入的密码不一致。", _COLOURS[0]
        else:
            text, colour = s.label, _COLOURS[s.score]
        self.verdict.setText(text)
        self.verdict.setStyleSheet(f"color: {colour};")
        self.changed.emit()

    def value(self) -> str:
        if self.first.text() != self.second.text():
            raise JzairError("两次输入的密码不一致。")
        return self.first.text()
