"""Paste a block from Excel / WPS into an editable grid (月度数据, 任务分解), all or nothing, with undo.

The block goes in from the selection's top-left cell. Every cell is checked before any is taken: it must
lie inside the grid, be a cell the user may fill (not a computed column, not another unit's row) and hold
a value the service's own check accepts (the same check a save runs: numbers, ranges, whole numbers,
the user's units). One refused cell refuses the whole block; the message names each refused cell by row,
column and reason. A taken block is one step on the grid's undo stack (Ctrl+Z), like typed edits it waits
for 保存.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QLabel, QTableView, QWidget

from jzair_desktop.domain.validation import normalize_number_text
from jzair_desktop.gui.widgets.clipboard import MAX_PASTE_CELLS, Block, enable_copy

SHOWN_REFUSALS = 10


class PasteGrid(Protocol):
    """What a grid model offers a paste (gui.pages.figures._GridModel, gui.pages.targets.TargetsModel)."""

    pending: dict[tuple, str]
    problems: dict[tuple, str]

    def paste_key(self, row: int, column: int) -> tuple | None:
        """The key of the value cell at (row, column); None for a computed or label cell."""

    def refusal(self, key: tuple) -> str | None:
        """Why the user may not fill this cell; None when they may."""

    def check_pasted(self, values: dict[tuple, str]) -> dict[tuple, str]:
        """The service's check of the pasted values: the reason for each refused key."""

    def set_pending(self, key: tuple, text: str | None) -> None:
        """Set a cell's waiting text as typing would (None: no waiting edit); no signals."""

    def cells_changed(self) -> None:
        """Tell the views that waiting edits changed."""


def cell_name(model: QAbstractItemModel, row: int, column: int) -> str:
    """“第3行（太谷区）“2020-11”列” — how a message names a grid cell."""
    head = str(model.headerData(row, Qt.Orientation.Vertical, Qt.ItemDataRole.DisplayRole) or "").replace("\n", " ")
    col = str(model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "").replace("\n", " ")
    return f"第{row + 1}行（{head}）“{col}”列" if head else f"第{row + 1}行“{col}”列"


class _PasteCommand(QUndoCommand):
    def __init__(self, model: PasteGrid, before: dict[tuple, str | None], after: dict[tuple, str | None], text: str) -> None:
        super().__init__(text)
        self.model = model
        self.before = before
        self.after = after

    def _apply(self, values: dict[tuple, str | None]) -> None:
        for key, text in values.items():
            self.model.set_pending(key, text)
            self.model.problems.pop(key, None)
        self.model.cells_changed()

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class GridPaste:
    """Ctrl+V / Ctrl+Z on an editable grid. `messages` shows refusals, `status` what was pasted or undone."""

    def __init__(self, table: QTableView, model: PasteGrid, *, owner: QWidget, messages: QLabel, status: QLabel) -> None:
        self.table = table
        self.model = model
        self.messages = messages
        self.status = status
        self.undo_stack = QUndoStack(owner)
        self.clipboard = enable_copy(table, self.paste)
        self.clipboard.on_undo = self.undo
        self.act_undo = QAction("撤销粘贴（Ctrl+Z）", owner)
        self.act_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.act_undo.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.act_undo.triggered.connect(self.undo)
        owner.addAction(self.act_undo)
        self.act_undo.setEnabled(False)
        self.undo_stack.canUndoChanged.connect(self.act_undo.setEnabled)

    def clear(self) -> None:
        """Forget the pastes (after a save, a discard or a reload of the waiting edits)."""
        self.undo_stack.clear()

    def undo(self) -> bool:
        if not self.undo_stack.canUndo():
            return False
        text = self.undo_stack.undoText()
        self.undo_stack.undo()
        self.messages.clear()
        self.status.setText(f"已撤销{text}。")
        return True

    def _anchor(self) -> tuple[int, int]:
        indexes = self.table.selectionModel().selectedIndexes()
        if indexes:
            return min(i.row() for i in indexes), min(i.column() for i in indexes)
        current = self.table.currentIndex()
        return (current.row(), current.column()) if current.isValid() else (0, 0)

    def paste(self, block: Block) -> bool:
        """Take `block` into the grid from the selection's top-left cell, or refuse it whole."""
        model = self.model
        qmodel: QAbstractItemModel = self.table.model()
        if not block or not any(any(c.strip() for c in row) for row in block):
            self.status.setText("剪贴板中没有可粘贴的单元格。")
            return False
        rows, cols = len(block), max(len(r) for r in block)
        if rows * cols > MAX_PASTE_CELLS:
            return self._refuse([f"剪贴板中有 {rows:,} 行 × {cols:,} 列，超过一次粘贴的上限（{MAX_PASTE_CELLS:,} 个单元格）。"])
        top, left = self._anchor()
        n_rows, n_cols = qmodel.rowCount(), qmodel.columnCount()
        refused: list[str] = []
        if top + rows > n_rows or left + cols > n_cols:
            room_rows, room_cols = n_rows - top, n_cols - left
            start = cell_name(qmodel, top, left)
            refused.append(f"粘贴的内容有 {rows} 行 × {cols} 列，从{start}起表格只有 {room_rows} 行 × {room_cols} 列，"
                           "多出的行或列无处可放。")
            for r in range(rows):
                for c in range(cols):
                    if (top + r >= n_rows or left + c >= n_cols) and block[r][c].strip() and len(refused) <= SHOWN_REFUSALS:
                        refused.append(f"第{r + 1}行第{c + 1}个值“{block[r][c][:20]}”：超出表格范围")
            return self._refuse(refused)
        values: dict[tuple, str] = {}
        where: dict[tuple, str] = {}
        for r in range(rows):
            for c in range(cols):
                text = normalize_number_text(block[r][c]) if block[r][c] else ""
                key = model.paste_key(top + r, left + c)
                name = cell_name(qmodel, top + r, left + c)
                if key is None:
                    if text:
                        refused.append(f"{name}：由程序计算或为说明，不能填写（收到“{text[:20]}”）")
                    continue
                reason = model.refusal(key)
                if reason is not None:
                    refused.append(f"{name}：{reason}")
                    continue
                values[key] = text
                where[key] = name
        if not refused and values:
            for key, reason in model.check_pasted(values).items():
                refused.append(f"{where[key]}：{reason}")
        if refused:
            return self._refuse(refused)
        before = {k: model.pending.get(k) for k in values}
        what = f"粘贴 {rows} 行 × {cols} 列"
        self.undo_stack.push(_PasteCommand(model, before, dict(values), what))
        self.messages.clear()
        self.status.setText(f"已{what}（{len(values)} 个单元格），尚未保存；按 Ctrl+Z 撤销粘贴。")
        return True

    def _refuse(self, lines: list[str]) -> bool:
        shown = [f"· {line}" for line in lines[:SHOWN_REFUSALS]]
        if len(lines) > SHOWN_REFUSALS:
            shown.append(f"· 另有 {len(lines) - SHOWN_REFUSALS} 处问题未列出")
        self.messages.setText("\n".join([f"粘贴未完成：有 {len(lines)} 处问题，没有粘贴任何内容。", *shown]))
        self.status.clear()
        return False
