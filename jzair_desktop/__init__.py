"""jzair_desktop: offline ledgers and progress tracking for Jinzhong's 2020-2021 air-pollution action plan."""

__version__ = "0.1.0"
APP_NAME = "jzair_desktop"
APP_TITLE = "晋中市秋冬季大气污染综合治理攻坚台账"
