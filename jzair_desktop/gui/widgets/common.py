"""Widget helpers shared by pages and dialogs: read-only list tables, and the pieces of the editable grids
(月度数据, 任务分解) that save all edits at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence, QValidator
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.errors import JzairError
from jzair_desktop.gui.widgets.clipboard import enable_copy

CHANGED_BRUSH = QBrush(QColor("#fff3cd"))  # an audited field whose value changed

# The editable grids: an edited cell waiting for 保存, a cell a refused save names, read-only text.
EDITED = QColor("#dceefb")
PROBLEM = QColor("#f4b6b6")
GREY_TEXT = QColor("#555555")
GRID_STYLE = """
QLabel#problems { color: #b71c1c; }
QLabel#statusLine { color: #2e7d32; }
"""


def list_table(headers: tuple[str, ...], name: str, *, stretch_last: bool = True) -> QTableWidget:
    """A read-only table of whole rows, one selectable at a time, alternating colours, no row numbers."""
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setVisible(False)
    if stretch_last:
        t.horizontalHeader().setStretchLastSection(True)
    enable_copy(t)
    return t


def fill_change_rows(table: QTableWidget, rows: Sequence[tuple[str, str, str, bool]]) -> None:
    """Rows of (field, before, after, changed) into a 字段 | 修改前 | 修改后 table; changed rows shaded."""
    table.setRowCount(len(rows))
    for r, (*texts, changed) in enumerate(rows):
        for c, text in enumerate(texts):
            item = QTableWidgetItem(text)
            if changed:
                item.setBackground(CHANGED_BRUSH)
            table.setItem(r, c, item)


def save_file_path(
    parent: QWidget | None, title: str, start: Path | str, file_filter: str, suffix: str, path: Path | str | None
) -> Path | None:
    """`path`, or the file name the save dialog returns (None when cancelled); `suffix` (".xlsx") is added
    when the name does not end in it."""
    if path is None:
        chosen, _ = QFileDialog.getSaveFileName(parent, title, str(start), file_filter)
        if not chosen:
            return None
        path = chosen
    dest = Path(path)
    if dest.suffix.lower() != suffix:
        dest = dest.with_name(dest.name + suffix)
    return dest


# --------------------------------------------------------------------------- editable grids
def setup_edit_grid(table: QTableView, row_height_of: QWidget) -> None:
    """Cells edited in place (double click, F2 or typing), several selectable, rows a line high."""
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(
        QAbstractItemView.EditTrigger.DoubleClicked
        | QAbstractItemView.EditTrigger.EditKeyPressed
        | QAbstractItemView.EditTrigger.AnyKeyPressed
    )
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(row_height_of.fontMetrics().height() + 10)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


def add_save_shortcut(widget: QWidget, save: Callable[[], object]) -> QAction:
    """Ctrl+S anywhere inside `widget` calls `save`."""
    action = QAction(widget)
    action.setShortcut(QKeySequence.StandardKey.Save)
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(save)
    widget.addAction(action)
    return action


def problem_label() -> QLabel:
    """The label listing a refused save's problems (selectable, so they can be copied)."""
    label = QLabel()
    label.setObjectName("problems")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def commit_open_editor(table: QTableView) -> None:
    """Finish the cell editor open in `table`, if any, so its text counts before a save."""
    editor = QApplication.focusWidget()
    if editor is not None and editor is not table and table.isAncestorOf(editor):
        table.commitData(editor)
        table.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)


def refused_save_text(count: int, cell_problems: Iterable[str], other_problems: Iterable[str]) -> str:
    """What a refused save says: the count, up to 8 problems of marked cells and up to 4 others."""
    lines = [f"保存未完成：有 {count} 处错误，没有保存任何修改。出错的单元格已标红，鼠标停在上面可看原因。"]
    lines += [f"· {p}" for p in cell_problems][:8]
    lines += [f"· {p}" for p in other_problems][:4]
    return "\n".join(lines)


