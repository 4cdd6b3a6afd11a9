"""进度看板 with pytest-qt on a real demo database: bars follow the engine, clicks open ledgers, PNG export."""

from __future__ import annotations

import datetime as dt
import gc
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from jzair_desktop.demo import generate_demo
from jzair_desktop.domain.reference import CITY_CODE, reference
from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.gui.pages.dashboard import (
    TAB_AIR,
    TAB_BREAKDOWN,
    TAB_HISTORY,
    DashboardPage,
    default_as_of,
    weekly_days,
)
from jzair_desktop.gui.widgets.charts import STATUS_PATTERN
from jzair_desktop.services import air, progress
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.breakdown import all_breakdowns
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.services.targets import TargetEntry, set_targets
from jzair_desktop.storage.engine import sqlite_url
from tests.gui import pyside_guard

pyside_guard.apply()  # PySide6 6.12.0 on Python 3.11 leaks references to None while painting (see module)

D = dt.date
YC = "140702"


@pytest.fixture(autouse=True)
def _delete_widgets(qapp):
    """Delete the closed widgets now: pyqtgraph items left for the interpreter's exit can crash it."""
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """One small demo database per module (copied for each test, so tests may write)."""
    path = tmp_path_factory.mktemp("demo") / "演示.sqlite3"
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    generate_demo(db, seed=11, scale=0.05, today=D(2021, 3, 31))
    db.dispose()
    return path


@pytest.fixture
def demo_db(demo_file, tmp_path):
    path = tmp_path / "看板.sqlite3"
    shutil.copy(demo_file, path)
    db, _ = open_database(sqlite_url(path))
    yield db
    db.dispose()


@pytest.fixture
def ctx(qapp, demo_db) -> GuiContext:
    qtsetup.make_application()  # the bundled CJK font, as the app has it
    return GuiContext(db=demo_db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture
def page(qtbot, ctx) -> DashboardPage:
    p = DashboardPage(ctx, today=D(2020, 12, 15))
    qtbot.addWidget(p)
    p.resize(1300, 800)
    p.show()
    qtbot.waitExposed(p)
    return p


@pytest.fixture
def boxes(monkeypatch):
    shown = []
    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, _k=kind, **kw: shown.append((_k, a[1], a[2])))
    return shown


def engine_bars(db, as_of: dt.date, indicator: str) -> list[tuple[str, float]]:
    rows = [r for r in progress.compute_progress(db, as_of) if r.indicator == indicator]
    rows.sort(key=lambda r: not r.is_city)  # the city first, then the units in plan order
    return [(r.county, 0.0 if r.completion is None else r.completion * 100) for r in rows]


def test_default_as_of_is_today_clamped_into_the_campaign():
    assert default_as_of(D(2025, 6, 1)) == D(2021, 3, 31)
    assert default_as_of(D(2020, 9, 1)) == D(2020, 10, 1)
    assert default_as_of(D(2020, 12, 15)) == D(2020, 12, 15)


def test_weekly_days_end_on_the_as_of_date():
    days = weekly_days(D(2020, 10, 1), D(2020, 10, 20))
    assert days == [D(2020, 10, 1), D(2020, 10, 8), D(2020, 10, 15), D(2020, 10, 20)]
    assert weekly_days(D(2020, 10, 1), D(2020, 10, 15))[-1] == D(2020, 10, 15)
    assert weekly_days(D(2020, 10, 1), D(2020, 9, 1)) == [D(2020, 9, 1)]


@pytest.mark.slow
def test_the_dashboard_builds_with_every_tab(page, ctx, boxes):
    assert page.as_of == D(2020, 12, 15)
    chart = page.completion_chart
    assert [r.label for r in chart.rows] == ["全市", *(u.name for u in reference().units)]
    assert page.warning_model.rowCount() == len(progress.warnings(ctx.db, page.as_of)) > 0
    assert "逾期" in page.summary.text()
    for tab in (TAB_HISTORY, TAB_BREAKDOWN, TAB_AIR):
        page.tabs.setCurrentIndex(tab)
    assert page.curve_chart.days[-1] == page.as_of
    assert sum(page.breakdown_charts["heating"].segment_widths(2)) > 0
    assert boxes == []


@pytest.mark.slow
@pytest.mark.parametrize("indicator", ["heating.total", "trucks.eliminated", "kilns.kiln", "bus.new_energy"])
def test_changing_the_as_of_date_updates_the_bars_to_the_engine(page, ctx, indicator):
    page.set_indicator(indicator)
    for day in (D(2020, 10, 20), D(2020, 12, 31), D(2021, 3, 31)):
        page.set_as_of(day)
        expected = engine_bars(ctx.db, day, indicator)
        assert [r.label for r in page.completion_chart.rows] == [name for name, _v in expected]
        assert page.completion_chart.bar_widths() == pytest.approx([v for _n, v in expected])
        assert indicator in {r.indicator for r in progress.compute_progress(ctx.db, day)}
    # The value label and the status words are on every bar (readable without colour).
    city = next(r for r in progress.compute_progress(ctx.db, D(2021, 3, 31)) if r.indicator == indicator and r.is_city)
    assert page.completion_chart.rows[0].text.endswith(city.status_label)
    assert page.completion_chart._texts[0].textItem.toPlainText() == page.completion_chart.rows[0].text


