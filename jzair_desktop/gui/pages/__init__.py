"""The main window's pages, in navigation order. Each factory takes the GuiContext."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from jzair_desktop.gui.context import GuiContext


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    section: str
    target: str  # "module:callable" returning the page widget for (ctx)
    arg: str | None = None  # extra argument (the ledger key of a ledger page)

    def create(self, ctx: GuiContext) -> QWidget:
        module, _, name = self.target.partition(":")
        factory: Callable[..., QWidget] = getattr(importlib.import_module(module), name)
        return factory(ctx, self.arg) if self.arg is not None else factory(ctx)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("heating", "清洁取暖", "台账", "jzair_desktop.gui.pages.ledger:make_ledger_page", "heating"),
    PageSpec("trucks", "柴油货车", "台账", "jzair_desktop.gui.pages.ledger:make_ledger_page", "trucks"),
    PageSpec("boilers", "锅炉综合整治", "台账", "jzair_desktop.gui.pages.ledger:make_ledger_page", "boilers"),
    PageSpec("kilns", "工业炉窑", "台账", "jzair_desktop.gui.pages.ledger:make_ledger_page", "kilns"),
    PageSpec("vocs", "VOCs治理", "台账", "jzair_desktop.gui.pages.ledger:make_ledger_page", "vocs"),
    PageSpec("dashboard", "进度看板", "进度与报告", "jzair_desktop.gui.pages.dashboard:make_page"),
    PageSpec("report", "月报", "进度与报告", "jzair_desktop.gui.pages.report:make_page"),
    PageSpec("targets", "任务分解", "目标与数据", "jzair_desktop.gui.pages.targets:make_page"),
    PageSpec("figures", "月度数据", "目标与数据", "jzair_desktop.gui.pages.figures:make_page"),
    PageSpec("submission", "月度上报", "管理", "jzair_desktop.gui.pages.submission:make_page"),
    PageSpec("packages", "数据报送", "管理", "jzair_desktop.gui.pages.packages:make_page"),
    PageSpec("audit", "审计日志", "管理", "jzair_desktop.gui.pages.audit:make_page"),
    PageSpec("users", "用户管理", "管理", "jzair_desktop.gui.pages.users:make_page"),
    PageSpec("plan", "计划指标", "基础", "jzair_desktop.gui.pages.plan:PlanPage"),
    PageSpec("settings", "设置", "基础", "jzair_desktop.gui.pages.settings:SettingsPage"),
)
