"""jzair_desktop: offline ledgers and progress tracking for Jinzhong's 2020-2021 air-pollution action plan."""

from pathlib import Path

# The one place the version is written: the VERSION file beside this module (pyproject.toml reads it too, and the
# frozen build carries it as a data file, so an installer test can make "the next version" from a copy of a build).
__version__ = (Path(__file__).with_name("VERSION")).read_text(encoding="ascii").strip()
APP_TITLE = "晋中市秋冬季大气污染综合治理攻坚台账"
