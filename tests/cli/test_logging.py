"""The log: a rotating file in the user's log folder, and a crash log for hard crashes in native code."""

from __future__ import annotations

import os
import subprocess
import sys

CRASH = """
from jzair_desktop.log import setup_logging
import logging
print(setup_logging())
logging.getLogger("probe").warning("启动 probe-93be")
import ctypes
ctypes.string_at(0)  # a segmentation fault, as a crash inside Qt would be
"""


def test_log_file_and_crash_log_in_the_log_folder(tmp_path):
    env = dict(os.environ, JZAIR_DATA_DIR=str(tmp_path), PYTHONIOENCODING="utf-8")  # read back as UTF-8 on any code page
    proc = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True, encoding="utf-8",
                          env=env, timeout=120)
    assert proc.returncode != 0
    logs = tmp_path / "logs"
    assert proc.stdout.strip() == str(logs / "jzair.log")
    assert "WARNING probe: 启动 probe-93be" in (logs / "jzair.log").read_text(encoding="utf-8")
    crash = (logs / "crash.log").read_text(encoding="utf-8")
    # faulthandler's own words for the crash: POSIX names the signal, Windows the exception
    assert ("Windows fatal exception: access violation" if sys.platform == "win32" else "Segmentation fault") in crash
    assert "string_at" in crash and 'File "<string>", line 7' in crash
