"""The main window's pages, in navigation order: one page per registered ledger, then the others.

Each factory takes the GuiContext and imports its page module when first called (startup stays quick).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtWidgets import QWidget

from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.gui.context import GuiContext

LEDGER_SECTION = "台账"


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    section: str
    factory: Callable[[GuiContext], QWidget]

    def create(self, ctx: GuiContext) -> QWidget:
        return self.factory(ctx)


def _ledger_page(key: str, ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages.ledger import make_ledger_page

    return make_ledger_page(ctx, key)


def _dashboard(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import dashboard

    return dashboard.make_page(ctx)


def _report(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import report

    return report.make_page(ctx)


def _targets(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import targets

    return targets.make_page(ctx)


def _figures(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import figures

    return figures.make_page(ctx)


def _submission(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import submission

    return submission.make_page(ctx)


def _packages(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import packages

    return packages.make_page(ctx)


def _audit(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import audit

    return audit.make_page(ctx)


def _users(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages import users

    return users.make_page(ctx)


def _plan(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages.plan import PlanPage

    return PlanPage(ctx)


def _settings(ctx: GuiContext) -> QWidget:
    from jzair_desktop.gui.pages.settings import SettingsPage

    return SettingsPage(ctx)


OTHER_PAGES: tuple[PageSpec, ...] = (
    PageSpec("dashboard", "进度看板", "进度与报告", _dashboard),
    PageSpec("report", "月报", "进度与报告", _report),
    PageSpec("targets", "任务分解", "目标与数据", _targets),
    PageSpec("figures", "月度数据", "目标与数据", _figures),
    PageSpec("submission", "月度上报", "管理", _submission),
    PageSpec("packages", "数据报送", "管理", _packages),
    PageSpec("audit", "审计日志", "管理", _audit),
    PageSpec("users", "用户管理", "管理", _users),
    PageSpec("plan", "计划指标", "基础", _plan),
    PageSpec("settings", "设置", "基础", _settings),
)


def ledger_pages() -> tuple[PageSpec, ...]:
    """One page per registered ledger, titled by its definition."""
    return tuple(PageSpec(d.key, d.title, LEDGER_SECTION, partial(_ledger_page, d.key)) for d in LEDGERS.values())


def all_pages() -> tuple[PageSpec, ...]:
    return (*ledger_pages(), *OTHER_PAGES)


PAGES: tuple[PageSpec, ...] = all_pages()  # the pages of the built-in ledgers' window
