"""进度看板 (filled by the progress feature)."""

from __future__ import annotations

from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.pages.placeholder import PlaceholderPage


def make_page(ctx: GuiContext) -> PlaceholderPage:
    return PlaceholderPage("进度看板", "进度看板尚在开发中，当前版本暂不可用。")
