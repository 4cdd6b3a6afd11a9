"""A margin against a reference-count bug of PySide6 6.12.0 on Python 3.11 (tests and benchmarks only).

Measured here: with PySide6 6.12.0 on CPython 3.11, every call of a method that returns nothing
(`setVisible`, `repaint`, `processEvents`, a painter call inside a paint() written in Python …)
drops one reference to None, and some calls drop references to True/False. On 3.11 these objects
are mortal, so after some ten thousand such calls the interpreter aborts ("none_dealloc: deallocating
None"). pyqtgraph charts make hundreds of these calls per repaint, so a test module that redraws the
dashboard many times reaches the limit. PySide6 6.11.3 does not leak (same Python), and Python 3.12
makes None/True/False immortal. Until the pinned version changes, `apply()` adds a large margin to
these three counts, only for that exact combination, so that test runs do not abort half-way.
"""

from __future__ import annotations

import ctypes
import sys

_MARGIN = 1 << 40
_applied = False


def affected() -> bool:
    import PySide6

    return sys.version_info < (3, 12) and PySide6.__version__ == "6.12.0"


def apply() -> bool:
    """Add the margin once; True when the affected combination was found."""
    global _applied
    if not affected():
        return False
    if not _applied:
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += _MARGIN
        _applied = True
    return True
