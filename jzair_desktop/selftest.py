"""`jzair self-test`: a fresh temporary database, migrations, reference data, and every page of the
main window built offscreen. Used after installation and on the frozen build."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path


def run_self_test() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    steps: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="jzair-selftest-") as tmp:
            os.environ["JZAIR_DATA_DIR"] = tmp
            from jzair_desktop.services.database import load_reference_data, open_database
            from jzair_desktop.services.info import info, plan_indicators
            from jzair_desktop.storage.engine import sqlite_url

            db, migration = open_database(sqlite_url(Path(tmp) / "自检.sqlite3"), create=True)
            steps.append(f"迁移到架构版本 {migration.after if migration else '?'}")
            ref = load_reference_data(db)
            steps.append(f"载入基础数据：{ref.units} 个县（区、市），{ref.indicators} 项指标")
            if len(plan_indicators(db)) != ref.indicators:
                raise RuntimeError("计划指标数量与基础数据不一致")
            info(db)
            steps.append("统计各台账记录数")

            from jzair_desktop.gui.app import build_main_window
            from jzair_desktop.gui.context import DataSignals, GuiContext
            from jzair_desktop.gui.pages import PAGES
            from jzair_desktop.gui.qtsetup import make_application
            from jzair_desktop.services.actor import BUILTIN_ADMIN

            app = make_application(sys.argv[:1])
            ctx = GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())
            window = build_main_window(ctx)
            window.show()
            for spec in PAGES:
                window.show_page(spec.key)
                app.processEvents()
                if window.stack.currentWidget() is not window.page(spec.key):
                    raise RuntimeError(f"页面未能显示：{spec.title}")
            steps.append(f"主窗口 {len(PAGES)} 个页面均可打开")
            window.close()
            app.processEvents()
            db.dispose()
    except Exception as exc:  # noqa: BLE001 - report any failure with its reason
        for s in steps:
            print(f"通过：{s}")
        print(f"自检失败：{type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc()
        return 1
    for s in steps:
        print(f"通过：{s}")
    print("自检通过。")
    return 0
