"""月度数据: entry grids for the indicators without an item ledger and for air quality.

* 月度指标: one indicator at a time, units down, months across. Count indicators take the month's new
  figure (累计 is their sum, against the unit's target from 任务分解); rate indicators take the month's
  value (against the plan's county target).
* 空气质量: areas (市城区 and the units) down, each month's PM2.5 and heavy-pollution days across, cells
  above the target shaded; the targets are listed below.

Edits wait in the grid (shaded) until 保存, which writes all of the tab's edits in one transaction
through the services (services.monthly.set_figures, services.air.set_air_quality_many); the
services check every value (no negative counts, percentages 0–100, PM2.5 0–1000, heavy days within
the month), and a refused save marks each offending cell with its problem and writes nothing.
A county clerk edits their own unit's row only; 市城区 and other units are the city office's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.months import month_of, months_between, plan_months, window_months
from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, Indicator, reference
from jzair_desktop.domain.validation import normalize_number_text
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import publish, show_user_error, user_errors
from jzair_desktop.gui.widgets.clipboard import enable_copy
from jzair_desktop.gui.widgets.common import (
    EDITED,
    GREY_TEXT,
    GRID_STYLE,
    PROBLEM,
    FormDialog,
    add_save_shortcut,
    commit_open_editor,
    problem_label,
    problems_by_cell,
    refused_cells,
    refused_save_text,
    setup_edit_grid,
)
from jzair_desktop.gui.widgets.grid_paste import GridPaste
from jzair_desktop.services import air, air_targets
from jzair_desktop.services import milestones as milestones_service
from jzair_desktop.services import monthly as monthly_service
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.air import (
    CITY_AREA,
    AirEntry,
    AirQualityTargetView,
    check_air_entries,
    problem_field,
    set_air_quality_many,
)
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.monthly import FigureEntry, monthly_indicators, set_figures
from jzair_desktop.services.targets import (
    format_number,
    is_integral,
    parse_figure,
    target_table,
    unit_rate_target,
)

READ_ONLY = QColor("#eeeeee")
OVER = QColor("#f9e0b0")
TOTAL = QColor("#e2e2e2")
STYLE = GRID_STYLE + """QLabel#hint { color: #444; }
"""


def editable_units(actor: Actor) -> set[str]:
    """The unit codes (and 市城区, and "city" for the city-level figures) whose figures `actor` may enter."""
    if actor.is_city:
        return {u.code for u in reference().units} | {CITY_AREA, "city"}
    return {actor.own_unit} if actor.own_unit else set()


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _parse_or_none(text: str) -> float | None:
    try:
        return parse_figure(text, what="数值")
    except JzairError:
        return None


class _GridModel(QAbstractTableModel):
    """Pending edits and per-cell problems shared by the two grids. Keys are tuples naming a cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pending: dict[tuple, str] = {}
        self.problems: dict[tuple, str] = {}
        self.actor: Actor | None = None  # who pastes (set by the tab); the services check cells against it
        self._bold = QFont()
        self._bold.setBold(True)

    # subclasses: key_of(index) -> tuple | None, stored_value(key) -> float | None, editable_key(key) -> bool
    def key_of(self, index: QModelIndex | QPersistentModelIndex) -> tuple | None:
        raise NotImplementedError

    def index_of_key(self, key: tuple) -> QModelIndex:
        raise NotImplementedError

    def stored_value(self, key: tuple) -> float | None:
        raise NotImplementedError

    def editable_key(self, key: tuple) -> bool:
        raise NotImplementedError

    def effective(self, key: tuple) -> float | None:
        if key in self.pending:
            return _parse_or_none(self.pending[key])
        return self.stored_value(key)

    def cell_text(self, key: tuple) -> str:
        if key in self.pending:
            return self.pending[key]
        return format_number(self.stored_value(key))

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        key = self.key_of(index)
        if key is not None and self.editable_key(key):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def cell_role(self, key: tuple, role: int) -> Any:
        """The roles every editable cell shares (None: not handled here)."""
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(key)
        if role == Qt.ItemDataRole.EditRole:
            return self.pending[key] if key in self.pending else _number_text(self.stored_value(key))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if key in self.problems:
                return QBrush(PROBLEM)
            if key in self.pending:
                return QBrush(EDITED)
            if not self.editable_key(key):
                return QBrush(READ_ONLY)
        if role == Qt.ItemDataRole.ForegroundRole and not self.editable_key(key):
            return QBrush(GREY_TEXT)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key in self.problems:
                return self.problems[key]
            if key in self.pending:
                return "已修改，尚未保存"
            if not self.editable_key(key):
                return "只读：当前用户不能填报这一行"
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        key = self.key_of(index)
        assert key is not None
        self.set_pending(key, "" if value is None else normalize_number_text(value))  # １２３ shows as 123
        self.problems.pop(key, None)
        self.cells_changed()
        return True

    def set_pending(self, key: tuple, text: str | None) -> None:
        """A cell's waiting text as typing leaves it (a value equal to the stored one waits for nothing);
        None drops the waiting edit."""
        if text is None:
            self.pending.pop(key, None)
            return
        stored = self.stored_value(key)
        parsed = _parse_or_none(text) if text else None
        if (stored is None and not text) or (stored is not None and parsed is not None and abs(parsed - stored) < 1e-9):
            self.pending.pop(key, None)
        else:
            self.pending[key] = text

    def cells_changed(self) -> None:
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    # -- paste (gui.widgets.grid_paste) ------------------------------------------------------------
    def paste_key(self, row: int, column: int) -> tuple | None:
        return self.key_of(self.index(row, column))

    def refusal(self, key: tuple) -> str | None:
        raise NotImplementedError

    def check_pasted(self, values: dict[tuple, str]) -> dict[tuple, str]:
        raise NotImplementedError

    def discard(self) -> None:
        self.beginResetModel()
        self.pending.clear()
        self.problems.clear()
        self.endResetModel()

    def show_problems(self, problems: dict[tuple, str]) -> None:
        self.problems = dict(problems)
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))


