"""Seeing other clerks' changes on a shared server: every few seconds while the window is active (and when it
becomes active again) a background task reads the audit trail's change counter (services.change_watch); when
someone else wrote, the pages showing it refresh, and a ledger page says 数据已被他人修改，已刷新.

The window's own writes are published by the operations themselves; entries of the window's own account made
while it wrote are not announced again as someone else's.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication

from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import publish, run_task
from jzair_desktop.services import change_watch
from jzair_desktop.services.changes import Changes

log = logging.getLogger(__name__)

POLL_MS = 10_000
OTHERS_CHANGED = "数据已被他人修改，已刷新。"


class ServerChangeWatcher(QObject):
    def __init__(self, app: QGuiApplication, ctx: GuiContext, parent: QObject | None = None, *,
                 interval_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.setObjectName("serverChangeWatcher")
        self.ctx = ctx
        self.mark: int | None = None
        self._own_write = False
        self._job = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)
        ctx.signals.changed.connect(self._on_changed)
        app.applicationStateChanged.connect(self._on_state)
        self.poll()
        self.timer.start()

    def _on_changed(self, _changes: Changes, source: object) -> None:
        if source is not self:
            self._own_write = True

    def _on_state(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            self.poll()
            self.timer.start()
        else:
            self.timer.stop()  # nobody looks: no need to ask the server

    def poll(self) -> bool:
        """Ask the server (off the GUI thread) whether someone wrote since the last look. False: not asked
        (the previous question is still out)."""
        if self._job is not None and not self._job.ended:
            return False
        db, mark = self.ctx.db, self.mark
        own = self.ctx.actor.name if self._own_write else None
        self._own_write = False
        if mark is None:
            work = lambda _state: (change_watch.change_mark(db), Changes())  # noqa: E731
        else:
            work = lambda _state: change_watch.changes_since(db, mark, own_user=own)  # noqa: E731
        self._job = run_task(None, "正在检查数据变化…", work, show_progress=False,
                             on_success=self._answered, on_error=self._unanswered)
        return True

    def _answered(self, result: tuple[int, Changes]) -> None:
        newest, changes = result
        self.mark = newest
        if changes:
            log.info("others changed the database: %s", changes)
            publish(self.ctx, changes, self)

    def _unanswered(self, exc: BaseException) -> None:
        # A lost connection shows itself at the next operation (with 重试); here it only waits for the next look.
        log.warning("could not look for others' changes: %s", exc)
