"""The message after a file is written (export, template, report): 打开文件, 打开所在文件夹, 关闭."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget


def open_path(path: Path | str) -> bool:
    """Open a file or folder with the program the system uses for it."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class SavedFileBox(QMessageBox):
    """An information box naming the written file, with buttons that open it or its folder (window-modal,
    not blocking: `open()`)."""

    def __init__(self, parent: QWidget | None, title: str, text: str, path: Path | str) -> None:
        super().__init__(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.NoButton, parent)
        self.path = Path(path)
        self.open_file = self.addButton("打开文件", QMessageBox.ButtonRole.ActionRole)
        self.open_folder = self.addButton("打开所在文件夹", QMessageBox.ButtonRole.ActionRole)
        self.close_button = self.addButton("关闭", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.close_button)
        self.setEscapeButton(self.close_button)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttonClicked.connect(self._clicked)

    def _clicked(self, button: QAbstractButton) -> None:
        if button is self.open_file:
            self._open(self.path)
        elif button is self.open_folder:
            self._open(self.path.parent)

    def _open(self, target: Path) -> None:
        if not open_path(target):
            QMessageBox.warning(self.parentWidget(), "无法打开", f"没有找到可以打开它的程序。位置：\n{target}")


_OPEN: set[SavedFileBox] = set()  # boxes without a parent are kept alive here until they close


def show_saved_file(parent: QWidget | None, title: str, text: str, path: Path | str) -> SavedFileBox:
    box = SavedFileBox(parent, title, text, path)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    _OPEN.add(box)
    box.finished.connect(lambda _result: _OPEN.discard(box))
    box.open()
    return box
