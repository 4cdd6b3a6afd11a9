"""One way to run work off the GUI thread, with progress, cancel and errors.

Long jobs in the core take a `TaskState` (services/exchange code never imports Qt: TaskState is
plain Python) and call `state.progress(done, total, text)` and `state.check_cancelled()`.

    run_task(parent, "正在导入…", lambda state: import_file(..., state=state),
             on_success=lambda result: ..., on_error=None)

A modal QProgressDialog shows progress and has a 取消 button; cancel raises `Cancelled` inside the job
at its next check, so the job's transaction rolls back and nothing is written.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from jzair_desktop.errors import JzairError
from jzair_desktop.taskstate import Cancelled, TaskState

log = logging.getLogger(__name__)

__all__ = ["Cancelled", "TaskState", "run_task", "show_error"]


class _Signals(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object, str)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[TaskState], Any], state: TaskState) -> None:
        super().__init__()
        self.fn = fn
        self.state = state
        self.signals = _Signals()
        self.setAutoDelete(False)

    def run(self) -> None:  # runs on a pool thread
        try:
            result = self.fn(self.state)
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            self.signals.failed.emit(exc, traceback.format_exc())
            return
        self.signals.finished.emit(result)


_running: set[_Job] = set()


def show_error(parent: QWidget | None, exc: BaseException, title: str = "操作未完成") -> None:
    if isinstance(exc, JzairError):
        QMessageBox.warning(parent, title, str(exc))
    else:
        QMessageBox.critical(parent, title, f"发生了意外错误：{type(exc).__name__}: {exc}\n详细信息已写入日志。")


def run_task(
    parent: QWidget | None,
    label: str,
    fn: Callable[[TaskState], Any],
    *,
    on_success: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
    show_progress: bool = True,
) -> _Job:
    """Run `fn(state)` on the thread pool; callbacks run on the GUI thread."""
    state = TaskState()
    job = _Job(fn, state)
    dialog: QProgressDialog | None = None
    if show_progress:
        dialog = QProgressDialog(label, "取消", 0, 0, parent)
        dialog.setWindowTitle("请稍候")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(state.cancel)
        job.signals.progress.connect(
            lambda done, total, text: (
                dialog.setMaximum(max(total, 0)),
                dialog.setValue(min(done, total) if total > 0 else 0),
                dialog.setLabelText(text or label),
            )
        )
    state._listener = lambda done, total, text: job.signals.progress.emit(done, total, text)  # noqa: SLF001

    def finish() -> None:
        _running.discard(job)
        if dialog is not None:
            dialog.close()
            dialog.deleteLater()

    def succeeded(result: Any) -> None:
        finish()
        if on_success is not None:
            on_success(result)

    def failed(exc: BaseException, trace: str) -> None:
        finish()
        if isinstance(exc, Cancelled):
            if on_cancel is not None:
                on_cancel()
            return
        if not isinstance(exc, JzairError):
            log.error("background task failed: %s", trace)
        if on_error is not None:
            on_error(exc)
        else:
            show_error(parent, exc)

    job.signals.finished.connect(succeeded, Qt.ConnectionType.QueuedConnection)
    job.signals.failed.connect(failed, Qt.ConnectionType.QueuedConnection)
    _running.add(job)
    QThreadPool.globalInstance().start(job)
    return job
