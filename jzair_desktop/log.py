"""Logging to a rotating file in the user's log folder."""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import sys
from pathlib import Path

from jzair_desktop import paths

_configured = False


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send log records to jzair.log (rotating, 1 MB × 5). Returns the file, or None if it cannot be opened."""
    global _configured
    if _configured:
        return None
    _configured = True
    root = logging.getLogger()
    root.setLevel(level)
    try:
        file = paths.log_dir() / "jzair.log"
        handler = logging.handlers.RotatingFileHandler(file, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None
    paths.make_private(file)  # log lines name users and files
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if getattr(sys, "frozen", False) and sys.stderr is None:
        # A windowed frozen build has no console: keep Python's own messages in the log.
        sys.stderr = open(file, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    _enable_crash_log(file.parent / "crash.log")
    return file


def _enable_crash_log(path: Path) -> None:
    """A hard crash (in Qt or another native library) leaves the Python stack of every thread in crash.log
    instead of a silent exit. Not when something else (pytest, -X faulthandler) already set it up."""
    if faulthandler.is_enabled():
        return
    try:
        stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - must stay open for the whole process
    except OSError:
        return
    paths.make_private(path)
    faulthandler.enable(stream, all_threads=True)