# --------------------------------------------------------------------------- monthly figures
class FigureModel(_GridModel):
    """Units down (then 全市), months across, then 累计 (counts) and 目标, for one indicator."""

    def __init__(self, editable: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        ref = reference()
        self.units = ref.units
        first = min([ref.plan.first_month, *(i.count_from for i in monthly_indicators(ref) if i.count_from)])
        self.months = months_between(first, ref.plan.last_month)
        self.editable = editable
        self.indicator: Indicator = monthly_indicators(ref)[0]
        self.stored: dict[tuple[str, str, str], float] = {}
        self.targets: dict[tuple[str, str], float | None] = {}

    def load(self, stored: dict[tuple[str, str, str], float], targets: dict[tuple[str, str], float | None]) -> None:
        self.beginResetModel()
        self.stored, self.targets = stored, targets
        self.endResetModel()

    def set_indicator(self, ind: Indicator) -> None:
        self.beginResetModel()
        self.indicator = ind
        self.endResetModel()

    @property
    def is_count(self) -> bool:
        return self.indicator.measure == "count"

    @property
    def extra_headers(self) -> list[str]:
        return ["累计", "目标", "完成率"] if self.is_count else ["目标"]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.units) + 1

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.months) + len(self.extra_headers)

    def key_of(self, index: QModelIndex | QPersistentModelIndex) -> tuple | None:
        r, c = index.row(), index.column()
        if c >= len(self.months):
            return None
        if r < len(self.units):
            return (self.indicator.key, self.units[r].code, self.months[c])
        if self.indicator.city_level:  # 铁路货运量: the city office enters the 全市 row itself
            return (self.indicator.key, CITY_CODE, self.months[c])
        return None

    def stored_value(self, key: tuple) -> float | None:
        return self.stored.get(key)

    def month_open(self, month: str) -> bool:
        """The indicator counts this month (铁路货运量: 2020-01 … its due month; others from the plan's first)."""
        ind = self.indicator
        if ind.count_from:
            return ind.count_from <= month <= month_of(ind.due or reference().plan.campaign_end)
        return month >= reference().plan.first_month

    def in_scope(self, unit_code: str) -> bool:
        return self.indicator.city_level if unit_code == CITY_CODE else self.indicator.in_scope(unit_code)

    def editable_key(self, key: tuple) -> bool:
        if key[1] == CITY_CODE:
            return "city" in self.editable and self.month_open(key[2])
        return key[1] in self.editable and self.in_scope(key[1]) and self.month_open(key[2])

    def index_of(self, unit_code: str, month: str) -> QModelIndex:
        row = len(self.units) if unit_code == CITY_CODE else next(i for i, u in enumerate(self.units) if u.code == unit_code)
        return self.index(row, self.months.index(month))

    def index_of_key(self, key: tuple) -> QModelIndex:
        return self.index_of(key[1], key[2])

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if section < len(self.months):
                return self.months[section]
            return self.extra_headers[section - len(self.months)]
        if section < len(self.units):
            return self.units[section].name
        if self.indicator.city_level:
            return "全市（市级填报）"
        return "全市合计" if self.is_count else "全市达标单位"

    def _target_text(self, unit_code: str | None) -> str:
        ind = self.indicator
        if unit_code is not None and not ind.in_scope(unit_code):
            return "无任务"
        if ind.measure == "rate":
            value = unit_rate_target(ind) if unit_code is not None else ind.target
            return "" if value is None else f"{'≤' if ind.compare == 'le' else '≥'}{format_number(value)}"
        if unit_code is None:
            return format_number(ind.target)
        return format_number(self.targets.get((ind.key, unit_code)), missing="未分解")

    def _row_sum(self, unit_code: str) -> float:
        return sum(self.effective((self.indicator.key, unit_code, m)) or 0.0 for m in self.months if self.month_open(m))

    def _month_total(self, month: str) -> str:
        """全市: the sum of the units (counts); for a limit, how many units reporting met their own limit
        (not an average judged against one limit)."""
        ind = self.indicator
        values = [self.effective((ind.key, u.code, month)) for u in self.units if ind.in_scope(u.code)]
        given = [v for v in values if v is not None]
        if not given:
            return ""
        if self.is_count:
            return format_number(sum(given))
        met = sum(1 for v in given if sched.meets(v, unit_rate_target(ind), ind.compare))
        return f"{met}/{len(given)}"

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = self.key_of(index)
        if key is not None:
            if role == Qt.ItemDataRole.BackgroundRole and key not in self.problems and key not in self.pending:
                ind = self.indicator
                value = self.stored_value(key)
                if ind.measure == "rate" and value is not None and not sched.meets(value, unit_rate_target(ind), ind.compare):
                    return QBrush(OVER)
            if role == Qt.ItemDataRole.ToolTipRole and key not in self.problems and key not in self.pending:
                ind = self.indicator
                value = self.stored_value(key)
                if ind.measure == "rate" and value is not None and not sched.meets(value, unit_rate_target(ind), ind.compare):
                    return f"未达到目标（{self._target_text(key[1])}{ind.unit}）"
            return self.cell_role(key, role)
        r, c = index.row(), index.column()
        unit_code = self.units[r].code if r < len(self.units) else None
        extra = c - len(self.months)
        if role == Qt.ItemDataRole.DisplayRole:
            if unit_code is None and c < len(self.months):
                return self._month_total(self.months[c])
            head = self.extra_headers[extra] if extra >= 0 else ""
            if head in ("累计", "完成率"):
                if unit_code is not None and not self.indicator.in_scope(unit_code):
                    return "—"
                if unit_code is None and self.indicator.city_level:
                    done, target = self._row_sum(CITY_CODE), self.indicator.target
                elif unit_code is None:
                    done, target = sum(self._row_sum(u.code) for u in self.units), self.indicator.target
                else:
                    done, target = self._row_sum(unit_code), self.targets.get((self.indicator.key, unit_code))
                if head == "累计":
                    return format_number(done)
                return sched.format_percent(sched.count_completion(done, target), missing="—")
            return self._target_text(unit_code)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(TOTAL)
        if role == Qt.ItemDataRole.FontRole and unit_code is None:
            return self._bold
        return None

    def entries(self) -> list[FigureEntry]:
        names = {u.code: u.name for u in self.units} | {CITY_CODE: CITY_NAME}
        inds = {i.key: i for i in monthly_indicators()}
        return [
            FigureEntry(unit, ind, month, text or None, where=figure_where(names[unit], month, inds[ind].name))
            for (ind, unit, month), text in self.pending.items()
        ]

    def problem_cells(self, problems: list[str]) -> tuple[dict[tuple, str], list[str]]:
        names = {u.code: u.name for u in self.units} | {CITY_CODE: CITY_NAME}
        inds = {i.key: i for i in monthly_indicators()}
        prefixes = {figure_where(names[u], m, inds[i].name) + "：": (i, u, m) for (i, u, m) in self.pending}
        return problems_by_cell(problems, prefixes)

    def refusal(self, key: tuple) -> str | None:
        if self.editable_key(key):
            return None
        ind, unit_code, month = key
        names = {u.code: u.name for u in self.units} | {CITY_CODE: CITY_NAME}
        if self.actor is not None:
            try:
                if unit_code == CITY_CODE:
                    self.actor.check_city(f"填报全市“{self.indicator.name}”")
                else:
                    self.actor.check_write(unit_code, unit_name=names[unit_code])
            except JzairError as exc:
                return exc.message
        if not self.in_scope(unit_code):
            return f"“{self.indicator.name}”不涉及{names[unit_code]}（无任务），不能填写"
        if not self.month_open(month):
            return f"“{self.indicator.name}”不统计 {month}，不能填写"
        return "只读：当前用户不能填报这一单元格"

    def check_pasted(self, values: dict[tuple, str]) -> dict[tuple, str]:
        names = {u.code: u.name for u in self.units} | {CITY_CODE: CITY_NAME}
        inds = {i.key: i for i in monthly_indicators()}
        wheres = {key: figure_where(names[key[1]], key[2], inds[key[0]].name) for key in values}
        entries = [FigureEntry(u, i, m, values[(i, u, m)] or None, where=wheres[(i, u, m)]) for (i, u, m) in values]
        assert self.actor is not None
        try:
            monthly_service.check_figures(self.actor, entries)
        except ValidationFailed as exc:
            return refused_cells(exc.problems or [exc.message], wheres, next(iter(values)))
        return {}


