"""计划指标: a read-only table of the plan indicators as loaded into the database."""

from __future__ import annotations

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

HEADERS = ("指标", "单位", "市级目标", "时限", "方案条目", "牵头部门", "数据来源", "指标代码")
SOURCES = {"ledger": "台账统计", "monthly": "按月填报"}


class PlanPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        layout = QVBoxLayout(self)
        plan = reference().plan
        title = QLabel("计划指标")
        title.setObjectName("pageTitle")
        sub = QLabel(f"{plan.title}（{plan.document_no}）")
        sub.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(title)
        layout.addWidget(sub)
        layout.addWidget(self.table)
        self.refresh()

    def refresh(self) -> None:
        items = info_service.plan_indicators(self.ctx.db)
        self.table.setRowCount(len(items))
        for r, i in enumerate(items):
            values = (i.name, i.unit, i.target_text, i.due, i.plan_item, i.department, SOURCES.get(i.source, i.source), i.key)
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
