"""月报 (filled by the monthly report feature)."""

from __future__ import annotations

from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.pages.placeholder import PlaceholderPage


def make_page(ctx: GuiContext) -> PlaceholderPage:
    return PlaceholderPage("月报", "月报生成功能尚在开发中，当前版本暂不可用。")