@pytest.mark.slow
def test_statuses_differ_by_hatching_as_well_as_colour(page, ctx):
    page.set_indicator("heating.total")
    page.set_as_of(D(2020, 12, 15))  # past the heating due date: overdue units are cross-hatched
    chart = page.completion_chart
    brushes = chart._hatch.opts["brushes"]
    for row, brush in zip(chart.rows, brushes, strict=True):
        expected = STATUS_PATTERN.get(row.status, Qt.BrushStyle.NoBrush)
        assert brush.style() == expected, row
    assert any(r.status == "overdue" for r in chart.rows)


def test_the_warning_list_is_worst_first_and_coloured(page, ctx):
    # issue 17: air quality first (the plan's first reason for a 预警函), then overdue / not met before behind
    rows = page.warning_model.rows
    assert rows == progress.warnings(ctx.db, page.as_of)
    air = [r for r in rows if r.kind == "air_quality"]
    assert rows[:len(air)] == air
    statuses = [r.status for r in rows[len(air):]]
    assert statuses == sorted(statuses, key=lambda s: 0 if s in ("overdue", "not_met") else 1)
    index = page.warning_model.index(0, 2)
    assert page.warning_model.data(index) in ("逾期", "滞后", "未达标", "已无法达标", "逾期未完成")
    assert page.warning_model.data(index, Qt.ItemDataRole.BackgroundRole) is not None


def test_history_breakdown_and_air_follow_the_services(page, ctx):
    page.set_indicator("heating.total")
    page.set_unit(YC)
    page.tabs.setCurrentIndex(TAB_HISTORY)
    points = progress.progress_history(ctx.db, "heating.total", weekly_days(D(2020, 10, 1), page.as_of), unit=YC)
    assert page.curve_chart.values == pytest.approx([(p.completion or 0) * 100 for p in points])

    page.tabs.setCurrentIndex(TAB_BREAKDOWN)
    expected = {b.key: b for b in all_breakdowns(ctx.db, page.as_of, unit_code=YC)}
    for key, chart in page.breakdown_charts.items():
        b = expected[key]
        assert chart.categories == b.categories and chart.stacks == b.stacks
        for k in range(len(b.stacks)):
            assert chart.segment_widths(k) == [float(row[k]) for row in b.counts]

    page.set_unit(CITY_CODE)
    page.tabs.setCurrentIndex(TAB_AIR)
    stored = {v.month: v for v in air.air_quality(ctx.db, area=air.CITY_AREA)}
    assert page.pm25_chart.bar_heights() == [stored[m].pm25 for m in ("2020-10", "2020-11", "2020-12")]
    assert page.days_chart.values == [float(stored[m].heavy_days) for m in ("2020-10", "2020-11", "2020-12")]


def test_a_changed_target_redraws_the_bars(page, ctx):
    page.set_indicator("trucks.eliminated")
    set_targets(ctx.db, BUILTIN_ADMIN, [TargetEntry("trucks.eliminated", YC, None)])
    page.apply_changes(Changes(targets=True))  # what the main window does on a published change
    yc = page.completion_chart.rows[1]
    assert yc.label == "榆次区" and yc.value is None and yc.text == "未分解"


@pytest.fixture
def window(qtbot, ctx):
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1300, 860)
    w.show()
    qtbot.waitExposed(w)
    w.show_page("dashboard")
    dash = w.page("dashboard")
    dash.set_as_of(D(2020, 12, 15))
    return w


@pytest.mark.slow
def test_clicking_a_warning_row_opens_the_ledger_filtered_to_that_unit(qtbot, window, boxes):
    dash = window.page("dashboard")
    model, table = dash.warning_model, dash.warning_table
    row = next(i for i, r in enumerate(model.rows)
               if r.kind != "air_quality" and reference().indicator(r.indicator).source == "ledger")
    wanted = model.rows[row]
    table.scrollTo(model.index(row, 0))
    with qtbot.waitSignal(dash.openRequested) as opened:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(model.index(row, 1)).center())
    ledger_key = reference().indicator(wanted.indicator).ledger
    assert opened.args == [ledger_key, wanted.unit_code]
    assert window.current_key() == ledger_key
    ledger = window.page(ledger_key)
    assert ledger.unit_combo.currentData() == wanted.unit_code
    assert ledger.model.rowCount() > 0
    assert {r.unit_code for r in (ledger.model.record(i) for i in range(ledger.model.rowCount()))} == {wanted.unit_code}
    assert boxes == []


