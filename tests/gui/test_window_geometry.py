"""The main window's size: the first start fits the screen, a remembered place off every screen comes back."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QRect

from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.main_window import TITLE_BAR, MainWindow, first_geometry, fit_onto_screens
from jzair_desktop.services.actor import BUILTIN_ADMIN

LAPTOP = QRect(0, 0, 1366, 728)  # 1366×768 less a 40 px task bar
BIG = QRect(1366, 0, 2560, 1400)  # a monitor right of it


def test_first_start_is_maximised_on_screens_narrower_than_1600():
    rect, maximised = first_geometry(LAPTOP)
    assert maximised
    assert LAPTOP.contains(rect.adjusted(0, -TITLE_BAR, 0, 0))


def test_first_start_on_a_wide_screen_is_a_centred_window_that_fits():
    rect, maximised = first_geometry(QRect(0, 0, 1920, 1040))
    assert not maximised and rect.width() == 1440 and rect.height() == 900
    assert QRect(0, 0, 1920, 1040).contains(rect.adjusted(0, -TITLE_BAR, 0, 0))
    low, _ = first_geometry(QRect(0, 0, 2560, 700))  # wide but low: the height shrinks
    assert QRect(0, 0, 2560, 700).contains(low.adjusted(0, -TITLE_BAR, 0, 0))


def test_a_window_on_a_screen_stays_where_it_is():
    assert fit_onto_screens(QRect(100, 100, 1000, 600), [LAPTOP]) is None
    assert fit_onto_screens(QRect(1500, 200, 1800, 1000), [LAPTOP, BIG]) is None


def test_a_window_left_on_an_unplugged_monitor_comes_back():
    remembered = QRect(1500, 200, 1800, 1000)  # on BIG, which is gone
    fixed = fit_onto_screens(remembered, [LAPTOP])
    assert fixed is not None
    assert LAPTOP.contains(fixed.adjusted(0, -TITLE_BAR, 0, 0))
    assert fixed.width() <= LAPTOP.width() and fixed.height() <= LAPTOP.height() - TITLE_BAR


@pytest.mark.parametrize("rect", [
    QRect(-900, 100, 1000, 600),  # mostly off the left edge
    QRect(300, -500, 1000, 600),  # title bar above the screen
    QRect(200, 600, 1000, 600),  # hanging below the task bar
    QRect(0, 0, 3000, 2000),  # larger than the screen
])
def test_partly_off_screen_windows_are_moved_and_shrunk_onto_the_screen(rect):
    fixed = fit_onto_screens(rect, [LAPTOP])
    assert fixed is not None and LAPTOP.contains(fixed.adjusted(0, -TITLE_BAR, 0, 0))


@pytest.fixture
def ctx(qapp, db) -> GuiContext:
    qtsetup.make_application()
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


def test_the_first_start_of_the_real_window_is_maximised_on_the_small_screen(qtbot, ctx):
    w = MainWindow(ctx)  # offscreen Qt has one 800×600 screen
    qtbot.addWidget(w)
    w.show_fitted()
    qtbot.waitExposed(w)
    assert w.isMaximized()


def test_a_remembered_geometry_off_the_screen_is_moved_back(qtbot, ctx):
    first = MainWindow(ctx)
    qtbot.addWidget(first)
    first.setGeometry(QRect(40, 60, 600, 400))
    first.show()
    saved = first.saveGeometry()
    first.close()
    # The same geometry as saved on a monitor that is gone: its position moved 5000 px to the right.
    s = ctx.settings()
    s.setValue("main/geometry", QByteArray(saved))
    s.sync()
    second = MainWindow(ctx)
    qtbot.addWidget(second)
    second.setGeometry(QRect(5000, 60, 600, 400))  # what restoring the old geometry gave
    second._start_maximised = False  # noqa: SLF001 - a remembered window, not a first start
    second.show_fitted()
    screen = second.screen().availableGeometry()
    placed = second.geometry()
    assert screen.intersects(placed) and placed.left() >= screen.left() and placed.top() >= screen.top()
    if placed.width() <= screen.width():
        assert screen.contains(placed.adjusted(0, -TITLE_BAR, 0, 0))
