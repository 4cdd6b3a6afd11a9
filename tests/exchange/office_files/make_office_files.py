"""How the files in this folder were made (run again only to renew them; the tests use the saved files).

    python tests/exchange/office_files/make_office_files.py

A heating and a trucks ledger of 榆次区 (12 records each, from tests/exchange/samples.py) are imported into
a fresh database and exported by the app (.xlsx, the template's layout); LibreOffice Calc, run headless,
opens each export and saves it as Excel 97-2003 (.xls), OpenDocument (.ods) and CSV in UTF-8 and in GBK
(its CSV filter's third option is the character set: 76 UTF-8, 67 GBK). `<name>.et` is the .xls renamed: WPS's .et is the same
BIFF8 compound document, and no WPS is available here to write one.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

# CSV filter options: field separator 44 (,), text delimiter 34 ("), character set, first line 1, cell format
# "", language, quote all text false, detect special numbers, save cell contents as shown true.
CSV_FILTERS = {"utf8": "44,34,76,1,,0,false,true,true", "gbk": "44,34,67,1,,0,false,true,true"}


def soffice(src: Path, target: str, out_dir: Path) -> Path:
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target,
             "--outdir", str(out_dir), str(src)],
            check=True, capture_output=True, timeout=300,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    ext = target.split(":", 1)[0]
    return out_dir / f"{src.stem}.{ext}"


def main() -> None:
    from jzair_desktop.services import excel as excel_service
    from jzair_desktop.services.actor import BUILTIN_ADMIN
    from jzair_desktop.services.database import load_reference_data, open_database
    from jzair_desktop.storage.engine import sqlite_url
    from tests.exchange import samples

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        db, _ = open_database(sqlite_url(tmp_path / "db.sqlite3"), create=True)
        load_reference_data(db)
        for key in ("heating", "trucks"):
            src = samples.write_clean(tmp_path / f"{key}-源.xlsx", key, 12, start=1)
            excel_service.import_ledger(db, key, src, "榆次区", actor=BUILTIN_ADMIN, today=dt.date(2021, 3, 31))
            export = HERE / f"{key}-导出.xlsx"
            excel_service.export_ledger(db, key, export, actor=BUILTIN_ADMIN, unit_code="140702")
            work = tmp_path / key
            work.mkdir()
            for ext in ("xls", "ods"):
                made = soffice(export, ext, work)
                shutil.copy(made, HERE / f"{key}-libreoffice.{ext}")
            for label, options in CSV_FILTERS.items():
                made = soffice(export, f'csv:Text - txt - csv (StarCalc):{options}', work)
                shutil.copy(made, HERE / f"{key}-libreoffice-{label}.csv")
            shutil.copy(HERE / f"{key}-libreoffice.xls", HERE / f"{key}-libreoffice.et")
        db.dispose()


if __name__ == "__main__":
    main()