def figure_where(county: str, month: str, indicator_name: str) -> str:
    return f"{county} {month}“{indicator_name}”"


# --------------------------------------------------------------------------- air quality
AIR_FIELDS = (("pm25", "PM2.5"), ("heavy_days", "重污染天数"))


class AirModel(_GridModel):
    """Areas down (市城区, then the units), each campaign month's PM2.5 and heavy days across."""

    def __init__(self, editable: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        ref = reference()
        self.areas: list[tuple[str, str]] = [(CITY_AREA, CITY_AREA)] + [(u.code, u.name) for u in ref.units]
        self.months = window_months()
        self.editable = editable
        self.stored: dict[tuple[str, str, str], float] = {}  # (area, month, field) -> value
        self.limits: dict[tuple[str, str, str], float] = {}

    def load(self, stored: dict[tuple[str, str, str], float], limits: dict[tuple[str, str, str], float]) -> None:
        self.beginResetModel()
        self.stored, self.limits = stored, limits
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.areas)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.months) * len(AIR_FIELDS)

    def key_of(self, index: QModelIndex | QPersistentModelIndex) -> tuple | None:
        month = self.months[index.column() // len(AIR_FIELDS)]
        field = AIR_FIELDS[index.column() % len(AIR_FIELDS)][0]
        return (self.areas[index.row()][0], month, field)

    def index_of(self, area: str, month: str, field: str) -> QModelIndex:
        row = next(i for i, (a, _n) in enumerate(self.areas) if a == area)
        col = self.months.index(month) * len(AIR_FIELDS) + [f for f, _l in AIR_FIELDS].index(field)
        return self.index(row, col)

    def index_of_key(self, key: tuple) -> QModelIndex:
        return self.index_of(*key)

    def stored_value(self, key: tuple) -> float | None:
        return self.stored.get(key)

    def editable_key(self, key: tuple) -> bool:
        return key[0] in self.editable

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            month = self.months[section // len(AIR_FIELDS)]
            label = AIR_FIELDS[section % len(AIR_FIELDS)][1]
            return f"{month}\n{label}"
        return self.areas[section][1]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = self.key_of(index)
        assert key is not None
        limit = self.limits.get(key)
        value = self.effective(key)
        over = limit is not None and value is not None and value > limit
        if role == Qt.ItemDataRole.BackgroundRole and over and key not in self.problems and key not in self.pending:
            return QBrush(OVER)
        if role == Qt.ItemDataRole.ToolTipRole and key not in self.problems and key not in self.pending:
            if limit is None:
                return "未设定目标"
            unit = "微克/立方米" if key[2] == "pm25" else "天"
            return f"目标 ≤{format_number(limit)} {unit}" + ("，超过目标" if over else "")
        return self.cell_role(key, role)

    def entries(self) -> list[AirEntry]:
        names = dict(self.areas)
        changed = sorted({(area, month) for (area, month, _f) in self.pending})
        out = []
        for area, month in changed:
            values = {}
            for field, _label in AIR_FIELDS:
                key = (area, month, field)
                values[field] = self.pending[key] if key in self.pending else _number_text(self.stored.get(key))
            out.append(AirEntry(area, month, values["pm25"] or None, values["heavy_days"] or None,
                                where=f"{names[area]} {month}"))
        return out

    def refusal(self, key: tuple) -> str | None:
        if self.editable_key(key):
            return None
        name = dict(self.areas)[key[0]]
        return f"当前用户不能填报“{name}”的空气质量"

    def check_pasted(self, values: dict[tuple, str]) -> dict[tuple, str]:
        """Each pasted area-month checked whole (its other field as it stands) by the service."""
        names = dict(self.areas)
        touched = sorted({(area, month) for (area, month, _f) in values})
        entries = []
        for area, month in touched:
            texts = {}
            for field, _label in AIR_FIELDS:
                key = (area, month, field)
                texts[field] = values.get(key, self.pending.get(key, _number_text(self.stored.get(key))))
            entries.append(AirEntry(area, month, texts["pm25"] or None, texts["heavy_days"] or None,
                                    where=f"{names[area]} {month}"))
        assert self.actor is not None
        try:
            check_air_entries(self.actor, entries)
        except ValidationFailed as exc:
            cells: dict[tuple, str] = {}
            for p in exc.problems or [exc.message]:
                for area, month in touched:
                    found = problem_field(p, f"{names[area]} {month}")
                    if found is None:
                        continue
                    field, text = found
                    fields = [field] if field else [f for f, _l in AIR_FIELDS if (area, month, f) in values]
                    for f in fields:
                        if (area, month, f) in values:
                            cells[(area, month, f)] = text
                    break
                else:
                    cells[next(iter(values))] = p
            return cells
        return {}

    def problem_cells(self, problems: list[str]) -> tuple[dict[tuple, str], list[str]]:
        names = dict(self.areas)
        entries = sorted({(area, month) for (area, month, _f) in self.pending})
        cells: dict[tuple, str] = {}
        rest = []
        for p in problems:
            for area, month in entries:
                found = problem_field(p, f"{names[area]} {month}")
                if found is None:
                    continue
                field, text = found
                fields = [field] if field else [f for f, _l in AIR_FIELDS if (area, month, f) in self.pending]
                for f in fields:
                    cells[(area, month, f)] = text
                break
            else:
                rest.append(p)
        return cells, rest


# --------------------------------------------------------------------------- tabs
class GridTab(QWidget):
    """A grid with 保存 / 放弃修改 / 刷新, the problems of the last save, and a status line."""

    def __init__(self, ctx: GuiContext, model: _GridModel, *, can_edit: bool, announce: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.announce = announce  # the key announced on ctx.signals.changed after a save
        self.model = model
        self.can_edit = can_edit
        self.table = QTableView()
        self.table.setModel(model)
        setup_edit_grid(self.table, self)
        self.save_button = QPushButton("保存")
        self.save_button.setToolTip("保存本页全部修改（Ctrl+S）；有一处错误则不保存任何修改")
        self.save_button.clicked.connect(self.save)
        self.discard_button = QPushButton("放弃修改")
        self.discard_button.clicked.connect(self.discard)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.reload)
        add_save_shortcut(self, self.save)
        self.buttons = QHBoxLayout()
        for b in (self.save_button, self.discard_button, self.refresh_button):
            self.buttons.addWidget(b)
        self.buttons.addStretch(1)
        self.problem_label = problem_label()
        self.status_line = QLabel()
        self.status_line.setObjectName("statusLine")
        model.actor = ctx.actor
        self.paster = GridPaste(self.table, model, owner=self, messages=self.problem_label, status=self.status_line)
        model.dataChanged.connect(lambda *_: self.update_buttons())
        model.modelReset.connect(self.update_buttons)

    def update_buttons(self) -> None:
        dirty = bool(self.model.pending)
        self.save_button.setEnabled(self.can_edit and dirty)
        self.discard_button.setEnabled(dirty)
        if dirty:
            self.status_line.setText(f"有 {len(self.model.pending)} 处修改尚未保存。")

    def commit_editor(self) -> None:
        commit_open_editor(self.table)

    def discard(self) -> None:
        self.model.discard()
        self.paster.clear()
        self.problem_label.clear()
        self.status_line.setText("已放弃未保存的修改。")

    def paste(self, block: list[list[str]]) -> bool:
        """Paste rows of cell texts (as from Excel) at the selection; all or nothing, Ctrl+Z undoes it."""
        self.commit_editor()
        return self.paster.paste(block)

    def focus_cell(self, key: tuple) -> None:
        index = self.model.index_of_key(key)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)

    def reload(self) -> None:
        raise NotImplementedError

    def write(self) -> int:
        raise NotImplementedError

    def save(self) -> bool:
        """Write the tab's edits in one transaction; on refusal mark the cells and write nothing."""
        if not self.can_edit or not self.model.pending:
            return False
        self.commit_editor()
        try:
            changed = self.write()
        except ValidationFailed as exc:
            problems = exc.problems or [exc.message]
            cells, rest = self.model.problem_cells(problems)
            self.model.show_problems(cells)
            self.problem_label.setText(refused_save_text(len(problems), cells.values(), rest))
            self.status_line.clear()
            if cells:
                self.focus_cell(next(iter(cells)))
            return False
        except JzairError as exc:
            show_user_error(self, exc, "保存失败")
            return False
        self.model.pending.clear()
        self.model.problems.clear()
        self.paster.clear()
        self.problem_label.clear()
        self.reload()
        self.status_line.setText(f"已保存 {changed} 处修改。")
        publish(self.ctx, Changes(figures=True), self)
        return True


class FiguresTab(GridTab):
    def __init__(self, ctx: GuiContext) -> None:
        editable = editable_units(ctx.actor)
        super().__init__(ctx, FigureModel(editable), can_edit=bool(editable), announce="monthly_figures")
        self.model: FigureModel
        self.table.setObjectName("figuresTable")
        self.indicator_combo = QComboBox()
        self.indicator_combo.setObjectName("figureIndicator")
        for ind in monthly_indicators():
            kind = "月新增数" if ind.measure == "count" else "当月数值"
            self.indicator_combo.addItem(f"{ind.name}（{ind.unit}，{kind}）", ind.key)
        self.indicator_combo.setMaxVisibleItems(20)
        self.early = QCheckBox("显示2020年10月以前的月份")
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("指标"))
        top.addWidget(self.indicator_combo, 1)
        top.addSpacing(12)
        top.addWidget(self.early)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addLayout(self.buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.status_line)
        self.indicator_combo.currentIndexChanged.connect(lambda _i: self._indicator_changed())
        self.early.toggled.connect(lambda _on: self._show_months())
        self.reload()
        self._indicator_changed()

    def reload(self) -> None:
        with user_errors(self, "无法读取月度数据") as outcome:
            stored = {(v.indicator, v.unit_code, v.month): v.value for v in monthly_service.list_figures(self.ctx.db)}
            targets = {(t.indicator, u.unit_code): u.value for t in target_table(self.ctx.db) for u in t.units}
        if outcome.failed:
            return
        self.model.load(stored, targets)
        self._show_months()

    def _indicator_changed(self) -> None:
        ind = reference().indicator(self.indicator_combo.currentData())
        self.model.set_indicator(ind)
        if ind.city_level:
            last = month_of(ind.due or reference().plan.campaign_end)
            text = (f"全市指标：由市大气办在“全市”一行填写各月的{ind.name}（{ind.unit}），只统计 {ind.count_from or ''}"
                    f" 至 {last} 的月份（勾选右上角可显示2020年10月以前的月份）；全市目标 {format_number(ind.target)}"
                    f" {ind.unit}，不分解到县（区、市）。")
        elif ind.measure == "count":
            whole = "整数" if is_integral(ind) else "数字"
            text = (f"填写各月新增的{ind.name}（{ind.unit}，{whole}，不能为负数）；“累计”为各月之和，"
                    f"“目标”为任务分解中的县级目标（全市目标 {format_number(ind.target)} {ind.unit}）。")
        else:
            low, high = monthly_service.rate_range(ind)
            op = "≤" if ind.compare == "le" else "≥"
            text = (f"填写各月的{ind.name}（{ind.unit}，{format_number(low)}–{format_number(high)}）；"
                    f"限值 {op}{format_number(unit_rate_target(ind))}{ind.unit}，每月评价，未达到的月份标为橙色；"
                    f"“全市”一行为达到限值的单位数/已填报单位数。")
        if ind.scope:
            text += f" 本指标只涉及{'、'.join(reference().unit_by_code(c).name for c in ind.scope)}，其他单位无任务。"
        if not self.can_edit:
            text += " 当前用户只能查看。"
        self.hint.setText(text)
        self._show_months()
        self._size_columns()

    def _show_months(self) -> None:
        start = month_of(reference().plan.window_start)
        for col, month in enumerate(self.model.months):
            self.table.setColumnHidden(col, month < start and not self.early.isChecked())

    def _size_columns(self) -> None:
        fm = self.table.fontMetrics()
        width = max(fm.horizontalAdvance("2020-10") + 24, fm.horizontalAdvance("00,000") + 24)
        header = self.table.horizontalHeader()
        for col in range(self.model.columnCount()):
            header.resizeSection(col, width)
        header.resizeSection(self.model.columnCount() - 1, max(width, fm.horizontalAdvance("100.0%00") + 16))

    def focus_cell(self, key: tuple) -> None:
        ind, unit_code, month = key
        if ind != self.model.indicator.key:
            self.indicator_combo.setCurrentIndex(self.indicator_combo.findData(ind))
        if month < month_of(reference().plan.window_start):
            self.early.setChecked(True)
        super().focus_cell(key)

    def write(self) -> int:
        return set_figures(self.ctx.db, self.ctx.actor, self.model.entries())

    def select(self, indicator: str, unit_code: str | None) -> None:
        index = self.indicator_combo.findData(indicator)
        if index >= 0:
            self.indicator_combo.setCurrentIndex(index)
        if unit_code:
            row = next((i for i, u in enumerate(self.model.units) if u.code == unit_code), None)
            if row is not None:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))


