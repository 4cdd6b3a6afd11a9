"""计划指标: a read-only table of the plan indicators as loaded into the database."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.reference import reference
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.services import info as info_service

HEADERS = ("指标", "单位", "市级目标", "时限", "方案条目", "牵头部门", "数据来源", "说明")
SOURCES = {"ledger": "按台账统计", "monthly": "各县按月填报"}
TARGET_COLUMN = 2


def chinese_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def note(i: info_service.PlanIndicatorView) -> str:
    """What the target columns cannot say: county and annual targets, how rates are judged."""
    sign = "≥" if i.compare == "ge" else "≤"
    parts = []
    if i.county_target is not None:
        parts.append(f"县级目标{sign}{number(i.county_target)}")
    if i.annual_target is not None:
        parts.append(f"全年目标{sign}{number(i.annual_target)}")
    if i.measure == "rate":
        parts.append("按当月数值考核")
    if i.target is None:
        parts.append("目标为全部排查出的数量")
    return "；".join(parts)


class PlanPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        layout = QVBoxLayout(self)
        plan = reference().plan
        title = QLabel("计划指标")
        title.setObjectName("pageTitle")
        sub = QLabel(
            f"依据《{plan.title}》（{plan.document_no}）。时序进度自 {chinese_date(plan.window_start)} 起算；"
            f"未注明时限的指标至 {chinese_date(plan.campaign_end)} 完成。各县（区、市）目标由市办分解。"
        )
        sub.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        layout.addWidget(title)
        layout.addWidget(sub)
        layout.addWidget(self.table)
        self.refresh()

    def refresh(self) -> None:
        items = info_service.plan_indicators(self.ctx.db)
        self.table.setRowCount(len(items))
        for r, i in enumerate(items):
            values = (i.name, i.unit, i.target_text, i.due, i.plan_item, i.department,
                      SOURCES.get(i.source, i.source), note(i))
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == TARGET_COLUMN:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(f"{i.name}（指标代码 {i.key}）")
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
