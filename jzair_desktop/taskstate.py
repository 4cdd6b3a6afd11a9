"""Progress and cancellation handed to long jobs (plain Python, usable from any layer and thread)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it; the job's transaction rolls back."""


class TaskState:
    """Progress reporting and cancellation for one job.

    `progress()` is throttled (at most ~20 updates a second) so a tight loop can call it freely.
    """

    def __init__(self, listener: Callable[[int, int, str], None] | None = None) -> None:
        self._cancel = threading.Event()
        self._listener = listener
        self._last = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("已取消")

    def progress(self, done: int, total: int, text: str = "", *, force: bool = False) -> None:
        self.check_cancelled()
        if self._listener is None:
            return
        t = time.monotonic()
        if force or done >= total or t - self._last >= 0.05:
            self._last = t
            self._listener(done, total, text)


NULL_STATE = TaskState()
