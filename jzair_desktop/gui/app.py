"""Composition root of the GUI: database → services → main window."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from jzair_desktop import APP_TITLE
from jzair_desktop.errors import JzairError
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.qtsetup import install_excepthook, make_application
from jzair_desktop.services.database import load_reference_data, open_database

if TYPE_CHECKING:
    from jzair_desktop.cli.context import CliContext
    from jzair_desktop.gui.main_window import MainWindow


def build_main_window(ctx: GuiContext) -> MainWindow:
    from jzair_desktop.gui.main_window import MainWindow

    return MainWindow(ctx)


def run_gui(cli: CliContext) -> int:
    app = make_application(sys.argv[:1])
    install_excepthook()
    try:
        db, _ = open_database(cli.url, create=True)
        load_reference_data(db)
    except JzairError as exc:
        QMessageBox.critical(None, f"{APP_TITLE} - 无法打开数据库", str(exc))
        return 2
    ctx = GuiContext(db=db, actor=cli.actor(), signals=DataSignals())
    window = build_main_window(ctx)
    window.show()
    code = app.exec()
    db.dispose()
    return code
