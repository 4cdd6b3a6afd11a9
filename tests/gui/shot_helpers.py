"""Screenshots of windows under test, with the app's bundled CJK font (so the Chinese can be checked by eye)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from jzair_desktop.gui import qtsetup

SHOTS = Path("/tmp/shots/input")
_font: list[str | None] = []


def use_app_font() -> None:
    """The bundled font as the application font, as the app sets it at start (call before making widgets)."""
    if not _font:
        _font.append(qtsetup.register_font(QApplication.instance()))


def shoot(widget: QWidget, name: str) -> Path:
    """Save `widget` as SHOTS/name.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path
