"""Showing what other programs changed: when the application becomes active again (the user comes back
from another window, e.g. after a `jzair import` in a console), the pages refresh if the database files
changed meanwhile (gui.tasks.publish of EVERYTHING; every page that shows data refreshes).

Whether the files changed is judged by the size and modification time of the database file and its
``-wal`` file, so switching windows without any change costs nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QGuiApplication

from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import publish
from jzair_desktop.services.changes import EVERYTHING

log = logging.getLogger(__name__)

Signature = tuple[tuple[int, int] | None, ...]


def files_signature(db_file: Path | None) -> Signature:
    """(size, mtime) of the database file and its -wal file (None for one that does not exist)."""
    if db_file is None:
        return ()
    out = []
    for path in (db_file, db_file.with_name(db_file.name + "-wal")):
        try:
            st = path.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


class FocusRefresher(QObject):
    """Publishes EVERYTHING as changed when the application is activated and the files changed."""

    def __init__(self, app: QGuiApplication, ctx: GuiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("focusRefresher")
        self.ctx = ctx
        self.paused = False  # set while a restore replaces the database
        self._seen = files_signature(ctx.db.path)
        app.applicationStateChanged.connect(self._on_state)

    def _on_state(self, state: Qt.ApplicationState) -> None:
        if state != Qt.ApplicationState.ApplicationActive or self.paused:
            return
        # Compared with the last activation: our own writes since then cost one needless refresh at most.
        signature = files_signature(self.ctx.db.path)
        if signature == self._seen:
            return
        self._seen = signature
        log.info("database files changed while the window was inactive: refreshing the pages")
        publish(self.ctx, EVERYTHING)

    def mark_seen(self) -> None:
        """The pages show the database as it is now (after a rebuild)."""
        self._seen = files_signature(self.ctx.db.path)
