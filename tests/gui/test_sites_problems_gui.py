"""The 建筑工地 and 问题清单 pages and entry forms, built from the registry: the form refuses a site 在建
without its six items and a problem due before it was found, then saves; the pages list, filter and
count the records. Screenshots at 1366×768 go to /tmp/shots/sites (looked at by eye)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.record_form import RecordForm
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.gui.models.ledger_table import LedgerTableModel
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.ledgers import RecordQuery
from tests.gui import ledger_samples as samples
from tests.gui.shot_helpers import use_app_font

SHOTS = Path("/tmp/shots/sites")
CLERK = Actor(name="榆次填报员", role="county_clerk", unit_code="140702")


def shoot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    use_app_font()


def open_form(qtbot, db, key: str) -> RecordForm:
    form = RecordForm(GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals()), key)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    return form


def test_the_site_form_refuses_a_site_in_construction_without_its_six_items(qtbot, db):
    form = open_form(qtbot, db, "sites")
    for key, value in samples.sites(1, cover="", washing="").items():
        form.fields[key].set_value(value)
    assert not form.save()
    assert "物料堆放覆盖" in form.message_of("cover") and form.severity_of("cover") == "error"
    assert "出入车辆清洗" in form.message_of("washing")
    shoot(form, "form_sites_refused")
    assert ledger_service.count_records(db, "sites") == 0
    form.fields["cover"].set_value("是")
    form.fields["washing"].set_value("否")
    assert form.save()
    [rec] = ledger_service.list_records(db, "sites")
    assert rec.values["washing"] == "否" and rec.values["status"] == "在建"


def test_the_problem_form_refuses_a_due_date_before_it_was_found(qtbot, db):
    form = open_form(qtbot, db, "problems")
    for key, value in samples.problems(1, due_date="2020-10-01").items():
        form.fields[key].set_value(value)
    assert not form.save()
    assert form.message_of("due_date").endswith("整改时限 2020-10-01 早于发现（交办）日期 2020-10-20")
    shoot(form, "form_problems_refused")
    form.fields["due_date"].set_value("2020-11-30")
    assert form.save()
    assert ledger_service.count_records(db, "problems") == 1


@pytest.mark.parametrize("key", ["sites", "problems"])
def test_the_pages_list_the_records_and_filter_by_status(qtbot, db, key):
    make = samples.SAMPLES[key]
    if key == "sites":
        raws = [make(n, status="在建" if n % 3 else "停工", cover="否" if n == 4 else "是") for n in range(1, 9)]
    else:
        raws = [make(n, status="整改中" if n % 2 else "已整改", done_date="" if n % 2 else "2020-11-20")
                for n in range(1, 9)]
    for raw in raws:
        ledger_service.create_record(db, key, raw, actor=BUILTIN_ADMIN, today=samples.TODAY)
    window = MainWindow(GuiContext(db=db, actor=CLERK, signals=DataSignals()))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.show_page(key)
    page = window.page(key)
    qtbot.waitUntil(lambda: page.model.rowCount() == 8, timeout=10_000)
    status = "停工" if key == "sites" else "已整改"
    filtered = LedgerTableModel(db, key, query=RecordQuery(filters={page.filter_key: status}))
    assert page.filter_key == "status" and filtered.rowCount() == (2 if key == "sites" else 4)
    shoot(window, f"page_{key}")
    assert window.spec(key).title == ("建筑工地" if key == "sites" else "问题清单")


def test_the_dashboard_lists_overdue_problems_and_opens_the_ledger(qtbot, db):
    from jzair_desktop.gui.pages.dashboard import DashboardPage
    from jzair_desktop.services import progress

    ledger_service.create_record(db, "problems", samples.problems(1), actor=BUILTIN_ADMIN, today=samples.TODAY)
    window = MainWindow(GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals()))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.page("dashboard")
    assert isinstance(page, DashboardPage)
    page.set_as_of(samples.TODAY)
    rows = page.warning_model.rows
    assert rows == progress.warnings(db, samples.TODAY)
    [n] = [i for i, r in enumerate(rows) if r.kind == "problems"]
    texts = [page.warning_model.text(rows[n], c) for c in range(9)]
    assert texts[:3] == ["榆次区", "逾期未整改问题", "逾期"] and texts[5:8] == ["1 项超过整改时限", "到期 1 项", "逾期 1 项"]
    page._warning_clicked(page.warning_model.index(n, 0))
    assert window.stack.currentWidget() is window.page("problems")
