"""月度上报: submit a unit's month (freezes its progress figures, locks its records dated in the month or
earlier), see each unit's state for a month, unlock with a reason (city_admin), and the frozen figures
and history of every version."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.months import default_month, plan_months
from jzair_desktop.domain.reference import reference
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import publish, user_errors
from jzair_desktop.gui.widgets.clipboard import enable_copy
from jzair_desktop.gui.widgets.common import list_table
from jzair_desktop.services import submission
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.submission import SUBMITTED, UNLOCKED, MonthStatus, SubmissionInfo

HEADERS = ("县（区、市）", "状态", "版本", "上报时间", "上报人", "解锁时间", "解锁人", "解锁原因")
COLOURS = {SUBMITTED: "#2e7d32", UNLOCKED: "#b26a00", None: "#777777"}
FIGURE_HEADERS = ("指标", "单位", "目标", "累计完成", "本月完成", "完成率", "时序进度", "状态")
STATUS_TEXT = {"done": "已完成", "on_track": "按进度", "behind": "滞后", "overdue": "逾期", "no_target": "未分解",
               "met": "达标", "not_met": "未达标", "no_data": "未报送", "pending": "未到期"}


def _num(value: float | None, percent: bool = False) -> str:
    if value is None:
        return ""
    if percent:
        return f"{value * 100:.1f}%"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


class FiguresDialog(QDialog):
    """The figures frozen by each version of a unit's submission of a month."""

    def __init__(self, versions: list[SubmissionInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        v = versions[-1]
        self.setWindowTitle(f"上报数字 - {v.unit_name} {v.month}")
        self.resize(900, 560)
        self.versions = versions
        self.version_combo = QComboBox()
        for info in versions:
            when = f"{info.submitted_at:%Y-%m-%d %H:%M}"
            self.version_combo.addItem(f"第 {info.version} 版（{info.status_label}，{info.submitted_by} {when} 上报）")
        self.version_combo.setCurrentIndex(len(versions) - 1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(FIGURE_HEADERS))
        self.table.setObjectName("figuresTable")
        enable_copy(self.table)
        self.table.setHorizontalHeaderLabels(FIGURE_HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("版本："))
        row.addWidget(self.version_combo, 1)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.version_combo.currentIndexChanged.connect(self.show_version)
        self.show_version(len(versions) - 1)

    def show_version(self, index: int) -> None:
        info = self.versions[index]
        figures = info.figures
        extra = f"；{info.unlocked_by} 于 {info.unlocked_at:%Y-%m-%d %H:%M} 解锁，原因：{info.unlock_reason}" \
            if info.unlocked_at else ""
        self.note.setText(f"截至 {figures.get('as_of', '')} 冻结的进度数字{extra}")
        rows = figures.get("indicators", [])
        self.table.setRowCount(len(rows))
        for r, f in enumerate(rows):
            values = (f.get("name", ""), f.get("unit", ""), _num(f.get("target")), _num(f.get("done")),
                      _num(f.get("month_increment")), _num(f.get("completion"), True), _num(f.get("schedule"), True),
                      self._status(f))
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if 2 <= c <= 6:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    @staticmethod
    def _status(f: dict) -> str:
        status = f.get("status", "")
        if status == "no_target" and f.get("target") is not None:
            return "无任务"  # a target of 0: nothing to do (as the progress engine labels it)
        return STATUS_TEXT.get(status, status)


class SubmissionPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.statuses: list[MonthStatus] = []
        title = QLabel("月度上报")
        title.setObjectName("pageTitle")
        sub = QLabel("上报冻结该县（区、市）截至月末的进度数字（月报读取冻结的数字），并锁定完成日期在该月及以前的记录："
                     "锁定后任何人都不能修改、删除或恢复这些记录，直到市级管理员填写原因解锁。解锁后可以更正并重新上报，"
                     "原来上报的数字保留在历史中。")
        sub.setWordWrap(True)

        self.month_combo = QComboBox()
        self.month_combo.setObjectName("monthCombo")
        for m in plan_months():
            self.month_combo.addItem(m, m)
        self.month_combo.setCurrentIndex(self.month_combo.findData(default_month()))
        self.unit_combo = QComboBox()
        self.unit_combo.setObjectName("unitCombo")
        for u in reference().units:
            self.unit_combo.addItem(u.name, u.code)
        actor = ctx.actor
        if actor.own_unit:
            self.unit_combo.setCurrentIndex(self.unit_combo.findData(actor.unit_code))
            self.unit_combo.setEnabled(False)
        self.submit_button = QPushButton("上报")
        self.submit_button.setObjectName("submitButton")
        self.submit_button.clicked.connect(lambda: self.submit())
        self.unlock_button = QPushButton("解锁…")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.clicked.connect(lambda: self.unlock())
        self.figures_button = QPushButton("查看上报数字与历史…")
        self.figures_button.clicked.connect(lambda: self.show_figures())

        bar = QHBoxLayout()
        bar.addWidget(QLabel("月份"))
        bar.addWidget(self.month_combo)
        bar.addSpacing(8)
        bar.addWidget(QLabel("县（区、市）"))
        bar.addWidget(self.unit_combo)
        bar.addWidget(self.submit_button)
        bar.addStretch(1)
        bar.addWidget(self.figures_button)
        bar.addWidget(self.unlock_button)

        self.table = list_table(HEADERS, "submissionTable")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.summary = QLabel()

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(sub)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self.month_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.unit_combo.currentIndexChanged.connect(lambda _i: self._select_unit())
        self.refresh()

    @property
    def month(self) -> str:
        return self.month_combo.currentData()

    @property
    def unit_code(self) -> str:
        return self.unit_combo.currentData()

    def refresh(self) -> None:
        self.statuses = submission.month_overview(self.ctx.db, self.month)
        t = self.table
        t.setRowCount(len(self.statuses))
        for r, st in enumerate(self.statuses):
            c = st.current
            values = (st.unit_name, st.status_label, str(c.version) if c else "",
                      f"{c.submitted_at:%Y-%m-%d %H:%M}" if c else "", c.submitted_by if c else "",
                      f"{c.unlocked_at:%Y-%m-%d %H:%M}" if c and c.unlocked_at else "",
                      (c.unlocked_by or "") if c else "", (c.unlock_reason or "") if c else "")
            for col, v in enumerate(values):
                item = QTableWidgetItem(v)
                if col == 1:
                    item.setForeground(QBrush(QColor(COLOURS[c.status if c else None])))
                t.setItem(r, col, item)
        t.resizeColumnsToContents()
        for c in range(len(HEADERS) - 1):
            t.setColumnWidth(c, t.columnWidth(c) + 16)
        t.horizontalHeader().setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        done = sum(1 for st in self.statuses if st.locked)
        self.summary.setText(f"{self.month}：{done} 个县（区、市）已上报，{len(self.statuses) - done} 个未上报或已解锁。")
        self._select_unit()

    def _select_unit(self) -> None:
        row = next((i for i, st in enumerate(self.statuses) if st.unit_code == self.unit_code), -1)
        if row >= 0:
            self.table.selectRow(row)
        self._update_buttons()

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.unit_combo.isEnabled():
            code = self.statuses[rows[0].row()].unit_code
            if code != self.unit_code:
                self.unit_combo.blockSignals(True)
                self.unit_combo.setCurrentIndex(self.unit_combo.findData(code))
                self.unit_combo.blockSignals(False)
        self._update_buttons()

    def current(self) -> MonthStatus | None:
        return next((st for st in self.statuses if st.unit_code == self.unit_code), None)

    def _update_buttons(self) -> None:
        actor = self.ctx.actor
        st = self.current()
        can_write = actor.can_write(self.unit_code)
        self.submit_button.setEnabled(can_write and st is not None and not st.locked)
        self.unlock_button.setEnabled(actor.is_city and st is not None and st.locked)
        self.unlock_button.setVisible(actor.is_city)
        self.figures_button.setEnabled(st is not None and st.current is not None)

    def submit(self, *, confirm: bool = True) -> SubmissionInfo | None:
        st = self.current()
        if st is None:
            return None
        if confirm and QMessageBox.question(
            self, "月度上报",
            f"上报 {st.unit_name} {self.month}？\n\n上报后将冻结截至月末的进度数字，完成日期在 {self.month} 及以前的记录"
            "将被锁定，不能再修改、删除或恢复（需市级管理员解锁）。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,  # locking data: Enter does not lock
        ) != QMessageBox.StandardButton.Yes:
            return None
        with user_errors(self, "无法上报") as outcome:
            info = submission.submit_month(self.ctx.db, st.unit_code, self.month, self.ctx.actor)
        if outcome.failed:
            return None
        publish(self.ctx, Changes.of(months=[self.month], units=[st.unit_code]), self)
        self.refresh()
        return info

    def unlock(self, reason: str | None = None) -> SubmissionInfo | None:
        st = self.current()
        if st is None:
            return None
        if reason is None:
            reason, ok = QInputDialog.getText(
                self, "解锁月份", f"解锁 {st.unit_name} {self.month}。请填写原因（将记入审计日志）：")
            if not ok:
                return None
        with user_errors(self, "无法解锁") as outcome:
            info = submission.unlock_month(self.ctx.db, st.unit_code, self.month, reason, self.ctx.actor)
        if outcome.failed:
            return None
        publish(self.ctx, Changes.of(months=[self.month], units=[st.unit_code]), self)
        self.refresh()
        return info

    def show_figures(self, *, show: bool = True) -> FiguresDialog | None:
        st = self.current()
        if st is None or st.current is None:
            return None
        versions = submission.submission_history(self.ctx.db, st.unit_code, self.month)
        dialog = FiguresDialog(versions, self)
        if show:
            dialog.exec()
        return dialog

    def showEvent(self, event) -> None:  # noqa: ANN001, N802
        self.refresh()
        super().showEvent(event)


def make_page(ctx: GuiContext) -> SubmissionPage:
    return SubmissionPage(ctx)
