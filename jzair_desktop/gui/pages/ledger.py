"""Ledger pages (replaced by the full table and form)."""

from __future__ import annotations

from jzair_desktop.domain.ledgers import ledger
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.pages.placeholder import PlaceholderPage


def make_ledger_page(ctx: GuiContext, key: str) -> PlaceholderPage:
    d = ledger(key)
    return PlaceholderPage(d.sheet_title, "台账录入与查询功能尚在开发中，当前版本暂不可用。")