def problems_by_cell(problems: Iterable[str], prefixes: dict[str, tuple]) -> tuple[dict[tuple, str], list[str]]:
    """Attach each problem to the cell whose `where` prefix (ending in '：') it starts with; returns the
    problems by cell key (prefix removed) and the problems left over."""
    cells: dict[tuple, str] = {}
    rest = []
    for p in problems:
        for prefix, key in prefixes.items():
            if p.startswith(prefix):
                cells[key] = p[len(prefix):]
                break
        else:
            rest.append(p)
    return cells, rest


def refused_cells(problems: list[str], wheres: dict[tuple, str], first: tuple) -> dict[tuple, str]:
    """A refused paste's problems by cell (`wheres`: each cell's `where` text); a problem naming no cell is
    shown on the block's first cell, so none is lost."""
    cells, rest = problems_by_cell(problems, {w + "：": k for k, w in wheres.items()})
    if rest:
        cells[first] = "；".join([*([cells[first]] if first in cells else []), *rest])
    return cells


class FormDialog(QDialog):
    """A small form (`self.form`) with an inline error line: 确定 calls `run`, which does the work; a JzairError
    it raises shows in the dialog, which stays open."""

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setStyleSheet("QLabel#dialogError { color: #c62828; }")
        self.setMinimumWidth(380)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton("确定", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        # Made the default once it is inside the dialog: a default set earlier is lost at the first focus
        # change, and Enter in a field would then do nothing.
        self.ok_button.setDefault(True)

    def run(self) -> None:
        raise NotImplementedError

    def submit(self) -> bool:
        try:
            self.run()
        except JzairError as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.adjustSize()  # room for the error line, so the form's wrapped lines are not squeezed
            return False
        self.accept()
        return True


# --------------------------------------------------------------------------- text length limits
class _LengthValidator(QValidator):
    """Refuses any edit (a typed character or a whole paste) that would make the text longer than `limit`:
    the field keeps what it had, so nothing is ever cut silently."""

    def __init__(self, limit: int, parent: QObject) -> None:
        super().__init__(parent)
        self.limit = limit

    def validate(self, text: str, pos: int) -> object:  # noqa: D102 - Qt's signature
        if len(text) > self.limit:
            return QValidator.State.Invalid
        return QValidator.State.Acceptable


class LengthLimit(QObject):
    """A line edit stopped at `limit` characters, with `counter` saying so.

    The counter stays empty until the text is near the limit (80 %), then shows “38/40 字”; at the limit it
    says the limit is reached; an edit that would pass it (typing on, or pasting a long text) is refused as a
    whole, the field keeps its text and the counter says why. The value the field holds is what is saved.
    """

    NEAR = 0.8

    def __init__(self, line: QLineEdit, limit: int, counter: QLabel | None = None) -> None:
        super().__init__(line)
        self.line = line
        self.limit = limit
        self.counter = counter if counter is not None else QLabel()
        self.counter.setObjectName(f"{line.objectName() or 'field'}_counter")
        self.counter.setTextFormat(Qt.TextFormat.PlainText)
        self.rejected = False
        line.setMaxLength(32767)  # Qt's own cut would shorten a paste before the check below sees it
        line.setValidator(_LengthValidator(limit, self))
        line.textChanged.connect(self._changed)
        line.inputRejected.connect(self._rejected)
        self._changed(line.text())

    def _changed(self, text: str) -> None:
        self.rejected = False
        self._show(len(text))

    def _rejected(self) -> None:
        self.rejected = True
        self._show(len(self.line.text()))

    def _show(self, length: int) -> None:
        limit = self.limit
        if self.rejected:
            text, color = f"超过上限，未录入（最多 {limit} 字）", "#c62828"
        elif length >= limit:
            text, color = f"{length}/{limit} 字，已达上限", "#c62828"
        elif length >= limit * self.NEAR:
            text, color = f"{length}/{limit} 字", "#8a6d00"
        else:
            text, color = "", "#555555"
        self.counter.setText(text)
        self.counter.setStyleSheet(f"color: {color};")
        self.counter.setMinimumWidth(self.counter.sizeHint().width())  # never cut by a narrow layout
        self.counter.setVisible(bool(text))
