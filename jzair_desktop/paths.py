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


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private(path: Path) -> Path:
    """Make a folder (0700) or a file (0600) readable by the user alone. POSIX only: on Windows the data
    lives in the user's own profile folder (%LOCALAPPDATA%), private already, and chmod could only set the
    read-only flag. Never fails: a file system that keeps no modes (FAT on a USB stick) is left as it is."""
    if os.name != "posix":
        return path
    try:
        mode = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
        if path.exists() and (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except OSError:
        pass
    return path


def private_dir(path: Path) -> Path:
    """`path` made if missing and private (see make_private)."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return make_private(path)


def data_dir() -> Path:
    """The user's data folder (database, backups, settings, keys): private to the user."""
    override = os.environ.get("JZAIR_DATA_DIR")
    path = Path(override) if override else Path(_DIRS.user_data_dir)
    return private_dir(path)


def log_dir() -> Path:
    override = os.environ.get("JZAIR_DATA_DIR")
    path = Path(override) / "logs" if override else Path(_DIRS.user_log_dir)
    return private_dir(path)


def create_private_file(path: Path) -> None:
    """Create an empty file readable by the user alone (0600 from its first moment, not chmod-ed later)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(fd)
    make_private(path)  # a umask cannot widen it, but an inherited ACL might


def default_db_path() -> Path:
    return data_dir() / "jzair.sqlite3"
