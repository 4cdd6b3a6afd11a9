"""Screenshots of the five ledger pages and their entry forms, to look at (not a test).

    QT_QPA_PLATFORM=offscreen python bench/ledger_screenshots.py [--out /tmp/shots] [--db FILE]

Without --db it builds a database of about 2,000 sample records in the output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtWidgets import QApplication  # noqa: E402

from jzair_desktop.domain.ledgers import LEDGER_KEYS  # noqa: E402
from jzair_desktop.gui.context import DataSignals, GuiContext  # noqa: E402
from jzair_desktop.gui.qtsetup import make_application  # noqa: E402
from jzair_desktop.services import ledgers as ledger_service  # noqa: E402
from jzair_desktop.services.actor import BUILTIN_ADMIN  # noqa: E402
from jzair_desktop.services.database import load_reference_data, open_database  # noqa: E402
from jzair_desktop.storage.engine import sqlite_url  # noqa: E402

COUNTS = {"heating": 1000, "trucks": 400, "boilers": 250, "kilns": 150, "vocs": 200}
BAD_INPUT = {
    "heating": ("id_number", "140702198003151235"),
    "trucks": ("vin", "LFWADRJF511002346"),
    "boilers": ("capacity_th", "0"),
    "kilns": ("credit_code", "91140702MA0K12345X"),
    "vocs": ("bypass_count", "2"),
}


def build_db(path: Path) -> None:
    from sample_records import records

    if path.exists():
        path.unlink()
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    with ledger_service.write_records(db) as s:
        for key, n in COUNTS.items():
            ledger_service.insert_many(s, key, records(key, n, seed=7), actor=BUILTIN_ADMIN)
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
        field, bad = BAD_INPUT[key]
        if key == "vocs":
            form.fields["category"].set_value("旁路排查整治")
            form.fields["bypass_disposal"].set_value("无")
        form.fields[field].set_value(bad)
        form.save()
        settle(app)
        form.grab().save(str(out / f"ledger_{key}_form_error.png"))
        form.done(0)
        settle(app)
    window.close()
    db.dispose()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
