"""Close-out (销号): evidence checked by content and size, the reviewer required, 已销号 never set directly,
closed records read-only except for a city_admin with a reason; refusals change nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from jzair_desktop.cli import main as cli_main
from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import JzairError, PermissionDenied, ValidationFailed
from jzair_desktop.services import audit, closeout
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.closeout import MAX_EVIDENCE_BYTES
from jzair_desktop.services.submission import submit_month
from tests.dbtemplate import cli_db_args
from tests.services.admin_helpers import PASSWORDS, YUCI, fast_hasher, make_users, raw, snapshot  # noqa: F401

TODAY = dt.date(2021, 1, 15)


def photo(path, fmt="JPEG"):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 60)).save(buf, fmt)
    path.write_bytes(buf.getvalue())
    return path


def pdf(path):
    c = canvas.Canvas(str(path))
    c.drawString(72, 720, "closeout evidence")
    c.save()
    return path


@pytest.fixture
def users(db, fast_hasher):  # noqa: F811
    return make_users(db)


@pytest.fixture
def boiler(db, users):
    return svc.create_record(db, "boilers", raw("boilers", 1), actor=users["yuci"], today=TODAY).uuid


@pytest.mark.parametrize("key", ["boilers", "kilns", "vocs"])
def test_close_out_with_evidence_and_reviewer(db, users, tmp_path, key):
    clerk = users["yuci"]
    uuid = svc.create_record(db, key, raw(key, 1), actor=clerk, today=TODAY).uuid
    files = [photo(tmp_path / "现场照片.jpg"), photo(tmp_path / "铭牌.png", "PNG"), pdf(tmp_path / "验收单.pdf")]
    info = closeout.close_out(db, key, uuid, "张审核", clerk, evidence=files)
    assert info.reviewer == "张审核" and info.closed_by == "李四"
    assert [(e.file_name, e.mime) for e in info.evidence] == [
        ("现场照片.jpg", "image/jpeg"), ("铭牌.png", "image/png"), ("验收单.pdf", "application/pdf")]
    assert svc.get_record(db, key, uuid).values["status"] == "已销号"
    stored, data = closeout.evidence_bytes(db, info.evidence[2].id)
    assert data == files[2].read_bytes() and stored.size == len(data)
    hist = audit.record_history(db, key, uuid)
    assert [h.action for h in hist] == ["create", "evidence", "evidence", "evidence", "closeout"]
    assert hist[-1].after["closeout_reviewer"] == "张审核" and hist[-1].before["status"] == "已完成"
    assert closeout.closeout_info(db, key, uuid).reviewer == "张审核"
    assert verify(db).ok


def test_refusals_change_nothing(db, db_path, users, boiler, tmp_path):
    clerk = users["yuci"]
    big = tmp_path / "大照片.jpg"
    big.write_bytes(photo(tmp_path / "x.jpg").read_bytes() + b"\0" * MAX_EVIDENCE_BYTES)
    text_as_jpg = tmp_path / "照片.jpg"
    text_as_jpg.write_text("这不是照片，是一段文字。", encoding="utf-8")
    png_as_jpg = photo(tmp_path / "改了扩展名.jpg", "PNG")
    exe = tmp_path / "程序.pdf"
    exe.write_bytes(b"MZ\x90\x00" + b"\0" * 100)
    good = photo(tmp_path / "现场.jpg")
    before = snapshot(db)
    cases = [
        (lambda: closeout.close_out(db, "boilers", boiler, "张审核", clerk), ValidationFailed, "没有佐证材料"),
        (lambda: closeout.close_out(db, "boilers", boiler, "  ", clerk, evidence=[good]), JzairError, "审核人"),
        (lambda: closeout.close_out(db, "boilers", boiler, "张审核", clerk, evidence=[big]), JzairError, "10 MB"),
        (lambda: closeout.attach_evidence(db, "boilers", boiler, big, clerk), JzairError, "太大"),
        (lambda: closeout.close_out(db, "boilers", boiler, "张审核", clerk, evidence=[text_as_jpg]), JzairError,
         "不是有效的"),
        (lambda: closeout.attach_evidence(db, "boilers", boiler, png_as_jpg, clerk), JzairError, "PNG"),
        (lambda: closeout.attach_evidence(db, "boilers", boiler, exe, clerk), JzairError, "不是有效的"),
        (lambda: closeout.attach_evidence(db, "boilers", boiler, tmp_path / "没有.jpg", clerk), JzairError, "不存在"),
        # A good file with a bad one: neither is stored.
        (lambda: closeout.close_out(db, "boilers", boiler, "张审核", clerk, evidence=[good, text_as_jpg]),
         JzairError, "照片.jpg"),
        (lambda: closeout.close_out(db, "boilers", boiler, "张审核", users["jiexiu"], evidence=[good]),
         PermissionDenied, "榆次区"),
        (lambda: closeout.close_out(db, "boilers", boiler, "张审核", users["viewer"], evidence=[good]),
         PermissionDenied, "只读"),
        (lambda: closeout.close_out(db, "heating", boiler, "张审核", clerk, evidence=[good]), JzairError,
         "没有“已销号”状态"),
        # 已销号 set directly, by the form, the import or a bulk update.
        (lambda: svc.update_record(db, "boilers", boiler, {**raw("boilers", 1), "status": "已销号"}, actor=clerk,
                                   today=TODAY), ValidationFailed, "jzair closeout"),
        (lambda: svc.create_record(db, "boilers", raw("boilers", 2, status="已销号"), actor=users["admin"],
                                   today=TODAY), ValidationFailed, "佐证材料"),
        (lambda: _bulk_insert(db, users["admin"], check_record("boilers", raw("boilers", 3, status="已销号"),
                                                               today=TODAY).values), ValidationFailed, "佐证材料"),
        (lambda: _bulk_update(db, users["admin"], boiler, status="已销号"), ValidationFailed, "审核人"),
    ]
    for attempt, error, words in cases:
        with pytest.raises(error) as err:
            attempt()
        assert words in str(err.value), str(err.value)
        assert snapshot(db) == before, words


def _bulk_insert(db, actor, values):
    with svc.write_records(db) as s:
        svc.insert_many(s, "boilers", [values], actor=actor)


def _bulk_update(db, actor, uuid, **changes):
    with svc.write_records(db) as s:
        svc.update_values(s, "boilers", uuid, changes, actor=actor)


def test_open_record_needs_a_done_date(db, users, tmp_path):
    clerk = users["yuci"]
    uuid = svc.create_record(db, "kilns", raw("kilns", 1, status="施工中", actual_date=""), actor=clerk,
                             today=TODAY).uuid
    with pytest.raises(ValidationFailed, match="实际完成日期"):
        closeout.close_out(db, "kilns", uuid, "张审核", clerk, evidence=[photo(tmp_path / "a.jpg")])
    assert closeout.list_evidence(db, "kilns", uuid) == []


def test_closed_record_is_read_only_except_for_city_admin_with_reason(db, db_path, users, boiler, tmp_path):
    clerk, admin = users["yuci"], users["admin"]
    closeout.attach_evidence(db, "boilers", boiler, photo(tmp_path / "现场.jpg"), clerk)
    closeout.close_out(db, "boilers", boiler, "张审核", clerk)
    closed = {**raw("boilers", 1), "status": "已销号"}
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="已销号"):
        svc.update_record(db, "boilers", boiler, {**closed, "remarks": "改"}, actor=clerk, today=TODAY)
    with pytest.raises(PermissionDenied, match="已销号"):
        svc.delete_record(db, "boilers", boiler, actor=clerk)
    with pytest.raises(JzairError, match="只有市级管理员可以补充"):
        closeout.attach_evidence(db, "boilers", boiler, photo(tmp_path / "补充.jpg"), clerk)
    with pytest.raises(JzairError, match="必须填写原因"):
        svc.update_record(db, "boilers", boiler, {**closed, "remarks": "改"}, actor=admin, today=TODAY)
    with pytest.raises(JzairError, match="必须填写原因"):
        _bulk_update(db, admin, boiler, remarks="导入改")
    with pytest.raises(JzairError, match="已经销号"):
        closeout.close_out(db, "boilers", boiler, "张审核", admin)
    assert snapshot(db) == before

    svc.update_record(db, "boilers", boiler, {**closed, "remarks": "补录锅炉编号"}, actor=admin, today=TODAY,
                      reason="县里报错了锅炉编号")
    entry = audit.record_history(db, "boilers", boiler)[-1]
    assert entry.user_name == "王主任" and "县里报错了锅炉编号" in entry.detail
    assert entry.after["closeout_reviewer"] == "张审核"
    # Reopened by the city: the close-out no longer applies, the record is writable again.
    svc.update_record(db, "boilers", boiler, {**closed, "status": "已完成"}, actor=admin, today=TODAY,
                      reason="现场复查未通过")
    assert closeout.closeout_info(db, "boilers", boiler) is None
    assert audit.record_history(db, "boilers", boiler)[-1].after["closeout_reviewer"] is None
    svc.update_record(db, "boilers", boiler, {**raw("boilers", 1), "remarks": "整改中"}, actor=clerk, today=TODAY)
    assert len(closeout.list_evidence(db, "boilers", boiler)) == 1
    assert verify(db).ok


def test_close_out_of_done_work_in_a_submitted_month(db, users, boiler, tmp_path):
    """已完成 → 已销号 does not change a submitted figure: allowed in a locked month; open work is not."""
    clerk = users["yuci"]
    submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    closeout.close_out(db, "boilers", boiler, "张审核", clerk, evidence=[photo(tmp_path / "a.jpg")])
    assert svc.get_record(db, "boilers", boiler).values["status"] == "已销号"


def test_cli_closeout(db, db_path, users, boiler, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["李四"])
    base = [*cli_db_args(db), "--user", "李四", "closeout", "boilers", boiler]
    fake = tmp_path / "伪装.jpg"
    fake.write_text("文字", encoding="utf-8")
    assert cli_main([*base, "--evidence", str(fake), "--reviewer", "张审核"]) != 0
    assert "不是有效的" in capsys.readouterr().err
    assert cli_main([*base, "--reviewer", "张审核"]) != 0
    assert "没有佐证材料" in capsys.readouterr().err
    good = photo(tmp_path / "现场.jpg")
    assert cli_main([*base, "--evidence", str(good), "--evidence", str(pdf(tmp_path / "验收.pdf")),
                     "--reviewer", "张审核"]) == 0
    out = capsys.readouterr().out
    assert "已销号" in out and "现场.jpg" in out and "验收.pdf" in out and "SHA-256" in out
    assert svc.get_record(db, "boilers", boiler).values["status"] == "已销号"
    assert svc.get_record(db, "boilers", boiler).values["unit_code"] == YUCI