class AirTargetDialog(FormDialog):
    """设定空气质量目标: an area's PM2.5 and heavy-pollution-day limits over a span of months (city office,
    附件1), through services.air.set_air_quality_target (checked and audited there)."""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None, *,
                 current: AirQualityTargetView | None = None) -> None:
        super().__init__("修改空气质量目标" if current else "设定空气质量目标", parent)
        self.ctx = ctx
        self.saved: AirQualityTargetView | None = None
        self.area = QComboBox()
        self.area.setObjectName("targetArea")
        self.area.addItem(CITY_AREA, CITY_AREA)
        for unit in reference().units:
            self.area.addItem(unit.name, unit.code)
        months = plan_months()
        self.first = QComboBox()
        self.first.setObjectName("targetFirst")
        self.last = QComboBox()
        self.last.setObjectName("targetLast")
        for combo in (self.first, self.last):
            for month in months:
                combo.addItem(month, month)
        self.pm25 = QLineEdit()
        self.pm25.setObjectName("targetPm25")
        self.pm25.setPlaceholderText("如 47")
        self.heavy = QLineEdit()
        self.heavy.setObjectName("targetHeavy")
        self.heavy.setPlaceholderText("如 0")
        campaign = window_months()
        first, last = (current.first_month, current.last_month) if current else (campaign[0], campaign[-1])
        self.first.setCurrentIndex(max(self.first.findData(first), 0))
        self.last.setCurrentIndex(max(self.last.findData(last), 0))
        if current is not None:
            self.area.setCurrentIndex(max(self.area.findData(current.area), 0))
            self.area.setEnabled(False)
            self.first.setEnabled(False)  # the start month names the target; another start is another target
            self.pm25.setText(format_number(current.pm25_max, missing=""))
            self.heavy.setText("" if current.heavy_days_max is None else str(current.heavy_days_max))
        note = QLabel(
            "目标适用于起止月份内的每个月。留空的一项：新目标不设该项，已有目标保持原值。"
            "与同一区域其他期间重叠的目标不能保存。"
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        self.form.addRow("区域：", self.area)
        self.form.addRow("起始月份：", self.first)
        self.form.addRow("结束月份：", self.last)
        self.form.addRow("PM2.5 上限（微克/立方米）：", self.pm25)
        self.form.addRow("重污染天数上限（天）：", self.heavy)
        self.form.addRow(note)
        self.setMinimumWidth(440)

    def run(self) -> None:
        self.saved = air.set_air_quality_target(
            self.ctx.db, self.ctx.actor, self.area.currentData(), self.first.currentData(), self.last.currentData(),
            pm25_max=self.pm25.text().strip() or None, heavy_days_max=self.heavy.text().strip() or None,
        )


class AirBasisDialog(FormDialog):
    """档次和2019年基准: a county's grade (1–6, 附件1) and the PM2.5 / heavy days of 2019's same months, from
    which its limits are derived (services.air_targets.set_air_basis, city office only; all or nothing)."""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None, *,
                 current: air_targets.AirBasis | None = None) -> None:
        super().__init__("县（区、市）空气质量档次和2019年基准", parent)
        self.ctx = ctx
        self.saved: air_targets.AirBasis | None = None
        self.area = QComboBox()
        self.area.setObjectName("basisArea")
        for unit in reference().units:
            self.area.addItem(unit.name, unit.code)
        self.grade = QComboBox()
        self.grade.setObjectName("basisGrade")
        self.grade.addItem("（请选择）", None)
        for g in reference().plan.air_grades:
            self.grade.addItem(f"{g.grade}档（PM2.5改善{g.pm25_improvement:g}个百分点，重污染天数减少{g.heavy_days_reduction}天）",
                               g.grade)
        self.form.addRow("县（区、市）：", self.area)
        self.form.addRow("档次：", self.grade)
        self.pm: dict[str, QLineEdit] = {}
        self.days: dict[str, QLineEdit] = {}
        for month in air_targets.all_baseline_months():
            pm, days = QLineEdit(), QLineEdit()
            pm.setObjectName(f"basisPm25_{month}")
            days.setObjectName(f"basisDays_{month}")
            pm.setPlaceholderText("PM2.5")
            days.setPlaceholderText("重污染天数")
            row = QHBoxLayout()
            row.addWidget(pm)
            row.addWidget(QLabel("微克/立方米"))
            row.addWidget(days)
            row.addWidget(QLabel("天"))
            self.form.addRow(f"{month[:4]}年{int(month[5:])}月：", row)
            self.pm[month], self.days[month] = pm, days
        note = QLabel("方案以2019年一季度和四季度为比较基准（2020年一季度受疫情影响）。目标按档次推算："
                      "PM2.5为同期加权均值下降相应百分点，重污染天数为同期天数减相应天数（不低于0）。")
        note.setObjectName("hint")
        note.setWordWrap(True)
        self.form.addRow(note)
        self.area.currentIndexChanged.connect(lambda _i: self._fill())
        self._bases = {b.area: b for b in air_targets.air_bases(ctx.db)}
        if current is not None:
            self.area.setCurrentIndex(max(self.area.findData(current.area), 0))
        self._fill()
        self.setMinimumWidth(520)

    def _fill(self) -> None:
        b = self._bases.get(self.area.currentData())
        self.grade.setCurrentIndex(max(self.grade.findData(b.grade if b else None), 0))
        for month in self.pm:
            value = b.baselines.get(month) if b else None
            self.pm[month].setText("" if value is None else format_number(value[0]))
            self.days[month].setText("" if value is None else str(value[1]))

    def run(self) -> None:
        baselines = {m: (self.pm[m].text().strip(), self.days[m].text().strip()) for m in self.pm
                     if self.pm[m].text().strip() or self.days[m].text().strip()}
        self.saved = air_targets.set_air_basis(self.ctx.db, self.ctx.actor, self.area.currentData(),
                                               grade=self.grade.currentData(), baselines=baselines)


