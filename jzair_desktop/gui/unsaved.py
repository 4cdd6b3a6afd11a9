"""Unsaved edits: the one small interface pages with pending edits offer, and the one question asked before
they are lost (closing the window, switching page, later switching user).

A page (or any widget) takes part by having three methods:

    has_unsaved_changes() -> bool   # pending edits, an open cell editor's text included
    save_changes() -> bool          # save them all; False when refused (the page then shows why)
    discard_changes() -> None       # drop them

and optionally `unsaved_summary() -> str` naming what is pending ("有 3 处修改尚未保存").
`confirm_unsaved(parent, pages, action)` asks 保存 / 不保存 / 取消 for each page that has edits, as the
record form does, and says whether the action may go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from PySide6.QtWidgets import QMessageBox, QWidget


@runtime_checkable
class HasUnsavedChanges(Protocol):
    def has_unsaved_changes(self) -> bool: ...

    def save_changes(self) -> bool: ...

    def discard_changes(self) -> None: ...


def pages_with_changes(pages: Iterable[QWidget]) -> list[QWidget]:
    return [p for p in pages if isinstance(p, HasUnsavedChanges) and p.has_unsaved_changes()]


def ask_save(parent: QWidget | None, title: str, text: str) -> QMessageBox.StandardButton:
    """保存 / 不保存 / 取消 (Esc = 取消), the record form's question."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setObjectName("unsavedQuestion")
    save = box.addButton("保存", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("不保存", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(save)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is save:
        return QMessageBox.StandardButton.Save
    if clicked is discard:
        return QMessageBox.StandardButton.Discard
    return QMessageBox.StandardButton.Cancel


# Tests replace this to answer the question without showing it.
ASK: Callable[[QWidget | None, str, str], QMessageBox.StandardButton] = ask_save


def confirm_unsaved(
    parent: QWidget | None, pages: Iterable[QWidget], action: str, *, show: Callable[[QWidget], None] | None = None,
) -> bool:
    """Ask about each page with unsaved edits before `action` (“关闭程序”, “切换页面”…): 保存 saves them
    (a refused save stops the action and shows the page with its problems), 不保存 drops them, 取消 stops
    the action. True when the action may go on."""
    for page in pages_with_changes(pages):
        title = page.property("pageTitle") or page.windowTitle() or "本页"
        summary = getattr(page, "unsaved_summary", lambda: "有修改尚未保存")()
        answer = ASK(parent, "有未保存的修改", f"“{title}”{summary}。\n\n{action}前是否保存这些修改？")
        if answer == QMessageBox.StandardButton.Cancel:
            if show is not None:
                show(page)
            return False
        if answer == QMessageBox.StandardButton.Save:
            if not page.save_changes():
                if show is not None:
                    show(page)
                return False
        else:
            page.discard_changes()
    return True
