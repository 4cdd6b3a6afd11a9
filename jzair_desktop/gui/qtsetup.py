"""Application-wide Qt set-up: the bundled CJK font, Chinese Qt translations, error dialogs."""

from __future__ import annotations

import logging
import sys
import threading
import traceback

from PySide6.QtCore import QLibraryInfo, QLocale, QtMsgType, QTranslator, qInstallMessageHandler
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from jzair_desktop import APP_TITLE, paths

log = logging.getLogger(__name__)
_keep: list[object] = []
_SETUP = "jzairSetup"


def register_font(app: QApplication) -> str | None:
    """Register the bundled WenQuanYi Micro Hei and make it the application font. Returns its family."""
    font_id = QFontDatabase.addApplicationFont(str(paths.font_path()))
    if font_id < 0:
        log.error("could not load the bundled font %s", paths.font_path())
        return None
    families = QFontDatabase.applicationFontFamilies(font_id)
    family = families[0] if families else None
    if family:
        font = QFont(family, 10)
        app.setFont(font)
    return family


def install_translations(app: QApplication) -> list[str]:
    """Qt's own Simplified Chinese texts (standard buttons, dialogs). Returns the catalogues loaded."""
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    loaded = []
    for name in ("qtbase_zh_CN", "qt_zh_CN"):
        tr = QTranslator(app)
        if tr.load(name, folder):
            app.installTranslator(tr)
            _keep.append(tr)
            loaded.append(name)
        else:
            log.warning("Qt translation %s not found in %s", name, folder)
    return loaded


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(mode, context, message) -> None:  # noqa: ANN001
    log.log(_QT_LEVELS.get(mode, logging.WARNING), "Qt: %s", message)


def install_qt_message_handler() -> None:
    """Qt's own messages go to the log file (a windowed program has no console to print them to)."""
    qInstallMessageHandler(_qt_message)


def install_excepthook() -> None:
    """Uncaught exceptions in the GUI: logged, and shown as a readable message, never a silent exit."""

    def hook(exc_type, exc, tb) -> None:  # noqa: ANN001
        from jzair_desktop.errors import JzairError

        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        if QApplication.instance() is None:
            traceback.print_exception(exc_type, exc, tb)
            return
        if isinstance(exc, JzairError):
            text = str(exc)
        else:
            text = f"程序发生了意外错误：{exc_type.__name__}: {exc}\n\n详细信息已写入日志文件（{paths.log_dir()}）。请保存工作后重新启动程序。"
        QMessageBox.critical(None, f"{APP_TITLE} - 错误", text)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        # Worker threads cannot show dialogs; the task runner reports failures to the user itself.
        name = args.thread.name if args.thread is not None else "?"
        log.error("uncaught exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = hook
    threading.excepthook = thread_hook
    install_qt_message_handler()


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, set up once: names, the bundled font, Chinese Qt translations."""
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    if app.property(_SETUP) is None:
        app.setApplicationName("jzair_desktop")
        app.setApplicationDisplayName(APP_TITLE)
        app.setOrganizationName("jzair_desktop")
        icon = paths.resources_dir() / "icons" / "jzair.png"
        if icon.is_file():
            app.setWindowIcon(QIcon(str(icon)))  # title bars and the task bar; the .exe carries jzair.ico
        family = register_font(app)
        translations = install_translations(app)
        app.setProperty(_SETUP, {"font": family or "", "translations": translations})
    return app


def setup_report(app: QApplication) -> dict:
    """What make_application set up: {"font": family or "", "translations": [catalogue names]}."""
    return dict(app.property(_SETUP) or {})
