"""One page per ledger: a filter bar, a fast table over the database, the entry form, delete and undo.

The table model holds ids only and fetches rows page by page (gui.models.ledger_table); filters, search
and sort are SQL queries through services.ledgers. Every write goes through the services; the page refreshes
(keeping the selection) and publishes what changed (gui.tasks.publish), so the main window refreshes every other
page that shows it. Deletes, restores and undos run off the GUI thread (gui.tasks.run_task).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelection, QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.ledgers import LedgerDef, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.change_watch import OTHERS_CHANGED
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.dialogs.history import show_history_of_current
from jzair_desktop.gui.dialogs.record_form import CARRY_FIELDS, RecordForm, SavedRecord, record_label
from jzair_desktop.gui.models.ledger_table import LedgerTableModel
from jzair_desktop.gui.tasks import TaskState, publish, run_task, show_user_error, user_errors
from jzair_desktop.gui.widgets.clipboard import clipboard_block, enable_copy
from jzair_desktop.gui.widgets.common import LengthLimit
from jzair_desktop.gui.widgets.date_input import DateInput
from jzair_desktop.services import guards
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.ledgers import SEARCH_MAX_CHARS, SEARCHABLE_KINDS, RecordQuery

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 200
UNDO_DEPTH = 20
ALL = "全部"

STYLE = """
QLabel#countLabel { color: #333; padding-left: 12px; }
QLabel#statusLine { color: #2e7d32; }
QLabel#emptyHint { color: #777; padding: 16px; }
DateInput[invalid="true"] QLineEdit { border: 1px solid #c62828; }
QToolBar#ledgerTools { spacing: 4px; }
"""


def _index_of(ids: list[int], record_id: int) -> int | None:
    try:
        return ids.index(record_id)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Deleted:
    """What a delete, restore or undo job did."""

    uuids: tuple[str, ...]
    count: int
    needs_reason: bool = False  # closed-out (已销号) records among them and no reason given yet
    ids: list[int] = field(default_factory=list)  # the records to select afterwards
    changes: Changes = field(default_factory=Changes)


@dataclass(frozen=True)
class UndoEntry:
    kind: str  # "delete" | "edit" | "create"
    uuids: tuple[str, ...]
    label: str  # what the 撤销 tooltip and the status line name
    old_values: dict[str, Any] | None = None  # the values before an edit
    reason: str | None = None  # given for a closed-out (已销号) record; its undo needs one too


def search_hint(d: LedgerDef) -> list[str]:
    """Up to three searchable column headers for the search box: the record's name, identifiers, rest."""
    cols = [c for c in d.columns if c.kind in SEARCHABLE_KINDS and c.key != "remarks"]
    rank = {d.label_field: 0, "idcard": 1, "plate": 1, "vin": 1, "uscc": 1}
    cols.sort(key=lambda c: rank.get(c.key, rank.get(c.kind, 2)))
    return [c.header for c in cols[:3]]


class LedgerPage(QWidget):
    def __init__(self, ctx: GuiContext, ledger_key: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.ledger = d = ledger(ledger_key)
        self.filter_key = d.filter_field  # the 状态 filter (trucks have no status: 淘汰方式 instead)
        self.undo_stack: list[UndoEntry] = []
        self.form: RecordForm | None = None
        self._last_values: dict[str, Any] = {}
        self._pending_select: list[int] | None = None
        self._stale = False
        self._others_changed = False  # the refresh to come shows someone else's changes: say so
        self._settings_prefix = f"ledger/{d.key}/"
        self.setStyleSheet(STYLE)
        actor = ctx.actor
        self.can_write = actor.can_write()

        title = QLabel(d.sheet_title)
        title.setObjectName("pageTitle")

        # -- filter bar ------------------------------------------------------------------------------
        self.unit_combo = QComboBox()
        self.unit_combo.setObjectName("unitFilter")
        self.unit_combo.addItem(ALL, "")
        for unit in reference().units:
            self.unit_combo.addItem(unit.name, unit.code)
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("statusFilter")
        self.status_combo.addItem(ALL, "")
        for choice in d.column(self.filter_key).choices:
            self.status_combo.addItem(choice, choice)
        fallback = reference().plan.campaign_end
        self.date_from = DateInput(fallback=fallback, placeholder="起")
        self.date_to = DateInput(fallback=fallback, placeholder="止")
        for w in (self.date_from, self.date_to):
            w.setFixedWidth(130)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText("搜索" + "、".join(search_hint(d)) + f"…（最多{SEARCH_MAX_CHARS}字）")
        self.search.setToolTip(f"输入后自动筛选（Ctrl+F 转到搜索框），最多 {SEARCH_MAX_CHARS} 个字")
        self.search.setMinimumWidth(240)
        self.search_limit = LengthLimit(self.search, SEARCH_MAX_CHARS)
        self.trash = QCheckBox("回收站")
        self.trash.setToolTip("显示已删除的记录，可选中后恢复")

        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(QLabel("县（区、市）"))
        bar.addWidget(self.unit_combo)
        bar.addSpacing(8)
        bar.addWidget(QLabel(d.column(self.filter_key).header))
        bar.addWidget(self.status_combo)
        bar.addSpacing(8)
        bar.addWidget(QLabel(d.column(d.done_date_field).header))
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("至"))
        bar.addWidget(self.date_to)
        bar.addStretch(1)

        # -- actions and toolbar ---------------------------------------------------------------------
        self.table = QTableView()
        self.table.setObjectName("ledgerTable")
        self.act_new = self._action("新增", "新增一条记录（Ctrl+N）", self.new_record, "Ctrl+N")
        self.act_edit = self._action("编辑", "编辑选中的记录（Enter 或双击）", self.edit_current)
        self.act_delete = self._action("删除", "删除选中的记录（Delete），可撤销", self.delete_selected)
        self.act_undo = self._action("撤销", "撤销上一次操作（Ctrl+Z）", self.undo, "Ctrl+Z")
        self.act_restore = self._action("恢复", "恢复回收站中选中的记录", self.restore_selected)
        self.act_find = self._action("查找", "", self.search.setFocus, "Ctrl+F")
        # Enter and Delete act on the table only (in a text box they keep their usual meaning).
        self.act_edit.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        self.act_delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        for act in (self.act_edit, self.act_delete):
            act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.table.addAction(act)
        for act in (self.act_new, self.act_undo, self.act_find):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(act)

        tools = QToolBar()
        tools.setObjectName("ledgerTools")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (self.act_new, self.act_edit, self.act_delete, self.act_undo, self.act_restore):
            tools.addAction(act)
        self.act_history = tools.addAction("历史与销号", lambda: show_history_of_current(self))
        tools.addSeparator()
        # Import, export and the template on the toolbar itself (and under 更多, where users looked before).
        self.act_import = self._action("从Excel导入…", "从 Excel / WPS / CSV 台账导入（先预览和检查，有错误不写入）",
                                       self.import_excel)
        self.act_export = self._action("导出Excel…", "把当前筛选的县（区、市）的台账导出为 Excel", self.export_excel)
        self.act_template = self._action("下载空白模板…", "下载空白导入模板（含填写说明和下拉选项）", self.save_template)
        for act, short in ((self.act_import, "导入"), (self.act_export, "导出"), (self.act_template, "模板")):
            act.setIconText(short)  # the toolbar's shorter label; the menu shows the whole text
            tools.addAction(act)
        self.more_menu = QMenu("更多", self)
        for act in (self.act_import, self.act_export, self.act_template):
            self.more_menu.addAction(act)
        self.more_menu.addSeparator()
        self.act_paste = self.more_menu.addAction("粘贴Excel中的行…（Ctrl+V）", self.paste_rows)
        more = QToolButton()
        more.setObjectName("moreButton")
        more.setText("更多")
        more.setMenu(self.more_menu)
        more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        tools.addWidget(more)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        tool_row = QHBoxLayout()
        tool_row.addWidget(tools)
        tool_row.addSpacing(12)
        tool_row.addWidget(self.search, 1)
        tool_row.addWidget(self.search_limit.counter)
        tool_row.addWidget(self.trash)
        tool_row.addWidget(self.count_label)

        # -- table -----------------------------------------------------------------------------------
        self._restore_filters()
        if actor.own_unit:
            self.unit_combo.blockSignals(True)
            self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(actor.unit_code)))
            self.unit_combo.blockSignals(False)
            self.unit_combo.setEnabled(False)
        query = self._query_from_widgets()
        header = self.table.horizontalHeader()
        header.setSortIndicatorClearable(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header_state = self._restore_header_state()
        if header_state is not None and header.sortIndicatorSection() >= 0:
            section = header.sortIndicatorSection()
            if section < len(d.columns):
                query = replace(query, sort=d.columns[section].key,
                                descending=header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
        self.model = LedgerTableModel(ctx.db, d.key, actor=actor, query=query, parent=self)
        self.table.setModel(self.model)
        if header_state is None:
            self._apply_registry_widths()
        else:
            header.restoreState(header_state)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        vheader = self.table.verticalHeader()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 10)
        vheader.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.doubleClicked.connect(lambda _index: self.edit_current())
        self.clipboard = enable_copy(self.table, self.paste_block)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)

        self.empty_hint = QLabel()
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status_line = QLabel()
        self.status_line.setObjectName("statusLine")

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addLayout(tool_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.status_line)

        # -- wiring ----------------------------------------------------------------------------------
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_now)
        self.unit_combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.status_combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        for w in (self.date_from, self.date_to):
            w.dateChanged.connect(lambda _day: self.apply_filters())
            w.editingFinished.connect(self._mark_dates)
        self.trash.toggled.connect(self._trash_toggled)
        # Settings are written a moment after the last change (and when the page hides), not at each one.
        self._settings_timer = QTimer(self)
        self._settings_timer.setSingleShot(True)
        self._settings_timer.setInterval(800)
        self._settings_timer.timeout.connect(self.save_settings)
        header.sectionResized.connect(lambda *_: self._settings_timer.start())
        header.sectionMoved.connect(lambda *_: self._settings_timer.start())
        header.sortIndicatorChanged.connect(lambda *_: self._settings_timer.start())
        self.job = None  # the running delete, restore or undo (gui.tasks handle)

        self._total = self._count_total()
        self._update_count()
        self._update_actions()

    # -- construction helpers --------------------------------------------------------------------
    def _action(self, text: str, tip: str, slot: Callable[[], Any], shortcut: str | None = None) -> QAction:
        act = QAction(text, self)
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(lambda _checked=False: slot())
        return act

    def _apply_registry_widths(self) -> None:
        fm = self.table.fontMetrics()
        digit = fm.horizontalAdvance("0")
        header = self.table.horizontalHeader()
        for section, column in enumerate(self.ledger.columns):
            by_registry = column.width * digit + 16
            by_header = fm.horizontalAdvance(column.header) + 30  # room for the sort arrow
            header.resizeSection(section, max(by_registry, by_header))

    # -- settings --------------------------------------------------------------------------------
    def _columns_signature(self) -> str:
        return ",".join(self.ledger.keys)

    def _restore_header_state(self) -> QByteArray | None:
        s = self.ctx.settings()
        state = s.value(self._settings_prefix + "header")
        if not isinstance(state, QByteArray) or s.value(self._settings_prefix + "columns") != self._columns_signature():
            return None
        # Read the sort indicator from a scratch header (the real one has no model yet).
        scratch = QHeaderView(Qt.Orientation.Horizontal)
        scratch.restoreState(state)
        self.table.horizontalHeader().setSortIndicator(scratch.sortIndicatorSection(), scratch.sortIndicatorOrder())
        return state

    def save_settings(self) -> None:
        """Remember column widths, order, sort and the filter of this ledger."""
        self._settings_timer.stop()
        s = self.ctx.settings()
        s.setValue(self._settings_prefix + "header", self.table.horizontalHeader().saveState())
        s.setValue(self._settings_prefix + "columns", self._columns_signature())
        s.setValue(self._settings_prefix + "unit", self.unit_combo.currentData() or "")
        s.setValue(self._settings_prefix + "status", self.status_combo.currentData() or "")
        s.setValue(self._settings_prefix + "date_from", self.date_from.text().strip())
        s.setValue(self._settings_prefix + "date_to", self.date_to.text().strip())
        s.sync()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        if self._settings_timer.isActive():
            self.save_settings()
        super().hideEvent(event)

    def _restore_filters(self) -> None:
        """Put the remembered filter of this ledger into the widgets (without querying yet)."""
        s = self.ctx.settings()
        widgets = (self.unit_combo, self.status_combo, self.date_from, self.date_to)
        for w in widgets:
            w.blockSignals(True)
        try:
            unit = str(s.value(self._settings_prefix + "unit", "") or "")
            self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(unit)))
            status = str(s.value(self._settings_prefix + "status", "") or "")
            self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(status)))
            self.date_from.setText(str(s.value(self._settings_prefix + "date_from", "") or ""))
            self.date_to.setText(str(s.value(self._settings_prefix + "date_to", "") or ""))
        finally:
            for w in widgets:
                w.blockSignals(False)

    # -- querying --------------------------------------------------------------------------------
    def _query_from_widgets(self) -> RecordQuery:
        status = self.status_combo.currentData() or ""
        current = getattr(self, "model", None)
        sort = current.query.sort if current is not None else None
        descending = current.query.descending if current is not None else False
        return RecordQuery(
            unit_code=self.unit_combo.currentData() or None,
            filters={self.filter_key: status} if status else {},
            date_from=self.date_from.date(),
            date_to=self.date_to.date(),
            text=self.search.text().strip(),
            sort=sort,
            descending=descending,
            deleted=self.trash.isChecked(),
        )

    def _search_now(self) -> None:
        self._search_timer.stop()
        self.apply_filters()

    def apply_filters(self) -> None:
        """Query again with the filter bar's values, keeping the selection when the rows stay visible."""
        self._search_timer.stop()
        self._mark_dates()
        keep = self.selected_ids()
        with user_errors(self, "查询失败") as outcome:
            self.model.set_query(self._query_from_widgets())
        if outcome.failed:
            return
        self._settings_timer.start()
        self._update_count()
        self._select_ids(keep)

    def apply_filter(self, unit_code: str | None = None, status: str | None = None) -> None:
        """Show one unit's records (None: all units; a clerk stays on their own unit) and, if given,
        one value of the 状态 filter; search, dates and the recycle bin are cleared. Used by other
        pages (the dashboard) to open this ledger filtered to a unit."""
        status_index = self.status_combo.findData(status or "")
        if status_index < 0:
            raise ValueError(f"unknown status {status!r} for ledger {self.ledger.key}")
        widgets = (self.unit_combo, self.status_combo, self.date_from, self.date_to, self.search, self.trash)
        for w in widgets:
            w.blockSignals(True)
        try:
            if self.unit_combo.isEnabled():
                self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(unit_code or "")))
            self.status_combo.setCurrentIndex(status_index)
            self.date_from.setText("")
            self.date_to.setText("")
            self.search.clear()
            self.trash.setChecked(False)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._total = self._count_total()
        self.undo_stack_changed()
        self.apply_filters()

    def _mark_dates(self) -> None:
        for w in (self.date_from, self.date_to):
            invalid = not w.is_valid()
            if w.property("invalid") != invalid:
                w.setProperty("invalid", invalid)
                w.setToolTip("无法识别的日期，请填写如 2020-11-03" if invalid else "")
                w.style().unpolish(w.edit)
                w.style().polish(w.edit)

    def _trash_toggled(self, on: bool) -> None:
        self.undo_stack_changed()
        self._total = self._count_total()
        self.apply_filters()

    def _count_total(self) -> int:
        try:
            return ledger_service.count_records(
                self.ctx.db, self.ledger.key, RecordQuery(deleted=self.trash.isChecked()), actor=self.ctx.actor
            )
        except JzairError as exc:
            log.warning("count failed: %s", exc)
            return 0

    def _update_count(self) -> None:
        shown = self.model.rowCount()
        prefix = "回收站：" if self.trash.isChecked() else ""
        self.count_label.setText(f"{prefix}显示 {shown:,} 条 / 共 {self._total:,} 条")
        if shown == 0:
            if self.trash.isChecked():
                hint = "回收站是空的。" if self._total == 0 else "没有符合条件的已删除记录。"
            elif self._total == 0:
                hint = "还没有记录。点“新增”（Ctrl+N）录入，或在“更多”中从 Excel 导入。"
            else:
                hint = "没有符合条件的记录，请调整筛选条件或搜索内容。"
            self.empty_hint.setText(hint)
        self.empty_hint.setVisible(shown == 0)

    def refresh(self) -> None:
        """Re-read ids and counts (after a write here or elsewhere), keeping the selection if possible."""
        keep = self._pending_select if self._pending_select is not None else self.selected_ids()
        self._pending_select = None
        self._stale = False
        with user_errors(self, "刷新失败") as outcome:
            self._total = self._count_total()
            self.model.requery()
        if outcome.failed:
            return
        self._update_count()
        self._select_ids(keep)
        if self._others_changed:
            self._others_changed = False
            self.show_status(OTHERS_CHANGED, warning=True)

    def shows_changes(self, changes: Changes) -> bool:
        return changes.ledger(self.ledger.key)

    def apply_changes(self, changes: Changes | None = None) -> None:
        """Refresh now if on screen, else when next shown."""
        if changes is not None and changes.others:
            self._others_changed = True
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.refresh()

    # -- selection -------------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        # From the selection's ranges (whole rows: the table selects rows): QItemSelectionModel.selectedRows()
        # checks every row against every range, seconds for 2,000 rows picked one by one.
        rows: set[int] = set()
        for rng in self.table.selectionModel().selection():
            rows.update(range(rng.top(), rng.bottom() + 1))
        if not rows and self.table.currentIndex().isValid() and self.table.selectionModel().hasSelection():
            rows = {self.table.currentIndex().row()}
        return sorted(rows)

    def selected_ids(self) -> list[int]:
        ids = self.model.ids
        return [ids[r] for r in self.selected_rows() if r < len(ids)]

    def busy(self) -> bool:
        """A delete, restore or undo of this page is still running."""
        return self.job is not None

    def _select_ids(self, ids: list[int]) -> None:
        sel = self.table.selectionModel()
        if len(ids) <= 4:  # the usual case: one record; a search of the list beats indexing 100,000 ids
            rows = [r for r in (_index_of(self.model.ids, i) for i in ids) if r is not None]
        else:
            rows = [r for r in (self.model.row_of_id(i) for i in ids) if r is not None]
        if not rows:
            return
        selection = QItemSelection()
        last_col = self.model.columnCount() - 1
        for r in rows:
            selection.select(self.model.index(r, 0), self.model.index(r, last_col))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        sel.select(selection, flags)
        sel.setCurrentIndex(self.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        self.table.scrollTo(self.model.index(rows[0], 0))

    def select_row(self, row: int) -> None:
        self._select_ids([self.model.record_id(row)])

    def _update_actions(self, *_args: object) -> None:
        trash = self.trash.isChecked()
        has = self.table.selectionModel().hasSelection()
        self.act_new.setEnabled(self.can_write and not trash)
        self.act_edit.setEnabled(self.can_write and has and not trash)
        self.act_delete.setEnabled(self.can_write and has and not trash)
        self.act_restore.setVisible(trash)
        self.act_restore.setEnabled(self.can_write and has and trash)
        self.act_import.setEnabled(self.can_write)
        self.undo_stack_changed()

    def undo_stack_changed(self) -> None:
        top = self.undo_stack[-1] if self.undo_stack else None
        self.act_undo.setEnabled(self.can_write and top is not None)
        self.act_undo.setToolTip(f"撤销：{self._describe(top)}（Ctrl+Z）" if top else "没有可撤销的操作")

    @staticmethod
    def _describe(entry: UndoEntry) -> str:
        verb = {"delete": "删除", "edit": "修改", "create": "新增"}[entry.kind]
        return f"{verb} {entry.label}"

    # -- writing ---------------------------------------------------------------------------------
    def changes(self) -> Changes:
        return Changes.of(ledgers=[self.ledger.key])

    def _announce(self, select: list[int] | None = None) -> None:
        """This ledger changed: refresh this page (selecting `select`) and tell the others."""
        self._pending_select = select
        self.apply_changes()
        if self._pending_select is not None:  # not visible: refresh later, but remember the selection
            self._stale = True
        publish(self.ctx, self.changes(), self)

    def _id_of(self, record_uuid: str) -> int | None:
        try:
            return ledger_service.get_record(self.ctx.db, self.ledger.key, record_uuid, actor=self.ctx.actor).id
        except JzairError:
            return None

    def _push(self, entry: UndoEntry) -> None:
        self.undo_stack.append(entry)
        del self.undo_stack[:-UNDO_DEPTH]
        self.undo_stack_changed()

    def _prefill(self) -> dict[str, Any]:
        values = {k: v for k, v in self._last_values.items() if k in CARRY_FIELDS}
        if not values.get("unit_code") and self.unit_combo.currentData():
            values["unit_code"] = self.unit_combo.currentData()
        return values

    def new_record(self) -> RecordForm | None:
        if not self.can_write or self.trash.isChecked():
            return None
        return self._open_form(RecordForm(self.ctx, self.ledger.key, prefill=self._prefill(), parent=self))

    def edit_current(self) -> RecordForm | None:
        if not self.can_write or self.trash.isChecked():
            return None
        index = self.table.currentIndex()
        rows = self.selected_rows()
        row = index.row() if index.isValid() and index.row() in rows else (rows[0] if rows else -1)
        rec = self.model.record(row) if row >= 0 else None
        if rec is None:
            return None
        with user_errors(self, "无法编辑") as outcome:
            fresh = ledger_service.get_record(self.ctx.db, self.ledger.key, rec.uuid, actor=self.ctx.actor)
        if outcome.failed:
            self.refresh()
            return None
        return self._open_form(RecordForm(self.ctx, self.ledger.key, record=fresh, parent=self))

    def _open_form(self, form: RecordForm) -> RecordForm:
        self.form = form
        form.saved.connect(self._form_saved)
        form.finished.connect(lambda _r, f=form: self._form_closed(f))
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.open()
        return form

    def _form_closed(self, form: RecordForm) -> None:
        if self.form is form:
            self.form = None
        self.table.setFocus()

    def _form_saved(self, saved: SavedRecord) -> None:
        if saved.created:
            values = self.form.values() if self.form is not None else {}
            self._last_values = {k: values.get(k) for k in CARRY_FIELDS}
            self._push(UndoEntry("create", (saved.uuid,), saved.label))
            note = f"已新增 {saved.label}。"
        else:
            self._push(UndoEntry("edit", (saved.uuid,), saved.label, saved.old_values, saved.reason))
            note = f"已保存对 {saved.label} 的修改。"
        if saved.warnings:
            note += " 提醒：" + "；".join(p.text() for p in saved.warnings)
        new_id = self._id_of(saved.uuid)
        self._announce([new_id] if new_id is not None else None)
        self.show_status(note, warning=bool(saved.warnings))

    def delete_selected(self) -> bool:
        """Delete the selected records (after confirmation) off the GUI thread. True when the delete started."""
        if not self.can_write or self.trash.isChecked() or self.busy():
            return False
        rows = self.selected_rows()
        ids = self.model.ids
        chosen = [ids[r] for r in rows if r < len(ids)]
        if not chosen:
            return False
        if len(chosen) == 1:
            record = self.model.record(rows[0])
            if record is None:
                return False
            what = record_label(self.ledger, record.values)
            question = f"确定删除“{what}”吗？"
        else:
            what = f"{len(chosen)} 条记录"
            question = f"确定删除选中的 {len(chosen)} 条记录吗？"
        answer = QMessageBox.question(
            self, "确认删除", question + "\n删除后可按 Ctrl+Z 撤销，或在回收站中恢复。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        # The row that takes the place of the first deleted one is selected afterwards.
        gone = set(chosen)
        after = min(rows)
        follow = next((i for i in ids[after:] if i not in gone), None)
        if follow is None:
            follow = next((i for i in reversed(ids[:after]) if i not in gone), None)
        self._delete(chosen, what, [follow] if follow is not None else [], reason=None)
        return True

    def _delete(self, chosen: list[int], what: str, select: list[int], reason: str | None) -> None:
        db, key, actor, d = self.ctx.db, self.ledger.key, self.ctx.actor, self.ledger

        def work(state: TaskState) -> _Deleted:
            state.progress(0, 0, f"正在删除 {what}…", force=True)
            records = ledger_service.fetch_rows(db, key, chosen, actor=actor)
            uuids = tuple(r.uuid for r in records)
            if reason is None and actor.is_city and any(guards.is_closed(d, r.values) for r in records):
                return _Deleted(uuids, 0, needs_reason=True)
            state.check_cancelled()
            n = ledger_service.delete_records(db, key, uuids, actor=actor, reason=reason, state=state)
            return _Deleted(uuids, n, changes=self.changes())

        def done(result: _Deleted) -> None:
            self.job = None
            if result.needs_reason:
                text, ok = QInputDialog.getText(self, "填写原因", "删除已销号的记录须填写原因（记入审计记录）：")
                if ok and text.strip():
                    self._delete(chosen, what, select, text.strip())
                return
            self._push(UndoEntry("delete", result.uuids, what, reason=reason))
            if self.trash.isChecked() or self._stale:
                self._pending_select = select
                self.apply_changes()
            else:  # the deleted rows leave the view of live records; no need to ask the database again
                self.model.remove_ids(set(chosen))
                self._total = max(0, self._total - result.count)
                self._update_count()
                self._select_ids(select)
            self.show_status(f"已删除 {what}。按 Ctrl+Z 撤销，或在回收站中恢复。")

        self.job = run_task(self, f"正在删除 {what}…", work, ctx=self.ctx, on_success=done,
                            on_error=self._job_failed("删除失败"), on_cancel=self._job_cancelled)

    def _job_failed(self, title: str) -> Callable[[BaseException], None]:
        def failed(exc: BaseException) -> None:
            self.job = None
            show_user_error(self, exc, title)

        return failed

    def _job_cancelled(self) -> None:
        self.job = None
        self.show_status("已取消，没有改动任何记录。")

    def restore_selected(self) -> bool:
        """Restore the selected records of the recycle bin off the GUI thread. True when the restore started."""
        if not self.can_write or not self.trash.isChecked() or self.busy():
            return False
        chosen = self.selected_ids()
        if not chosen:
            return False
        db, key, actor = self.ctx.db, self.ledger.key, self.ctx.actor

        def work(state: TaskState) -> _Deleted:
            state.progress(0, 0, f"正在恢复 {len(chosen)} 条记录…", force=True)
            uuids = [r.uuid for r in ledger_service.fetch_rows(db, key, chosen, actor=actor)]
            state.check_cancelled()
            n = ledger_service.restore_records(db, key, uuids, actor=actor, state=state)
            return _Deleted(tuple(uuids), n, changes=self.changes())

        def done(result: _Deleted) -> None:
            self.job = None
            self._pending_select = []
            self.apply_changes()
            self.show_status(f"已恢复 {result.count} 条记录。")

        self.job = run_task(self, f"正在恢复 {len(chosen)} 条记录…", work, ctx=self.ctx, on_success=done,
                            on_error=self._job_failed("恢复失败"), on_cancel=self._job_cancelled)
        return True

    def undo(self) -> bool:
        """Undo the last delete, edit or new record off the GUI thread. True when the undo started."""
        if not self.undo_stack or not self.can_write or self.busy():
            return False
        entry = self.undo_stack[-1]
        db, key, actor = self.ctx.db, self.ledger.key, self.ctx.actor
        reason = f"撤销上一次操作：{entry.reason}" if entry.reason else None

        def work(state: TaskState) -> _Deleted:
            state.progress(0, 0, f"正在撤销{self._describe(entry)}…", force=True)
            if entry.kind == "delete":
                ledger_service.restore_records(db, key, entry.uuids, actor=actor, reason=reason, state=state)
            elif entry.kind == "create":
                ledger_service.delete_records(db, key, entry.uuids, actor=actor, state=state)
            elif entry.kind == "edit":
                assert entry.old_values is not None
                ledger_service.update_record(db, key, entry.uuids[0], entry.old_values, actor=actor, reason=reason)
            ids = [] if entry.kind == "create" else ledger_service.ids_of(db, key, entry.uuids)
            return _Deleted(entry.uuids, len(entry.uuids), ids=ids, changes=self.changes())

        def done(result: _Deleted) -> None:
            self.job = None
            if self.undo_stack and self.undo_stack[-1] is entry:
                self.undo_stack.pop()
            self.undo_stack_changed()
            if entry.kind == "delete" and self.trash.isChecked():
                self.trash.setChecked(False)
            self._pending_select = list(result.ids) if entry.kind != "create" else None
            self.apply_changes()
            self.show_status(f"已撤销{self._describe(entry)}。")

        self.job = run_task(self, f"正在撤销{self._describe(entry)}…", work, ctx=self.ctx, on_success=done,
                            on_error=self._job_failed("无法撤销"), on_cancel=self._job_cancelled)
        return True

    def show_status(self, text: str, *, warning: bool = False) -> None:
        self.status_line.setStyleSheet("color: #a65f00;" if warning else "")
        self.status_line.setText(text)

    # -- Excel (the dialogs come from gui.dialogs.excel) -----------------------------------------
    def _call_excel(self, name: str, *args: Any) -> None:
        from jzair_desktop.gui.dialogs import excel

        fn = getattr(excel, name)
        with user_errors(self, "操作未完成"):
            fn(self, self.ctx, self.ledger.key, *args)

    def paste_rows(self) -> Any:
        return self.paste_block(clipboard_block())

    def paste_block(self, rows: list[list[str]]) -> Any:
        """Rows pasted from an Excel ledger open the import preview for them (same checks and duplicate
        rules as an import); returns the wizard, or None."""
        if not self.can_write:
            self.show_status(f"用户“{self.ctx.actor.name}”是只读用户，不能粘贴记录。", warning=True)
            return None
        if self.trash.isChecked():
            self.show_status("回收站中不能粘贴记录：请先取消勾选“回收站”。", warning=True)
            return None
        from jzair_desktop.gui.dialogs.paste_import import open_paste_import

        header = self.table.horizontalHeader()
        shown = [self.ledger.columns[c].key for c in sorted(range(len(self.ledger.columns)), key=header.visualIndex)
                 if not self.table.isColumnHidden(c)]
        try:
            return open_paste_import(self, self.ctx, self.ledger.key, rows, shown,
                                     unit_code=self.unit_combo.currentData() or None)
        except JzairError as exc:
            self.show_status(str(exc), warning=True)
            return None

    def import_excel(self) -> None:
        # The wizard is not blocking; the import it runs publishes what it changed.
        self._call_excel("open_import_wizard")

    def export_excel(self) -> None:
        self._call_excel("export_ledger", self.unit_combo.currentData() or None)

    def save_template(self) -> None:
        self._call_excel("save_template")


def make_ledger_page(ctx: GuiContext, key: str) -> LedgerPage:
    return LedgerPage(ctx, key)


__all__ = ["LedgerPage", "UndoEntry", "make_ledger_page"]
