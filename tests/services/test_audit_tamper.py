"""Issue 16 finding 4, each case written as the attack: the SQLite file is changed directly (plain sqlite3,
as someone with the file would), then `audit verify` must report it in Chinese, naming what and where.

Cases the file alone can show: an edited figure / air-quality / target row, an edited bookkeeping column,
an entry appended by someone who is no account, a deleted start marker (and nothing re-baselines it), a
truncated tail that exported packages still point to. Cases only a head kept outside can show (a tail
deleted together with its records, a rewritten entry with every later hash recomputed) are caught against
a package, a backup and a report PDF (`verify --against`), and against the fingerprint typed from paper.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.domain.ledgers import LEDGER_KEYS
from jzair_desktop.services import air, audit, monthly, targets
from jzair_desktop.services import backup as bk
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services import report as report_svc
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_anchor import Anchor, parse_short, read_anchor
from jzair_desktop.services.audit_verify import verify
from tests.dbtemplate import cli_db_args
from tests.services.admin_helpers import JIEXIU, YUCI, fast_hasher, query, raw, snapshot, sql  # noqa: F401

TODAY = dt.date(2021, 1, 15)
COLUMNS = ("seq", "at", "user_name", "role", "action", "ledger", "record_uuid", "unit_code", "before_json",
           "after_json", "detail", "prev_hash", "hash")


def _new(db, key, n, unit=YUCI):
    return svc.create_record(db, key, raw(key, n, unit), actor=BUILTIN_ADMIN, today=TODAY).uuid


@pytest.fixture
def filled(db):
    """Records of every ledger, a monthly figure, air quality, a county target and an air-quality target,
    all written through the services."""
    uuids = {key: _new(db, key, 1) for key in LEDGER_KEYS}
    _new(db, "heating", 2, JIEXIU)
    monthly.set_figure(db, BUILTIN_ADMIN, YUCI, "dust.sweeping", "2020-11", 71.5)
    air.set_air_quality(db, BUILTIN_ADMIN, YUCI, "2020-11", pm25=48.0, heavy_days=2)
    targets.set_target(db, BUILTIN_ADMIN, targets.splittable_indicators()[0].key, YUCI, 1234)
    air.set_air_quality_target(db, BUILTIN_ADMIN, YUCI, "2020-10", "2020-12", pm25_max=55.0)
    assert verify(db).ok, verify(db).findings
    return uuids


def _entries(db):
    return [dict(zip(COLUMNS, r, strict=True))
            for r in query(db, f"SELECT {', '.join(COLUMNS)} FROM audit_log ORDER BY seq")]


def _at(value) -> dt.datetime:
    """An entry's time as read by plain SQL: ISO text from SQLite, a datetime from PostgreSQL."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _rewrite_from(db, seq: int, change) -> None:
    """Rewrite entry `seq` with `change` and recompute its hash and every later one (a full rewrite)."""
    rows = _entries(db)
    prev = rows[seq - 2]["hash"] if seq > 1 else audit.GENESIS
    for e in rows[seq - 1:]:
        if e["seq"] == seq:
            change(e)
        e["prev_hash"] = prev
        e["hash"] = audit.entry_hash(prev, e["seq"], _at(e["at"]), e["user_name"], e["role"],
                                     e["action"], e["ledger"], e["record_uuid"], e["unit_code"], e["before_json"],
                                     e["after_json"], e["detail"])
        prev = e["hash"]
        sql(db, "UPDATE audit_log SET detail = ?, after_json = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (e["detail"], e["after_json"], e["prev_hash"], e["hash"], e["seq"]))


# --- what the file alone shows ----------------------------------------------------------------------


def test_edited_monthly_figure_is_reported(db, db_path, filled):
    sql(db, "UPDATE monthly_figures SET value = 99.5 WHERE unit_code = ?", (YUCI,))
    f = verify(db).first
    assert f.kind == "figure" and f.field == "value"
    assert "月度数据" in f.message and YUCI in f.message and "2020-11" in f.message and "99.5" in f.message


def test_edited_air_quality_is_reported(db, db_path, filled):
    sql(db, "UPDATE air_quality SET heavy_days = 0 WHERE area = ?", (YUCI,))
    f = verify(db).first
    assert f.kind == "air" and f.field == "heavy_days" and "重污染天数" in f.message and f"{YUCI} 2020-11" in f.message


def test_edited_county_target_is_reported(db, db_path, filled):
    sql(db, "UPDATE county_targets SET value = 10 WHERE unit_code = ?", (YUCI,))
    f = verify(db).first
    assert f.kind == "target" and f.field == "value" and "任务目标" in f.message and "1234" in f.message


def test_edited_air_quality_target_is_reported(db, db_path, filled):
    sql(db, "UPDATE air_quality_targets SET pm25_max = 80 WHERE area = ? AND first_month = '2020-10'", (YUCI,))
    f = verify(db).first
    assert f.kind == "air_target" and f.field == "pm25_max" and "空气质量目标" in f.message


def test_deleted_figure_row_is_reported(db, db_path, filled):
    sql(db, "DELETE FROM monthly_figures")
    f = verify(db).first
    assert f.kind == "figure" and "已从数据库中消失" in f.message


@pytest.mark.slow
@pytest.mark.parametrize(("column", "value", "label"), [
    ("created_by", "张冒名", "创建人"), ("updated_by", "张冒名", "修改人"),
    ("updated_at", "2020-01-01 00:00:00.000000", "修改时间"), ("deleted_by", "张冒名", "删除人"),
])
def test_edited_bookkeeping_column_of_a_record_is_reported(db, db_path, filled, column, value, label):
    uuid = filled["trucks"]
    sql(db, f"UPDATE trucks SET {column} = ? WHERE uuid = ?", (value, uuid))
    f = verify(db).first
    assert f.kind == "record" and f.field == column and f.record_uuid == uuid
    assert f"“{label}”" in f.message and "柴油货车" in f.message


def test_edited_bookkeeping_column_of_a_figure_is_reported(db, db_path, filled):
    sql(db, "UPDATE monthly_figures SET updated_by = '张冒名'")
    f = verify(db).first
    assert f.kind == "figure" and f.field == "updated_by" and "修改人" in f.message and "张冒名" in f.message


def test_appended_well_formed_entry_by_an_unknown_author_is_reported(db, db_path, filled):
    last = _entries(db)[-1]
    seq, at = last["seq"] + 1, dt.datetime(2021, 1, 20, 9, 0)
    after = json.dumps({"note": "x"})
    digest = audit.entry_hash(last["hash"], seq, at, "冒名者", "city_admin", "update", "heating", filled["heating"],
                              YUCI, None, after, "补记")
    sql(db, f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (seq, audit.format_at(at), "冒名者", "city_admin", "update", "heating", filled["heating"], YUCI, None, after,
         "补记", last["hash"], digest))
    report = verify(db)
    author = [f for f in report.findings if f.kind == "author"]
    assert len(author) == 1 and author[0].seq == seq and "冒名者" in author[0].message
    assert "不是本数据库的用户" in author[0].message


def test_deleted_start_marker_is_reported_and_never_re_baselined(db, db_path, filled, capsys):
    sql(db, "DELETE FROM app_meta WHERE key = 'audit_started'")
    entries = len(_entries(db))
    f = verify(db).first
    assert f.kind == "marker" and "启用审计的标记" in f.message
    db.dispose()
    # the next commands (any of them) write nothing about it: no silent re-baseline
    assert cli_main([*cli_db_args(db), "info"]) == 0
    assert cli_main([*cli_db_args(db), "audit", "verify"]) == 5
    assert "启用审计的标记" in capsys.readouterr().out
    assert len(_entries(db)) == entries
    assert query(db, "SELECT count(*) FROM app_meta WHERE key = 'audit_started'")[0][0] == 0


def test_verify_writes_nothing_even_with_problems(db, db_path, filled, capsys):
    sql(db, "DELETE FROM app_meta WHERE key = 'audit_started'")
    sql(db, "UPDATE heating SET village = '改过的村'")
    db.dispose()
    before = snapshot(db)
    assert cli_main([*cli_db_args(db), "audit", "verify"]) == 5
    capsys.readouterr()
    assert snapshot(db) == before


def test_truncated_tail_after_an_export_is_reported_from_the_export_counter(db, db_path, filled, tmp_path):
    from jzair_desktop.services.packages import export as package_export

    package_export.export_county_package(db, YUCI, "2020-11", tmp_path / "榆次区.jzpkg", actor=BUILTIN_ADMIN)
    svc.update_record(db, "heating", filled["heating"], {**raw("heating", 1, YUCI), "remarks": "导出后修改"},
                      actor=BUILTIN_ADMIN, today=TODAY)
    n = len(_entries(db))
    sql(db, "DELETE FROM audit_log WHERE seq >= ?", (n - 1,))  # the export entry and the change after it
    sql(db, "UPDATE heating SET remarks = NULL, updated_at = created_at WHERE uuid = ?", (filled["heating"],))
    report = verify(db)
    assert not report.ok and any(f.kind == "anchor" and "截断" in f.message for f in report.findings)


# --- what only a head kept outside shows --------------------------------------------------------------


@pytest.fixture
def anchors(db, db_path, filled, tmp_path):
    """A county package, a backup and a monthly report, each recording the chain head of now."""
    from jzair_desktop.services.packages import export as package_export

    pkg = package_export.export_county_package(db, YUCI, "2020-11", tmp_path / "榆次区.jzpkg",
                                               actor=BUILTIN_ADMIN).path
    backup = bk.make_backup(db, tmp_path / "备份.jzbak").path
    pdf = report_svc.write_report(db, tmp_path / "月报.pdf", "2020-11", YUCI).path
    return {"package": pkg, "backup": backup, "report": pdf}


@pytest.mark.slow
def test_each_anchor_records_the_head_and_verify_against_it_passes(db, db_path, anchors, capsys):
    for path in anchors.values():
        anchor = read_anchor(path)
        assert anchor.head.seq > 0
    report = verify(db, against=[read_anchor(p) for p in anchors.values()])
    assert report.ok, report.findings
    assert len(report.anchors) == 3
    db.dispose()
    args = [*cli_db_args(db), "audit", "verify"]
    for path in anchors.values():
        args += ["--against", str(path)]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "报送包“榆次区.jzpkg”" in out and "备份“备份.jzbak”" in out and "月报“月报.pdf”" in out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["package", "backup", "report"])
