"""进度看板: completion per unit against 时序进度, progress over time, the ledgers' breakdowns, air quality
and the warning list, all as of a chosen date.

The numbers come from the core (services.progress, services.breakdown, services.monthly); this page only
draws them. An as-of change computes the progress table once (compute_progress) and redraws the
visible tab by updating the charts' items in place; the other tabs redraw when they are shown. The
ledger breakdowns are grouped once per unit and data version and re-counted for a new date in memory. Clicking
a bar or a warning opens that unit's ledger filtered to it (the 月度数据 page for monthly indicators).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain import schedule as sched
from jzair_desktop.domain.ledgers import PROBLEMS
from jzair_desktop.domain.months import month_of, window_months
from jzair_desktop.domain.reference import CITY_CODE, CITY_NAME, reference
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import user_errors
from jzair_desktop.gui.widgets.charts import (
    ChartWidget,
    CompletionChart,
    MonthBarChart,
    ProgressCurveChart,
    StackedBarChart,
    StatusBar,
)
from jzair_desktop.gui.widgets.clipboard import enable_copy
from jzair_desktop.gui.widgets.common import save_file_path
from jzair_desktop.services import air
from jzair_desktop.services.breakdown import BreakdownData, breakdown_data, breakdowns
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.problems import PROBLEMS_KIND, problem_warnings
from jzair_desktop.services.problems import WARNING_KEY as PROBLEMS_WARNING
from jzair_desktop.services.progress import (
    ProgressRow,
    air_warnings,
    compute_progress,
    progress_history,
    sort_warnings,
)
from jzair_desktop.services.targets import format_number, unit_rate_target

log = logging.getLogger(__name__)

TAB_COMPLETION, TAB_HISTORY, TAB_BREAKDOWN, TAB_AIR = range(4)
ROW_FILL = {"overdue": "#f6d3ce", "not_met": "#f6d3ce", "behind": "#fbefc2"}
LAST_DAY = dt.date(2021, 12, 31)  # the latest date a ledger may hold (trucks: 淘汰日期 up to 2021-12-31)


def default_as_of(today: dt.date | None = None) -> dt.date:
    """Today, clamped into the campaign (window start … campaign end)."""
    plan = reference().plan
    day = today or dt.date.today()
    return max(plan.window_start, min(day, plan.campaign_end))


def weekly_days(start: dt.date, as_of: dt.date) -> list[dt.date]:
    """Every 7th day from `start` up to `as_of`, and `as_of` itself."""
    if as_of <= start:
        return [as_of]
    days = [start + dt.timedelta(days=7 * k) for k in range((as_of - start).days // 7 + 1)]
    if days[-1] != as_of:
        days.append(as_of)
    return days


def bar_text(row: ProgressRow) -> str:
    if row.kind == "limit" and row.met_text:
        value = "" if row.done is None else f"{format_number(row.done)}{row.unit} "
        return f"{value}{row.met_text} {row.status_label}"
    if row.kind == "milestone" and row.done_date is not None:
        return f"{row.done_date.isoformat()} {row.status_label}"
    if row.completion is None or row.kind == "milestone":
        return row.status_label
    return f"{sched.format_percent(row.completion)} {row.status_label}"


def status_bars(rows: list[ProgressRow]) -> list[StatusBar]:
    """The bars of one indicator: the city first, then the units (plan order)."""
    ordered = sorted(rows, key=lambda r: (not r.is_city,))
    return [
        StatusBar(
            label=r.county,
            value=None if r.completion is None else r.completion * 100,
            status=r.status,
            text=bar_text(r),
            schedule=r.schedule * 100,
        )
        for r in ordered
    ]


CHART_MIN_WIDTH = 360  # the completion chart's least width beside the warning table

class WarningModel(QAbstractTableModel):
    """The warning list (behind or overdue, worst first), coloured and worded by status."""

    HEADERS = ("县（区、市）", "指标", "状态", "完成率", "时序进度", "差距", "目标", "已完成", "截止日期")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ProgressRow] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: list[ProgressRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return self.HEADERS[section]
            return str(section + 1)
        return None

    def text(self, r: ProgressRow, column: int) -> str:
        unit = r.unit
        if column == 0:
            return r.county
        if column == 1:
            return r.name
        if column == 2:
            return r.status_label
        cumulative = r.kind == "cumulative"
        if r.kind == PROBLEMS_KIND and column in (5, 6, 7):  # overdue 问题清单 items of the unit
            return (f"{format_number(r.done)} 项超过整改时限", f"到期 {format_number(r.target)} 项",
                    f"逾期 {format_number(r.done)} 项")[column - 5]
        if column == 3:
            return sched.format_percent(r.completion) if cumulative else "—"
        if column == 4:
            return sched.format_percent(r.schedule, missing="") if r.kind in ("cumulative", "milestone") else "—"
        if column == 5:
            if r.kind in ("limit", "air_quality") and r.done is not None and r.target is not None:
                return f"{'高于' if r.done > r.target else '低于'}限值 {format_number(round(abs(r.done - r.target), 1))}"
            return f"{r.gap * 100:.1f} 个百分点" if cumulative else "逾期未完成"
        if column == 6:
            if r.kind == "milestone":
                return "按时完成"
            sign = "≤" if r.kind == "air_quality" else ""
            return f"{sign}{format_number(r.target, missing='未分解')} {unit}".strip()
        if column == 7:
            if r.kind == "milestone":
                return "未完成"
            return f"{format_number(r.done, missing='未填报')} {unit}".strip()
        return r.due.isoformat()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(r, col)
        if role == Qt.ItemDataRole.BackgroundRole:
            fill = ROW_FILL.get(r.status)
            return QBrush(QColor(fill)) if fill else None
        if role == Qt.ItemDataRole.FontRole and col == 2:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{r.name}\n" if col == 1 else "") + (f"{r.county}“{r.name}”：完成率 {sched.format_percent(r.completion)}，时序进度 "
                    f"{sched.format_percent(r.schedule)}，{r.status_label}。单击打开该县的台账。")
        if role == Qt.ItemDataRole.UserRole:
            return r
        return None


class ChartPanel(QWidget):
    """A chart with its 导出图片 button."""

    def __init__(self, chart: ChartWidget, export: Callable[[ChartWidget], None]) -> None:
        super().__init__()
        self.chart = chart
        self.export_button = QToolButton()
        self.export_button.setText("导出图片…")
        self.export_button.setToolTip("把这张图另存为 PNG 图片")
        self.export_button.clicked.connect(lambda: export(chart))
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addStretch(1)
        head.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(chart, 1)


class DashboardPage(QWidget):
    """The 进度看板 page."""

    # (ledger key or "figures", unit code or "" for all): emitted whenever the page opens a unit's data
    openRequested = Signal(str, str)

    def __init__(self, ctx: GuiContext, *, today: dt.date | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.ref = ref = reference()
        self.origin = ref.plan.window_start
        self._version = 0  # bumps when data changes elsewhere
        self._progress: list[ProgressRow] | None = None
        self._progress_key: tuple | None = None
        self._drawn: dict[int, tuple] = {}
        self._breakdown_data: list[BreakdownData] = []
        self._breakdown_key: tuple | None = None

        title = QLabel("进度看板")
        title.setObjectName("pageTitle")

        self.as_of_edit = QDateEdit()
        self.as_of_edit.setObjectName("asOf")
        self.as_of_edit.setCalendarPopup(True)
        self.as_of_edit.setDisplayFormat("yyyy-MM-dd")
        self.as_of_edit.setMinimumDate(_qdate(ref.plan.window_start))
        self.as_of_edit.setMaximumDate(_qdate(LAST_DAY))
        self.as_of_edit.setDate(_qdate(default_as_of(today)))
        self.as_of_edit.setToolTip("统计截至这一天（含当天）的进度")

        self.indicator_combo = QComboBox()
        self.indicator_combo.setObjectName("indicator")
        for ind in ref.indicators:
            self.indicator_combo.addItem(f"{ind.name}（{ind.unit}）", ind.key)
        self.indicator_combo.setMaxVisibleItems(20)

        self.unit_combo = QComboBox()
        self.unit_combo.setObjectName("unit")
        self.unit_combo.addItem(CITY_NAME, CITY_CODE)
        for u in ref.units:
            self.unit_combo.addItem(u.name, u.code)
        self.unit_combo.setToolTip("累计进度、台账构成和空气质量所看的县（区、市）；全市的空气质量为市城区")
        actor = ctx.actor
        if actor.own_unit:
            self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(actor.unit_code)))

        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setToolTip("重新读取数据库")
        self.refresh_button.clicked.connect(self.reload)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("截至日期"))
        bar.addWidget(self.as_of_edit)
        bar.addSpacing(12)
        bar.addWidget(QLabel("指标"))
        bar.addWidget(self.indicator_combo, 1)
        bar.addSpacing(12)
        bar.addWidget(QLabel("县（区、市）"))
        bar.addWidget(self.unit_combo)
        bar.addSpacing(12)
        bar.addWidget(self.refresh_button)

        self.summary = QLabel()
        self.summary.setObjectName("summary")

        # -- tab 1: completion per unit and the warning list -------------------------------------
        self.completion_chart = CompletionChart()
        self.completion_chart.setMinimumHeight(380)
        self.completion_chart.rowClicked.connect(self._bar_clicked)
        self.completion_panel = ChartPanel(self.completion_chart, self.export_chart)
        self.warning_model = WarningModel(self)
        self.warning_table = QTableView()
        self.warning_table.setObjectName("warnings")
        self.warning_table.setModel(self.warning_model)
        self.warning_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.warning_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.warning_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.warning_table.setWordWrap(False)
        self.warning_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.warning_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # 指标 takes the room the other columns (sized to their contents) leave; long names are elided
        # (whole in the tooltip), so 时序进度 and the columns after it are never cut at 1366×768.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.warning_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.warning_table.verticalHeader().setVisible(False)
        self._fit_warning_columns()
        self.warning_table.clicked.connect(self._warning_clicked)
        enable_copy(self.warning_table)
        self.warning_table.activated.connect(self._warning_clicked)
        self.warning_title = QLabel()
        self.warning_title.setObjectName("warningTitle")
        warn_box = QWidget()
        wl = QVBoxLayout(warn_box)
        wl.setContentsMargins(0, 0, 0, 0)
        wl.addWidget(self.warning_title)
        wl.addWidget(self.warning_table, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.completion_panel)
        split.addWidget(warn_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([720, 600])
        split.setChildrenCollapsible(False)
        self.completion_panel.setMinimumWidth(CHART_MIN_WIDTH)
        self.warning_split = split
        self._split_moved = False
        split.splitterMoved.connect(self._user_moved_split)

        # -- tab 2: progress over time ------------------------------------------------------------
        self.curve_chart = ProgressCurveChart()
        self.curve_panel = ChartPanel(self.curve_chart, self.export_chart)

        # -- tab 3: the ledgers' breakdowns -------------------------------------------------------
        self.breakdown_charts: dict[str, StackedBarChart] = {}
        grid_box = QWidget()
        grid = QGridLayout(grid_box)
        grid.setContentsMargins(0, 0, 0, 0)
        for n, sp in enumerate(breakdowns()):
            chart = StackedBarChart(sp.title)
            chart.setMinimumHeight(260)
            self.breakdown_charts[sp.key] = chart
            grid.addWidget(ChartPanel(chart, self.export_chart), n // 2, n % 2)

        # -- tab 4: air quality -------------------------------------------------------------------
        self.pm25_chart = MonthBarChart()
        self.days_chart = MonthBarChart()
        air_box = QWidget()
        al = QHBoxLayout(air_box)
        al.setContentsMargins(0, 0, 0, 0)
        al.addWidget(ChartPanel(self.pm25_chart, self.export_chart), 3)
        al.addWidget(ChartPanel(self.days_chart, self.export_chart), 2)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("dashboardTabs")
        self.tabs.addTab(split, "完成情况与预警")
        self.tabs.addTab(self.curve_panel, "累计进度")
        self.tabs.addTab(grid_box, "台账构成")
        self.tabs.addTab(air_box, "空气质量")

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

        self.as_of_edit.dateChanged.connect(lambda _d: self.refresh())
        self.indicator_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.unit_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        self.refresh()

    # -- state -------------------------------------------------------------------------------------
    @property
    def as_of(self) -> dt.date:
        return self.as_of_edit.date().toPython()

    def set_as_of(self, day: dt.date) -> None:
        self.as_of_edit.setDate(_qdate(day))

    @property
    def indicator(self) -> str:
        return self.indicator_combo.currentData()

    def set_indicator(self, key: str) -> None:
        index = self.indicator_combo.findData(key)
        if index < 0:
            raise KeyError(key)
        self.indicator_combo.setCurrentIndex(index)

    @property
    def unit_code(self) -> str:
        """The picked unit's code, or CITY_CODE for the city."""
        return self.unit_combo.currentData()

    def set_unit(self, code: str) -> None:
        self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(code)))

    @staticmethod
    def shows_changes(changes: Changes) -> bool:
        return changes.progress()

    def apply_changes(self, _changes: Changes | None = None) -> None:
        """The data moved: redraw now if on screen, else when shown."""
        self._version += 1
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()

    def reload(self) -> None:
        self._version += 1
        self.refresh()

    # -- drawing -----------------------------------------------------------------------------------
    def progress_rows(self) -> list[ProgressRow]:
        """The progress table at the as-of date, computed once per date and data version."""
        key = (self.as_of, self._version)
        if self._progress is None or self._progress_key != key:
            self._progress = compute_progress(self.ctx.db, self.as_of)
            self._progress_key = key
        return self._progress

    def air_rows(self) -> list[ProgressRow]:
        """The warning rows beside the indicators': the counties' air quality of the period
        (services.progress.air_warnings) and overdue 问题清单 items (services.problems.problem_warnings)."""
        key = (self.as_of, self._version)
        if getattr(self, "_air_key", None) != key:
            self._air_rows = (air_warnings(self.ctx.db, self.as_of, self.ref)
                              + problem_warnings(self.ctx.db, self.as_of, self.ref))
            self._air_key = key
        return self._air_rows

    def _tab_key(self, tab: int) -> tuple:
        if tab == TAB_COMPLETION:
            return (self.as_of, self._version, self.indicator)
        if tab == TAB_HISTORY:
            return (self.as_of, self._version, self.indicator, self.unit_code)
        return (self.as_of, self._version, self.unit_code)

    # -- the warning table's share ------------------------------------------------------------------
    def warning_columns_width(self) -> int:
        """The width the warning table needs to show every column whole (指标 at its narrowest)."""
        header = self.warning_table.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(self.warning_model.columnCount()) if c != 1)
        name = self.warning_table.fontMetrics().horizontalAdvance("国三及以下营运柴") + 12
        return others + name + self.warning_table.verticalScrollBar().sizeHint().width() + 2 * self.warning_table.frameWidth()

    def _fit_warning_columns(self) -> None:
        """Every column but 指标 as wide as its widest text (header included); then the splitter gives the
        table what it needs, the chart keeping at least CHART_MIN_WIDTH (unless the user moved it)."""
        m = self.warning_model
        header = self.warning_table.horizontalHeader()
        text_fm, head_fm = self.warning_table.fontMetrics(), header.fontMetrics()
        bold_fm = QFontMetrics(m._bold)
        for col in range(m.columnCount()):
            if col == 1:
                continue
            fm = bold_fm if col == 2 else text_fm
            widest = max((fm.horizontalAdvance(m.text(r, col)) for r in m.rows[:2000]), default=0)
            header.resizeSection(col, max(head_fm.horizontalAdvance(m.HEADERS[col]) + 16, widest + 10))
        QTimer.singleShot(0, self, self._share_split)  # dropped if the page is gone

    def _user_moved_split(self, *_args: object) -> None:
        self._split_moved = True

    def _share_split(self) -> None:
        split = self.warning_split
        total = sum(split.sizes())
        if self._split_moved or total <= 0:
            return
        table = min(max(self.warning_columns_width(), total // 2), max(total - CHART_MIN_WIDTH, total // 2))
        split.setSizes([total - table, table])

    def refresh(self, *, force: bool = False) -> None:
        """Redraw the visible tab if what it shows changed (and the summary line)."""
        tab = self.tabs.currentIndex()
        key = self._tab_key(tab)
        if not force and self._drawn.get(tab) == key:
            return
        with user_errors(self, "无法读取进度") as outcome:
            if tab == TAB_COMPLETION:
                self.draw_completion()
            elif tab == TAB_HISTORY:
                self.draw_history()
            elif tab == TAB_BREAKDOWN:
                self.draw_breakdowns()
            else:
                self.draw_air()
        if outcome.failed:
            return
        self._drawn[tab] = key

    def draw_completion(self) -> None:
        rows = self.progress_rows()
        ind = self.ref.indicator(self.indicator)
        picked = [r for r in rows if r.indicator == ind.key]
        city = next((r for r in picked if r.is_city), None)
        target = format_number(city.target, missing="未设定") if city is not None else "未设定"
        if ind.measure == "rate":
            op = "≤" if ind.compare == "le" else "≥"
            county = unit_rate_target(ind)
            goal = f"全市目标 {op}{target}{ind.unit}" + (
                f"，县级 {op}{format_number(county)}{ind.unit}" if county is not None and county != ind.target else "")
        else:
            goal = f"全市目标 {target} {ind.unit}"
        self.completion_chart.set_title(f"{ind.name}：各县（区、市）完成率", f"{goal}；截至 {self.as_of}")
        self.completion_chart.set_rows(status_bars(picked))
        self.completion_rows = sorted(picked, key=lambda r: (not r.is_city,))
        warnings = sort_warnings([r for r in rows + self.air_rows() if not r.is_city], self.ref)
        self.warning_model.set_rows(warnings)
        self._fit_warning_columns()
        air = sum(1 for r in warnings if r.kind == "air_quality")
        overdue = sum(1 for r in warnings if r.status == "overdue")
        not_met = sum(1 for r in warnings if r.status == "not_met" and r.kind != "air_quality")
        behind = len(warnings) - air - overdue - not_met
        units = len({r.unit_code for r in warnings})
        parts = f"空气质量 {air} 项，逾期 {overdue} 项，未达标 {not_met} 项，滞后 {behind} 项"
        self.warning_title.setText(f"预警：{parts}（空气质量在前，再按严重程度；单击打开台账或月度数据）")
        self.summary.setText(
            f"截至 {self.as_of}：{len(self.ref.units)} 个县（区、市）中 {units} 个有预警——{parts}。"
        )

    def draw_history(self) -> None:
        ind = self.ref.indicator(self.indicator)
        code = self.unit_code
        unit = None if code == CITY_CODE else code
        name = self.unit_combo.currentText()
        days = weekly_days(self.origin, self.as_of)
        points = progress_history(self.ctx.db, ind.key, days, unit=unit)
        chart = self.curve_chart
        last = points[-1]
        if ind.measure == "rate":
            target = last.target
            op = "≤" if ind.compare == "le" else "≥"
            chart.set_points(
                [p.day for p in points], [p.done for p in points], None, origin=self.origin,
                value_label=f"{ind.name}（{ind.unit}）", value_name="当月数值",
                end_text=f"{format_number(last.done)}{ind.unit}",
                target=(target, f"目标 {op}{format_number(target)}{ind.unit}") if target is not None else None,
            )
            chart.set_title(f"{name}：{ind.name}", f"每周；截至 {self.as_of}")
        elif last.target:
            values = [(p.completion or 0.0) * 100 for p in points]
            chart.set_points(
                [p.day for p in points], values, [p.schedule * 100 for p in points], origin=self.origin,
                value_label="完成率（%）", value_name="完成率",
                end_text=f"{values[-1]:.1f}%（时序进度 {last.schedule * 100:.1f}%）",
                target=(100.0, "目标 100%"),
            )
            chart.set_title(f"{name}：{ind.name} 累计完成率与时序进度",
                            f"每周；目标 {format_number(last.target)} {ind.unit}；截至 {self.as_of}")
        else:
            chart.set_points(
                [p.day for p in points], [p.done for p in points], None, origin=self.origin,
                value_label=f"累计完成（{ind.unit}）", value_name="累计完成",
                end_text=f"{format_number(last.done)} {ind.unit}（未分解目标）",
            )
            chart.set_title(f"{name}：{ind.name} 累计完成", f"未分解目标；每周；截至 {self.as_of}")

    def draw_breakdowns(self) -> None:
        code = self.unit_code
        unit = None if code == CITY_CODE else code
        name = self.unit_combo.currentText()
        key = (code, self._version)
        if self._breakdown_key != key:  # grouped once per unit and data version; a new date needs no query
            self._breakdown_data = breakdown_data(self.ctx.db, unit_code=unit)
            self._breakdown_key = key
        for data in self._breakdown_data:
            b = data.at(self.as_of)
            chart = self.breakdown_charts[b.key]
            when = "" if b.after is None else f"；截至 {self.as_of}"
            chart.set_title(b.title, f"{name}{when}；共 {b.total:,} 条")
            chart.set_data(b.categories, b.stacks, b.counts)
            chart.plot.getAxis("left").setLabel("")

    def air_area(self) -> tuple[str, str]:
        code = self.unit_code
        if code == CITY_CODE:
            return air.CITY_AREA, air.CITY_AREA
        return code, self.unit_combo.currentText()

    def draw_air(self) -> None:
        area, name = self.air_area()
        last = month_of(self.as_of)
        months = [m for m in window_months() if m <= last] or window_months()[:1]
        stored = {v.month: v for v in air.air_quality(self.ctx.db, area=area)}
        targets = [t for t in air.air_quality_targets(self.ctx.db) if t.area == area]

        def limit(month: str, field: str) -> float | None:
            for t in targets:
                if t.first_month <= month <= t.last_month:
                    return getattr(t, field)
            return None

        pm = [stored[m].pm25 if m in stored else None for m in months]
        days = [stored[m].heavy_days if m in stored else None for m in months]
        note = "" if targets else "；未设定目标"
        self.pm25_chart.set_title(f"{name} PM2.5 月均浓度", f"截至 {self.as_of}{note}")
        self.pm25_chart.set_data(months, pm, [limit(m, "pm25_max") for m in months], unit="微克/立方米")
        self.days_chart.set_title(f"{name} 重污染天数", f"截至 {self.as_of}{note}")
        self.days_chart.set_data(months, [None if d is None else float(d) for d in days],
                                 [None if (v := limit(m, "heavy_days_max")) is None else float(v) for m in months],
                                 unit="天")

    # -- navigation --------------------------------------------------------------------------------
    def _bar_clicked(self, row: int) -> None:
        rows = getattr(self, "completion_rows", [])
        if 0 <= row < len(rows):
            r = rows[row]
            self.open_unit(r.indicator, r.unit_code)

    def _warning_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            r = self.warning_model.rows[index.row()]
            self.open_unit(r.indicator, r.unit_code)

    def open_unit(self, indicator: str, unit_code: str) -> None:
        """Open the indicator's ledger (or 月度数据) filtered to the unit (the city: unfiltered)."""
        if indicator.startswith("air."):
            indicator = next(i.key for i in self.ref.indicators if i.source == "monthly")
            air = True
        else:
            air = False
        code = None if unit_code == CITY_CODE else unit_code
        if indicator == PROBLEMS_WARNING:  # overdue 问题清单 items: the ledger itself
            ind, target = None, PROBLEMS.key
        else:
            ind = self.ref.indicator(indicator)
            target = ind.ledger if ind.source == "ledger" and ind.ledger else "figures"
        self.openRequested.emit(target, code or "")
        window = self.window()
        show_page = getattr(window, "show_page", None)
        if show_page is None:
            return
        try:
            page = show_page(target)
        except KeyError:
            log.warning("no page %s to open", target)
            return
        if target == "figures":
            if air and hasattr(page, "tabs") and hasattr(page, "air"):
                page.tabs.setCurrentWidget(page.air)
                return
            show = getattr(page, "show_indicator", None)
            if show is not None and ind is not None and ind.source == "monthly":
                show(ind.key, unit_code=code)
        else:
            page.apply_filter(unit_code=code)

    # -- export ------------------------------------------------------------------------------------
    def export_chart(self, chart: ChartWidget, path: str | Path | None = None) -> Path | None:
        """Save a chart as PNG (asks for the file name unless `path` is given)."""
        name = f"{_safe_name(chart.title) or '图表'}_{self.as_of}.png"
        start = Path(str(self.ctx.settings().value("dashboard/export_dir", "") or Path.home())) / name
        path = save_file_path(self, "导出图片", start, "PNG 图片 (*.png)", ".png", path)
        if path is None:
            return None
        try:
            chart.export_png(path, scale=2.0)
        except OSError as exc:
            QMessageBox.warning(self, "导出失败", f"无法写入图片文件“{path}”：{exc.strerror or exc}")
            return None
        if not path.exists():
            QMessageBox.warning(self, "导出失败", f"无法写入图片文件“{path}”，请检查文件夹是否可写。")
            return None
        settings = self.ctx.settings()
        settings.setValue("dashboard/export_dir", str(path.parent))
        settings.sync()
        return path


def _safe_name(text: str) -> str:
    keep = "".join(ch for ch in text if ch not in '\\/:*?"<>|')
    return keep.replace(" ", "")[:60]


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def make_page(ctx: GuiContext) -> DashboardPage:
    return DashboardPage(ctx)
