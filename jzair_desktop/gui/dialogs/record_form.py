"""The entry form of a ledger record, built from the column registry.

- Closed lists are non-editable combo boxes (optional ones have an empty choice; required ones start
  unselected and say 请选择); dates are `DateInput`s (may stay empty); everything else a line edit.
- Every field has an inline message beside it: errors red, warnings amber, mapped by Problem.field.
  A field is checked (domain.validation.check_record plus the database duplicate rules) when it
  loses focus, and the whole record again on save; a field showing a problem is checked again as it is
  typed in, so the message goes as soon as it is corrected. A field left empty is not marked 必填 until a
  save is tried. A refused save lists the errors under the form and puts the cursor on the first. What
  the user typed is never cleared on an error.
- Enter on a suggestion in the open 乡（镇）list takes it and moves to the next field.
- Enter / Tab move to the next field; Enter on the last field or Ctrl+S saves; Ctrl+Enter is
  保存并新增, which keeps 县（区、市）/乡（镇）/村（社区） for the next record and clears the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.ledgers import Column, LedgerDef, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import ERROR, Problem, check_record
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.gui import tasks
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.models.ledger_table import format_number
from jzair_desktop.gui.tasks import show_user_error
from jzair_desktop.gui.widgets.common import LengthLimit
from jzair_desktop.gui.widgets.date_input import DateInput
from jzair_desktop.services import guards
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.ledgers import RecordRow

ERROR_COLOR = "#c62828"
WARNING_COLOR = "#a65f00"
HELP_COLOR = "#777777"
# Fields kept by 保存并新增 (and pre-filled from the previous record of the page).
CARRY_FIELDS = ("unit_code", "township", "village")
PLACEHOLDERS = {
    "idcard": "18位身份证号码",
    "phone": "手机或座机号码",
    "plate": "如 晋K12345",
    "vin": "17位车辆识别代号",
    "uscc": "18位统一社会信用代码",
    "int": "整数",
    "float": "数字",
}
# The registry's help speaks of Excel columns; in the form these kinds get their own words.
FORM_HELP = {
    "unit": "",
    "idcard": "18位居民身份证号码，最后一位可以是X。",
}

STYLE = f"""
QLineEdit[problem="error"] {{ border: 1px solid {ERROR_COLOR}; background: #fff5f5; }}
QLineEdit[problem="warning"] {{ border: 1px solid {WARNING_COLOR}; background: #fffaf0; }}
QLabel#formStatus {{ color: #2e7d32; }}
QLabel#formGeneral {{ color: {ERROR_COLOR}; }}
"""


@dataclass(frozen=True)
class SavedRecord:
    """What the form tells the page after a save (for the undo stack and the status line)."""

    uuid: str
    created: bool
    label: str
    old_values: dict[str, Any] | None = None  # before an edit
    warnings: list[Problem] = field(default_factory=list)
    reason: str | None = None  # why a closed-out (已销号) record was changed


def record_label(d: LedgerDef, values: Mapping[str, Any]) -> str:
    """How messages name a record: “户主姓名 张三”."""
    value = values.get(d.label_field)
    return f"{d.column(d.label_field).header} {value}" if value else d.title + "记录"


def _text_of(column: Column, value: Any) -> str:
    """A stored value as the form shows it (full, editable: no masking, no thousands separators)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return format_number(value).replace(",", "")
    return str(value)


class FieldEditor:
    """One registry column in the form: its editor, the widget that takes focus, and its message label."""

    def __init__(self, column: Column, *, fallback_date: dt.date | None) -> None:
        self.column = column
        self.combo: QComboBox | None = None
        self.line: QLineEdit | None = None
        self.date: DateInput | None = None
        if column.kind == "unit":
            self.combo = QComboBox()
            for unit in reference().units:
                self.combo.addItem(unit.name, unit.code)
        elif column.kind in ("enum", "bool"):
            self.combo = QComboBox()
            if not column.required:
                self.combo.addItem("", "")
            for choice in column.choices:
                self.combo.addItem(choice, choice)
        elif column.kind == "date":
            self.date = DateInput(fallback=fallback_date)
        else:
            self.line = QLineEdit()
            self.line.setObjectName(f"field_{column.key}")
            # Input stops at the column's limit and says so (a counter near it); a longer paste is refused
            # whole, never cut: the value saved is what the field shows.
            self.limit = LengthLimit(self.line, column.max_length if column.kind == "text" else max(column.max_length, 20))
            if column.kind in PLACEHOLDERS:
                self.line.setPlaceholderText(PLACEHOLDERS[column.kind])
            if column.kind in ("int", "float"):
                self.line.setAlignment(Qt.AlignmentFlag.AlignRight)
        if self.combo is not None:
            self.combo.setEditable(False)
            self.combo.setPlaceholderText("请选择")
            self.combo.setCurrentIndex(-1)
            self.combo.setMaxVisibleItems(14)
        self.widget: QWidget = self.combo or self.line or self.date  # type: ignore[assignment]
        self.cell: QWidget = self.widget  # what the form lays out: the field, with its counter beside a text box
        if self.line is not None:
            self.cell = QWidget()
            row = QHBoxLayout(self.cell)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(4)
            row.addWidget(self.line, 1)
            row.addWidget(self.limit.counter)
        self.focus_widget: QWidget = self.date.edit if self.date is not None else self.widget
        self.widget.setObjectName(f"field_{column.key}")
        self.help = FORM_HELP.get(column.kind, column.help)
        if self.help:
            self.widget.setToolTip(self.help)
        self.message = QLabel()
        self.message.setObjectName(f"msg_{column.key}")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setMinimumWidth(260)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.severity = ""

    # -- value -----------------------------------------------------------------------------------
    def value(self) -> Any:
        """The raw value for check_record / the services (text as typed, or a choice)."""
        if self.combo is not None:
            data = self.combo.currentData()
            return data if data is not None else ""
        if self.date is not None:
            return self.date.text().strip()
        assert self.line is not None
        return self.line.text().strip()

    def set_value(self, value: Any) -> None:
        if self.combo is not None:
            text = "" if value is None else str(value)
            index = self.combo.findData(text)
            self.combo.setCurrentIndex(index if index >= 0 else -1)
        elif self.date is not None:
            self.date.setText(_text_of(self.column, value))
        else:
            assert self.line is not None
            self.line.setText(_text_of(self.column, value))

    def clear(self) -> None:
        self.set_value(None)

    def is_empty(self) -> bool:
        return self.value() in ("", None)

    def is_enabled(self) -> bool:
        return self.widget.isEnabled()

    # -- messages --------------------------------------------------------------------------------
    def show(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == ERROR]
        shown = errors or problems
        severity = ("error" if errors else "warning") if shown else ""
        if shown:
            text = "；".join(dict.fromkeys(p.message for p in shown))
            color = ERROR_COLOR if errors else WARNING_COLOR
            prefix = "✖ " if errors else "⚠ "
            self.message.setText(prefix + text)
        else:
            text, color = self.help, HELP_COLOR
            self.message.setText(text)
        self.message.setStyleSheet(f"color: {color};")
        if severity != self.severity:
            self.severity = severity
            target = self.date.edit if self.date is not None else self.widget
            target.setProperty("problem", severity)
            target.style().unpolish(target)
            target.style().polish(target)


class RecordForm(QDialog):
    """新增 / 编辑 one record. Emits `saved(SavedRecord)` after each successful save."""

    saved = Signal(object)

    def __init__(
        self,
        ctx: GuiContext,
        ledger_key: str,
        *,
        record: RecordRow | None = None,
        prefill: Mapping[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ledger = ledger(ledger_key)
        self.record = record
        self._touched: set[str] = set()
        self._show_all = False
        self._validating = False
        self.setObjectName("recordForm")
        self.setStyleSheet(STYLE)
        d = self.ledger
        self.setWindowTitle(f"{'编辑' if record else '新增'}记录 - {d.sheet_title}")
        # A closed-out (已销号) record is read-only; a city administrator may change it, giving a reason.
        self.closed = record is not None and guards.is_closed(d, record.values)
        self.read_only = self.closed and not ctx.actor.is_city

        plan = reference().plan
        self.fields: dict[str, FieldEditor] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 0)
        grid.setColumnStretch(2, 1)
        for row, column in enumerate(d.columns):
            editor = FieldEditor(column, fallback_date=plan.campaign_end)
            self.fields[column.key] = editor
            star = f'<span style="color:{ERROR_COLOR}">*</span>' if column.required else ""
            label = QLabel(f"{column.header}{star}")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            editor.widget.setMinimumWidth(240)
            grid.addWidget(label, row, 0)
            grid.addWidget(editor.cell, row, 1)
            grid.addWidget(editor.message, row, 2)
            editor.show([])
            editor.focus_widget.installEventFilter(self)
            if editor.combo is not None:
                editor.combo.activated.connect(lambda _i, k=column.key: self._field_done(k))
                editor.combo.currentIndexChanged.connect(lambda _i, k=column.key: self._edited(k))
            if editor.date is not None:
                editor.date.editingFinished.connect(lambda k=column.key: self._field_done(k))
                editor.date.edit.textChanged.connect(lambda _t, k=column.key: self._edited(k))
            if editor.line is not None:
                editor.line.textChanged.connect(lambda _t, k=column.key: self._edited(k))
        self._order = [self.fields[c.key] for c in d.columns]

        # 乡（镇）suggestions from the records already entered for the chosen unit.
        self._township_model = QStringListModel(self)
        if d.township_field is not None and d.township_field in self.fields:
            completer = QCompleter(self._township_model, self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            line = self.fields[d.township_field].line
            assert line is not None
            line.setCompleter(completer)
            # Enter on a suggestion in the open list takes it and moves on, like Enter in the field.
            completer.popup().installEventFilter(self)
            self._completer_field = self.fields[d.township_field]
            unit_combo = self.fields["unit_code"].combo
            assert unit_combo is not None
            unit_combo.currentIndexChanged.connect(self._load_townships)

        self.general = QLabel()
        self.general.setObjectName("formGeneral")
        self.general.setWordWrap(True)
        self.general.hide()
        self.status = QLabel()
        self.status.setObjectName("formStatus")
        self.status.setWordWrap(True)

        self.save_button = QPushButton("保存")
        self.save_button.setToolTip("保存并关闭（Ctrl+S）")
        self.save_button.clicked.connect(self.save)
        self.save_new_button = QPushButton("保存并新增")
        self.save_new_button.setToolTip("保存后继续录入下一条，保留县（区、市）、乡（镇）、村（社区）（Ctrl+Enter）")
        self.save_new_button.clicked.connect(self.save_and_new)
        self.save_new_button.setVisible(record is None)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.clicked.connect(self.reject)
        for button in (self.save_button, self.save_new_button, self.cancel_button):
            button.setAutoDefault(False)
            button.setDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.save_new_button)
        buttons.addWidget(self.cancel_button)

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(grid)
        body_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        hint = QLabel("带 * 的为必填项。Enter 或 Tab 转到下一项，Ctrl+S 保存。")
        hint.setStyleSheet(f"color: {HELP_COLOR};")
        if self.read_only:
            hint.setText("该记录已销号，只读；只有市级管理员可以修改（须填写原因）。")
            hint.setStyleSheet(f"color: {WARNING_COLOR};")
        elif self.closed:
            hint.setText("该记录已销号：保存修改时须填写原因，修改记入审计记录。")
            hint.setStyleSheet(f"color: {WARNING_COLOR};")
        hint.setObjectName("formHint")
        layout.addWidget(hint)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.general)
        layout.addLayout(buttons)
        for first, second in zip(self._order, self._order[1:], strict=False):
            QWidget.setTabOrder(first.focus_widget, second.focus_widget)

        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save)
        if record is None:
            QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save_and_new)
            QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.save_and_new)

        # Values: the record being edited, or the pre-fill of a new one; a clerk's unit is fixed.
        if record is not None:
            for key, editor in self.fields.items():
                editor.set_value(record.values.get(key))
        else:
            for column in d.columns:
                if column.default is not None:
                    self.fields[column.key].set_value(column.default)
            for key, value in (prefill or {}).items():
                if key in self.fields and value not in (None, ""):
                    self.fields[key].set_value(value)
        actor = ctx.actor
        if actor.own_unit:
            self.fields["unit_code"].set_value(actor.unit_code)
            self.fields["unit_code"].widget.setEnabled(False)
        if self.read_only:
            for editor in self._order:
                editor.widget.setEnabled(False)
            self.save_button.setEnabled(False)
            self.cancel_button.setText("关闭")
        self._load_townships()
        self._initial = self.values()
        self.resize(960, min(120 + 30 * len(d.columns), 820))
        QTimer.singleShot(0, self.focus_first_empty)

    # -- values ----------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        return {key: editor.value() for key, editor in self.fields.items()}

    def is_dirty(self) -> bool:
        return self.values() != self._initial

    def _load_townships(self) -> None:
        if self.ledger.township_field is None:
            return
        unit = self.fields["unit_code"].value() or None
        try:
            names = ledger_service.townships(self.ctx.db, self.ledger.key, unit)
        except JzairError:
            names = []
        self._township_model.setStringList(names)

    # -- focus and keys --------------------------------------------------------------------------
    def _enabled_editors(self) -> list[FieldEditor]:
        return [e for e in self._order if e.is_enabled()]

    def focus_first_empty(self) -> None:
        editors = self._enabled_editors()
        target = next((e for e in editors if e.is_empty()), editors[0] if editors else None)
        if target is not None:
            target.focus_widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def _editor_of(self, widget: QObject) -> FieldEditor | None:
        for editor in self._order:
            if editor.focus_widget is widget:
                return editor
        return None

    def _completer_enter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in the open suggestion list: take the highlighted entry (or the text typed) and move to the
        next field. True when the event was handled."""
        editor = getattr(self, "_completer_field", None)
        if editor is None or event.type() != QEvent.Type.KeyPress or editor.line is None:
            return False
        completer = editor.line.completer()
        if completer is None or watched is not completer.popup():
            return False
        key_event: QKeyEvent = event  # type: ignore[assignment]
        if key_event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return False
        popup = completer.popup()
        index = popup.currentIndex()
        if index.isValid():
            editor.line.setText(str(index.data()))
        popup.hide()
        self._enter_pressed(editor)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if self._completer_enter(watched, event):
            return True
        if event.type() == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                mods = key_event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
                if mods == Qt.KeyboardModifier.NoModifier:
                    editor = self._editor_of(watched)
                    if editor is not None:
                        self._enter_pressed(editor)
                        return True
        elif event.type() == QEvent.Type.FocusOut:
            editor = self._editor_of(watched)
            if editor is not None:
                # After the focus change settles (a calendar popup or completer must not count).
                QTimer.singleShot(0, lambda k=editor.column.key: self._field_done(k))
        return super().eventFilter(watched, event)

    def _enter_pressed(self, editor: FieldEditor) -> None:
        editors = self._enabled_editors()
        self._field_done(editor.column.key)
        if editor is editors[-1]:
            self.save()
            return
        nxt = editors[editors.index(editor) + 1]
        nxt.focus_widget.setFocus(Qt.FocusReason.TabFocusReason)

    # -- validation ------------------------------------------------------------------------------
    def _field_done(self, key: str) -> None:
        if self.isVisible() and key in self.fields:
            self._touched.add(key)
            self.validate()

    def _edited(self, key: str) -> None:
        """Typing into a field that shows a problem checks again at once: a corrected field loses its
        error as soon as it is right, not when the focus leaves it."""
        editor = self.fields.get(key)
        if editor is not None and self.isVisible() and (editor.severity or self.general.isVisible()):
            self.validate()

    def validate(self, *, show_all: bool = False) -> list[Problem]:
        """Check the record as typed; show the problems of touched fields (all with show_all)."""
        if self._validating:
            return []
        self._validating = True
        try:
            if show_all:
                self._show_all = True
            checked = check_record(self.ledger, self.values())
            problems = list(checked.problems)
            status_field = self.ledger.status_field
            if status_field and not self.closed and guards.is_closed(self.ledger, checked.values):
                column = self.ledger.column(status_field)
                problems.append(Problem(status_field, column.header, guards.CLOSEOUT_HOW))
            if checked.ok:
                try:
                    problems += ledger_service.find_duplicates(
                        self.ctx.db, self.ledger.key, checked.values,
                        exclude_uuid=self.record.uuid if self.record else None, actor=self.ctx.actor,
                    )
                except JzairError:
                    pass  # the save reports what the database says
            self.show_problems(problems)
            return problems
        finally:
            self._validating = False

    def show_problems(self, problems: list[Problem]) -> None:
        by_field: dict[str, list[Problem]] = {}
        for p in problems:
            by_field.setdefault(p.field, []).append(p)
        for key, editor in self.fields.items():
            # A field left empty is not marked (必填) until a save is tried: tabbing past it is no error.
            visible = self._show_all or (key in self._touched and not editor.is_empty())
            editor.show(by_field.get(key, []) if visible else [])
        general = [p for p in problems if p.field not in self.fields]
        if self._show_all and any(p.is_error for p in problems):
            self._list_errors(problems)  # after a refused save the list follows the corrections
            return
        self.general.setText("\n".join(p.text() for p in general))
        self.general.setVisible(bool(general))

    def message_of(self, key: str) -> str:
        """The inline message now shown beside a field ("" when none; the help text does not count)."""
        editor = self.fields[key]
        return editor.message.text() if editor.severity else ""

    def severity_of(self, key: str) -> str:
        return self.fields[key].severity

    def _list_errors(self, problems: list[Problem]) -> None:
        """保存 refused: every error listed under the form (in the fields' order), beside the inline ones."""
        order = {e.column.key: n for n, e in enumerate(self._order)}
        errors = sorted((p for p in problems if p.is_error), key=lambda p: order.get(p.field, len(order)))
        lines = [f"未保存：有 {len(errors)} 处需要改正，光标已在第一处。"]
        lines += [f"· {p.text()}" for p in errors[:10]]
        if len(errors) > 10:
            lines.append(f"· 另有 {len(errors) - 10} 处")
        self.general.setText("\n".join(lines))
        self.general.setVisible(True)

    def _focus_first_error(self, problems: list[Problem]) -> None:
        for editor in self._order:
            if any(p.field == editor.column.key and p.is_error for p in problems):
                editor.focus_widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    # -- saving ----------------------------------------------------------------------------------
    def save(self) -> bool:
        """保存: on success close the form; on an error keep everything typed and point at the field."""
        result = self._save()
        if result is not None:
            self.accept()
        return result is not None

    def save_and_new(self) -> bool:
        """保存并新增: keep 县（区、市）/乡（镇）/村（社区）, clear the rest, focus the first empty field."""
        if self.record is not None:
            return self.save()
        result = self._save()
        if result is None:
            return False
        keep = {k: self.fields[k].value() for k in CARRY_FIELDS if k in self.fields}
        for key, editor in self.fields.items():
            if key not in keep and editor.is_enabled():
                editor.set_value(editor.column.default)  # empty, or the column's default (使用性质 营运)
        self._touched.clear()
        self._show_all = False
        self.show_problems([])
        self._initial = self.values()
        self._load_townships()
        note = f"已保存：{result.label}。"
        if result.warnings:
            note += "提醒：" + "；".join(p.text() for p in result.warnings)
        self.status.setText(note)
        self.status.setStyleSheet(f"color: {WARNING_COLOR};" if result.warnings else "")
        self.focus_first_empty()
        return True

    def _ask_reason(self) -> str | None:
        text, ok = QInputDialog.getText(self, "填写原因", "该记录已销号，修改须填写原因（记入审计记录）：")
        return text.strip() if ok and text.strip() else None

    def _save(self) -> SavedRecord | None:
        self.status.clear()
        if self.read_only:
            return None
        problems = self.validate(show_all=True)
        if any(p.is_error for p in problems):
            self._list_errors(problems)
            self._focus_first_error(problems)
            return None
        raw = self.values()
        d = self.ledger
        reason = None
        if self.closed:
            reason = self._ask_reason()
            if reason is None:
                return None
        try:
            while True:
                try:
                    if self.record is None:
                        outcome = ledger_service.create_record(self.ctx.db, d.key, raw, actor=self.ctx.actor)
                        old = None
                    else:
                        outcome = ledger_service.update_record(
                            self.ctx.db, d.key, self.record.uuid, raw, actor=self.ctx.actor, reason=reason,
                            expected=self.record,
                        )
                        old = dict(self.record.values)
                    break
                except tasks.RETRYABLE as exc:  # nothing was written; the form keeps what was typed
                    if not tasks.ASK_RETRY(self, "未保存", exc):
                        self.status.setText("未保存：与数据库的连接出现问题，填写的内容仍在表单中。")
                        return None
        except ValidationFailed as exc:
            if exc.problems and all(p.field in self.fields for p in exc.problems):
                self.show_problems(exc.problems)
                self._focus_first_error(exc.problems)
            else:
                show_user_error(self, exc, "未保存")
            return None
        except JzairError as exc:
            show_user_error(self, exc, "未保存")
            return None
        checked = check_record(d, raw)
        result = SavedRecord(
            uuid=outcome.uuid,
            created=self.record is None,
            label=record_label(d, checked.values),
            old_values=old,
            warnings=list(outcome.warnings),
            reason=reason,
        )
        self.saved.emit(result)
        return result

    def reject(self) -> None:
        if self.is_dirty() and not self.read_only:
            answer = QMessageBox.question(
                self, "放弃修改", "填写的内容尚未保存，确定放弃吗？",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().reject()
