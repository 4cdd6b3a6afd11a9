"""月度数据 page with pytest-qt on a real database: both grids validate through the services, save all or nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from jzair_desktop.gui.pages.figures import OVER, PROBLEM, FiguresPage, make_page
from jzair_desktop.services import air, monthly
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.air import CITY_AREA
from jzair_desktop.services.changes import Changes
from jzair_desktop.services.monthly import FigureEntry, set_figures
from jzair_desktop.services.targets import TargetEntry, set_targets
from tests.gui import pyside_guard
from tests.gui.grid_page_helpers import delete_deferred_widgets, record_message_boxes, show_page

pyside_guard.apply()

YC, TG, KF = "140702", "140703", "140799"


@pytest.fixture(autouse=True)
def _delete_widgets(qapp):
    yield
    delete_deferred_widgets()


@pytest.fixture
def boxes(monkeypatch):
    shown = record_message_boxes(monkeypatch)
    return shown


def open_page(qtbot, db, actor=BUILTIN_ADMIN) -> FiguresPage:
    page = show_page(qtbot, make_page, db, actor)
    assert isinstance(page, FiguresPage)
    return page


def figures(db) -> dict[tuple[str, str, str], float]:
    return {(v.indicator, v.unit_code, v.month): v.value for v in monthly.list_figures(db)}


def air_values(db) -> dict[tuple[str, str], tuple[float | None, int | None]]:
    return {(v.area, v.month): (v.pm25, v.heavy_days) for v in air.air_quality(db)}


def pick(page: FiguresPage, indicator: str) -> None:
    combo = page.figures.indicator_combo
    combo.setCurrentIndex(combo.findData(indicator))


def test_the_grid_shows_figures_cumulative_and_target(qtbot, db, boxes):
    set_targets(db, BUILTIN_ADMIN, [TargetEntry("bus.new_energy", YC, 10)])
    set_figures(db, BUILTIN_ADMIN, [FigureEntry(YC, "bus.new_energy", "2020-10", 3),
                                    FigureEntry(YC, "bus.new_energy", "2020-11", 2),
                                    FigureEntry(KF, "bus.new_energy", "2020-11", 4)])  # 市建成区: 榆次区, 开发区
    page = open_page(qtbot, db)
    pick(page, "bus.new_energy")
    m = page.figures.model
    headers = [m.headerData(c, Qt.Orientation.Horizontal) for c in range(m.columnCount())]
    assert headers[-3:] == ["累计", "目标", "完成率"]
    assert m.data(m.index_of(YC, "2020-10")) == "3"
    row = 0
    assert m.headerData(row, Qt.Orientation.Vertical) == "榆次区"
    assert [m.data(m.index(row, c)) for c in range(len(m.months), m.columnCount())] == ["5", "10", "50.0%"]
    total = m.rowCount() - 1
    assert m.headerData(total, Qt.Orientation.Vertical) == "全市合计"
    assert m.data(m.index(total, m.months.index("2020-11"))) == "6"
    # Months before the campaign are hidden until asked for.
    march = m.months.index("2020-03")
    assert page.figures.table.isColumnHidden(march)
    page.figures.early.setChecked(True)
    assert not page.figures.table.isColumnHidden(march)
    assert boxes == []


def test_saving_figures_persists_them(qtbot, db, boxes):
    page = open_page(qtbot, db)
    pick(page, "nonroad.inspection")
    m = page.figures.model
    assert m.setData(m.index_of(YC, "2020-11"), "12")
    assert m.setData(m.index_of(TG, "2020-12"), "7")
    assert m.data(m.index_of(YC, "2020-11"), Qt.ItemDataRole.BackgroundRole) is not None  # shaded: unsaved
    with qtbot.waitSignal(page.ctx.signals.changed) as changed:
        qtbot.mouseClick(page.figures.save_button, Qt.MouseButton.LeftButton)
    assert changed.args[0] == Changes(figures=True)
    assert figures(db) == {("nonroad.inspection", YC, "2020-11"): 12.0, ("nonroad.inspection", TG, "2020-12"): 7.0}
    assert m.pending == {} and "已保存 2 处" in page.figures.status_line.text()
    # A blank cell removes the month's figure.
    m.setData(m.index_of(TG, "2020-12"), "")
    assert page.figures.save()
    assert ("nonroad.inspection", TG, "2020-12") not in figures(db)
    assert boxes == []


@pytest.mark.parametrize(
    ("indicator", "value", "words"),
    [
        ("nonroad.inspection", "-3", "不能为负数"),
        ("nonroad.inspection", "2.5", "必须是整数"),
        ("dust.sweeping", "120", "0 至 100%"),
        ("dust.sweeping", "-1", "0 至 100%"),
        ("mines.gangue_yards", "十", "必须是数字"),  # issue 17: 焦化产能压减 does not concern 榆次区
        ("nonroad.inspection", "1e308", "必须是数字"),
        ("nonroad.inspection", "99999999999999999999", "数值过大"),
        ("nonroad.inspection", "5001", "超出合理范围"),  # more than ten times the city target of 500
        ("dust.sweeping", "ｎａｎ", "有限的数字"),
    ],
)
def test_bad_figures_are_refused_per_cell_and_nothing_is_written(qtbot, db, boxes, indicator, value, words):
    page = open_page(qtbot, db)
    pick(page, "urea.sampling")
    m = page.figures.model
    m.setData(m.index_of(TG, "2020-10"), "4")  # valid, on another indicator
    pick(page, indicator)
    m.setData(m.index_of(YC, "2020-11"), value)
    assert not page.figures.save()
    assert figures(db) == {}
    bad = m.index_of(YC, "2020-11")
    assert m.data(bad, Qt.ItemDataRole.BackgroundRole).color() == PROBLEM
    assert words in m.data(bad, Qt.ItemDataRole.ToolTipRole)
    assert words in page.figures.problem_label.text() and "没有保存任何修改" in page.figures.problem_label.text()
    assert len(m.pending) == 2
    assert boxes == []


def test_a_problem_on_another_indicator_switches_the_grid_to_it(qtbot, db, boxes):
    page = open_page(qtbot, db)
    pick(page, "fuel.sampling")
    m = page.figures.model
    m.setData(m.index_of(YC, "2020-12"), "-1")
    pick(page, "urea.sampling")
    assert not page.figures.save()
    assert page.figures.indicator_combo.currentData() == "fuel.sampling"
    assert page.figures.table.currentIndex() == m.index_of(YC, "2020-12")


def test_rates_below_target_are_marked(qtbot, db, boxes):
    # issue 17: 市城区 (榆次区, 开发区) must reach 75 %; the 全市 row counts the units meeting it
    set_figures(db, BUILTIN_ADMIN, [FigureEntry(YC, "dust.sweeping", "2020-11", 70),
                                    FigureEntry(KF, "dust.sweeping", "2020-11", 80)])
    page = open_page(qtbot, db)
    pick(page, "dust.sweeping")
    m = page.figures.model
    assert m.data(m.index_of(YC, "2020-11"), Qt.ItemDataRole.BackgroundRole).color() == OVER
    assert "未达到目标" in m.data(m.index_of(YC, "2020-11"), Qt.ItemDataRole.ToolTipRole)
    assert m.data(m.index_of(KF, "2020-11"), Qt.ItemDataRole.BackgroundRole) is None
    assert m.data(m.index(0, m.columnCount() - 1)) == "≥75"
    assert m.data(m.index(1, m.columnCount() - 1)) == "无任务"  # 太谷区 is under the 65 % limit
    assert m.data(m.index(m.rowCount() - 1, m.months.index("2020-11"))) == "1/2"


def test_air_quality_saves_and_refuses_out_of_range_values(qtbot, db, boxes):
    page = open_page(qtbot, db)
    page.tabs.setCurrentWidget(page.air)
    a = page.air.model
    assert a.setData(a.index_of(CITY_AREA, "2020-11", "pm25"), "52")
    assert a.setData(a.index_of(CITY_AREA, "2020-11", "heavy_days"), "1")
    assert a.setData(a.index_of(YC, "2020-12", "pm25"), "1200")  # above 1000
    assert a.setData(a.index_of(TG, "2021-02", "heavy_days"), "29")  # February 2021 has 28 days
    assert not page.air.save()
    assert air_values(db) == {}
    pm = a.index_of(YC, "2020-12", "pm25")
    assert a.data(pm, Qt.ItemDataRole.BackgroundRole).color() == PROBLEM
    assert "0 至 1000" in a.data(pm, Qt.ItemDataRole.ToolTipRole)
    days = a.index_of(TG, "2021-02", "heavy_days")
    assert "0 至 28" in a.data(days, Qt.ItemDataRole.ToolTipRole)
    ok = a.index_of(CITY_AREA, "2020-11", "pm25")
    assert a.data(ok, Qt.ItemDataRole.BackgroundRole).color() != PROBLEM
    # Corrected, the whole grid saves in one go; 52 is above the 市城区 target (≤47) and is shaded.
    a.setData(pm, "64")
    a.setData(days, "3")
    with qtbot.waitSignal(page.ctx.signals.changed) as changed:
        assert page.air.save()
    assert changed.args[0] == Changes(figures=True)
    assert air_values(db) == {(CITY_AREA, "2020-11"): (52.0, 1), (YC, "2020-12"): (64.0, None), (TG, "2021-02"): (None, 3)}
    assert a.data(ok, Qt.ItemDataRole.BackgroundRole).color() == OVER
    assert "目标 ≤47" in a.data(ok, Qt.ItemDataRole.ToolTipRole)
    assert page.air.targets_table.rowCount() == len(air.air_quality_targets(db)) == 2
    # Clearing both values of a month removes it.
    a.setData(a.index_of(CITY_AREA, "2020-11", "pm25"), "")
    a.setData(a.index_of(CITY_AREA, "2020-11", "heavy_days"), "")
    assert page.air.save()
    assert (CITY_AREA, "2020-11") not in air_values(db)
    assert boxes == []


def test_a_county_clerk_enters_only_the_own_unit(qtbot, db, boxes):
    page = open_page(qtbot, db, Actor("王五", "county_clerk", YC))
    m = page.figures.model
    assert m.flags(m.index_of(YC, "2020-11")) & Qt.ItemFlag.ItemIsEditable
    assert not (m.flags(m.index_of(TG, "2020-11")) & Qt.ItemFlag.ItemIsEditable)
    assert not m.setData(m.index_of(TG, "2020-11"), "3")
    a = page.air.model
    assert not (a.flags(a.index_of(CITY_AREA, "2020-11", "pm25")) & Qt.ItemFlag.ItemIsEditable)
    assert a.flags(a.index_of(YC, "2020-11", "pm25")) & Qt.ItemFlag.ItemIsEditable
    viewer = open_page(qtbot, db, Actor("赵六", "viewer"))
    assert not viewer.figures.can_edit and "只能查看" in viewer.figures.hint.text()
    assert not (viewer.figures.model.flags(viewer.figures.model.index_of(YC, "2020-11")) & Qt.ItemFlag.ItemIsEditable)


def test_show_indicator_selects_the_units_row(qtbot, db):
    page = open_page(qtbot, db)
    page.tabs.setCurrentWidget(page.air)
    page.show_indicator("mines.open_pit", TG)
    assert page.tabs.currentWidget() is page.figures
    assert page.figures.indicator_combo.currentData() == "mines.open_pit"
    assert [i.row() for i in page.figures.table.selectionModel().selectedRows()] == [1]


def test_the_city_office_sets_and_changes_air_quality_targets(qtbot, db, boxes, tmp_path):
    page = open_page(qtbot, db)
    page.tabs.setCurrentWidget(page.air)
    tab = page.air
    assert tab.add_target_button.isVisible() and not tab.edit_target_button.isEnabled()
    before = len(air.air_quality_targets(db))
    dialog = tab.edit_target(None)
    qtbot.waitExposed(dialog)
    dialog.area.setCurrentIndex(dialog.area.findData(YC))
    assert dialog.first.currentData() == "2020-10" and dialog.last.currentData() == "2021-03"
    dialog.last.setCurrentIndex(dialog.last.findData("2020-12"))
    # A bad value keeps the dialog open with the reason, and writes nothing.
    dialog.pm25.setText("1200")
    dialog.heavy.setText("3")
    assert not dialog.submit()
    assert dialog.isVisible() and "0 至 1000" in dialog.error.text()
    assert dialog.grab().save(str(tmp_path / "air_target_refused.png"))
    assert len(air.air_quality_targets(db)) == before
    dialog.pm25.setText("55")
    with qtbot.waitSignal(page.ctx.signals.changed) as changed:
        assert dialog.submit()
    assert changed.args[0] == Changes(figures=True)
    saved = next(t for t in air.air_quality_targets(db) if t.area == YC)
    assert (saved.first_month, saved.last_month, saved.pm25_max, saved.heavy_days_max) == ("2020-10", "2020-12", 55.0, 3)
    assert tab.targets_table.rowCount() == before + 1
    assert "已设定 榆次区 2020-10 至 2020-12" in tab.status_line.text()
    # The grid knows the new target at once.
    a = tab.model
    assert a.data(a.index_of(YC, "2020-11", "pm25"), Qt.ItemDataRole.ToolTipRole) == "目标 ≤55 微克/立方米"
    assert a.data(a.index_of(YC, "2021-01", "pm25"), Qt.ItemDataRole.ToolTipRole) == "未设定目标"
    # The selected row opens for a change: area and start month fixed, the values prefilled.
    assert tab.edit_target_button.isEnabled()
    change = tab.edit_target(tab._selected_target())
    assert not change.area.isEnabled() and change.area.currentData() == YC and change.pm25.text() == "55"
    change.last.setCurrentIndex(change.last.findData("2021-03"))
    change.heavy.setText("5")
    assert change.submit()
    saved = next(t for t in air.air_quality_targets(db) if t.area == YC)
    assert (saved.last_month, saved.pm25_max, saved.heavy_days_max) == ("2021-03", 55.0, 5)
    # Overlapping another period of the same area is refused with both periods named.
    other = tab.edit_target(None)
    other.area.setCurrentIndex(other.area.findData(YC))
    other.first.setCurrentIndex(other.first.findData("2021-01"))
    other.pm25.setText("70")
    assert not other.submit() and "重叠" in other.error.text()
    other.reject()
    page.air.targets_table.selectRow(tab.targets_table.rowCount() - 1)
    assert page.grab().save(str(tmp_path / "air_targets.png"))
    assert boxes == []


def test_only_the_city_office_sees_the_target_buttons(qtbot, db):
    page = open_page(qtbot, db, Actor("王五", "county_clerk", YC))
    page.tabs.setCurrentWidget(page.air)
    assert not page.air.add_target_button.isVisible() and not page.air.edit_target_button.isVisible()


# --------------------------------------------------------------------------- issue 17
BASE = {"2019-01": (90, 9), "2019-02": (80, 6), "2019-03": (60, 3),
        "2019-10": (50, 1), "2019-11": (60, 2), "2019-12": (70, 4)}


def test_the_city_office_enters_a_grade_and_baselines_and_the_limits_follow(qtbot, db, boxes, tmp_path):
    from jzair_desktop.services import air_targets

    page = open_page(qtbot, db)
    page.tabs.setCurrentWidget(page.air)
    tab = page.air
    assert tab.basis_button.isVisible()
    dialog = tab.edit_basis(None)
    qtbot.waitExposed(dialog)
    dialog.area.setCurrentIndex(dialog.area.findData("140723"))
    dialog.grade.setCurrentIndex(dialog.grade.findData(3))
    for month, (pm, days) in BASE.items():
        dialog.pm[month].setText(str(pm))
        dialog.days[month].setText(str(days))
    # A baseline month left out: refused, naming unit, month and field; nothing written
    dialog.pm["2019-12"].setText("")
    dialog.days["2019-12"].setText("")
    assert not dialog.submit()
    assert "和顺县" in dialog.error.text() and "2019-12" in dialog.error.text()
    assert dialog.grab().save(str(tmp_path / "basis_refused.png"))
    assert air_targets.air_bases(db)[4].grade is None
    dialog.pm["2019-12"].setText("70")
    dialog.days["2019-12"].setText("4")
    assert dialog.submit()
    basis = next(b for b in air_targets.air_bases(db) if b.area == "140723")
    assert basis.grade == 3 and basis.limits["2021-01"] == (74.3, 16)
    rows = [[tab.targets_table.item(r, c).text() for c in range(5)] for r in range(tab.targets_table.rowCount())]
    assert ["和顺县", "2021-01 至 2021-03", "3档", "74.3", "16"] in rows
    assert "和顺县 3档" in tab.status_line.text()
    assert boxes == []


def test_units_outside_a_scope_cannot_enter_and_the_city_enters_rail_freight(qtbot, db, boxes):
    page = open_page(qtbot, db)
    pick(page, "bus.new_energy")  # 市建成区: 榆次区 and 晋中开发区 only
    m = page.figures.model
    assert m.flags(m.index_of(YC, "2020-11")) & Qt.ItemFlag.ItemIsEditable
    assert not m.flags(m.index_of(TG, "2020-11")) & Qt.ItemFlag.ItemIsEditable
    target_col = m.columnCount() - 2
    assert m.data(m.index(1, target_col)) == "无任务"
    pick(page, "rail.freight_increase")  # 全市, 2020-01 … 2020-12
    assert m.headerData(len(m.units), Qt.Orientation.Vertical) == "全市（市级填报）"
    city_jan = m.index_of("140700", "2020-01")
    assert m.flags(city_jan) & Qt.ItemFlag.ItemIsEditable
    assert not m.flags(m.index_of("140700", "2021-01")) & Qt.ItemFlag.ItemIsEditable
    assert not m.flags(m.index_of(YC, "2020-11")) & Qt.ItemFlag.ItemIsEditable
    assert m.setData(city_jan, "80")
    page.figures.save()
    assert figures(db)[("rail.freight_increase", "140700", "2020-01")] == 80
    assert boxes == []


def test_a_milestone_is_recorded_with_its_date_and_evidence(qtbot, db, boxes, tmp_path):
    from jzair_desktop.services import milestones

    page = open_page(qtbot, db)
    page.tabs.setCurrentWidget(page.milestones)
    tab = page.milestones
    names = [(tab.table.item(r, 0).text(), tab.table.item(r, 1).text()) for r in range(tab.table.rowCount())]
    assert ("新泰钢铁超低排放改造（含清洁运输改造）", "介休市") in names and ("阳泉煤业铁路专用线项目开工建设", "全市") in names
    row = names.index(("新泰钢铁超低排放改造（含清洁运输改造）", "介休市"))
    dialog = tab.record(tab.items[row])
    qtbot.waitExposed(dialog)
    dialog.date.setText("2020-10-16")
    assert not dialog.submit() and "完成依据" in dialog.error.text()  # evidence is required; nothing written
    assert all(m.done_date is None for m in milestones.list_milestones(db))
    dialog.evidence.setText("介环函〔2020〕96号")
    assert dialog.submit()
    assert tab.table.item(row, 3).text() == "2020-10-16" and tab.table.item(row, 5).text() == "逾期完成"
    assert page.grab().save(str(tmp_path / "milestones.png"))
def test_full_width_digits_show_normalised_and_save_as_numbers(qtbot, db, boxes):
    page = open_page(qtbot, db)
    pick(page, "nonroad.inspection")
    m = page.figures.model
    assert m.setData(m.index_of(YC, "2020-11"), "１２")
    assert m.setData(m.index_of(TG, "2020-11"), " １，２０５ ")
    assert m.data(m.index_of(YC, "2020-11"), Qt.ItemDataRole.DisplayRole) == "12"
    assert m.data(m.index_of(TG, "2020-11"), Qt.ItemDataRole.DisplayRole) == "1,205"
    assert page.figures.save()
    assert figures(db) == {("nonroad.inspection", YC, "2020-11"): 12.0, ("nonroad.inspection", TG, "2020-11"): 1205.0}
    assert boxes == []
