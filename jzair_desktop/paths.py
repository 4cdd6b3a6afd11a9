"""Where things live: bundled resources, migrations, and the user's data and log folders.

Works from a source checkout, an installed package and a PyInstaller one-folder build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs(appname="jzair_desktop", appauthor=False, roaming=False)


def bundle_root() -> Path:
    """The folder that holds `resources/` and `db/` (the checkout, or the frozen bundle)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    return bundle_root() / "resources"


def migrations_dir() -> Path:
    return bundle_root() / "db"


def font_path() -> Path:
    return resources_dir() / "fonts" / "wqy-microhei.ttc"


def reference_file() -> Path:
    return resources_dir() / "reference" / "plan.toml"


def data_dir() -> Path:
    override = os.environ.get("JZAIR_DATA_DIR")
    path = Path(override) if override else Path(_DIRS.user_data_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    override = os.environ.get("JZAIR_DATA_DIR")
    path = Path(override) / "logs" if override else Path(_DIRS.user_log_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "jzair.sqlite3"
