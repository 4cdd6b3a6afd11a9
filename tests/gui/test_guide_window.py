"""帮助 → 使用说明: the guide window (contents, search, links) and F1 on each page of the main window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtWidgets import QApplication

from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.guide_window import PAGE_SECTIONS, GuideWindow, chapter_html
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.services.actor import BUILTIN_ADMIN

SHOTS = Path("/tmp/shots/guide")


@pytest.fixture
def ctx(qapp, db) -> GuiContext:
    qtsetup.make_application()
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture
def window(qtbot, ctx) -> MainWindow:
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def guide_of(window: MainWindow) -> GuideWindow:
    found = window.findChild(GuideWindow, "guideWindow")
    assert found is not None
    return found


def test_the_help_menu_opens_the_guide_at_its_start(qtbot, window):
    action = next(a for a in window.menuBar().actions() if a.text() == "帮助(&H)")
    entries = [a.text() for a in action.menu().actions() if a.text()]
    assert entries[:2] == ["使用说明(&U)", "本页说明(&P)"]
    next(a for a in action.menu().actions() if a.text() == "使用说明(&U)").trigger()
    guide = guide_of(window)
    assert guide.isVisible() and guide.current_anchor == "start"
    assert guide.windowTitle().startswith("使用说明")
    assert "首次使用向导" in guide.browser.toPlainText()
    tops = [guide.tree.topLevelItem(i).text(0) for i in range(guide.tree.topLevelItemCount())]
    assert tops[0] == "开始使用" and "常见问题" in tops and "台账" in tops


@pytest.mark.slow
@pytest.mark.parametrize("page", ["trucks", "figures", "packages", "settings", "submission", "dashboard"])
def test_f1_opens_the_section_of_the_page_on_screen(qtbot, window, page):
    window.show_page(page)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    guide = guide_of(window)
    assert guide.isVisible()
    anchor = PAGE_SECTIONS[page]
    assert guide.current_anchor == anchor
    section = guide.guide.section(anchor)
    assert guide.tree.currentItem().text(0) == section.title
    assert section.title in guide.browser.toPlainText()
    # the section's heading is at the top of the text (or the text is scrolled to its end)
    bar = guide.browser.verticalScrollBar()
    first_visible = guide.browser.cursorForPosition(QPoint(20, 20)).block().text()
    assert first_visible == section.title or bar.value() == bar.maximum()


def test_f1_twice_reuses_the_one_window(qtbot, window):
    window.show_page("heating")
    window.open_guide(for_page=True)
    first = guide_of(window)
    window.show_page("audit")
    window.open_guide(for_page=True)
    assert guide_of(window) is first and first.current_anchor == "audit"
    assert len(window.findChildren(GuideWindow)) == 1


def test_search_finds_a_term_filters_the_contents_and_marks_it(qtbot, window):
    guide = window.open_guide()
    guide.search.setText("校验位")
    anchors = guide.apply_search()
    assert "checkdigits" in anchors and "trucks" in anchors
    visible = set(guide.visible_anchors())
    assert "checkdigits" in visible and "backup" not in visible and "restore" not in visible
    assert guide.result_label.text().startswith("找到 ")
    assert guide.marked_count() > 0
    item = guide._items["checkdigits"]  # noqa: SLF001
    guide.tree.setCurrentItem(item)
    assert guide.current_anchor == "checkdigits"
    assert "校验位" in guide.browser.textCursor().selectedText()
    # a term that is nowhere
    guide.search.setText("量子计算机")
    assert guide.apply_search() == []
    assert "没有找到" in guide.result_label.text() and guide.marked_count() == 0
    # clearing shows everything again
    guide.search.clear()
    guide.apply_search()
    assert set(guide.visible_anchors()) == set(guide._items)  # noqa: SLF001


def test_search_is_typed_and_applied_after_a_pause(qtbot, window):
    guide = window.open_guide()
    guide.search.setFocus()
    guide.search.insert("公钥指纹")  # as typed (QTest cannot type Chinese)
    qtbot.waitUntil(lambda: guide.result_label.text().startswith("找到"), timeout=3000)
    assert guide.guide.chapter_of(guide.current_anchor).anchor in ("packages", "start", "faq")


def test_links_inside_the_guide_open_their_section(qtbot, window):
    guide = window.open_guide()
    guide.browser.anchorClicked.emit(QUrl("#restore"))
    assert guide.current_anchor == "restore" and "从备份恢复" in guide.browser.toPlainText()


def test_every_chapter_renders_with_its_images(qtbot, window):
    guide = window.open_guide()
    for chapter in guide.guide.chapters:
        text = chapter_html(chapter)
        assert chapter.title in text
        guide.show_section(chapter.anchor)
        assert guide.current_chapter == chapter.anchor
    images = [i for i in guide.guide.images()]
    assert images and all(i.path.is_file() for i in images)


def test_screenshot_of_the_guide_window_at_1366x768(qtbot, window):
    guide = window.open_guide()
    guide.resize(1366, 768)
    guide.search.setText("身份证号")
    guide.apply_search()
    guide.show_section("checkdigits")
    QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    guide.grab().save(str(SHOTS / "guide_window_1366x768.png"))
    assert guide.width() == 1366
    guide.close()
    assert not guide.isVisible()
