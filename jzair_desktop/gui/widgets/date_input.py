"""A date input that may stay empty: a line edit plus a calendar button.

The text is kept exactly as typed (validation parses 2020-11-03, 2020/11/3, 2020年11月3日 …), so a form
never loses what the user entered. The calendar pops up from the button, or with Alt+Down / F4.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from jzair_desktop.domain.validation import Invalid, parse_date

PLACEHOLDER = "如 2020-11-03"


class _DateLineEdit(QLineEdit):
    popup_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        alt_down = event.key() == Qt.Key.Key_Down and event.modifiers() & Qt.KeyboardModifier.AltModifier
        if alt_down or event.key() == Qt.Key.Key_F4:
            self.popup_requested.emit()
            return
        super().keyPressEvent(event)


class DateInput(QWidget):
    """Text of a date (or empty) with a calendar popup. `date()` is None when empty or not a date."""

    editingFinished = Signal()  # noqa: N815 - Qt naming
    dateChanged = Signal(object)  # noqa: N815 - the parsed date, or None

    def __init__(self, parent: QWidget | None = None, *, fallback: dt.date | None = None,
                 placeholder: str = PLACEHOLDER) -> None:
        super().__init__(parent)
        self._fallback = fallback
        self._last: dt.date | None = None
        self.edit = _DateLineEdit(self)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.button = QToolButton(self)
        self.button.setArrowType(Qt.ArrowType.DownArrow)
        self.button.setToolTip("选择日期（Alt+↓）")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(self.show_calendar)
        self.edit.popup_requested.connect(self.show_calendar)
        self.edit.editingFinished.connect(self._on_edited)
        self.edit.textChanged.connect(self._on_text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.setFocusProxy(self.edit)
        self._menu: QMenu | None = None
        self.calendar: QCalendarWidget | None = None

    # -- value -----------------------------------------------------------------------------------
    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        self.edit.setText(text)

    def date(self) -> dt.date | None:
        """The date typed, or None when the text is empty or not a date."""
        try:
            return parse_date(self.edit.text())
        except Invalid:
            return None

    def is_valid(self) -> bool:
        """True when empty or a readable date."""
        try:
            parse_date(self.edit.text())
        except Invalid:
            return False
        return True

    def setDate(self, day: dt.date | None) -> None:  # noqa: N802 - Qt naming
        self.edit.setText(day.isoformat() if day else "")

    def clear(self) -> None:
        self.edit.clear()

    def _on_text(self, _text: str) -> None:
        day = self.date()
        if day != self._last:
            self._last = day
            self.dateChanged.emit(day)

    def _on_edited(self) -> None:
        self.editingFinished.emit()

    # -- calendar --------------------------------------------------------------------------------
    def show_calendar(self) -> None:
        if self._menu is None:
            self._menu = QMenu(self)
            self.calendar = QCalendarWidget(self._menu)
            self.calendar.setGridVisible(True)
            self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
            self.calendar.clicked.connect(self._picked)
            self.calendar.activated.connect(self._picked)
            action = QWidgetAction(self._menu)
            action.setDefaultWidget(self.calendar)
            self._menu.addAction(action)
        assert self.calendar is not None
        day = self.date() or min(dt.date.today(), self._fallback or dt.date.today())
        self.calendar.setSelectedDate(QDate(day.year, day.month, day.day))
        self._menu.popup(self.mapToGlobal(self.rect().bottomLeft()))
        self.calendar.setFocus()

    def _picked(self, qdate: QDate) -> None:
        self.setDate(dt.date(qdate.year(), qdate.month(), qdate.day()))
        if self._menu is not None:
            self._menu.hide()
        self.edit.setFocus()
        self.editingFinished.emit()