def test_deleted_records_with_their_tail_entries_are_caught_against_an_anchor(db, db_path, filled, tmp_path, kind):
    """Records created, anchored, then removed with every entry about them: the file alone agrees."""
    extra = [_new(db, "boilers", n) for n in range(5, 8)]
    from jzair_desktop.services.packages import export as package_export

    if kind == "package":
        path = package_export.export_county_package(db, YUCI, "2020-11", tmp_path / "p.jzpkg",
                                                    actor=BUILTIN_ADMIN).path
    elif kind == "backup":
        path = bk.make_backup(db, tmp_path / "b.jzbak").path
    else:
        path = report_svc.write_report(db, tmp_path / "r.pdf", "2020-11", YUCI).path
    first = min(e["seq"] for e in _entries(db) if e["record_uuid"] in extra)
    sql(db, "DELETE FROM audit_log WHERE seq >= ?", (first,))
    for uuid in extra:
        sql(db, "DELETE FROM boilers WHERE uuid = ?", (uuid,))
    if kind == "package":  # the export's counter would give it away too: hide it as well
        sql(db, "DELETE FROM package_counters")
    assert verify(db).ok  # nothing in the file tells
    report = verify(db, against=[read_anchor(path)])
    f = report.first
    assert f.kind == "anchor" and "截断" in f.message and f"第 {first:,} 至" in f.message
    assert path.name in f.message


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["package", "backup", "report"])
def test_rewritten_entry_with_later_hashes_recomputed_is_caught_against_an_anchor(db, db_path, anchors, kind):
    target = next(e for e in _entries(db) if e["ledger"] == "monthly_figures")
    state = json.loads(target["after_json"])
    state["value"] = 12.0

    def change(e):
        e["after_json"] = audit.canonical_json(state)

    _rewrite_from(db, target["seq"], change)
    sql(db, "UPDATE monthly_figures SET value = 12.0 WHERE unit_code = ?", (YUCI,))
    assert verify(db).ok  # a consistent rewrite: the file alone cannot tell
    f = verify(db, against=[read_anchor(anchors[kind])]).first
    assert f.kind == "anchor" and "已被改写" in f.message and anchors[kind].name in f.message


