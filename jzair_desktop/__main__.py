"""Entry point for `python -m jzair_desktop`, the `jzair` script and the frozen application."""

from __future__ import annotations

import sys

RUNNING_MUTEX = "jzair_desktop.running"
_running_handle = None


def mark_running() -> None:
    """On Windows, hold a named mutex for as long as the program runs: the installer and uninstaller check it
    and refuse to replace the program's files under a running copy (installer/jzair.nsi)."""
    global _running_handle
    if sys.platform != "win32" or _running_handle is not None:
        return
    try:
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.CreateMutexW.restype = ctypes.c_void_p
        kernel32.CreateMutexW.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_wchar_p]
        _running_handle = kernel32.CreateMutexW(None, 0, RUNNING_MUTEX)  # closed by Windows at exit
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    from jzair_desktop.cli import main as cli_main

    if getattr(sys, "frozen", False):
        mark_running()
    return cli_main(argv)


if __name__ == "__main__":
    import multiprocessing

    # The frozen program is also the executable of its own child processes (the workbook reader of
    # exchange/spreadsheet.py, started with "spawn"): in such a child this runs the child's work and exits.
    multiprocessing.freeze_support()
    sys.exit(main())
