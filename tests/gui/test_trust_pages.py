"""Personal data through the real windows (issue 16 finding 3, issue 22 items 2 and 7): a viewer's ledger
table shows phones masked and its search finds nothing by hidden digits; the history dialog refuses a record
of another unit even when handed one directly."""

from __future__ import annotations

from pathlib import Path

from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.history import show_record_history
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.ledgers import RecordQuery
from tests.gui.test_ledger_page import boxes, column_texts, open_page, seed_heating  # noqa: F401

SHOTS = Path("/tmp/shots/trust")


def test_a_viewers_table_masks_phones_and_the_search_box_is_no_oracle(qtbot, db, boxes):  # noqa: F811
    seed_heating(db)
    viewer = Actor(name="查看者", role="viewer")
    page = open_page(qtbot, GuiContext(db=db, actor=viewer, signals=DataSignals()))
    phones = [p for p in column_texts(page, "phone") if p]
    assert phones and all("****" in p for p in phones)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.grab().save(str(SHOTS / "ledger-viewer-masked.png"))
    full = ledger_service.list_records(db, "heating", RecordQuery(unit_code="140702"), limit=1)[0].values["id_number"]
    page.search.setText(full[:8])  # two hidden digits
    qtbot.waitUntil(lambda: page.count_label.text().startswith("显示 0 条"), timeout=5000)
    page.search.setText(full)  # the whole number from the paper form
    qtbot.waitUntil(lambda: page.count_label.text().startswith("显示 1 条"), timeout=5000)


def test_the_history_dialog_refuses_another_units_record(qtbot, db, boxes):  # noqa: F811
    seed_heating(db)
    other = ledger_service.list_records(db, "heating", RecordQuery(unit_code="140702"), limit=1)[0]
    clerk = Actor(name="祁县填报员", role="county_clerk", unit_code="140727")
    ctx = GuiContext(db=db, actor=clerk, signals=DataSignals())
    assert show_record_history(None, ctx, "heating", other.uuid) is None
    assert boxes.shown and "只能查看本县" in boxes.shown[-1][2]
