"""The user guide's screenshots, made from the real windows on a demo database (`jzair guide --screenshots
DIR`), so the pictures in resources/guide/images stay true to the program.

Runs offscreen (no window appears), builds the demo database (as `jzair init --demo`) in a temporary
folder, opens the main window at 1366×768 as the city administrator, and saves each page the guide shows.
The images are stored with a 256-colour palette, which keeps a screenshot of flat widgets small.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

SIZE = (1366, 768)


def _settle(rounds: int = 8) -> None:
    from PySide6.QtWidgets import QApplication

    for _ in range(rounds):
        QApplication.processEvents()


def save_small(widget, path: Path) -> Path:  # noqa: ANN001 - a QWidget
    """Grab `widget` and save it as a PNG of at most 128 colours (no dithering: flat widgets stay crisp)."""
    import io

    from PIL import Image
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().toImage().save(buffer, "PNG")
    buffer.close()
    image = Image.open(io.BytesIO(bytes(data))).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, "PNG", optimize=True)
    return path


def make_screenshots(out: Path, *, db_file: Path | None = None) -> list[Path]:
    """Write the guide's screenshots into `out`; returns the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jzair-guide-") as tmp:
        os.environ["JZAIR_DATA_DIR"] = str(Path(tmp) / "userdata")  # the user's real settings stay untouched
        folder = Path(tmp) / "jzair_desktop"
        folder.mkdir()
        path = db_file or folder / "jzair.sqlite3"
        if db_file is None:
            _build_demo(path)
        return _shoot(path, out)


def _start_dialogs(db: object, out: Path) -> list[Path]:
    """The set-up wizard's first page and the login, as a new installation and a clerk see them."""
    from jzair_desktop.gui.dialogs.login import LoginDialog
    from jzair_desktop.gui.dialogs.setup_wizard import SetupWizard

    shots: list[Path] = []
    wizard = SetupWizard(db)
    wizard.show()
    _settle()
    shots.append(save_small(wizard, out / "setup_wizard.png"))
    wizard.hide()
    wizard.deleteLater()
    dialog = LoginDialog(db, user="yuci")
    dialog.show()
    _settle()
    shots.append(save_small(dialog, out / "login.png"))
    dialog.hide()
    dialog.deleteLater()
    return shots


def _build_demo(path: Path) -> None:
    from jzair_desktop.demo import generate_demo
    from jzair_desktop.services.database import load_reference_data, open_database, resolve_url

    db, _ = open_database(resolve_url(db_path=path), create=True)
    try:
        load_reference_data(db)
        generate_demo(db)
    finally:
        db.dispose()


def _shoot(path: Path, out: Path) -> list[Path]:
    from PySide6.QtWidgets import QMessageBox

    from jzair_desktop.gui.context import DataSignals, GuiContext
    from jzair_desktop.gui.dialogs.backup import ExitBackupWindow
    from jzair_desktop.gui.guide_window import GuideWindow
    from jzair_desktop.gui.main_window import MainWindow
    from jzair_desktop.gui.qtsetup import make_application
    from jzair_desktop.services.actor import Actor
    from jzair_desktop.services.database import open_database, resolve_url

    make_application()
    db, _ = open_database(resolve_url(db_path=path))
    from jzair_desktop.services.backup import auto_backup

    auto_backup(db)  # so that the status bar and 设置 show a backup, as on a machine in use
    ctx = GuiContext(db=db, actor=Actor(name="admin", role="city_admin"), signals=DataSignals())
    written: list[Path] = []
    window = MainWindow(ctx)
    window.resize(*SIZE)
    window.show()
    _settle()

    def page(key: str, name: str, prepare: Callable[[object], None] | None = None) -> None:
        widget = window.show_page(key)
        _settle()
        if prepare is not None:
            prepare(widget)
            _settle()
        written.append(save_small(window, out / name))

    try:
        written.extend(_start_dialogs(db, out))
        page("heating", "main_window.png", lambda w: w.select_row(2))
        heating = window.page("heating")
        form = heating.new_record()
        if form is not None:
            values = {"unit_code": "140702", "township": "东阳镇", "village": "东阳村", "householder": "王建国",
                      "id_number": "140702198003151235", "method": "电代煤", "status": "已完工",
                      "done_date": "2020-10-20"}
            for name, value in values.items():
                form.fields[name].set_value(value)
            QMessageBox.warning = lambda *a, **k: QMessageBox.StandardButton.Ok  # no dialog offscreen
            form.save()
            _settle()
            written.append(save_small(form, out / "record_form.png"))
            form.done(0)
        written.append(_import_with_errors(ctx, path.parent, out))
        page("figures", "figures.png")
        page("dashboard", "dashboard.png")
        page("submission", "submission.png")
        page("packages", "packages.png")
        page("settings", "settings_backup.png")
        exit_window = ExitBackupWindow()
        exit_window.set_progress(620, 1000, "正在压缩…")
        exit_window.show()
        _settle()
        written.append(save_small(exit_window, out / "exit_backup.png"))
        exit_window.finish()
        guide = GuideWindow()
        guide.resize(*SIZE)
        guide.show()
        guide.show_section("checkdigits")
        _settle()
        written.append(save_small(guide, out / "guide_window.png"))
        guide.close()
    finally:
        window.close()
        _settle()
        db.dispose()
    return written


def _wait(condition: Callable[[], bool], seconds: float = 60) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the window did not get there in time")
        _settle(2)
        time.sleep(0.02)


def _import_with_errors(ctx, folder: Path, out: Path) -> Path:  # noqa: ANN001 - a GuiContext
    """The import wizard's check page on a truck ledger with three typical mistakes."""
    from openpyxl import load_workbook

    from jzair_desktop.gui.dialogs.excel import open_import_wizard
    from jzair_desktop.services.excel import export_ledger

    exported = folder / "导出.xlsx"
    export_ledger(ctx.db, "trucks", exported, actor=ctx.actor, unit_code="140702")
    wb = load_workbook(exported)
    ws = wb.worksheets[0]
    headers = {c.value: c.column for c in ws[1]}
    ws.delete_rows(10, ws.max_row)
    vin = ws.cell(3, headers["车辆识别代号"])
    vin.value = vin.value[:8] + ("1" if vin.value[8] != "1" else "2") + vin.value[9:]  # a wrong check digit
    ws.cell(4, headers["排放标准"]).value = "国五"
    ws.cell(6, headers["淘汰日期"]).value = "2020-13-40"
    path = folder / "榆次区柴油货车台账.xlsx"
    wb.save(path)
    wizard = open_import_wizard(None, ctx, "trucks")
    try:
        wizard.resize(960, 620)
        wizard.show()
        wizard.file_page.path_edit.setText(str(path))
        wizard.file_page.unit_combo.setCurrentIndex(wizard.file_page.unit_combo.findData("140702"))
        for page in (wizard.preview_page, wizard.check_page):
            wizard.next()
            _wait(lambda p=page: wizard.job is None and wizard.currentPage() is p)
        return save_small(wizard, out / "import_errors.png")
    finally:
        wizard.close()
