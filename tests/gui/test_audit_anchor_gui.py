"""The audit page (校验完整性, 对照文件核验) with the chain anchored outside the database: a rewrite of the whole
trail that the file alone cannot show is shown against a backup, in Chinese, naming the backup."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jzair_desktop.gui.pages.audit import AuditPage
from jzair_desktop.services import audit
from jzair_desktop.services import backup as bk
from jzair_desktop.services import ledgers as svc
from tests.gui.test_admin_gui import _app, boxes, ctx_of, shown, users  # noqa: F401
from tests.services.admin_helpers import fast_hasher, make_users, query, raw, sql  # noqa: F401

SHOTS = Path("/tmp/shots/audit")
TODAY = dt.date(2021, 1, 15)
COLUMNS = ("seq", "at", "user_name", "role", "action", "ledger", "record_uuid", "unit_code", "before_json",
           "after_json", "detail", "prev_hash", "hash")


def _rewrite_everything(db_path) -> None:
    """Every entry's detail changed and every hash recomputed: consistent in itself."""
    rows = [dict(zip(COLUMNS, r, strict=True))
            for r in query(db_path, f"SELECT {', '.join(COLUMNS)} FROM audit_log ORDER BY seq")]
    prev = audit.GENESIS
    for e in rows:
        e["detail"] = (e["detail"] or "") + "（改写）"
        e["hash"] = audit.entry_hash(prev, e["seq"], dt.datetime.fromisoformat(e["at"]), e["user_name"], e["role"],
                                     e["action"], e["ledger"], e["record_uuid"], e["unit_code"], e["before_json"],
                                     e["after_json"], e["detail"])
        sql(db_path, "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (e["detail"], prev, e["hash"], e["seq"]))
        prev = e["hash"]


def test_verify_against_a_backup_on_the_audit_page(qtbot, db, db_path, users, boxes, tmp_path):  # noqa: F811
    svc.create_record(db, "heating", raw("heating", 1), actor=users["yuci"], today=TODAY)
    backup = bk.make_backup(db, tmp_path / "备份.jzbak").path
    page = shown(qtbot, AuditPage(ctx_of(db, users["admin"])), (1200, 720))
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.verify_against(str(backup))
    qtbot.waitUntil(lambda: page.verify_button.isEnabled(), timeout=20000)
    text = page.verify_state.text()
    assert "审计记录完整（审计链 #" in text and "与备份“备份.jzbak”" in text and "记录的审计链位置一致" in text
    assert page.grab().save(str(SHOTS / "audit_page_against_ok.png"))

    _rewrite_everything(db_path)
    page.run_verify()
    qtbot.waitUntil(lambda: page.verify_button.isEnabled(), timeout=20000)
    assert "审计记录完整" in page.verify_state.text()  # the file alone cannot tell
    page.verify_against(str(backup))
    qtbot.waitUntil(lambda: page.verify_button.isEnabled(), timeout=20000)
    assert "校验未通过" in page.verify_state.text()
    title, message = boxes.shown[-1][1], boxes.shown[-1][2]
    assert title == "审计校验未通过" and "备份“备份.jzbak”" in message and "已被改写" in message
    assert page.grab().save(str(SHOTS / "audit_page_against_rewritten.png"))

    page.verify_against(str(tmp_path))  # a folder, not an anchor: said, nothing run
    assert "找不到文件" in boxes.shown[-1][2]