@pytest.mark.slow
def test_the_fingerprint_typed_from_paper_catches_a_rewrite(db, db_path, anchors, capsys):
    line = read_anchor(anchors["report"]).head.short
    head = parse_short(line)
    assert head is not None and verify(db, against=[Anchor(head, "纸质月报")]).ok
    first = _entries(db)[0]
    _rewrite_from(db, 1, lambda e: e.update(detail=(first["detail"] or "") + "。"))
    db.dispose()
    assert cli_main([*cli_db_args(db), "audit", "verify", "--head", line]) == 5
    out = capsys.readouterr().out
    assert "纸质月报上的审计链指纹" in out and "已被改写" in out


def test_report_pdf_prints_the_fingerprint_on_its_last_page_only(db, anchors):
    import pypdfium2 as pdfium

    line = read_anchor(anchors["report"]).head.short
    assert line.startswith("审计链 #") and "…" in line
    doc = pdfium.PdfDocument(str(anchors["report"]))
    try:
        texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()
    assert line.split(" · ")[0] in texts[-1]
    assert all("审计链 #" not in t for t in texts[:-1])


def test_against_a_file_that_holds_no_head_says_so(db, tmp_path, capsys):
    other = tmp_path / "随便.txt"
    other.write_text("不是报送包", encoding="utf-8")
    code = cli_main([*cli_db_args(db), "audit", "verify", "--against", str(other)])
    assert code != 0 and "无法识别的文件" in capsys.readouterr().err


def test_only_a_city_administrator_may_re_baseline(db, db_path, filled, fast_hasher):  # noqa: F811
    from jzair_desktop.errors import PermissionDenied
    from jzair_desktop.services.audit_verify import baseline
    from tests.services.admin_helpers import make_users

    users = make_users(db)
    sql(db, "DELETE FROM app_meta WHERE key = 'audit_started'")
    with pytest.raises(PermissionDenied, match="只有市级管理员"):
        baseline(db, users["yuci"], "想重新登记")
    assert verify(db).first.kind == "marker"
    baseline(db, users["admin"], "标记被误删，已核实")
    assert verify(db).ok
    last = audit.query_log(db, limit=1)[0]
    assert last.action == "rebaseline" and "标记被误删" in last.detail and "恢复启用审计的标记" in last.detail
