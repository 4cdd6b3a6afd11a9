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
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from jzair_desktop.errors import JzairError
from jzair_desktop.taskstate import Cancelled, TaskState

log = logging.getLogger(__name__)

__all__ = ["Cancelled", "TaskState", "confirm_running_jobs", "run_task", "running_jobs", "show_error",
           "wait_for_jobs"]


class _Signals(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object, str)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[TaskState], Any], state: TaskState, label: str = "") -> None:
        super().__init__()
        self.fn = fn
        self.state = state
        self.label = label
        self.quiet = False  # a job without a progress dialog (a preview being drawn): stopped without asking
        self.signals = _Signals()
        self.setAutoDelete(False)

    @property
    def what(self) -> str:
        """The job in words for messages: 正在导出… → 导出."""
        return self.label.removeprefix("正在").rstrip("…. ") or "后台任务"

    def run(self) -> None:  # runs on a pool thread
        try:
            result = self.fn(self.state)
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            self._emit(self.signals.failed, exc, traceback.format_exc())
            return
        self._emit(self.signals.finished, result)

    def _emit(self, signal: Any, *args: Any) -> None:
        """Deliver the outcome; if the window that waited for it is gone (the program is closing), say so in
        the log instead of raising "Signal source has been deleted" on the pool thread."""
        try:
            signal.emit(*args)
        except RuntimeError as exc:
            log.warning("background task %r ended after its window was closed: %s", self.label, exc)


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
    on_progress: Callable[[int, int, str], None] | None = None,
    show_progress: bool = True,
) -> _Job:
    """Run `fn(state)` on the thread pool; callbacks run on the GUI thread. `on_progress` is connected
    before the job starts, so no progress report made at once by the job is lost."""
    state = TaskState()
    job = _Job(fn, state, label)
    job.quiet = not show_progress
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
    if on_progress is not None:
        job.signals.progress.connect(on_progress)
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
            elif not job.quiet:  # a cancelled job says so
                QMessageBox.information(parent, "已取消", f"已取消{job.what}，没有保存任何结果。")
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


# --------------------------------------------------------------------------- closing while jobs run
def running_jobs() -> list[_Job]:
    return list(_running)


def wait_for_jobs(timeout_s: float | None = None) -> bool:
    """Let the GUI run until every job has delivered its outcome (callbacks included); False on timeout."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    loop = QEventLoop()
    while _running:
        if deadline is not None and time.monotonic() > deadline:
            return False
        QTimer.singleShot(30, loop.quit)
        loop.exec()
    return True


def ask_running(parent: QWidget | None, jobs: list[_Job], action: str) -> str:
    """'wait', 'cancel' or 'stay': what to do with running jobs before `action`."""
    names = "、".join(dict.fromkeys(j.what for j in jobs))
    box = QMessageBox(QMessageBox.Icon.Question, "有任务正在进行",
                      f"“{names}”还没有完成。\n\n等待完成后再{action}，还是取消该任务（已进行的部分不会保存）？",
                      parent=parent)
    box.setObjectName("runningJobsQuestion")
    wait = box.addButton("等待完成", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("取消任务", QMessageBox.ButtonRole.DestructiveRole)
    stay = box.addButton("返回", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(wait)
    box.setEscapeButton(stay)
    box.exec()
    clicked = box.clickedButton()
    return "wait" if clicked is wait else ("cancel" if clicked is cancel else "stay")


# Tests replace this to answer without showing the question.
ASK_RUNNING: Callable[[QWidget | None, list, str], str] = ask_running


def confirm_running_jobs(parent: QWidget | None, action: str = "关闭程序") -> bool:
    """Before closing: when an export, a report or another job runs, ask whether to wait for it or cancel it.
    Waiting lets it finish (its result is shown as usual); cancelling stops it at its next check, and the job
    says it was cancelled. True when the action may go on."""
    jobs = [j for j in running_jobs() if not j.quiet]
    if jobs:
        answer = ASK_RUNNING(parent, jobs, action)
        if answer == "stay":
            return False
        if answer == "cancel":
            for job in jobs:
                job.state.cancel()
    for job in running_jobs():
        if job.quiet:  # a preview being drawn is of no use once the window goes
            job.state.cancel()
    wait_for_jobs()
    return True
