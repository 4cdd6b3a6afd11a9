"""Screenshots of the five ledger pages and their entry forms, to look at (not a test).

    QT_QPA_PLATFORM=offscreen python bench/ledger_screenshots.py [--out /tmp/shots] [--db FILE]

Without --db it builds the demo database (as `jzair init --demo` does) in the output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from jzair_desktop.domain.ledgers import LEDGER_KEYS  # noqa: E402
from jzair_desktop.gui.context import DataSignals, GuiContext  # noqa: E402
from jzair_desktop.gui.qtsetup import make_application  # noqa: E402
from jzair_desktop.services.actor import BUILTIN_ADMIN  # noqa: E402
from jzair_desktop.services.database import load_reference_data, open_database  # noqa: E402
from jzair_desktop.storage.engine import sqlite_url  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.gui.ledger_samples import SAMPLES  # noqa: E402

BAD_INPUT = {
    "heating": ("id_number", "140702198003151235"),
    "trucks": ("vin", "LFWADRJF511002346"),
    "boilers": ("capacity_th", "0"),
    "kilns": ("credit_code", "91140702MA0K12345X"),
    "vocs": ("bypass_count", "2"),
}


def build_db(path: Path) -> None:
    from jzair_desktop.demo import generate_demo

    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    generate_demo(db)
    db.dispose()


def settle(app: QApplication, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/shots")
    parser.add_argument("--db")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("JZAIR_DATA_DIR", str(out / "userdata"))
    db_path = Path(args.db) if args.db else out / "ledger_demo.sqlite3"
    if not args.db:
        build_db(db_path)
    app = make_application()
    db, _ = open_database(sqlite_url(db_path))
    ctx = GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())

    from jzair_desktop.gui.main_window import MainWindow

    window = MainWindow(ctx)
    window.resize(1280, 760)
    window.show()
    for key in LEDGER_KEYS:
        page = window.show_page(key)
        settle(app)
        page.select_row(2)
        settle(app)
        window.grab().save(str(out / f"ledger_{key}_page.png"))
        form = page.new_record()
        assert form is not None
        settle(app)
        form.grab().save(str(out / f"ledger_{key}_form_empty.png"))
        # A record typed in full with one bad value (and, for heating, a warning beside it).
        for name, value in SAMPLES[key](900).items():
            form.fields[name].set_value(value)
        field, bad = BAD_INPUT[key]
        if key == "vocs":
            form.fields["category"].set_value("旁路排查整治")
            form.fields["bypass_disposal"].set_value("无")
        if key == "heating":
            form.fields["keeps_coal_stove"].set_value("否")
        form.fields[field].set_value(bad)
        form.save()
        settle(app)
        form.grab().save(str(out / f"ledger_{key}_form_error.png"))
        form.done(0)
        settle(app)
    # The recycle bin of the heating page with a few deleted records, and an edit form.
    page = window.show_page("heating")
    page.select_row(0)
    page.table.selectionModel().select(
        page.model.index(1, 0), page.table.selectionModel().SelectionFlag.Select
        | page.table.selectionModel().SelectionFlag.Rows)
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.question = lambda *a, **k: QMessageBox.StandardButton.Yes
    page.delete_selected()
    settle(app)
    window.grab().save(str(out / "ledger_heating_after_delete.png"))
    page.trash.setChecked(True)
    settle(app)
    window.grab().save(str(out / "ledger_heating_recycle_bin.png"))
    page.undo()
    page.trash.setChecked(False)
    page.select_row(0)
    form = page.edit_current()
    settle(app)
    form.grab().save(str(out / "ledger_heating_form_edit.png"))
    form.done(0)
    window.close()
    db.dispose()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
