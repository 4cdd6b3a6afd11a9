"""任务分解: the city office splits every plan indicator's city target across the units.

A grid with one row per indicator and one column per unit, between the city target and the sum with
its check (一致 / 不一致 in red). Cells of split indicators are edited in place (city office only);
保存 writes every edited cell in one transaction through services.targets.set_targets, and a refused
save marks each offending cell with its problem and writes nothing. 'all_found' and rate indicators
are shown read-only (their unit targets follow from the ledgers and the plan). The split can be
exported to and imported from .xlsx (services.targets_excel).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import normalize_number_text
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.exchange.spreadsheet import IMPORT_FILTER
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import publish, show_user_error, user_errors
from jzair_desktop.gui.widgets.common import (
    EDITED,
    GREY_TEXT,
    GRID_STYLE,
    PROBLEM,
    add_save_shortcut,
    commit_open_editor,
    problem_label,
    problems_by_cell,
    refused_cells,
    refused_save_text,
    save_file_path,
    setup_edit_grid,
)
from jzair_desktop.gui.widgets.grid_paste import GridPaste
from jzair_desktop.gui.widgets.saved_file import show_saved_file
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.targets import (
    IndicatorTargets,
    TargetEntry,
    check_entries,
    format_number,
    parse_figure,
    set_targets,
    split_state,
    target_table,
)
from jzair_desktop.services.targets_excel import export_targets, import_targets

AUTO = QColor("#f3f3f3")
SUM = QColor("#ececec")
GOOD = QColor("#dcefdc")
STYLE = GRID_STYLE + """QLabel#readOnly { color: #8a5a00; }
"""


def cell_where(county: str, indicator_name: str) -> str:
    """How a save names a cell in its problems (the prefix before '：')."""
    return f"{county}“{indicator_name}”"


class TargetsModel(QAbstractTableModel):
    """Indicators down, units across: 市级目标 | units … | 合计 | 核对. Edits wait in `pending`."""

    def __init__(self, *, editable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        ref = reference()
        self.units = ref.units
        self.indicators = {i.key: i for i in ref.indicators}
        self.editable = editable
        self.table: list[IndicatorTargets] = []
        self.pending: dict[tuple[str, str], str] = {}  # (indicator, unit_code) -> text typed
        self.problems: dict[tuple[str, str], str] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    # -- shape -------------------------------------------------------------------------------------
    @property
    def sum_column(self) -> int:
        return 1 + len(self.units)

    @property
    def check_column(self) -> int:
        return 2 + len(self.units)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.table)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.units) + 3

    def set_table(self, table: list[IndicatorTargets]) -> None:
        """New stored values (pending edits stay)."""
        self.beginResetModel()
        self.table = list(table)
        self.endResetModel()

    def row_of(self, indicator: str) -> int:
        return next(i for i, t in enumerate(self.table) if t.indicator == indicator)

    def column_of(self, unit_code: str) -> int:
        return 1 + next(i for i, u in enumerate(self.units) if u.code == unit_code)

    def cell(self, index: QModelIndex | QPersistentModelIndex) -> tuple[IndicatorTargets, str | None]:
        """The row's indicator and the unit code of a unit column (None for the other columns)."""
        t = self.table[index.row()]
        col = index.column()
        if 1 <= col <= len(self.units):
            return t, self.units[col - 1].code
        return t, None

    # -- values ------------------------------------------------------------------------------------
    def stored(self, t: IndicatorTargets, unit_code: str) -> float | None:
        return next(u.value for u in t.units if u.unit_code == unit_code)

    def in_scope(self, t: IndicatorTargets, unit_code: str) -> bool:
        return next(u.in_scope for u in t.units if u.unit_code == unit_code)

    def parts_problem(self, t: IndicatorTargets) -> str:
        """Units whose total (散煤治理) differs from the sum of its parts, with the pending edits applied."""
        ind = self.indicators[t.indicator]
        if not ind.parts:
            return ""
        rows = {r.indicator: r for r in self.table}
        if not all(k in rows for k in ind.parts):
            return ""
        totals, _ok = self.effective(t)
        parts = [self.effective(rows[k])[0] for k in ind.parts]
        bad = []
        for n, u in enumerate(self.units):
            given = [p[n] for p in parts]
            if totals[n] is None and all(v is None for v in given):
                continue
            if totals[n] is None or abs(totals[n] - sum(v or 0.0 for v in given)) > 1e-6:
                bad.append(u.name)
        return f"{'、'.join(bad)}与分项之和不一致" if bad else ""

    def effective(self, t: IndicatorTargets) -> tuple[list[float | None], bool]:
        """The units' values with the pending edits applied, and whether every edit is a number."""
        values: list[float | None] = []
        ok = True
        for u in t.units:
            key = (t.indicator, u.unit_code)
            if not u.in_scope and key not in self.pending:
                values.append(u.value)
                continue
            if key in self.pending:
                text = self.pending[key]
                if not text.strip():
                    values.append(None)
                    continue
                try:
                    values.append(parse_figure(text, what="目标"))
                except JzairError:
                    ok = False
                    values.append(None)
            else:
                values.append(u.value)
        return values, ok

    def check(self, t: IndicatorTargets) -> tuple[float | None, str, str]:
        """(sum, state, text of the 核对 column) with the pending edits applied."""
        if t.rule != "split":
            return t.total, "auto", {"milestone": "节点任务", "city": "市级填报"}.get(t.rule, "自动")
        values, ok = self.effective(t)
        if not ok:
            total = sum(v for v in values if v is not None)
            return total, "invalid", "有误"
        outside = [u.name for u, v in zip(t.units, values, strict=True) if not u.in_scope and v is not None]
        values = [v for u, v in zip(t.units, values, strict=True) if u.in_scope]
        total, state = split_state(t.city_target, values)
        if outside:
            return total, "mismatch", f"范围外有目标：{'、'.join(outside)}（请清除）"
        parts = self.parts_problem(t)
        if parts and state != "unset":
            return total, "mismatch", parts
        if state == "complete":
            return total, state, "一致"
        if state == "unset":
            return total, state, "未分解"
        diff = (total or 0.0) - (t.city_target or 0.0)
        sign = "+" if diff > 0 else ""
        if state == "partial":
            return total, state, f"不一致（部分未分解，差 {sign}{format_number(diff)}）"
        return total, state, f"不一致（差 {sign}{format_number(diff)}）"

    def _value_text(self, t: IndicatorTargets, value: float | None) -> str:
        if t.rule == "milestone":
            return "按时完成"
        if t.rule == "rate":
            ind = self.indicators[t.indicator]
            return "" if value is None else f"{'≤' if ind.compare == 'le' else '≥'}{format_number(value)}"
        return format_number(value, missing="未分解" if t.rule == "split" else "")

    def display(self, index: QModelIndex | QPersistentModelIndex) -> str:
        t, unit_code = self.cell(index)
        col = index.column()
        if col == 0:
            return self._value_text(t, t.city_target)
        if unit_code is not None:
            key = (t.indicator, unit_code)
            if key in self.pending:
                text = self.pending[key].strip()
                return text if text else ("未分解" if self.in_scope(t, unit_code) else "无任务")
            if not self.in_scope(t, unit_code):
                value = self.stored(t, unit_code)
                return "无任务" if value is None or t.rule != "split" else f"{format_number(value)}（范围外）"
            if t.rule == "city":
                return "—"
            return self._value_text(t, self.stored(t, unit_code))
        total, _state, text = self.check(t)
        if col == self.sum_column:
            return "" if t.rule == "rate" else format_number(total, missing="—")
        return text

    # -- Qt model ----------------------------------------------------------------------------------
    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                if section == 0:
                    return "市级目标"
                if section == self.sum_column:
                    return "合计"
                if section == self.check_column:
                    return "核对"
                return self.units[section - 1].name
            t = self.table[section]
            return f"{t.name}（{t.unit}）"
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Vertical:
            t = self.table[section]
            how = {"split": "由市级分解到各县（区、市）",
                   "all_found": "目标为各县（区、市）台账中排查录入的全部记录，自动计算",
                   "rate": "限值指标，每月对照限值评价，无需分解",
                   "milestone": "节点任务，按时完成与否，无需分解",
                   "city": "市级指标，由市大气办按月填报，不分解"}[t.rule]
            ind = self.indicators[t.indicator]
            if ind.scope is not None and ind.scope:
                how += f"；只涉及{'、'.join(reference().unit_by_code(c).name for c in ind.scope)}"
            return f"{t.indicator}：{how}"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        t, unit_code = self.cell(index)
        if self.editable and unit_code is not None and t.rule == "split" and (
                self.in_scope(t, unit_code) or self.stored(t, unit_code) is not None):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t, unit_code = self.cell(index)
        col = index.column()
        key = (t.indicator, unit_code) if unit_code is not None else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(index)
        if role == Qt.ItemDataRole.EditRole:
            if key in self.pending:
                return self.pending[key]
            value = self.stored(t, unit_code) if unit_code is not None else None
            if value is None:
                return ""
            return str(int(value)) if float(value).is_integer() else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col == self.check_column:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if key is not None and key in self.problems:
                return QBrush(PROBLEM)
            if key is not None and key in self.pending:
                return QBrush(EDITED)
            if col == self.check_column:
                _total, state, _text = self.check(t)
                if state in ("mismatch", "partial", "invalid"):
                    return QBrush(PROBLEM)
                if state == "complete":
                    return QBrush(GOOD)
            if t.rule != "split" or (unit_code is not None and not self.in_scope(t, unit_code)):
                return QBrush(AUTO)
            if col in (0, self.sum_column):
                return QBrush(SUM)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if t.rule != "split" and col != self.check_column:
                return QBrush(GREY_TEXT)
            if unit_code is not None and not self.in_scope(t, unit_code):
                return QBrush(GREY_TEXT)
            if key is not None and key not in self.pending and self.stored(t, unit_code) is None:
                return QBrush(GREY_TEXT)
            return None
        if role == Qt.ItemDataRole.FontRole and col == self.check_column:
            _total, state, _text = self.check(t)
            return self._bold if state in ("mismatch", "partial", "invalid") else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if key is not None and key in self.problems:
                return self.problems[key]
            if key is not None and key in self.pending:
                return "已修改，尚未保存"
            if col == self.check_column and t.rule == "split":
                total, _state, text = self.check(t)
                return (f"各县（区、市）合计 {format_number(total, missing='—')}，市级目标 "
                        f"{format_number(t.city_target)}：{text}")
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        t, unit_code = self.cell(index)
        assert unit_code is not None
        key = (t.indicator, unit_code)
        self.set_pending(key, "" if value is None else normalize_number_text(value))  # １２３ shows as 123
        self.problems.pop(key, None)
        row = index.row()
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.check_column))
        return True

    def set_pending(self, key: tuple, text: str | None) -> None:
        """A cell's waiting text as typing leaves it; None drops the waiting edit."""
        if text is None:
            self.pending.pop(key, None)
            return
        t = self.table[self.row_of(key[0])]
        stored = self.stored(t, key[1])
        same = (stored is None and not text) or (stored is not None and text and _same_number(text, stored))
        if same:
            self.pending.pop(key, None)
        else:
            self.pending[key] = text

    def cells_changed(self) -> None:
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.check_column))

    # -- paste (gui.widgets.grid_paste) ------------------------------------------------------------
    def paste_key(self, row: int, column: int) -> tuple | None:
        t, unit_code = self.cell(self.index(row, column))
        return None if unit_code is None else (t.indicator, unit_code)

    def refusal(self, key: tuple) -> str | None:
        t = self.table[self.row_of(key[0])]
        index = self.index(self.row_of(key[0]), self.column_of(key[1]))
        if self.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return None
        if not self.editable:
            return "只有市级管理员可以分解任务目标"
        if t.rule != "split":
            return "该指标的目标由台账或计划自动确定，不能填写"
        return f"“{t.name}”不涉及该县（区、市）（无任务），不能填写"

    def check_pasted(self, values: dict[tuple, str]) -> dict[tuple, str]:
        """The pasted targets checked by the service's check of a save (services.targets.check_entries)."""
        names = {u.code: u.name for u in self.units}
        wheres = {key: cell_where(names[key[1]], self.indicators[key[0]].name) for key in values}
        entries = [TargetEntry(ind, unit, text or None, where=wheres[(ind, unit)]) for (ind, unit), text in values.items()]
        try:
            check_entries(entries)
        except ValidationFailed as exc:
            return refused_cells(exc.problems or [exc.message], wheres, next(iter(values)))
        return {}

    def discard(self) -> None:
        self.beginResetModel()
        self.pending.clear()
        self.problems.clear()
        self.endResetModel()

    def entries(self) -> list[TargetEntry]:
        names = {u.code: u.name for u in self.units}
        out = []
        for (ind, unit_code), text in self.pending.items():
            name = self.indicators[ind].name
            out.append(TargetEntry(ind, unit_code, text or None, where=cell_where(names[unit_code], name)))
        return out

    def set_problems(self, problems: list[str]) -> list[str]:
        """Attach each problem to its cell (by the `where` prefix); returns the problems left over."""
        names = {u.code: u.name for u in self.units}
        prefixes = {
            cell_where(names[u], self.indicators[ind].name) + "：": (ind, u) for (ind, u) in self.pending
        }
        cells, rest = problems_by_cell(problems, prefixes)
        self.problems.clear()
        self.problems.update(cells)
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.check_column))
        return rest