@pytest.mark.slow
def test_a_monthly_indicator_warning_opens_the_monthly_figures(qtbot, window):
    dash = window.page("dashboard")
    model = dash.warning_model
    row = next(i for i, r in enumerate(model.rows)
               if r.kind != "air_quality" and reference().indicator(r.indicator).source == "monthly")
    wanted = model.rows[row]
    dash._warning_clicked(model.index(row, 0))
    assert window.current_key() == "figures"
    figures = window.page("figures")
    assert figures.figures.indicator_combo.currentData() == wanted.indicator
    selected = figures.figures.table.selectionModel().selectedRows()
    assert [i.row() for i in selected] == [next(n for n, u in enumerate(reference().units) if u.code == wanted.unit_code)]


@pytest.mark.slow
def test_clicking_a_bar_opens_that_units_ledger(qtbot, window):
    dash = window.page("dashboard")
    dash.set_indicator("trucks.eliminated")
    dash.tabs.setCurrentIndex(0)
    chart = dash.completion_chart
    qtbot.wait(20)
    row = 3  # 榆社县 (the city is row 0)
    assert chart.rows[row].label == "榆社县"
    pos = chart.mapFromScene(chart.scene_pos_of_row(row))
    with qtbot.waitSignal(dash.openRequested) as opened:
        qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    assert opened.args == ["trucks", "140721"]
    assert window.current_key() == "trucks"
    assert window.page("trucks").unit_combo.currentData() == "140721"


@pytest.mark.slow
def test_clicking_the_city_bar_opens_the_ledger_unfiltered(qtbot, window):
    dash = window.page("dashboard")
    dash.set_indicator("heating.total")
    window.page("heating").apply_filter(unit_code=YC)
    dash.open_unit("heating.total", CITY_CODE)
    assert window.current_key() == "heating"
    assert window.page("heating").unit_combo.currentData() == ""


@pytest.mark.slow
def test_a_chart_exports_as_png(qtbot, page, tmp_path, monkeypatch, boxes):
    chart = page.completion_chart
    written = page.export_chart(chart, tmp_path / "完成率图")
    assert written == tmp_path / "完成率图.png" and written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(written))
    assert image.width() >= chart.width() * 1.9  # exported at twice the screen size for printing
    # Through the button, with the save dialog answered.
    target = tmp_path / "导出" / "空气质量.png"
    target.parent.mkdir()
    page.tabs.setCurrentIndex(TAB_AIR)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PNG 图片 (*.png)"))
    panel = page.pm25_chart.parent()
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert target.is_file() and QImage(str(target)).width() > 0
    assert boxes == []


@pytest.mark.slow
def test_export_to_an_unwritable_place_says_so(page, tmp_path, boxes):
    missing = tmp_path / "没有这个文件夹" / "图.png"
    assert page.export_chart(page.completion_chart, missing) is None
    assert boxes and boxes[0][0] == "warning" and "导出" in boxes[0][1]


def test_a_county_clerk_starts_on_the_own_unit(qtbot, demo_db):
    ctx = GuiContext(db=demo_db, actor=Actor("李四", "county_clerk", "140727"), signals=DataSignals())
    p = DashboardPage(ctx, today=D(2021, 1, 10))
    qtbot.addWidget(p)
    assert p.unit_code == "140727"


@pytest.mark.slow
def test_the_ledger_pages_apply_filter_sets_unit_and_status_and_clears_the_rest(qtbot, window):
    page = window.page("heating")
    page.search.setText("张")
    page.apply_filter(unit_code=YC, status="已验收")
    assert page.unit_combo.currentData() == YC and page.status_combo.currentData() == "已验收"
    assert page.search.text() == "" and not page.trash.isChecked()
    rows = [page.model.record(i) for i in range(page.model.rowCount())]
    assert rows and {r.unit_code for r in rows} == {YC}
    with pytest.raises(ValueError):
        page.apply_filter(unit_code=YC, status="乱写")
    page.apply_filter()
    assert page.unit_combo.currentData() == "" and page.status_combo.currentData() == ""


