"""What the windows share: the open database, the acting user, and the settings file."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Signal

from jzair_desktop import paths
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database


class DataSignals(QObject):
    """What operations changed (services.changes.Changes) and the widget that made the change, announced by
    gui.tasks.publish only; the main window refreshes the pages that show it."""

    changed = Signal(object, object)  # (Changes, source widget or None)


@dataclass
class GuiContext:
    db: Database
    actor: Actor
    signals: DataSignals

    @staticmethod
    def settings() -> QSettings:
        return QSettings(str(paths.data_dir() / "gui.ini"), QSettings.Format.IniFormat)