def _same_number(text: str, value: float) -> bool:
    try:
        return abs(parse_figure(text, what="目标") - value) < 1e-9
    except JzairError:
        return False


class TargetsPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setStyleSheet(STYLE)
        self.can_edit = ctx.actor.is_city
        self._stale = False

        title = QLabel("任务分解")
        title.setObjectName("pageTitle")
        intro = QLabel(
            "把市级目标分解到各县（区、市）。双击单元格修改，空白表示未分解；合计与市级目标不一致时“核对”一栏标红。"
            "灰色行的目标由台账或计划自动确定，无需分解。"
        )
        intro.setWordWrap(True)

        self.model = TargetsModel(editable=self.can_edit, parent=self)
        self.table = QTableView()
        self.table.setObjectName("targetsTable")
        self.table.setModel(self.model)
        setup_edit_grid(self.table, self)
        self.table.setAlternatingRowColors(False)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.save_button = QPushButton("保存")
        self.save_button.setToolTip("保存全部修改（Ctrl+S）；有一处错误则不保存任何修改")
        self.save_button.clicked.connect(self.save)
        self.discard_button = QPushButton("放弃修改")
        self.discard_button.clicked.connect(self.discard)
        self.export_button = QPushButton("导出Excel…")
        self.export_button.setToolTip("把已保存的分解表导出为 Excel 工作簿")
        self.export_button.clicked.connect(lambda: self.export_file())
        self.import_button = QPushButton("导入Excel…")
        self.import_button.setToolTip("从 Excel 分解表导入目标；有一处错误则不导入任何数据")
        self.import_button.clicked.connect(lambda: self.import_file())
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.reload)
        add_save_shortcut(self, self.save)

        buttons = QHBoxLayout()
        for b in (self.save_button, self.discard_button):
            buttons.addWidget(b)
        buttons.addSpacing(16)
        for b in (self.export_button, self.import_button, self.refresh_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.read_only = QLabel("只读：只有市级管理员可以分解任务目标。")
        self.read_only.setObjectName("readOnly")
        self.read_only.setVisible(not self.can_edit)
        buttons.addWidget(self.read_only)

        self.status_line = QLabel()
        self.status_line.setObjectName("statusLine")
        self.problem_label = problem_label()

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.status_line)

        self.paster = GridPaste(self.table, self.model, owner=self, messages=self.problem_label, status=self.status_line)
        self.model.dataChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self.reload()
        self._size_columns()

    def _size_columns(self) -> None:
        fm = self.table.fontMetrics()
        header = self.table.horizontalHeader()
        width = fm.horizontalAdvance("000,000") + 18
        for col in range(self.model.columnCount()):
            head = str(self.model.headerData(col, Qt.Orientation.Horizontal))
            header.resizeSection(col, max(width, fm.horizontalAdvance(head) + 20))
        header.resizeSection(self.model.check_column, fm.horizontalAdvance("不一致（部分未分解，差 +00,000）") + 16)

    def _update_buttons(self) -> None:
        dirty = bool(self.model.pending)
        self.save_button.setEnabled(self.can_edit and dirty)
        self.discard_button.setEnabled(dirty)
        self.import_button.setEnabled(self.can_edit)
        if dirty:
            self.status_line.setText(f"有 {len(self.model.pending)} 处修改尚未保存。")

    def reload(self) -> None:
        with user_errors(self, "无法读取任务分解") as outcome:
            self.model.set_table(target_table(self.ctx.db))
        if outcome.failed:
            return
        self._stale = False
        self._update_buttons()

    @staticmethod
    def shows_changes(changes: Changes) -> bool:
        return bool(changes.targets or changes.everything)

    def apply_changes(self, _changes: Changes | None = None) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.reload()

    # -- editing -----------------------------------------------------------------------------------
    def set_cell(self, indicator: str, unit_code: str, text: str) -> bool:
        """Type `text` into a cell (as the user would); False when the cell is not editable."""
        index = self.model.index(self.model.row_of(indicator), self.model.column_of(unit_code))
        return self.model.setData(index, text)

    def discard(self) -> None:
        self.model.discard()
        self.paster.clear()
        self.problem_label.clear()
        self.status_line.setText("已放弃未保存的修改。")

    def paste(self, block: list[list[str]]) -> bool:
        """Paste rows of cell texts (as from Excel) at the selection; all or nothing, Ctrl+Z undoes it."""
        commit_open_editor(self.table)
        return self.paster.paste(block)

    # -- unsaved edits (gui.unsaved) -------------------------------------------------------------
    def has_unsaved_changes(self) -> bool:
        commit_open_editor(self.table)  # a cell still being typed counts
        return bool(self.model.pending)

    def unsaved_summary(self) -> str:
        return f"有 {len(self.model.pending)} 处修改尚未保存"

    def save_changes(self) -> bool:
        return self.save()

    def discard_changes(self) -> None:
        self.discard()

    def save(self) -> bool:
        """Write every pending edit in one transaction; on refusal mark the cells and write nothing."""
        if not self.can_edit or not self.model.pending:
            return False
        commit_open_editor(self.table)
        entries = self.model.entries()
        try:
            result = set_targets(self.ctx.db, self.ctx.actor, entries)
        except ValidationFailed as exc:
            rest = self.model.set_problems(exc.problems or [exc.message])
            n = len(exc.problems or [exc.message])
            self.problem_label.setText(refused_save_text(n, self.model.problems.values(), rest))
            self.status_line.clear()
            self._focus_first_problem()
            return False
        except JzairError as exc:
            show_user_error(self, exc, "保存失败")
            return False
        self.model.pending.clear()
        self.model.problems.clear()
        self.paster.clear()
        self.problem_label.clear()
        self.reload()
        self.status_line.setText(f"已保存：设定 {result.set} 项，清除 {result.cleared} 项。")
        publish(self.ctx, Changes(targets=True), self)
        return True

    def _focus_first_problem(self) -> None:
        if not self.model.problems:
            return
        ind, unit = next(iter(self.model.problems))
        index = self.model.index(self.model.row_of(ind), self.model.column_of(unit))
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)

    # -- Excel -------------------------------------------------------------------------------------
    def _start_dir(self) -> str:
        return str(self.ctx.settings().value("targets/dir", "") or Path.home())

    def _remember_dir(self, path: Path) -> None:
        s = self.ctx.settings()
        s.setValue("targets/dir", str(path.parent))
        s.sync()

    def export_file(self, path: str | Path | None = None) -> Path | None:
        start = Path(self._start_dir()) / "任务分解表.xlsx"
        path = save_file_path(self, "导出任务分解表", start, "Excel 工作簿 (*.xlsx)", ".xlsx", path)
        if path is None:
            return None
        try:
            written = export_targets(self.ctx.db, path)
        except JzairError as exc:
            show_user_error(self, exc, "导出失败")
            return None
        except OSError as exc:
            QMessageBox.warning(self, "导出失败", f"无法写入文件“{path}”：{exc.strerror or exc}")
            return None
        self._remember_dir(written)
        note = "（未保存的修改不在其中）" if self.model.pending else ""
        self.status_line.setText(f"已导出到 {written}{note}")
        show_saved_file(self, "导出完成", f"已导出任务分解表{note}：\n{written}", written)
        return written

    def import_file(self, path: str | Path | None = None) -> bool:
        if not self.can_edit:
            return False
        if self.model.pending:
            answer = QMessageBox.question(
                self, "放弃未保存的修改？", "导入会放弃当前未保存的修改，是否继续？",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if path is None:
            chosen, _f = QFileDialog.getOpenFileName(self, "导入任务分解表", self._start_dir(), IMPORT_FILTER)
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        try:
            result = import_targets(self.ctx.db, self.ctx.actor, path)
        except JzairError as exc:
            self.problem_label.setText(str(exc))
            show_user_error(self, exc, "导入失败")
            return False
        self._remember_dir(path)
        self.model.discard()
        self.paster.clear()
        self.problem_label.clear()
        self.reload()
        self.status_line.setText(
            f"已从“{path.name}”导入：设定 {result.set} 项，清除 {result.cleared} 项，未变 {result.unchanged} 项。"
        )
        publish(self.ctx, Changes(targets=True), self)
        return True


def make_page(ctx: GuiContext) -> TargetsPage:
    return TargetsPage(ctx)
