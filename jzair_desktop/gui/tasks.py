"""The one way GUI code runs a service operation: off the GUI thread, with progress, cancel, errors and changes.

Long jobs in the core take a `TaskState` (services/exchange code never imports Qt: TaskState is
plain Python) and call `state.progress(done, total, text)` and `state.check_cancelled()`.

    run_task(parent, "正在导入…", lambda state: import_file(..., state=state), ctx=ctx,
             on_success=lambda result: ..., error_title="导入失败")

A modal progress dialog shows progress and, for a job that can stop half-way (`cancellable`), a 取消 button;
cancel raises `Cancelled` inside the job at its next check, so the job's transaction rolls back and nothing is
written. A job that cannot stop (a restore, a backup check) shows no 取消 and cannot be closed.

What an operation changed (`services.changes.Changes`, returned by the job or carried in its result's
`changes`) is published once through `publish`, the only place that announces changes; the main window
refreshes the pages that show them. User errors (`JzairError`) are shown by `show_user_error` under a title;
`with user_errors(parent, "删除失败"):` is its twin for short writes on the GUI thread.

A job that failed because the database server was out of reach or busy (`RETRYABLE`; its transaction rolled
back, nothing was written) is offered again: the user is asked 重试 or 取消 (`ask_retry`), and 重试 runs the
same job once more under the same progress window; 取消 ends it like a cancelled job.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from jzair_desktop.errors import JzairError, ServerBusy, ServerUnavailable
from jzair_desktop.services.changes import Changes, changes_of
from jzair_desktop.taskstate import Cancelled, TaskState

if TYPE_CHECKING:
    from jzair_desktop.gui.context import GuiContext

log = logging.getLogger(__name__)

__all__ = ["RETRYABLE", "Cancelled", "Changes", "TaskState", "ask_retry", "confirm_running_jobs", "publish",
           "run_task", "running_jobs", "show_user_error", "user_errors", "wait_for_jobs"]

# A database server's failures after which nothing was written and the same operation may work a moment later
# (a local file's busy lock is reported as before: the other program is named, no retry loop).
RETRYABLE = (ServerUnavailable, ServerBusy)


class _Signals(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object, str)


class _Job(QRunnable):
    """The handle of a running job: its `state` (cancel), whether it has `ended`, `wait()` for its end."""

    def __init__(self, fn: Callable[[TaskState], Any], state: TaskState, label: str = "", *,
                 signals: _Signals | None = None, cancellable: bool = True) -> None:
        super().__init__()
        self.fn = fn
        self.state = state
        self.label = label
        self.cancellable = cancellable
        self.quiet = False  # a job without a progress dialog (a preview being drawn): stopped without asking
        self.signals = signals or _Signals()
        self._ended = threading.Event()
        self.setAutoDelete(False)

    @property
    def ended(self) -> bool:
        """True once the job's function has returned or raised (its callbacks may still be on their way)."""
        return self._ended.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has ended (any thread); False on timeout."""
        return self._ended.wait(timeout_s)

    @property
    def what(self) -> str:
        """The job in words for messages: 正在导出… → 导出."""
        return self.label.removeprefix("正在").rstrip("…. ") or "后台任务"

    def restart(self) -> None:
        """Run the same function again (after a failure the user chose to retry)."""
        self._ended.clear()
        QThreadPool.globalInstance().start(self)

    def run(self) -> None:  # runs on a pool thread
        try:
            result = self.fn(self.state)
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            self._ended.set()
            self._emit(self.signals.failed, exc, traceback.format_exc())
            return
        self._ended.set()
        self._emit(self.signals.finished, result)

    def _emit(self, signal: Any, *args: Any) -> None:
        """Deliver the outcome; if the window that waited for it is gone (the program is closing), say so in
        the log instead of raising "Signal source has been deleted" on the pool thread."""
        try:
            signal.emit(*args)
        except RuntimeError as exc:
            log.warning("background task %r ended after its window was closed: %s", self.label, exc)


_running: set[_Job] = set()


Task = _Job  # the handle run_task returns


# --------------------------------------------------------------------------------------------------- errors
def show_user_error(parent: QWidget | None, exc: BaseException, title: str = "操作未完成", *,
                    note: str = "", critical: bool = False) -> None:
    """The one way an error reaches the user: a JzairError's Chinese message under `title` (with `note`
    after it; `critical`: the program cannot go on), anything else as an unexpected error whose details
    are in the log."""
    if isinstance(exc, JzairError):
        (QMessageBox.critical if critical else QMessageBox.warning)(parent, title, f"{exc}{note}")
    else:
        QMessageBox.critical(parent, title, f"发生了意外错误：{type(exc).__name__}: {exc}\n详细信息已写入日志。")


class user_errors:  # noqa: N801 - used as a context manager, like contextlib's
    """`with user_errors(self, "删除失败") as outcome:` around a short write on the GUI thread: a JzairError
    is shown by show_user_error and stops there (`outcome.failed`, `outcome.error`); any other exception
    goes on to the program's exception hook (logged, shown in Chinese), never swallowed."""

    def __init__(self, parent: QWidget | None, title: str, *, note: str = "", critical: bool = False) -> None:
        self.parent = parent
        self.title = title
        self.note = note
        self.critical = critical
        self.error: JzairError | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def __enter__(self) -> user_errors:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if not isinstance(exc, JzairError):
            return False
        self.error = exc
        show_user_error(self.parent, exc, self.title, note=self.note, critical=self.critical)
        return True


