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
from jzair_desktop.gui.widgets.clipboard import enable_copy
from jzair_desktop.services import info as info_service

HEADERS = ("指标", "类型", "单位", "市级目标", "时限", "方案条目", "牵头单位", "涉及单位", "数据来源", "说明")
SOURCES = {"ledger": "按台账统计", "monthly": "按月填报", "milestone": "记录完成日期和依据"}
KINDS = {"cumulative": "累计（时序进度）", "limit": "限值（逐月达标）", "milestone": "节点（按时完成）"}
TARGET_COLUMN = 3
SCOPE_COLUMN = 7


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
    if i.kind == "limit":
        parts.append("每月对照限值评价，不设时序进度容差")
    if i.target is None and i.kind == "cumulative":
        parts.append("目标为全部排查出的数量")
    if i.subject:
        parts.append(f"责任企业：{i.subject}")
    if i.scope == ():
        parts.append("市级数，由市大气办填报，不分解")
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
        enable_copy(self.table)
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
            values = (i.name, KINDS.get(i.kind, i.kind), i.unit, i.target_text, i.due, i.plan_item,
                      "、".join(i.departments), i.scope_text, SOURCES.get(i.source, i.source), note(i))
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == TARGET_COLUMN:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(f"{i.name}（指标代码 {i.key}）")
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # 涉及单位 can name ten units: a fixed width, wrapped; 说明 takes what is left
        self.table.setWordWrap(True)
        header.setSectionResizeMode(SCOPE_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(SCOPE_COLUMN, self.fontMetrics().horizontalAdvance("榆次区、晋中开发区、太谷区") + 16)
        header.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
