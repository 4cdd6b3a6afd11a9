"""The audit trail: every write path leaves an entry; `verify` catches changes made with plain SQL on the
database file (an edited record, an edited / deleted / reordered audit entry, records slipped in or
removed, evidence bytes, submission figures, a role raised); the CLI exits non-zero naming them."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import JzairError
from jzair_desktop.services import audit, closeout, submission
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import baseline, ensure_started, verify
from tests.dbtemplate import cli_db_args
from tests.services.admin_helpers import JIEXIU, JPEG, YUCI, fast_hasher, make_users, query, raw, sql  # noqa: F401

TODAY = dt.date(2021, 1, 15)


def _new(db, key, n, unit=YUCI, actor=BUILTIN_ADMIN, **over):
    return svc.create_record(db, key, raw(key, n, unit, **over), actor=actor, today=TODAY).uuid


@pytest.fixture
def filled(db):
    """Records of every ledger created, updated, deleted and restored through the services."""
    uuids = {}
    for key in LEDGER_KEYS:
        a = _new(db, key, 1)
        b = _new(db, key, 2, JIEXIU)
        svc.update_record(db, key, a, {**raw(key, 1, YUCI), "remarks": "第一次修改"}, actor=BUILTIN_ADMIN, today=TODAY)
        svc.delete_record(db, key, b, actor=BUILTIN_ADMIN)
        svc.restore_record(db, key, b, actor=BUILTIN_ADMIN)
        svc.delete_record(db, key, b, actor=BUILTIN_ADMIN)
        uuids[key] = (a, b)
    return uuids


def _cli_verify(db, capsys):
    code = cli_main([*cli_db_args(db), "audit", "verify"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_every_write_is_audited_and_verify_passes(db, db_path, filled, capsys):
    for key, (a, b) in filled.items():
        hist = audit.record_history(db, key, a)
        assert [h.action for h in hist] == ["create", "update"]
        assert hist[1].before["remarks"] is None and hist[1].after["remarks"] == "第一次修改"
        assert hist[1].user_name == BUILTIN_ADMIN.name
        assert [h.action for h in audit.record_history(db, key, b)] == ["create", "delete", "restore", "delete"]
    report = verify(db)
    assert report.ok, report.findings
    assert report.entries == len(LEDGER_KEYS) * 6 and report.records == 2 * len(LEDGER_KEYS)
    code, text = _cli_verify(db, capsys)
    assert code == 0 and "审计记录完整" in text


def test_bulk_insert_and_update_are_audited_per_record_plus_a_summary(db):
    rows = [check_record("trucks", raw("trucks", n, YUCI), today=TODAY).values for n in range(1, 301)]
    with svc.write_records(db) as s:
        assert svc.insert_many(s, "trucks", rows, actor=BUILTIN_ADMIN, batch=128) == 300
    entries = audit.query_log(db, limit=None, newest_first=False)
    assert [e.action for e in entries] == ["create"] * 300 + ["import"]
    assert "300" in entries[-1].detail
    uuid = entries[5].record_uuid
    with svc.write_records(db) as s:
        svc.update_values(s, "trucks", uuid, {"owner": "新车主"}, actor=BUILTIN_ADMIN)
        svc.update_values(s, "trucks", uuid, {"owner": "新车主"}, actor=BUILTIN_ADMIN)  # no change: no entry
    hist = audit.record_history(db, "trucks", uuid)
    assert [h.action for h in hist] == ["create", "update"]
    assert audit.changed_fields(hist[1].before, hist[1].after) == ["owner"]
    assert verify(db).ok


def test_edited_record_is_named_with_ledger_uuid_and_field(db, db_path, filled, capsys):
    a, _ = filled["heating"]
    sql(db, "UPDATE heating SET householder = '李假名' WHERE uuid = ?", (a,))
    report = verify(db)
    assert not report.ok
    f = report.first
    assert (f.kind, f.ledger, f.record_uuid, f.field) == ("record", "heating", a, "householder")
    assert "户主姓名" in f.message and "李假名" in f.message and "王建国1" in f.message
    code, text = _cli_verify(db, capsys)
    assert code != 0 and a in text and "户主姓名" in text


def test_edited_date_and_number_are_caught(db, db_path, filled):
    a, _ = filled["boilers"]
    sql(db, "UPDATE boilers SET actual_date = '2020-09-30' WHERE uuid = ?", (a,))
    assert verify(db).first.field == "actual_date"
    sql(db, "UPDATE boilers SET actual_date = '2020-11-20', capacity_th = 4.5 WHERE uuid = ?", (a,))
    assert verify(db).first.field == "capacity_th"
    sql(db, "UPDATE boilers SET capacity_th = 4 WHERE uuid = ?", (a,))  # back to the audited value
    assert verify(db).ok


def test_undeleting_a_record_outside_the_app_is_caught(db, db_path, filled):
    _, b = filled["vocs"]
    sql(db, "UPDATE vocs SET deleted_at = NULL, deleted_by = NULL WHERE uuid = ?", (b,))
    f = verify(db).first
    assert (f.record_uuid, f.field) == (b, "deleted_at") and "删除时间" in f.message


def test_edited_audit_entry_names_its_seq_time_and_user(db, db_path, filled, capsys):
    seq, at, user = query(db, "SELECT seq, at, user_name FROM audit_log WHERE seq = 7")[0]
    at = str(at)  # ISO text from SQLite, a datetime from PostgreSQL: the same text to the second
    sql(db, "UPDATE audit_log SET detail = '无关紧要' WHERE seq = 7")
    report = verify(db)
    f = report.first
    assert (f.kind, f.seq, f.user_name) == ("chain", 7, user)
    assert f.at == at[:19] and "第 7 条" in f.message and "已被改动" in f.message
    code, text = _cli_verify(db, capsys)
    assert code != 0 and "第 7 条审计记录" in text and at[:19] in text and user in text


def test_rewriting_history_to_match_an_edited_record_is_caught(db, db_path, filled):
    """Someone edits a record and the after-state of its latest entry alike (but cannot fix the hash)."""
    a, _ = filled["kilns"]
    seq, after = query(db, "SELECT seq, after_json FROM audit_log WHERE record_uuid = ? ORDER BY seq DESC", (a,))[0]
    state = json.loads(after)
    state["content"] = "伪造的治理内容"
    sql(db, "UPDATE kilns SET content = '伪造的治理内容' WHERE uuid = ?", (a,))
    sql(db, "UPDATE audit_log SET after_json = ? WHERE seq = ?", (audit.canonical_json(state), seq))
    report = verify(db)
    assert [f.kind for f in report.findings] == ["chain"] and report.first.seq == seq


@pytest.mark.slow
def test_deleted_audit_entry(db, db_path, filled, capsys):
    sql(db, "DELETE FROM audit_log WHERE seq = 4")
    report = verify(db)
    f = report.first
    assert f.kind == "chain" and f.seq == 5 and "第 4 条缺失" in f.message
    code, text = _cli_verify(db, capsys)
    assert code != 0 and "第 4 条缺失" in text


def test_deleted_newest_entry_of_a_change_is_caught_by_the_data_check(db, db_path, filled):
    (top,) = query(db, "SELECT max(seq) FROM audit_log")[0]
    sql(db, "DELETE FROM audit_log WHERE seq = ?", (top,))
    f = verify(db).first
    assert f.kind == "record" and f.field == "deleted_at"


def test_reordered_chain(db, db_path, filled, capsys):
    # Swap entries 3 and 4 (each keeps its own content and hashes, only the order changes).
    sql(db, "UPDATE audit_log SET seq = -3 WHERE seq = 3")
    sql(db, "UPDATE audit_log SET seq = 3 WHERE seq = 4")
    sql(db, "UPDATE audit_log SET seq = 4 WHERE seq = -3")
    report = verify(db)
    assert report.first.kind == "chain" and report.first.seq == 3
    assert "链接不符" in report.first.message or "已被改动" in report.first.message
    code, text = _cli_verify(db, capsys)
    assert code != 0 and "第 3 条审计记录" in text


def test_reordered_by_time_is_caught(db, db_path, filled):
    at3 = query(db, "SELECT at FROM audit_log WHERE seq = 3")[0][0]
    at9 = query(db, "SELECT at FROM audit_log WHERE seq = 9")[0][0]
    sql(db, "UPDATE audit_log SET at = ? WHERE seq = 3", (at9,))
    sql(db, "UPDATE audit_log SET at = ? WHERE seq = 9", (at3,))
    assert at3 != at9
    assert verify(db).first.seq == 3


def test_record_inserted_or_removed_outside_the_app(db, db_path, filled):
    a, _ = filled["trucks"]
    cols = "plate, vin, emission_std, vehicle_type, owner, usage, method, eliminated_date, subsidy_yuan, uuid, " \
           "unit_code, created_at, created_by, updated_at, updated_by, remarks"
    sql(db, f"INSERT INTO trucks ({cols}) SELECT 'X' || plate, vin, emission_std, vehicle_type, owner, usage, "
                 "method, eliminated_date, subsidy_yuan, 'fake-uuid', unit_code, created_at, created_by, updated_at, "
                 f"updated_by, remarks FROM trucks WHERE uuid = '{a}'")
    f = verify(db).first
    assert f.record_uuid == "fake-uuid" and "没有任何审计记录" in f.message
    sql(db, "DELETE FROM trucks WHERE uuid = 'fake-uuid'")
    assert verify(db).ok
    sql(db, "DELETE FROM trucks WHERE uuid = ?", (a,))
    f = verify(db).first
    assert f.record_uuid == a and "消失" in f.message


def test_evidence_submission_and_user_tampering(db, db_path, tmp_path, fast_hasher):  # noqa: F811
    users = make_users(db)
    clerk, admin = users["yuci"], users["admin"]
    uuid = _new(db, "boilers", 1, actor=clerk)
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(JPEG)
    closeout.close_out(db, "boilers", uuid, "张审核", clerk, evidence=[photo])
    submission.submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    assert verify(db).ok

    sql(db, "UPDATE evidence_files SET data = ?", (JPEG + b"x",))
    f = verify(db).first
    assert f.kind == "evidence" and "SHA-256" in f.message
    sql(db, "UPDATE evidence_files SET data = ?", (JPEG,))

    sql(db, "UPDATE closeouts SET reviewer = '别人'")
    f = verify(db).first
    assert f.kind == "record" and f.field == "closeout_reviewer" and "销号审核人" in f.message
    sql(db, "UPDATE closeouts SET reviewer = '张审核'")

    figures = query(db, "SELECT figures_json FROM month_submissions")[0][0]
    sql(db, "UPDATE month_submissions SET figures_json = ?", (figures.replace('"done":1.0', '"done":99.0'),))
    assert '"done":1.0' in figures
    f = verify(db).first
    assert f.kind == "submission" and f.field == "figures"
    sql(db, "UPDATE month_submissions SET figures_json = ?", (figures,))
    sql(db, "UPDATE month_submissions SET status = 'unlocked'")
    assert verify(db).first.field == "status"
    sql(db, "UPDATE month_submissions SET status = 'submitted'")

    sql(db, "UPDATE users SET role = 'city_admin' WHERE name = '钱七'")
    f = verify(db).first
    assert f.kind == "user" and f.field == "role" and "钱七" in f.message
    sql(db, "UPDATE users SET role = 'viewer' WHERE name = '钱七'")
    sql(db, "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE name = '王主任') "
                 "WHERE name = '李四'")
    assert verify(db).first.field == "password"
    assert admin.name == "王主任"


def test_an_emptied_trail_is_never_re_baselined_silently_only_by_an_audited_act(db, db_path, filled):
    """Changed rule: opening a database whose trail was emptied used to register every record as it is
    (a silent re-baseline hiding whatever was changed meanwhile); now nothing is written until a city
    administrator re-baselines with a reason, which is itself an audit entry."""
    a, _ = filled["heating"]
    sql(db, "DELETE FROM audit_log")  # as a database from before revision 0002 would be
    assert not verify(db).ok
    assert ensure_started(db) == 0 and query(db, "SELECT count(*) FROM audit_log")[0][0] == 0
    with pytest.raises(JzairError, match="原因"):
        baseline(db, BUILTIN_ADMIN, "  ")
    assert baseline(db, BUILTIN_ADMIN, "由旧版本升级") == 2 * len(LEDGER_KEYS)
    assert verify(db).ok
    assert [h.action for h in audit.record_history(db, "heating", a)] == ["baseline"]
    last = audit.query_log(db, limit=1)[0]
    assert last.action == "rebaseline" and "由旧版本升级" in last.detail and last.user_name == BUILTIN_ADMIN.name
    # A record slipped in later stays unaudited and is reported.
    sql(db, "UPDATE heating SET village = '改过的村' WHERE uuid = ?", (a,))
    assert ensure_started(db) == 0
    assert verify(db).first.field == "village"


def test_audit_log_cli_filters(db, db_path, filled, capsys):
    a, _ = filled["heating"]
    assert cli_main([*cli_db_args(db), "audit", "log", "--record", a]) == 0
    out = capsys.readouterr().out
    # the record by its 户主 and masked 身份证号, never its uuid (the uuid was shown before the audit text rule)
    assert "新增" in out and "修改" in out and "备注" in out and a not in out
    assert len(re.findall(r"清洁取暖\s+\S+（\d{6}\*{8}[\dX]{4}）", out)) == 2
    assert cli_main([*cli_db_args(db), "audit", "log", "--user", "没有这个人"]) == 0
    assert "没有符合条件" in capsys.readouterr().out
    assert cli_main([*cli_db_args(db), "audit", "log", "--since", "2099-01-01"]) == 0
    assert "没有符合条件" in capsys.readouterr().out
    assert cli_main([*cli_db_args(db), "audit", "log", "--since", "2000-01-01", "--json", "--limit", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 6 * len(LEDGER_KEYS) and data[0]["seq"] == 6 * len(LEDGER_KEYS)
    ids = [e["after"]["id_number"] for e in data if e["ledger"] == "heating" and e["after"]]
    assert ids and all("********" in i for i in ids)  # personal data masked without a login
    assert cli_main([*cli_db_args(db), "audit", "log", "--since", "昨天"]) != 0
    assert "--since" in capsys.readouterr().err