class AirTab(GridTab):
    def __init__(self, ctx: GuiContext) -> None:
        editable = editable_units(ctx.actor)
        super().__init__(ctx, AirModel(editable), can_edit=bool(editable), announce="air_quality")
        self.model: AirModel
        self.table.setObjectName("airTable")
        hint = QLabel(
            "填写各区域每月的 PM2.5 月均浓度（微克/立方米，0–1000）和重污染天数（不超过当月天数）；"
            "超过目标的单元格标为橙色，目标见下表。清空一个月的两项即删除该月数据。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.targets_table = QTableWidget(0, 5)
        self.targets_table.setObjectName("airTargets")
        enable_copy(self.targets_table)
        self.targets_table.setHorizontalHeaderLabels(["区域", "起止月份", "档次", "PM2.5 上限（微克/立方米）",
                                                      "重污染天数上限（天）"])
        self.targets_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.targets_table.verticalHeader().setVisible(False)
        self.targets_table.horizontalHeader().setStretchLastSection(True)
        self.targets_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.targets: list[AirQualityTargetView] = []
        self.add_target_button = QPushButton("设定目标…")
        self.add_target_button.setObjectName("addAirTarget")
        self.edit_target_button = QPushButton("修改所选目标…")
        self.edit_target_button.setObjectName("editAirTarget")
        can_set = ctx.actor.is_city
        for button in (self.add_target_button, self.edit_target_button):
            button.setVisible(can_set)
        self.add_target_button.clicked.connect(lambda: self.edit_target(None))
        self.edit_target_button.clicked.connect(self._edit_selected_target)
        if can_set:
            self.targets_table.setToolTip("双击一行修改该目标")
            self.targets_table.doubleClicked.connect(lambda index: self.edit_target(self.targets[index.row()]))
        self.targets_table.itemSelectionChanged.connect(self._update_target_buttons)
        self.basis_button = QPushButton("档次和2019年基准…")
        self.basis_button.setObjectName("airBasis")
        self.basis_button.setToolTip("录入县（区、市）的档次（方案附件1）和2019年同期基准，目标由此推算")
        self.basis_button.setVisible(can_set)
        self.basis_button.clicked.connect(lambda: self.edit_basis(None))
        targets_bar = QHBoxLayout()
        targets_bar.addWidget(QLabel("空气质量目标（市城区为方案规定；县（区、市）由档次和2019年同期基准推算）"))
        targets_bar.addStretch(1)
        targets_bar.addWidget(self.basis_button)
        targets_bar.addWidget(self.add_target_button)
        targets_bar.addWidget(self.edit_target_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(self.buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.status_line)
        layout.addLayout(targets_bar)
        layout.addWidget(self.targets_table)
        self.reload()
        fm = self.table.fontMetrics()
        for col in range(self.model.columnCount()):
            self.table.horizontalHeader().resizeSection(col, fm.horizontalAdvance("重污染天数") + 20)
        self.targets_table.resizeColumnsToContents()

    def reload(self) -> None:
        with user_errors(self, "无法读取空气质量") as outcome:
            months = air.air_quality(self.ctx.db)
            targets = air.air_quality_targets(self.ctx.db)
        if outcome.failed:
            return
        stored: dict[tuple[str, str, str], float] = {}
        for v in months:
            if v.pm25 is not None:
                stored[(v.area, v.month, "pm25")] = v.pm25
            if v.heavy_days is not None:
                stored[(v.area, v.month, "heavy_days")] = float(v.heavy_days)
        limits: dict[tuple[str, str, str], float] = {}
        for t in targets:
            for month in self.model.months:
                if t.first_month <= month <= t.last_month:
                    if t.pm25_max is not None:
                        limits[(t.area, month, "pm25")] = t.pm25_max
                    if t.heavy_days_max is not None:
                        limits[(t.area, month, "heavy_days")] = float(t.heavy_days_max)
        self.model.load(stored, limits)
        self.targets = targets
        self.targets_table.setRowCount(len(targets))
        shown = min(max(len(targets), 1), 8) + 1  # rows and the header; more scroll
        self.targets_table.setFixedHeight(shown * (self.fontMetrics().height() + 12) + 6)
        try:
            grades = {b.area: b.grade for b in air_targets.air_bases(self.ctx.db)}
        except JzairError:
            grades = {}
        for r, t in enumerate(targets):
            grade = grades.get(t.area)
            cells = (t.area_name, f"{t.first_month} 至 {t.last_month}",
                     "方案规定" if t.area == CITY_AREA else ("未设定" if grade is None else f"{grade}档"),
                     format_number(t.pm25_max, missing="—"),
                     "—" if t.heavy_days_max is None else str(t.heavy_days_max))
            for c, text in enumerate(cells):
                self.targets_table.setItem(r, c, QTableWidgetItem(text))
        self._update_target_buttons()

    def _update_target_buttons(self) -> None:
        self.edit_target_button.setEnabled(self._selected_target() is not None)

    def _selected_target(self) -> AirQualityTargetView | None:
        rows = {i.row() for i in self.targets_table.selectedIndexes()}
        return self.targets[rows.pop()] if len(rows) == 1 and max(rows) < len(self.targets) else None

    def _edit_selected_target(self) -> None:
        target = self._selected_target()
        if target is not None:
            self.edit_target(target)

    def edit_target(self, current: AirQualityTargetView | None) -> AirTargetDialog:
        """Open the target dialog (new, or `current` to change); on 确定 the targets and shading reload."""
        dialog = AirTargetDialog(self.ctx, self, current=current)
        dialog.accepted.connect(lambda: self._target_saved(dialog))
        dialog.open()
        return dialog

    def edit_basis(self, current: air_targets.AirBasis | None) -> AirBasisDialog:
        dialog = AirBasisDialog(self.ctx, self, current=current)
        dialog.accepted.connect(lambda: self._basis_saved(dialog))
        dialog.open()
        return dialog

    def _basis_saved(self, dialog: AirBasisDialog) -> None:
        self.reload()
        b = dialog.saved
        if b is not None:
            limits = "；".join(f"{air_targets.period_text(f, la)} PM2.5 ≤{format_number(b.limits[f][0])}、"
                              f"重污染天数 ≤{b.limits[f][1]}" for f, la in reference().plan.air_periods)
            self.status_line.setText(f"已设定{b.area_name} {b.grade}档，推算目标：{limits}。")
        publish(self.ctx, Changes(figures=True), self)

    def _target_saved(self, dialog: AirTargetDialog) -> None:
        self.reload()  # pending grid edits stay
        t = dialog.saved
        if t is not None:
            self.status_line.setText(f"已设定 {t.area_name} {t.first_month} 至 {t.last_month} 的空气质量目标。")
            row = next((i for i, v in enumerate(self.targets) if (v.area, v.first_month) == (t.area, t.first_month)), None)
            if row is not None:
                self.targets_table.selectRow(row)
        publish(self.ctx, Changes(figures=True), self)

    def write(self) -> int:
        return set_air_quality_many(self.ctx.db, self.ctx.actor, self.model.entries())


class MilestoneDialog(FormDialog):
    """记录节点任务完成: the day a milestone was done and its evidence (services.milestones, checked there)."""

    def __init__(self, ctx: GuiContext, item: milestones_service.MilestoneView, parent: QWidget | None = None) -> None:
        super().__init__("记录节点任务完成", parent)
        self.ctx = ctx
        self.item = item
        self.saved: milestones_service.MilestoneView | None = None
        self.date = QLineEdit(item.done_date.isoformat() if item.done_date else "")
        self.date.setObjectName("milestoneDate")
        self.date.setPlaceholderText("如 2020-10-28")
        self.evidence = QLineEdit(item.evidence or "")
        self.evidence.setObjectName("milestoneEvidence")
        self.evidence.setMaxLength(milestones_service.EVIDENCE_MAX)
        self.evidence.setPlaceholderText("文号或证明材料名称，如 介环函〔2020〕96号")
        self.form.addRow("节点任务：", QLabel(item.name))
        self.form.addRow("单位：", QLabel(item.county))
        self.form.addRow("时限：", QLabel(item.due.isoformat()))
        self.form.addRow("完成日期：", self.date)
        self.form.addRow("完成依据：", self.evidence)
        self.setMinimumWidth(460)

    def run(self) -> None:
        self.saved = milestones_service.set_milestone(self.ctx.db, self.ctx.actor, self.item.indicator, self.item.unit_code,
                                                      self.date.text(), self.evidence.text())


class MilestoneTab(QWidget):
    """节点任务: every milestone of every unit it concerns, done or not; 记录完成… opens the dialog."""

    HEADERS = ["节点任务", "单位", "时限", "完成日期", "完成依据", "状态"]

    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.items: list[milestones_service.MilestoneView] = []
        hint = QLabel("方案中有明确时间节点的任务（新泰钢铁超低排放改造、阳泉煤业铁路专用线开工、两家企业搬迁、露天矿山"
                      "摸底排查）：记录完成日期和依据（文号或证明材料），逾期未完成的列入预警。")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setObjectName("milestoneTable")
        enable_copy(self.table)
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.record_button = QPushButton("记录完成…")
        self.record_button.setObjectName("recordMilestone")
        self.record_button.setVisible(ctx.actor.role in ("city_admin", "county_clerk"))
        self.record_button.clicked.connect(self._record_selected)
        self.table.doubleClicked.connect(lambda index: self.record(self.items[index.row()]))
        self.status_line = QLabel()
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.record_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_line)
        self.reload()

    def reload(self) -> None:
        with user_errors(self, "无法读取节点任务") as outcome:
            self.items = milestones_service.list_milestones(self.ctx.db)
        if outcome.failed:
            return
        today = dt.date.today()
        self.table.setRowCount(len(self.items))
        for r, i in enumerate(self.items):
            if i.done_date is not None:
                state = "逾期完成" if i.done_date > i.due else "已完成"
            else:
                state = "逾期未完成" if today > i.due else "未到期"
            cells = (i.name, i.county, i.due.isoformat(), i.done_date.isoformat() if i.done_date else "未完成",
                     i.evidence or "", state)
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def _record_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) == 1:
            self.record(self.items[rows.pop()])
        else:
            self.status_line.setText("请先选择一项节点任务。")

    def record(self, item: milestones_service.MilestoneView) -> MilestoneDialog:
        dialog = MilestoneDialog(self.ctx, item, self)
        dialog.accepted.connect(lambda: self._saved(dialog))
        dialog.open()
        return dialog

    def _saved(self, dialog: MilestoneDialog) -> None:
        self.reload()
        v = dialog.saved
        if v is not None:
            self.status_line.setText(f"已记录：{v.county}“{v.name}”于 {v.done_date} 完成。")
        publish(self.ctx, Changes(figures=True), self)


class FiguresPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setStyleSheet(STYLE)
        self._stale = False
        title = QLabel("月度数据")
        title.setObjectName("pageTitle")
        self.figures = FiguresTab(ctx)
        self.air = AirTab(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.figures, "月度指标")
        self.tabs.addTab(self.air, "空气质量")
        self.milestones = MilestoneTab(ctx)
        self.tabs.addTab(self.milestones, "节点任务")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)

    @staticmethod
    def shows_changes(changes: Changes) -> bool:
        return bool(changes.figures or changes.targets or changes.months or changes.everything)

    def apply_changes(self, _changes: Changes | None = None) -> None:
        """Changed elsewhere (a save on one of these tabs is not published back here: it reloaded itself)."""
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        self._stale = False
        for tab in (self.figures, self.air, self.milestones):
            tab.reload()  # pending edits stay

    # -- unsaved edits (gui.unsaved) -------------------------------------------------------------
    def _tabs(self) -> tuple[GridTab, GridTab]:
        return self.figures, self.air

    def has_unsaved_changes(self) -> bool:
        for tab in self._tabs():
            tab.commit_editor()  # a cell still being typed counts
        return any(tab.model.pending for tab in self._tabs())

    def unsaved_summary(self) -> str:
        n = sum(len(tab.model.pending) for tab in self._tabs())
        return f"有 {n} 处修改尚未保存"

    def save_changes(self) -> bool:
        for tab in self._tabs():
            if tab.model.pending and not tab.save():
                self.tabs.setCurrentWidget(tab)
                return False
        return True

    def discard_changes(self) -> None:
        for tab in self._tabs():
            if tab.model.pending:
                tab.discard()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.reload()

    def show_indicator(self, indicator: str, unit_code: str | None = None) -> None:
        """Show one monthly indicator (and select a unit's row): the dashboard opens this for a unit."""
        self.tabs.setCurrentWidget(self.figures)
        self.figures.select(indicator, unit_code)


def make_page(ctx: GuiContext) -> FiguresPage:
    return FiguresPage(ctx)


