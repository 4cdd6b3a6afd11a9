"""审计日志, 修改历史 and `jzair audit log` in Chinese: every text shown for a database with many kinds of audited
actions is scanned for English identifiers, uuids and hashes. Screenshots go to /tmp/shots/history/."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTableWidget

from jzair_desktop import demo
from jzair_desktop.cli import main
from jzair_desktop.domain.ledgers import LEDGERS
from jzair_desktop.gui import qtsetup
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs.history import HistoryDialog
from jzair_desktop.gui.pages.audit import AuditPage
from jzair_desktop.services import accounts, air, audit, audit_text, submission, targets
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import load_reference_data, open_database
from jzair_desktop.storage.engine import sqlite_url
from tests.services.admin_helpers import fast_hasher, raw  # noqa: F401

SHOTS = Path("/tmp/shots/history")
PASSWORD = "City-Pass-2020"
TODAY = dt.date(2021, 1, 15)

# What must never reach a person: a uuid, a hash or hex digest (16+ hex digits), an English identifier of the
# code (snake_case or dotted keys such as monthly_figures, rail.freight_increase, pm25, a key@unit@month).
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
HEX = re.compile(r"(?<![0-9A-Za-z])(?=[0-9]*[a-f])[0-9a-f]{16,}(?![0-9A-Za-z])", re.I)  # not a 身份证号
IDENT = re.compile(r"[A-Za-z]+_[A-Za-z_]+|[a-z]+\.[a-z_]+|\bpm25\b|@\d{4}|\b(?:heating|trucks|boilers|kilns|vocs|users|"
                   r"submissions|installation|packages|milestones|county_targets|password|baselines|grade)\b")


def leaks(text: str) -> list[str]:
    return [m.group(0) for rx in (UUID, HEX, IDENT) for m in rx.finditer(text)]


@pytest.fixture(scope="module")
def audited_template(tmp_path_factory):
    """A database with the demo (records of every ledger, evidence, monthly figures, air quality, grades, targets,
    milestones) and, on top, accounts, a password change, a failed login, an edit, a delete and a restore, a
    close-out, a month submitted and unlocked, an air-quality target."""
    path = tmp_path_factory.mktemp("audited") / "审计.sqlite3"
    db, _ = open_database(sqlite_url(path), create=True)
    load_reference_data(db)
    demo.generate_demo(db, scale=0.01, today=TODAY)
    accounts._HASHER = __import__("argon2").PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    admin = accounts.add_user(db, BUILTIN_ADMIN, "city01", "city_admin", PASSWORD).actor()
    accounts.add_user(db, admin, "taigu01", "county_clerk", "Taigu-Pass-2020", unit="太谷区")
    accounts.change_password(db, admin, "taigu01", "Taigu-Pass-2021")
    accounts.disable_user(db, admin, "taigu01")
    accounts.enable_user(db, admin, "taigu01")
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(db, "taigu01", "wrong")
    uuid = svc.create_record(db, "heating", raw("heating", 1), actor=admin, today=TODAY).uuid
    svc.update_record(db, "heating", uuid, {**raw("heating", 1), "householder": "王建军"}, actor=admin, today=TODAY)
    boiler = svc.create_record(db, "boilers", raw("boilers", 1), actor=admin, today=TODAY).uuid
    svc.delete_record(db, "boilers", boiler, actor=admin, reason="重复录入")
    svc.restore_record(db, "boilers", boiler, actor=admin, reason="误删")
    targets.set_target(db, admin, "trucks.eliminated", "太谷区", 9)
    air.set_air_quality_target(db, admin, "太谷区", "2020-10", "2020-12", pm25_max=60, heavy_days_max=5)
    submission.submit_month(db, "太谷区", "2020-11", admin)
    submission.unlock_month(db, "太谷区", "2020-11", "数据有误", admin)
    db.dispose()
    return path, uuid


@pytest.fixture
def audited(audited_template, tmp_path, monkeypatch, fast_hasher):  # noqa: F811
    src, uuid = audited_template
    path = tmp_path / "审计.sqlite3"
    shutil.copy(src, path)
    db, _ = open_database(sqlite_url(path))
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORD)
    yield db, path, uuid
    db.dispose()


@pytest.mark.slow
def test_the_database_holds_many_kinds_of_audited_actions(audited):
    db, _, _ = audited
    rows = audit.query_log(db, limit=None)
    kinds = {(r.action, r.ledger) for r in rows}
    subjects = {r.ledger for r in rows}
    assert {"users", "submissions", "monthly_figures", "air_quality", "air_quality_targets", "air_quality_basis",
            "county_targets", "milestones", *LEDGERS} <= subjects
    assert {"user_passwd", "login_failed", "update", "delete", "restore", "evidence", "submit", "unlock"} <= {
        a for a, _ in kinds}


def test_cli_audit_log_has_no_english_identifiers_uuids_or_hashes(audited, capsys):
    db, path, _ = audited
    capsys.readouterr()
    assert main(["--db", str(path), "--user", "city01", "audit", "log", "--limit", "0"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) > 1500
    assert leaks(out) == []
    assert "月度数据" in out and "2020年11月" in out and "密码已修改" in out
    assert re.search(r"清洁取暖\s+王建军（\d{6}\*{8}[\dX]{4}）", out)  # 户主 with a masked 身份证号
    assert "（校验值）" not in out


def _table_texts(table: QTableWidget) -> list[str]:
    texts = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    for r in range(table.rowCount()):
        for c in range(table.columnCount()):
            item = table.item(r, c)
            if item is not None:
                texts.append(item.text())
    return texts


@pytest.mark.slow
def test_audit_page_and_history_show_no_english_identifiers_uuids_or_hashes(qtbot, audited):
    qtsetup.make_application()
    SHOTS.mkdir(parents=True, exist_ok=True)
    db, _, uuid = audited
    ctx = GuiContext(db=db, actor=accounts.authenticate(db, "city01", PASSWORD), signals=DataSignals())
    page = AuditPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    qtbot.waitExposed(page)
    texts = _table_texts(page.table)
    rows = page.rows
    assert len(rows) > 500
    for r in range(page.table.rowCount()):  # the detail table of every entry
        page.table.selectRow(r)
        texts += _table_texts(page.detail)
    found = [(t, leaks(t)) for t in texts if leaks(t)]
    assert found == []
    # the examples of the issue
    by_subject = {page.table.item(r, 4).text() for r in range(page.table.rowCount())}
    assert {"月度数据", "空气质量", "任务目标", "节点任务", "用户", "月度上报", "清洁取暖"} <= by_subject
    records = {page.table.item(r, 6).text() for r in range(page.table.rowCount())}
    assert any(re.fullmatch(r".+ · 20\d\d年\d{1,2}月", t) for t in records)
    passwd = next(r for r, e in enumerate(rows) if e.action == "user_passwd")
    page.table.selectRow(passwd)
    assert "密码已修改" in page.table.item(passwd, 7).text()
    assert [(page.detail.item(r, 0).text(), page.detail.item(r, 2).text()) for r in range(page.detail.rowCount())
            if page.detail.item(r, 0).text() == "密码"] == [("密码", "已修改")]
    figure = next(r for r, e in enumerate(rows) if e.ledger == "monthly_figures")
    page.table.selectRow(figure)
    fields = {page.detail.item(r, 0).text(): page.detail.item(r, 2).text() for r in range(page.detail.rowCount())}
    assert {"指标", "月份", "数值"} <= set(fields)
    assert fields["县（区、市）"] in ("全市", page.table.item(figure, 5).text())
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", fields["修改时间"])
    page.table.scrollToTop()
    page.table.selectRow(passwd)
    assert page.grab().save(str(SHOTS / "audit_page_1366x768.png"))
    page.table.selectRow(figure)
    page.table.scrollTo(page.table.model().index(figure, 0))
    assert page.grab().save(str(SHOTS / "audit_page_figures_1366x768.png"))

    dialog = HistoryDialog(ctx, "heating", uuid)
    qtbot.addWidget(dialog)
    dialog.resize(1366, 768)
    dialog.show()
    qtbot.waitExposed(dialog)
    texts = [dialog.windowTitle(), dialog.title.text(), dialog.subtitle.text(), *_table_texts(dialog.entry_table)]
    for r in range(dialog.entry_table.rowCount()):
        dialog.entry_table.selectRow(r)
        texts += _table_texts(dialog.field_table)
    assert [(t, leaks(t)) for t in texts if leaks(t)] == []
    assert uuid not in " ".join(texts)
    dialog.entry_table.selectRow(dialog.entry_table.rowCount() - 1)
    assert dialog.grab().save(str(SHOTS / "history_dialog_1366x768.png"))


def test_describe_examples():
    row = audit.AuditRow(1, dt.datetime(2020, 12, 1), "a", "city_admin", "update", "monthly_figures",
                         "rail.freight_increase@city@2020-11", None, {"value": 1.0}, {"value": 2.0}, None, "0" * 64)
    text = audit_text.describe(row)
    assert (text.subject, text.record, text.unit) == ("月度数据", "铁路货运量较2017年增加 · 2020年11月", "")
    city = audit.AuditRow(1, dt.datetime(2020, 12, 1), "a", "city_admin", "create", "milestones",
                          "steel.xintai_ultra_low@140700", None, None, {"done_date": "2020-10-16"}, None, "0" * 64)
    assert audit_text.describe(city).unit == "全市"
    assert text.note == "改动：数值"
    user = audit.AuditRow(2, dt.datetime(2020, 12, 1), "a", "city_admin", "user_passwd", "users", "taigu01",
                          "140703", {"password": "aa"}, {"password": "bb"}, None, "0" * 64)
    assert audit_text.describe(user).note == "密码已修改"
    assert audit_text.detail_rows(user, mask_personal=False) == [("密码", "", "已修改", True)]
