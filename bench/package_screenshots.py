"""Screenshots of the 数据报送 page on a county and a city machine, to look at (not a test).

    QT_QPA_PLATFORM=offscreen python bench/package_screenshots.py [--out /tmp/shots]

Builds a county database (the demo at a small scale), exports two units' packages from it, and a city
database that has imported the first one; then shows: the county's export, the city's preview of the
second package, the result of its import, the history and pinned keys, a refused (tampered) package
and the re-pin dialog. Files: package_*.png in the output folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from jzair_desktop import demo
from jzair_desktop.demo.common import demo_weights
from jzair_desktop.gui.context import DataSignals, GuiContext  # noqa: E402
from jzair_desktop.gui.qtsetup import make_application  # noqa: E402
from jzair_desktop.services import package_export as export  # noqa: E402
from jzair_desktop.services import package_import as imp  # noqa: E402
from jzair_desktop.services import targets  # noqa: E402
from jzair_desktop.services.actor import BUILTIN_ADMIN  # noqa: E402
from jzair_desktop.services.database import Database, load_reference_data, open_database  # noqa: E402
from jzair_desktop.storage.engine import sqlite_url, write_session  # noqa: E402
from jzair_desktop.storage.models import InstallationKey  # noqa: E402


def fresh(path: Path) -> Database:
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    return db


def wait(app: QApplication, done: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        app.processEvents()
        if time.monotonic() > end:
            raise TimeoutError("the page did not finish in time")
        time.sleep(0.02)
    for _ in range(5):
        app.processEvents()


def shot(app: QApplication, widget: QWidget, path: Path) -> None:
    for _ in range(5):
        app.processEvents()
    widget.grab().save(str(path))
    print(f"saved {path}")


def tampered(src: Path, dst: Path) -> Path:
    """The package with one ledger member changed after signing (same length)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == "trucks.jsonl":
                at = body.index(b'"owner":"') + len(b'"owner":"')
                body = body[:at] + "假".encode() + body[at + 3:]
            zout.writestr(info.filename, body)
    return dst


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/shots")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / "package_work"
    work.mkdir(exist_ok=True)
    os.environ.setdefault("JZAIR_DATA_DIR", str(work / "userdata"))
    app = make_application()

    from jzair_desktop.gui.pages.packages import PackagesPage, RepinDialog

    county = fresh(work / "县级.sqlite3")
    demo.generate_demo(county, scale=0.04, today=dt.date(2026, 1, 1))
    city = fresh(work / "市级.sqlite3")
    targets.split_city_targets(city, demo_weights(), BUILTIN_ADMIN)
    for code, month in (("140703", "2020-11"), ("140781", "2020-12"), ("140727", "2020-12")):
        with write_session(county.engine) as s:  # a key of its own per unit, as on separate county machines
            s.execute(delete(InstallationKey))
        p = export.export_county_package(county, code, month, work / f"{code}.jzpkg", actor=BUILTIN_ADMIN)
        imp.import_package(city, p.path, actor=BUILTIN_ADMIN)
    with write_session(county.engine) as s:
        s.execute(delete(InstallationKey))

    # County machine: export.
    page = PackagesPage(GuiContext(county, BUILTIN_ADMIN, DataSignals()))
    page.resize(1100, 760)
    page.show()
    target = work / "榆次区-2020-12-报送包.jzpkg"
    page.ask_save_path = lambda title, name: target  # type: ignore[method-assign]
    page.month_combo.setCurrentIndex(page.month_combo.findData("2020-12"))
    page.export_county()
    wait(app, lambda: page.last_export is not None)
    shot(app, page, out / "package_export.png")

    # City machine: preview, import, history.
    city_page = PackagesPage(GuiContext(city, BUILTIN_ADMIN, DataSignals()))
    city_page.resize(1100, 760)
    city_page.show()
    city_page.tabs.setCurrentIndex(1)
    city_page.choose_package(target)
    wait(app, lambda: city_page.import_button.isEnabled() or "未导入" in city_page.import_status.text())
    shot(app, city_page, out / "package_preview.png")
    city_page.import_chosen()
    wait(app, lambda: "已导入" in city_page.import_status.text())
    shot(app, city_page, out / "package_imported.png")
    city_page.choose_package(target)
    wait(app, lambda: "导入过" in city_page.import_status.text())
    shot(app, city_page, out / "package_again.png")
    city_page.tabs.setCurrentIndex(2)
    shot(app, city_page, out / "package_history.png")

    second = export.export_county_package(county, "140702", "2021-01", work / "榆次区-2021-01.jzpkg",
                                          actor=BUILTIN_ADMIN)
    city_page.tabs.setCurrentIndex(1)
    city_page.choose_package(tampered(second.path, work / "被改过的报送包.jzpkg"))
    wait(app, lambda: "未导入" in city_page.import_status.text())
    shot(app, city_page, out / "package_refused.png")

    dialog = RepinDialog(city_page.ctx, city_page, scope="140702")
    dialog.fingerprint_edit.setText("12ab")
    dialog.reason_edit.setText("县里重装了电脑")
    dialog.show()
    dialog.apply()
    shot(app, dialog, out / "package_repin.png")
    dialog.close()
    county.dispose()
    city.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
