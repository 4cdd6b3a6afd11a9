"""The core (everything but jzair_desktop.gui) imports and runs without Qt: PySide6 and pyqtgraph are blocked in a
fresh interpreter, every module is imported (found with pkgutil, so new modules are covered), and a database is
made and read through the services."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import pkgutil
    import sys
    import tempfile
    from pathlib import Path

    BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2")


    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked: the core must not import Qt")
            return None


    sys.meta_path.insert(0, Block())

    import jzair_desktop

    imported, failed = [], []
    for info in pkgutil.walk_packages(jzair_desktop.__path__, "jzair_desktop."):
        if info.name == "jzair_desktop.gui" or info.name.startswith("jzair_desktop.gui."):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
        else:
            imported.append(info.name)
    assert not failed, "modules that do not import without Qt: " + " | ".join(failed)

    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded

    from jzair_desktop.cli import main

    db = Path(tempfile.mkdtemp()) / "无界面.sqlite3"
    assert main(["--db", str(db), "init"]) == 0
    assert main(["--db", str(db), "info", "--json"]) == 0
    print("IMPORTED", len(imported), " ".join(imported))
    """
)


@pytest.mark.slow
def test_core_modules_import_and_run_without_qt(tmp_path):
    env = dict(os.environ, JZAIR_DATA_DIR=str(tmp_path), PYTHONIOENCODING="utf-8")  # read back as UTF-8 on any code page
    env.pop("JZAIR_DB", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, encoding="utf-8", env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("IMPORTED"))
    modules = set(line.split()[2:])
    for expected in (
        "jzair_desktop.paths",
        "jzair_desktop.selftest",
        "jzair_desktop.domain.reference",
        "jzair_desktop.domain.ledgers",
        "jzair_desktop.storage.models",
        "jzair_desktop.storage.migrate",
        "jzair_desktop.services.database",
        "jzair_desktop.services.info",
        "jzair_desktop.cli.basic",
    ):
        assert expected in modules
    assert not any(m.startswith("jzair_desktop.gui") for m in modules)
    # Every command module of the CLI is among them.
    from jzair_desktop.cli import COMMAND_MODULES

    assert set(COMMAND_MODULES) <= modules
