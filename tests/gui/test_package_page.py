"""The 数据报送 page (pytest-qt, real databases): export on a county machine, preview and import on the city
machine, refusals shown on the page, history and pinned keys, re-pinning, what each role may do."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.exchange import jzpkg
from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.pages.packages import PackagesPage, RepinDialog, default_month
from jzair_desktop.services import accounts, ledgers, milestones
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.changes import EVERYTHING
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import keys as keys
from jzair_desktop.services.progress import compute_progress
from jzair_desktop.storage import migrate
from tests.dbtemplate import fresh_database
from tests.services.admin_helpers import raw
from tests.services.package_helpers import TODAY, file_sha256

YUCI = "140702"
SHOTS = Path("/tmp/shots")
WAIT_MS = 30_000


def make_db(path: Path):
    return fresh_database(path)


@pytest.fixture
def county(tmp_path):
    db = make_db(tmp_path / "县" / "榆次区.sqlite3")
    for n in range(3):
        for key in LEDGER_KEYS:
            ledgers.create_record(db, key, raw(key, n), actor=BUILTIN_ADMIN, today=TODAY)
    yield db
    db.dispose()


@pytest.fixture
def city(tmp_path):
    db = make_db(tmp_path / "市" / "市级.sqlite3")
    yield db
    db.dispose()


def page_for(qtbot, db, actor=BUILTIN_ADMIN) -> PackagesPage:
    qtsetup.make_application()
    page = PackagesPage(GuiContext(db=db, actor=actor, signals=DataSignals()))
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    qtbot.waitExposed(page)
    return page


def exported(county, tmp_path, name="榆次区.jzpkg") -> Path:
    return export.export_county_package(county, YUCI, "2020-12", tmp_path / name, actor=BUILTIN_ADMIN).path


def test_export_on_a_county_machine_shows_the_fingerprint(qtbot, county, tmp_path):
    page = page_for(qtbot, county)
    me = keys.identity(county, create=False)
    assert me is not None and me.display in page.key_label.text()
    target = tmp_path / "发送" / "榆次区-2020-12.jzpkg"
    target.parent.mkdir()
    page.ask_save_path = lambda title, name: target
    assert page.month_combo.currentData() == default_month()
    page.month_combo.setCurrentIndex(page.month_combo.findData("2020-12"))
    page.export_button.click()
    qtbot.waitUntil(lambda: page.last_export is not None, timeout=WAIT_MS)
    assert target.is_file()
    text = page.export_result.text()
    assert "榆次区 2020-12 报送包第 1 号" in text and f"台账记录 {3 * len(LEDGER_KEYS)} 条" in text and me.display in text
    page.export_button.click()
    qtbot.waitUntil(lambda: page.last_export.sequence == 2, timeout=WAIT_MS)
    SHOTS.mkdir(exist_ok=True)
    page.grab().save(str(SHOTS / "package_page_export.png"))


def test_the_city_previews_then_imports_and_sees_the_history(qtbot, county, city, tmp_path):
    path = exported(county, tmp_path)
    page = page_for(qtbot, city)
    page.tabs.setCurrentIndex(1)
    before = file_sha256(city)
    page.ask_open_path = lambda: path
    page.choose_button.click()
    qtbot.waitUntil(page.import_button.isEnabled, timeout=WAIT_MS)
    assert file_sha256(city) == before  # the preview wrote nothing
    rows = {page.preview_table.item(r, 0).text(): [page.preview_table.item(r, c).text() for c in range(1, 5)]
            for r in range(page.preview_table.rowCount())}
    assert rows["清洁取暖"] == ["3", "0", "0", "0"] and rows["柴油货车"] == ["3", "0", "0", "0"]
    assert "首次导入" in page.preview_key.text()
    assert keys.identity(county).display in page.preview_key.text()
    assert "榆次区 2020-12 县级报送包第 1 号" in page.preview_header.text()
    SHOTS.mkdir(exist_ok=True)
    page.grab().save(str(SHOTS / "package_page_preview.png"))

    announced: list = []
    page.ctx.signals.changed.connect(lambda changes, _source: announced.append(changes))
    page.import_button.click()
    qtbot.waitUntil(lambda: "已导入" in page.import_status.text(), timeout=WAIT_MS)
    assert announced == [EVERYTHING]
    assert not page.import_button.isEnabled()
    assert ledgers.count_records(city, "heating") == 3
    assert page.history_table.rowCount() == 1 and page.history_table.item(0, 0).text() == "榆次区"
    assert page.history_table.item(0, 6).text() == str(3 * len(LEDGER_KEYS))
    assert page.pins_table.rowCount() == 1 and page.pins_table.item(0, 1).text() == keys.identity(county).display

    # The same file again: said so, nothing written.
    before = file_sha256(city)
    page.choose_package(path)
    qtbot.waitUntil(lambda: "导入过" in page.import_status.text(), timeout=WAIT_MS)
    assert not page.import_button.isEnabled() and file_sha256(city) == before


def test_a_refused_package_says_why_on_the_page_and_changes_nothing(qtbot, county, city, tmp_path):
    path = exported(county, tmp_path)
    bad = tmp_path / "被改过.jzpkg"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            zout.writestr(info.filename, body.replace(b"\xe7\x8e\x8b", b"\xe6\x9d\x8e") if info.filename == "heating.jsonl"
                          else body)
    page = page_for(qtbot, city)  # opening the page makes this installation's key (once)
    before = file_sha256(city)
    page.choose_package(bad)
    qtbot.waitUntil(lambda: "未导入" in page.import_status.text(), timeout=WAIT_MS)
    text = page.import_status.text()
    assert "被拒绝" in text and "heating.jsonl 的校验值（SHA-256）与清单不符" in text and "未做任何改动" in text
    assert not page.import_button.isEnabled() and not page.preview_box.isVisible()
    assert file_sha256(city) == before


def test_re_pinning_through_the_dialog(qtbot, county, city, tmp_path):
    page = page_for(qtbot, city)
    seen: list[RepinDialog] = []

    def run(dialog: QDialog) -> bool:
        seen.append(dialog)
        dialog.scope_combo.setCurrentIndex(dialog.scope_combo.findData(YUCI))
        dialog.fingerprint_edit.setText("12ab")
        dialog.apply()
        assert "公钥指纹格式不正确" in dialog.error.text()
        dialog.fingerprint_edit.setText(keys.identity(county).display.lower())
        dialog.reason_edit.setText("首次使用前电话核对")
        dialog.apply()
        return dialog.result() == QDialog.DialogCode.Accepted

    page.exec_dialog = run
    page.repin_button.click()
    assert seen and seen[0].result_pin is not None and seen[0].result_pin.changed
    assert page.pins_table.rowCount() == 1 and page.pins_table.item(0, 2).text() == "按指纹绑定"
    assert "原指纹：（未绑定）" in page.pin_status.text() and keys.identity(county).display in page.pin_status.text()
    # A re-pin shows the fingerprint pinned now before it is replaced, and both after.
    old = keys.identity(county).display

    def again(dialog: QDialog) -> bool:
        assert dialog.current_label.text() == old
        dialog.grab().save(str(shot_dir() / "repin-dialog.png"))
        dialog.fingerprint_edit.setText("cd" * 32)
        dialog.apply()
        return dialog.result() == QDialog.DialogCode.Accepted

    page.exec_dialog = again
    page.pins_table.setCurrentCell(0, 0)
    page.repin_button.click()
    assert f"原指纹：{old}" in page.pin_status.text() and "新指纹：CDCD" in page.pin_status.text()
    page.tabs.setCurrentIndex(page.tabs.count() - 1)
    page.grab().save(str(shot_dir() / "packages-after-repin.png"))


def shot_dir() -> Path:
    folder = Path("/tmp/shots/trust")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
def test_what_a_county_clerk_and_a_viewer_may_do(qtbot, county):
    accounts.add_user(county, BUILTIN_ADMIN, "王主任", "city_admin", "admin-pass-1")
    admin = Actor("王主任", "city_admin")
    accounts.add_user(county, admin, "李四", "county_clerk", "yuci-pass-1", unit=YUCI)
    accounts.add_user(county, admin, "钱七", "viewer", "viewer-pass-1")
    clerk = page_for(qtbot, county, Actor("李四", "county_clerk", YUCI))
    assert clerk.unit_combo.currentData() == YUCI and not clerk.unit_combo.isEnabled()
    assert clerk.export_button.isEnabled() and not hasattr(clerk, "targets_button")
    viewer = page_for(qtbot, county, Actor("钱七", "viewer"))
    assert not viewer.export_button.isEnabled() and not viewer.repin_button.isEnabled()
    city_admin = page_for(qtbot, county, admin)
    assert city_admin.unit_combo.isEnabled() and city_admin.targets_button.isEnabled()


def test_export_of_the_targets_package_from_the_page(qtbot, city, tmp_path):
    page = page_for(qtbot, city)
    target = tmp_path / "任务包.jzpkg"
    page.ask_save_path = lambda title, name: target
    page.targets_button.click()
    qtbot.waitUntil(lambda: page.last_export is not None, timeout=WAIT_MS)
    assert page.last_export.kind == "targets" and "市级任务包第 1 号" in page.export_result.text()
    assert jzpkg.read_package(target, schema_revision=migrate.head_revision()).kind == "targets"


@pytest.mark.slow
def test_a_forked_county_chain_is_shown_and_taken_only_with_a_reason(qtbot, county, city, tmp_path):
    from jzair_desktop.services import backup as bk
    from jzair_desktop.services.packages import importer as imp

    imp.import_package(city, exported(county, tmp_path, "1.jzpkg"), actor=BUILTIN_ADMIN)
    older = bk.make_backup(county, tmp_path / "较早.jzbak").path
    uuid = ledgers.list_records(county, "trucks", limit=1)[0].uuid
    ledgers.update_record(county, "trucks", uuid, {**raw("trucks", 0), "remarks": "恢复前"}, actor=BUILTIN_ADMIN,
                          today=TODAY)
    imp.import_package(city, exported(county, tmp_path, "2.jzpkg"), actor=BUILTIN_ADMIN)
    path = county.path
    county.dispose()
    bk.restore_backup(path, older)
    exported(county, tmp_path, "重2.jzpkg")
    forked = exported(county, tmp_path, "重3.jzpkg")

    page = page_for(qtbot, city)
    page.tabs.setCurrentIndex(1)
    page.choose_package(forked)
    qtbot.waitUntil(page.import_button.isEnabled, timeout=WAIT_MS)
    assert "审计链分叉" in page.preview_warnings.text() and "确认导入时须填写原因" in page.preview_warnings.text()
    SHOTS.mkdir(exist_ok=True)
    page.grab().save(str(SHOTS / "package_page_fork.png"))
    asked: list[str] = []
    page.ask_fork_reason = lambda preview: asked.append(preview.chain_note) or None  # cancelled
    page.import_button.click()
    assert asked and "分叉" in asked[0] and len(imp.import_history(city)) == 2
    page.ask_fork_reason = lambda preview: "县里从备份恢复，已电话核实"
    page.import_button.click()
    qtbot.waitUntil(lambda: "已导入" in page.import_status.text(), timeout=WAIT_MS)
    assert len(imp.import_history(city)) == 3


def test_the_preview_lists_the_milestones_a_county_package_carries(qtbot, county, city, tmp_path):
    milestones.set_milestone(county, BUILTIN_ADMIN, "mines.survey", "榆次区", "2020-12-10", "榆次区露天矿山清单",
                             today=TODAY)
    path = exported(county, tmp_path)
    page = page_for(qtbot, city)
    page.tabs.setCurrentIndex(1)
    page.ask_open_path = lambda: path
    page.choose_button.click()
    qtbot.waitUntil(page.import_button.isEnabled, timeout=WAIT_MS)
    rows = {page.preview_table.item(r, 0).text(): [page.preview_table.item(r, c).text() for c in range(1, 5)]
            for r in range(page.preview_table.rowCount())}
    assert rows["节点任务"] == ["1", "0", "0", "0"]
    shots = SHOTS / "milestones"
    shots.mkdir(parents=True, exist_ok=True)
    page.grab().save(str(shots / "package_preview_milestones.png"))
    page.import_button.click()
    qtbot.waitUntil(lambda: "已导入" in page.import_status.text(), timeout=WAIT_MS)
    row = next(r for r in compute_progress(city, dt.date(2021, 1, 31))
               if r.indicator == "mines.survey" and r.unit_code == YUCI)
    assert (row.status, row.evidence) == ("done", "榆次区露天矿山清单")