# --------------------------------------------------------------------------- at 1366×768
@pytest.mark.slow
def test_at_1366_the_warning_table_shows_every_column_whole(qtbot, ctx):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.show_page("dashboard")
    qtbot.waitExposed(window)
    dash = window.page("dashboard")
    table, model = dash.warning_table, dash.warning_model
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    qtbot.wait(50)  # the splitter share is set once the layout has settled
    header = table.horizontalHeader()
    assert table.horizontalScrollBar().maximum() == 0  # no column cut off at the right
    fm = table.fontMetrics()
    for col in range(model.columnCount()):
        if col == 1:
            continue
        widest = max(fm.horizontalAdvance(model.text(r, col)) for r in model.rows)
        assert header.sectionSize(col) >= widest, model.HEADERS[col]
    assert header.sectionViewportPosition(8) + header.sectionSize(8) <= table.viewport().width()
    # a long indicator name is elided in its cell and whole in the tooltip
    long_row = max(range(model.rowCount()), key=lambda r: len(model.rows[r].name))
    name = model.rows[long_row].name
    assert fm.horizontalAdvance(name) > header.sectionSize(1)
    assert model.data(model.index(long_row, 1), Qt.ItemDataRole.ToolTipRole).startswith(name)
    shots = Path("/tmp/shots/paste")
    shots.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(shots / "dashboard_warnings_1366.png"))


def test_stacked_bar_labels_fit_their_segments_and_the_rest_is_in_the_tooltip(qtbot, page):
    page.tabs.setCurrentIndex(2)
    qtbot.wait(50)
    for chart in page.breakdown_charts.values():
        vb = chart.plot.getViewBox()
        per_pixel = vb.viewPixelSize()[0]
        segments = chart._segments
        shown = chart.inner_labels()
        boxes = []
        for x, y, text in shown:
            seg = next(s for s in segments if abs(s[0] + s[1] / 2 - x) < 1e-9 and s[2] == y)
            label = [i for i in chart._inner if i.isVisible() and i.textItem.toPlainText() == text
                     and abs(i.pos().x() - x) < 1e-9][0]
            half = label.boundingRect().width() / 2 * per_pixel
            assert seg[0] <= x - half and x + half <= seg[0] + seg[1], (chart.categories, text)  # inside its segment
            boxes.append((y, x - half, x + half))
        for a in boxes:  # no two labels on a row overlap
            for b in boxes:
                if a is not b and a[0] == b[0]:
                    assert a[2] <= b[1] or b[2] <= a[1]
        for row in range(len(chart.categories)):
            tip = chart.row_tooltip(row)
            for stack, n in zip(chart.stacks, chart.counts[row], strict=True):
                if n:
                    assert f"{stack} {n:,}" in tip  # every segment, labelled or too small for a label


def test_count_axes_start_at_zero(qtbot, page):
    for chart in [*page.breakdown_charts.values(), page.pm25_chart, page.days_chart, page.curve_chart]:
        (x0, _x1), (y0, _y1) = chart.plot.getViewBox().viewRange()
        low = y0 if chart in (page.pm25_chart, page.days_chart, page.curve_chart) else x0
        assert low <= 0, chart
        top = _y1 if low == y0 else _x1
        assert low >= -0.05 * top  # 0 at the bottom, only room for its label below


def test_unit_names_on_the_bar_charts_fit_at_the_first_paint(qtbot):
    """The vertical axis is as wide as its longest unit name at once: no name is hidden until a later paint."""
    from PySide6.QtGui import QFontMetrics

    from jzair_desktop.gui.widgets.charts import CompletionChart, StackedBarChart, StatusBar

    names = ["全市", "榆次区", "晋中开发区", "祁县"]
    chart = CompletionChart("完成率")
    qtbot.addWidget(chart)
    chart.set_rows([StatusBar(n, 50.0, "滞后", "50.0% 滞后", 60.0) for n in names])
    stacked = StackedBarChart("构成")
    qtbot.addWidget(stacked)
    stacked.set_data(names, ["已完成", "未完成"], [[1, 2], [3, 4], [5, 6], [7, 8]])
    for c in (chart, stacked):
        axis = c.plot.getAxis("left")
        fm = QFontMetrics(axis.style["tickFont"])
        assert axis.minimumWidth() >= fm.horizontalAdvance("晋中开发区") + axis.style["tickTextOffset"][0]


def test_the_text_at_each_bar_end_stays_inside_a_narrow_chart(qtbot):
    """At the width the dashboard leaves the chart at 1366x768, '100.0% 已完成' is not cut at the plot's edge."""
    from jzair_desktop.gui.widgets.charts import CompletionChart, StatusBar

    chart = CompletionChart("完成率")
    qtbot.addWidget(chart)
    chart.resize(380, 520)
    chart.show()
    qtbot.waitExposed(chart)
    chart.set_rows([StatusBar(n, 100.0, "done", "100.0% 已完成") for n in ["全市", "榆次区", "晋中开发区"]]
                   + [StatusBar("祁县", 89.6, "overdue", "89.6% 逾期")])
    qtbot.wait(50)
    box = chart.plot.vb.sceneBoundingRect()
    for item in chart._texts[:4]:  # noqa: SLF001
        assert item.sceneBoundingRect().right() <= box.right() + 0.5, item.toPlainText()
    chart.resize(700, 520)
    qtbot.wait(50)
    assert chart.plot.vb.viewRange()[0][1] < 140  # a wide chart keeps its scale
