"""The main window shell: navigation, pages, remembered layout, about text, Chinese-only menus, error dialogs."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from jzair_desktop import APP_TITLE, __version__
from jzair_desktop.errors import JzairError
from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.gui.pages import PAGES
from jzair_desktop.log import setup_logging
from jzair_desktop.services.actor import BUILTIN_ADMIN

SHOTS = Path("/tmp/shots")
KEYS = [spec.key for spec in PAGES]


@pytest.fixture
def ctx(qapp, db) -> GuiContext:
    qtsetup.make_application()  # the bundled font and the Chinese Qt translations, as the app has them
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture
def window(qtbot, ctx) -> MainWindow:
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def nav_entries(w: MainWindow) -> list[tuple[str, str | None]]:
    from PySide6.QtCore import Qt

    return [
        (w.nav.item(r).text(), w.nav.item(r).data(Qt.ItemDataRole.UserRole)) for r in range(w.nav.count())
    ]


def all_actions(w: MainWindow) -> list[QAction]:
    found: list[QAction] = []

    def walk(actions: list[QAction]) -> None:
        for a in actions:
            if a.isSeparator():
                continue
            found.append(a)
            if a.menu() is not None:
                walk(a.menu().actions())

    walk(w.menuBar().actions())
    return found


def test_navigation_lists_every_page_under_its_section(window):
    entries = nav_entries(window)
    pages = [(text, key) for text, key in entries if key is not None]
    headings = [text for text, key in entries if key is None]
    assert pages == [(spec.title, spec.key) for spec in PAGES]
    assert headings == list(dict.fromkeys(spec.section for spec in PAGES))
    assert [t for t, _ in pages[:5]] == ["清洁取暖", "柴油货车", "锅炉综合整治", "工业炉窑", "VOCs治理"]
    assert {"进度看板", "月报", "计划指标", "设置"} <= {t for t, _ in pages}


@pytest.mark.slow
@pytest.mark.parametrize("key", KEYS)
def test_every_nav_item_opens_its_page(window, key):
    spec = window.spec(key)
    window.nav.setCurrentRow(window._rows[key])
    page = window.stack.currentWidget()
    assert page is window.page(key)
    assert page.objectName() == f"page_{key}"
    assert window.current_key() == key
    assert window.windowTitle() == f"{spec.title} - {APP_TITLE}"


@pytest.mark.slow
def test_the_go_menu_opens_pages(window):
    go = next(a.menu() for a in window.menuBar().actions() if a.text().startswith("转到"))
    for action, spec in zip(go.actions(), PAGES, strict=True):
        assert action.text() == spec.title
        action.trigger()
        assert window.current_key() == spec.key


def test_status_bar_names_the_database(window, ctx):
    assert window.db_label.text() == f"数据库：{ctx.db.location}"
    assert BUILTIN_ADMIN.name in window.user_label.text()


@pytest.mark.slow
def test_size_layout_and_last_page_are_remembered(qtbot, ctx, _isolated_data_dir):
    first = MainWindow(ctx)
    qtbot.addWidget(first)
    first.show()
    # A size that fits the screen (offscreen Qt has an 800×600 screen; restoreGeometry keeps windows on it).
    screen = first.screen().availableGeometry()
    size = QSize(min(760, screen.width() - 40), min(540, screen.height() - 40))
    first.resize(size)
    first.splitter.setSizes([240, size.width() - 240])
    first.show_page("plan")
    qtbot.wait(10)
    first.close()
    assert (_isolated_data_dir / "gui.ini").is_file()

    second = MainWindow(ctx)
    qtbot.addWidget(second)
    second.show()
    assert second.current_key() == "plan"
    assert second.stack.currentWidget() is second.page("plan")
    assert second.size() == size
    assert second.splitter.sizes()[0] == 240


def test_an_unknown_remembered_page_falls_back_to_the_first(qtbot, ctx):
    s = ctx.settings()
    s.setValue(f"main/page/{ctx.actor.name.encode('utf-8').hex()}", "no-such-page")  # the start page is per user
    s.sync()
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    assert w.current_key() == PAGES[0].key


def test_about_text_names_the_version_and_the_plan(window):
    text = window.about_text()
    assert f"版本 {__version__}" in text
    assert APP_TITLE in text and "市政办发〔2020〕47号" in text
    assert window.ctx.db.location in text


def test_about_dialog_is_reachable_from_the_help_menu(window, monkeypatch):
    shown = []
    monkeypatch.setattr("jzair_desktop.gui.main_window.QMessageBox.about", lambda *a: shown.append(a))
    about = next(a for a in all_actions(window) if a.text() == "关于(&A)")
    about.trigger()
    assert len(shown) == 1 and __version__ in shown[0][2]


ALLOWED_LATIN = re.compile(r"\(&[A-Z]\)|VOCs")


def test_menus_and_navigation_have_no_english(window):
    texts = [a.text() for a in all_actions(window)]
    texts += [text for text, _ in nav_entries(window)]
    texts += [window.windowTitle()]
    assert len(texts) > len(PAGES) * 2
    english = [t for t in texts if re.search(r"[A-Za-z]", ALLOWED_LATIN.sub("", t))]
    assert english == []
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["文件(&F)", "转到(&G)", "帮助(&H)"]
    assert all(isinstance(a.menu(), QMenu) for a in window.menuBar().actions())


@pytest.mark.slow
def test_page_titles_are_chinese(window):
    from PySide6.QtWidgets import QLabel

    for key in KEYS:
        page = window.page(key)
        titles = [lbl.text() for lbl in page.findChildren(QLabel) if lbl.objectName() == "pageTitle"]
        assert titles, key
        assert not re.search(r"[A-Za-z]", ALLOWED_LATIN.sub("", titles[0])), titles


def test_plan_page_shows_every_indicator(window, ctx):
    from jzair_desktop.services.info import plan_indicators

    window.show_page("plan")
    table = window.page("plan").table
    items = plan_indicators(ctx.db)
    # issue 17: 36 indicators (milestones, the two 清扫率 limits, the whole-year 煤质抽检), each with its kind,
    # every lead department the plan names and the units it concerns; issue 19 adds 六个百分之百达标率
    assert table.rowCount() == len(items) == 37
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[:5] == ["指标", "类型", "单位", "市级目标", "时限"]
    assert "牵头单位" in headers and "涉及单位" in headers
    by_name = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert table.item(by_name["散煤治理"], 3).text() == "84,400"
    assert table.item(by_name["国三及以下营运柴油货车淘汰"], 4).text() == "2020-12-31"
    sweeping = by_name["城区机械化清扫率（县城区）"]
    assert table.item(sweeping, 3).text() == "≥65" and table.item(sweeping, 1).text().startswith("限值")
    assert table.item(by_name["民用煤煤质抽检覆盖率（月）"], 6).text() == "市能源局、市市场监管局"
    assert table.item(by_name["新能源公交替换（市建成区）"], 7).text() == "榆次区、晋中开发区"
    assert table.item(by_name["新泰钢铁超低排放改造（含清洁运输改造）"], 1).text().startswith("节点")
    cells = [table.item(r, c).text() for r in range(table.rowCount()) for c in range(table.columnCount())]
    assert not any(re.search(r"[A-Za-z]", ALLOWED_LATIN.sub("", c)) for c in cells)


def test_screenshots_of_the_main_window(window, qtbot):
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.resize(1200, 780)
    window.show_page("heating")
    qtbot.wait(20)
    image = window.grab().toImage()
    assert image.width() == 1200 and image.height() == 780
    assert image.save(str(SHOTS / "main_window.png"))
    window.show_page("plan")
    qtbot.wait(20)
    assert window.grab().save(str(SHOTS / "plan_page.png"))
    # The navigation is drawn: the selected item's highlight colour appears on the left.
    window.show_page("heating")
    qtbot.wait(20)
    image = window.grab().toImage()
    colours = {image.pixelColor(40, y).name() for y in range(30, 400, 2)}
    assert "#1f5f9e" in colours


def log_file() -> Path:
    setup_logging()
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler):
            return Path(h.baseFilename)
    raise AssertionError("no log file handler")


def raised(exc: BaseException):
    try:
        raise exc
    except BaseException as e:  # noqa: BLE001
        return type(e), e, e.__traceback__


@pytest.fixture
def hook(qapp, monkeypatch):
    import threading

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # both restored after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    shown: list[tuple] = []
    monkeypatch.setattr(qtsetup.QMessageBox, "critical", lambda *args: shown.append(args))
    qtsetup.install_excepthook()
    assert sys.excepthook is not sys.__excepthook__
    return shown


def test_an_uncaught_exception_shows_a_message_and_is_logged(hook):
    log = log_file()
    exc_type, exc, tb = raised(ValueError("计算进度时出错 probe-7f3a"))
    sys.excepthook(exc_type, exc, tb)
    assert len(hook) == 1
    _parent, title, text = hook[0]
    assert title == f"{APP_TITLE} - 错误"
    assert "意外错误" in text and "ValueError" in text and "probe-7f3a" in text and "日志" in text
    for h in logging.getLogger().handlers:
        h.flush()
    content = log.read_text(encoding="utf-8")
    assert "uncaught exception" in content
    assert "Traceback (most recent call last)" in content
    assert "ValueError: 计算进度时出错 probe-7f3a" in content
    assert "def raised" in content or "in raised" in content


def test_a_user_error_shows_its_own_message(hook):
    sys.excepthook(*raised(JzairError("数据库文件不存在：D:/台账.sqlite3")))
    assert len(hook) == 1
    assert hook[0][2] == "数据库文件不存在：D:/台账.sqlite3"


def test_application_setup_loads_the_font_and_chinese_qt_texts_once(qapp):
    app = qtsetup.make_application()
    report = qtsetup.setup_report(app)
    assert report["font"] == "WenQuanYi Micro Hei"
    assert app.font().family() == "WenQuanYi Micro Hei"
    assert "qtbase_zh_CN" in report["translations"]
    kept = len(qtsetup._keep)
    assert qtsetup.make_application() is app
    assert len(qtsetup._keep) == kept
    from PySide6.QtCore import QCoreApplication

    # Qt's own standard texts come out in Chinese.
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"


def test_an_exception_in_a_worker_thread_is_logged(hook):
    import threading

    log = log_file()

    def work() -> None:
        raise RuntimeError("后台任务失败 probe-41c2")

    t = threading.Thread(target=work, name="probe-worker")
    t.start()
    t.join()
    for h in logging.getLogger().handlers:
        h.flush()
    content = log.read_text(encoding="utf-8")
    assert "uncaught exception in thread probe-worker" in content
    assert "RuntimeError: 后台任务失败 probe-41c2" in content
    assert hook == []  # no dialog from a worker thread