def retry_box(parent: QWidget | None, title: str, exc: BaseException) -> QMessageBox:
    """The question after a retryable failure: its message, then 重试 (default) and 取消 (Esc)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, f"{exc}\n\n是否重试？", parent=parent)
    box.setObjectName("retryQuestion")
    retry = box.addButton("重试", QMessageBox.ButtonRole.AcceptRole)
    retry.setObjectName("retryButton")
    cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(retry)
    box.setEscapeButton(cancel)
    return box


def ask_retry(parent: QWidget | None, title: str, exc: BaseException) -> bool:
    """Ask whether to try a failed operation again. True: 重试."""
    box = retry_box(parent, title, exc)
    box.exec()
    return box.clickedButton() is box.defaultButton()


# Tests replace this to answer without showing the question.
ASK_RETRY: Callable[[QWidget | None, str, BaseException], bool] = ask_retry


# --------------------------------------------------------------------------------------------------- changes
def publish(ctx: GuiContext, changes: Changes, source: object = None) -> None:
    """Announce what an operation changed (the only place that does); the main window refreshes the pages
    that show it. `source`: the widget that made the change and has refreshed itself already."""
    if changes:
        ctx.signals.changed.emit(changes, source)


# --------------------------------------------------------------------------------------------------- progress
class _ProgressDialog(QProgressDialog):
    """The modal progress window; without 取消 (a job that cannot stop half-way) it cannot be closed either."""

    NOTE = "此操作不能中途停止，请等待完成。"

    def __init__(self, label: str, parent: QWidget | None, *, cancellable: bool) -> None:
        super().__init__("", "取消" if cancellable else "", 0, 0, parent)
        self.setObjectName("taskProgress")
        self.setMinimumWidth(380)
        self.cancellable = cancellable
        if not cancellable:
            self.setCancelButton(None)
            self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        self.show_text(label)

    def show_text(self, text: str) -> None:
        """The job's words; under them, for a job that cannot stop, why there is no 取消."""
        self.setLabelText(text if self.cancellable else f"{text}\n\n{self.NOTE}")

    def reject(self) -> None:  # Esc
        if self.cancellable:
            super().reject()

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802
        if self.cancellable or not self.isVisible():
            super().closeEvent(event)
        else:
            event.ignore()

    def finish(self) -> None:
        self.cancellable = True  # the job has ended: the window may go (Esc and closing allowed again)
        self.close()
        self.deleteLater()


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
    cancellable: bool = True,
    ctx: GuiContext | None = None,
    error_title: str = "操作未完成",
) -> _Job:
    """Run `fn(state)` on the thread pool; callbacks run on the GUI thread. `on_progress` is connected
    before the job starts, so no progress report made at once by the job is lost.

    What the job's result says it changed is published (to `ctx`, with `parent` as the source) before
    `on_success` runs. Without `on_error`, an error is shown under `error_title`. `cancellable=False`:
    the job cannot stop half-way, so its progress window has no 取消."""
    signals = _Signals()
    state = TaskState(lambda done, total, text: signals.progress.emit(done, total, text))
    job = _Job(fn, state, label, signals=signals, cancellable=cancellable)
    job.quiet = not show_progress
    dialog: _ProgressDialog | None = None
    if show_progress:
        dialog = _ProgressDialog(label, parent, cancellable=cancellable)
        dialog.setWindowTitle("请稍候")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if cancellable:
            dialog.canceled.connect(state.cancel)
        job.signals.progress.connect(
            lambda done, total, text: (
                dialog.setMaximum(max(total, 0)),
                dialog.setValue(min(done, total) if total > 0 else 0),
                dialog.show_text(text or label),
            )
        )
    if on_progress is not None:
        job.signals.progress.connect(on_progress)

    def finish() -> None:
        _running.discard(job)
        if dialog is not None:
            dialog.finish()

    def succeeded(result: Any) -> None:
        finish()
        changes = changes_of(result)
        if changes:
            if ctx is None:
                log.error("background task %r changed %s but has no context to announce it to", label, changes)
            else:
                publish(ctx, changes, parent)
        if on_success is not None:
            on_success(result)

    def failed(exc: BaseException, trace: str) -> None:
        if isinstance(exc, RETRYABLE) and not job.quiet and not state.cancelled:
            log.warning("background task %r failed, the user is asked to retry: %s", label, exc)
            if ASK_RETRY(dialog if dialog is not None and dialog.isVisible() else parent, error_title, exc):
                job.restart()
                return
            exc = Cancelled()  # declined: ends as a cancelled job (nothing was written)
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
            show_user_error(parent, exc, error_title)

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
    can_stop = any(j.cancellable for j in jobs)
    question = (f"等待完成后再{action}，还是取消该任务（已进行的部分不会保存）？" if can_stop
                else f"该任务不能中途停止，请等待完成后再{action}。")
    box = QMessageBox(QMessageBox.Icon.Question, "有任务正在进行", f"“{names}”还没有完成。\n\n{question}",
                      parent=parent)
    box.setObjectName("runningJobsQuestion")
    wait = box.addButton("等待完成", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("取消任务", QMessageBox.ButtonRole.DestructiveRole) if can_stop else None
    stay = box.addButton("返回", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(wait)
    box.setEscapeButton(stay)
    box.exec()
    clicked = box.clickedButton()
    return "wait" if clicked is wait else ("cancel" if cancel is not None and clicked is cancel else "stay")


# Tests replace this to answer without showing the question.
ASK_RUNNING: Callable[[QWidget | None, list, str], str] = ask_running


def confirm_running_jobs(parent: QWidget | None, action: str = "关闭程序") -> bool:
    """Before closing: when an export, a report or another job runs, ask whether to wait for it or cancel it.
    Waiting lets it finish (its result is shown as usual); cancelling stops it at its next check, and the job
    says it was cancelled. A job that cannot stop half-way is waited for. True when the action may go on."""
    jobs = [j for j in running_jobs() if not j.quiet]
    if jobs:
        answer = ASK_RUNNING(parent, jobs, action)
        if answer == "stay":
            return False
        if answer == "cancel":
            for job in jobs:
                if job.cancellable:
                    job.state.cancel()
    for job in running_jobs():
        if job.quiet:  # a preview being drawn is of no use once the window goes
            job.state.cancel()
    wait_for_jobs()
    return True
