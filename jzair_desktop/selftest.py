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
    saved_data_dir = os.environ.get("JZAIR_DATA_DIR")
    try:
        # ignore_cleanup_errors: on Windows a file still open must not hide the real failure.
        with tempfile.TemporaryDirectory(prefix="jzair-selftest-", ignore_cleanup_errors=True) as tmp:
            os.environ["JZAIR_DATA_DIR"] = tmp
            from jzair_desktop.services.database import load_reference_data, open_database, resolve_url
            from jzair_desktop.services.info import info, plan_indicators

            db, migration = open_database(resolve_url(db_path=Path(tmp) / "自检.sqlite3"), create=True)
            steps.append(f"迁移到架构版本 {migration.after if migration else '?'}")
            ref = load_reference_data(db)
            steps.append(f"载入基础数据：{ref.units} 个县（区、市），{ref.indicators} 项指标")
            if len(plan_indicators(db)) != ref.indicators:
                raise RuntimeError("计划指标数量与基础数据不一致")
            info(db)
            steps.append("统计各台账记录数")
            steps.append(_check_libraries())

            from jzair_desktop.gui.app import build_main_window
            from jzair_desktop.gui.context import DataSignals, GuiContext
            from jzair_desktop.gui.pages import PAGES
            from jzair_desktop.gui.qtsetup import install_qt_message_handler, make_application, setup_report
            from jzair_desktop.services.actor import BUILTIN_ADMIN

            app = make_application(sys.argv[:1])
            install_qt_message_handler()
            setup = setup_report(app)
            if not setup.get("font"):
                raise RuntimeError("内置中文字体未能载入")
            if not setup.get("translations"):
                raise RuntimeError("Qt 中文翻译文件未找到")
            steps.append(f"界面字体“{setup['font']}”及 Qt 中文翻译已载入")
            ctx = GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())
            window = build_main_window(ctx)
            window.show()
            for spec in PAGES:
                window.show_page(spec.key)
                app.processEvents()
                if window.stack.currentWidget() is not window.page(spec.key):
                    raise RuntimeError(f"页面未能显示：{spec.title}")
            steps.append(f"主窗口 {len(PAGES)} 个页面均可打开")
            guide = window.open_guide(for_page=True)
            app.processEvents()
            missing = [str(i.path) for i in guide.guide.images() if not i.path.is_file()]
            if missing:
                raise RuntimeError(f"使用说明的图片缺失：{missing[0]}")
            steps.append(f"使用说明 {len(guide.guide.chapters)} 章及其图片均已载入")
            window.close()
            app.processEvents()
            db.dispose()
    except Exception as exc:  # noqa: BLE001 - report any failure with its reason
        _restore_env(saved_data_dir)
        for s in steps:
            print(f"通过：{s}")
        print(f"自检失败：{type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc()
        return 1
    _restore_env(saved_data_dir)
    for s in steps:
        print(f"通过：{s}")
    print("自检通过。")
    return 0


def _restore_env(data_dir: str | None) -> None:
    if data_dir is None:
        os.environ.pop("JZAIR_DATA_DIR", None)
    else:
        os.environ["JZAIR_DATA_DIR"] = data_dir


def _check_libraries() -> str:
    """The chart, Excel and PDF libraries load (a frozen build that lacks one fails here, not in use),
    and the bundled font can be embedded in a PDF."""
    import openpyxl  # noqa: F401
    import pyqtgraph  # noqa: F401
    import python_calamine  # noqa: F401
    from reportlab.pdfbase.ttfonts import TTFont

    from jzair_desktop import paths

    TTFont("WenQuanYiMicroHei", str(paths.font_path()), subfontIndex=0)
    _check_pdf_rendering()
    _check_reader_process()
    return "图表、Excel、PDF 运行库（含页面渲染、表格读取进程）及内置中文字体可用"


def _check_reader_process() -> None:
    """The import opens .xls/.xlsb files in a child process first (exchange/spreadsheet.py): in the frozen
    program that child is the program itself, started through multiprocessing.freeze_support. An empty
    zip archive is no workbook: the child must answer that, not die."""
    from jzair_desktop.exchange.spreadsheet import ExcelFileError, trial_open

    try:
        trial_open(b"PK\x05\x06" + bytes(18), "自检.xlsb")
    except ExcelFileError as exc:
        if "异常终止" in str(exc) or "超时" in str(exc):
            raise RuntimeError(f"表格读取进程无法正常运行：{exc}") from exc
    else:
        raise RuntimeError("表格读取进程把空的压缩包当成了工作簿")


def _check_pdf_rendering() -> None:
    """A one-page PDF with Chinese text renders to an image with ink (PDFium is bundled and loads)."""
    import io

    from reportlab.pdfgen import canvas

    from jzair_desktop.exchange.pdf_common import PAGE_SIZE, register_fonts
    from jzair_desktop.exchange.pdf_render import render_pages

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=PAGE_SIZE)
    c.setFont(register_fonts(), 48)
    c.drawString(72, PAGE_SIZE[1] - 144, "晋中市月报")
    c.showPage()
    c.save()
    pages = list(render_pages(buffer.getvalue(), scale=0.5))
    page = pages[0] if len(pages) == 1 else None
    row_bytes = 3 * page.width if page else 0
    inked = page is not None and any(
        min(page.rgb[y * page.stride : y * page.stride + row_bytes]) < 100 for y in range(page.height)
    )
    if not inked:
        raise RuntimeError("PDF 页面渲染结果不正确（预览与打印将不可用）")
