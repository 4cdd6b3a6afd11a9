"""File replacement that survives Windows' brief file locks.

Windows cannot rename over a file that another process has open (a PDF reader, Excel, a preview pane), and
virus scanners and the search indexer open new files for a moment right after they are written: `os.replace`
then fails with PermissionError (WinError 5 or 32). `replace_file` tries again for a short while before it
gives up, so a momentary lock does not fail an export; a file kept open by the user still fails, and the
caller says so in Chinese. Elsewhere it is plain `os.replace`.
"""

from __future__ import annotations

import os
import sys
import time

RETRY_SECONDS = 1.5


def replace_file(src: str | os.PathLike, dst: str | os.PathLike, *, wait: float | None = None) -> None:
    """`os.replace(src, dst)`, retried on PermissionError on Windows for up to `wait` seconds (1.5 s)."""
    deadline = time.monotonic() + (RETRY_SECONDS if wait is None else wait)
    delay = 0.05
    while True:
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if sys.platform != "win32" or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.4)

