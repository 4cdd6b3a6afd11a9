"""What the tests of the editable-grid pages (月度数据, 任务分解) share: dropping deleted widgets after
each test, recording message boxes instead of showing them, and opening a page on a real database."""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.services.actor import Actor


def delete_deferred_widgets() -> None:
    """Run the pending deleteLater()s and collect, so no page outlives its test."""
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def record_message_boxes(monkeypatch) -> list[tuple[str, str, str]]:
    """QMessageBox.warning / information / critical append (kind, title, text) to the list returned."""
    shown: list[tuple[str, str, str]] = []
    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, _k=kind, **kw: shown.append((_k, a[1], a[2])))
    return shown


def show_page(qtbot, make_page: Callable[[GuiContext], QWidget], db, actor: Actor) -> QWidget:
    """The page made for `actor` on `db`, shown at 1300×760 and exposed."""
    qtsetup.make_application()
    page = make_page(GuiContext(db=db, actor=actor, signals=DataSignals()))
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    qtbot.waitExposed(page)
    return page
