"""Month submission end to end: freezing figures, locking records dated in the month or earlier against
every write path (the message names the month and who submitted), unlocking with a reason (city_admin
only, audited), resubmitting (history kept), and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest

from jzair_desktop.cli import main as cli_main
from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.services import air, audit, submission
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.progress import compute_progress
from jzair_desktop.services.submission import MonthLocked
from tests.dbtemplate import cli_db_args
from tests.services.admin_helpers import (  # noqa: F401
    JIEXIU,
    PASSWORDS,
    YUCI,
    fast_hasher,
    make_users,
    raw,
    snapshot,
)

TODAY = dt.date(2021, 1, 15)


@pytest.fixture
def setup(db, fast_hasher):  # noqa: F811
    users = make_users(db)
    clerk = users["yuci"]

    def new(n, done, unit=YUCI, actor=clerk, **over):
        status = {"status": "已完工", "done_date": done} if done else {"status": "施工中", "done_date": ""}
        return svc.create_record(db, "heating", raw("heating", n, unit, **status, **over), actor=actor,
                                 today=TODAY).uuid

    recs = {
        "oct": new(1, "2020-10-20"),
        "nov": new(2, "2020-11-15"),
        "dec": new(3, "2020-12-05"),
        "open": new(4, None),
        "nov_deleted": new(5, "2020-11-02"),
        "jiexiu_nov": new(6, "2020-11-15", unit=JIEXIU, actor=users["jiexiu"]),
    }
    svc.delete_record(db, "heating", recs["nov_deleted"], actor=clerk)
    return users, recs


def _edit(db, uuid, actor, **over):
    """Save the record as it is, with `over` changed (as the form would)."""
    current = svc.get_record(db, "heating", uuid).values
    svc.update_record(db, "heating", uuid, {**current, **over}, actor=actor, today=TODAY)


def test_submit_freezes_the_progress_engines_figures(db, setup):
    users, _ = setup
    info = submission.submit_month(db, "榆次区", "2020-11", users["yuci"], today=TODAY)
    assert (info.unit_code, info.month, info.version, info.status) == (YUCI, "2020-11", 1, "submitted")
    frozen = submission.frozen_progress(db, YUCI, "2020-11")
    assert frozen == info.figures and frozen["as_of"] == "2020-11-30"
    live = {r.indicator: r.as_json() for r in compute_progress(db, dt.date(2020, 11, 30), YUCI)}
    assert {r["indicator"]: r for r in frozen["indicators"]} == live
    total = next(r for r in frozen["indicators"] if r["indicator"] == "heating.total")
    assert total["done"] == 2 and total["month_increment"] == 1  # Oct + Nov; Dec and the open one not yet
    assert frozen["records"]["heating"] == 4
    assert submission.frozen_progress(db, YUCI, "2020-10") is None
    assert submission.frozen_progress(db, JIEXIU, "2020-11") is None
    entry = audit.query_log(db, audit.AuditQuery(action="submit"))[0]
    assert entry.user_name == "李四" and entry.unit_code == YUCI and entry.after["figures"] == frozen


@pytest.mark.slow
def test_locked_records_refuse_every_write_path_naming_month_and_user(db, db_path, setup):
    users, recs = setup
    clerk, admin = users["yuci"], users["admin"]
    submission.submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    before = snapshot(db)
    attempts = {
        "edit nov": lambda: _edit(db, recs["nov"], clerk, remarks="改"),
        "edit oct (earlier month)": lambda: _edit(db, recs["oct"], clerk, remarks="改"),
        "admin edit": lambda: _edit(db, recs["nov"], admin, remarks="市级改"),
        "move dec into nov": lambda: _edit(db, recs["dec"], clerk, done_date="2020-11-30"),
        "close the open one in nov": lambda: _edit(db, recs["open"], clerk, done_date="2020-11-30"),
        "create in nov": lambda: svc.create_record(db, "heating", raw("heating", 7, YUCI), actor=clerk, today=TODAY),
        "delete": lambda: svc.delete_record(db, "heating", recs["nov"], actor=clerk),
        "delete many": lambda: svc.delete_records(db, "heating", [recs["dec"], recs["oct"]], actor=clerk),
        "restore": lambda: svc.restore_record(db, "heating", recs["nov_deleted"], actor=clerk),
        "restore many": lambda: svc.restore_records(db, "heating", [recs["nov_deleted"]], actor=admin),
        "bulk insert": lambda: _bulk_insert(db, clerk, check_record("heating", raw("heating", 8, YUCI),
                                                                     today=TODAY).values),
        "bulk update": lambda: _bulk_update(db, clerk, recs["nov"], remarks="导入改"),
        "bulk update into nov": lambda: _bulk_update(db, clerk, recs["dec"], done_date=dt.date(2020, 11, 1)),
    }
    for what, attempt in attempts.items():
        with pytest.raises(MonthLocked) as err:
            attempt()
        text = str(err.value)
        assert "2020-11" in text and "李四" in text and "榆次区" in text, (what, text)
        assert snapshot(db) == before, what
    # Not locked: later months, open work, other units.
    _edit(db, recs["dec"], clerk, remarks="十二月的可以改")
    _edit(db, recs["open"], clerk, status="施工中", done_date="", remarks="未完工的可以改")
    _edit(db, recs["open"], clerk, done_date="2020-12-20")
    svc.update_record(db, "heating", recs["jiexiu_nov"], {**raw("heating", 6, JIEXIU), "remarks": "介休未上报"},
                      actor=users["jiexiu"], today=TODAY)
    assert verify(db).ok


def _bulk_insert(db, actor, values):
    with svc.write_records(db) as s:
        svc.insert_many(s, "heating", [values], actor=actor)


def _bulk_update(db, actor, uuid, **changes):
    with svc.write_records(db) as s:
        svc.update_values(s, "heating", uuid, changes, actor=actor)


def test_unlock_rules_and_resubmission_history(db, db_path, setup):
    users, recs = setup
    clerk, admin = users["yuci"], users["admin"]
    v1 = submission.submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    with pytest.raises(JzairError, match="不能重复上报"):
        submission.submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="市级管理员"):
        submission.unlock_month(db, "榆次区", "2020-11", "想改", clerk)
    with pytest.raises(JzairError, match="原因"):
        submission.unlock_month(db, "榆次区", "2020-11", "  ", admin)
    with pytest.raises(JzairError, match="尚未上报"):
        submission.unlock_month(db, "介休市", "2020-11", "无", admin)
    with pytest.raises(PermissionDenied):
        submission.submit_month(db, "介休市", "2020-11", clerk, today=TODAY)
    with pytest.raises(PermissionDenied):
        submission.submit_month(db, "榆次区", "2020-12", users["viewer"], today=TODAY)
    with pytest.raises(JzairError, match="尚未开始"):
        submission.submit_month(db, "榆次区", "2021-02", clerk, today=TODAY)
    assert snapshot(db) == before

    # A later submitted month must be unlocked first.
    submission.submit_month(db, "榆次区", "2020-12", clerk, today=TODAY)
    with pytest.raises(JzairError, match="2020-12"):
        submission.unlock_month(db, "榆次区", "2020-11", "更正户主姓名", admin)
    submission.unlock_month(db, "榆次区", "2020-12", "更正户主姓名", admin)
    info = submission.unlock_month(db, "榆次区", "2020-11", "更正户主姓名", admin)
    assert (info.status, info.unlocked_by, info.unlock_reason) == ("unlocked", "王主任", "更正户主姓名")
    assert submission.frozen_progress(db, YUCI, "2020-11") is None
    entry = audit.query_log(db, audit.AuditQuery(action="unlock"))[0]
    assert entry.user_name == "王主任" and "更正户主姓名" in entry.detail
    assert entry.before["status"] == "submitted" and entry.after["status"] == "unlocked"

    # Now the record can be corrected, and the month submitted again with new figures.
    _edit(db, recs["dec"], clerk, done_date="2020-11-28")
    v2 = submission.submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    assert v2.version == 2
    history = submission.submission_history(db, "榆次区", "2020-11")
    assert [(h.version, h.status) for h in history] == [(1, "unlocked"), (2, "submitted")]
    done = {h.version: next(r["done"] for r in h.figures["indicators"] if r["indicator"] == "heating.total")
            for h in history}
    assert done == {1: 2, 2: 3}
    assert history[0].figures == v1.figures
    assert submission.frozen_progress(db, YUCI, "2020-11") == v2.figures
    overview = {s.unit_name: s for s in submission.month_overview(db, "2020-11")}
    assert overview["榆次区"].locked and overview["榆次区"].versions == 2 and not overview["介休市"].locked
    assert verify(db).ok


def test_month_text_is_checked(db, setup):
    users, _ = setup
    for bad in ("2020-13", "十一月", "2019-01"):
        with pytest.raises(JzairError, match="月份"):
            submission.submit_month(db, "榆次区", bad, users["yuci"], today=TODAY)
    assert submission.parse_month("2020年11月") == "2020-11"


def test_cli_submit_and_unlock(db, db_path, setup, monkeypatch, capsys):
    users, recs = setup
    base = [*cli_db_args(db)]
    assert cli_main([*base, "submit", "--county", "榆次区", "--month", "2020-11"]) != 0
    assert "--user" in capsys.readouterr().err
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["李四"])
    assert cli_main([*base, "--user", "李四", "submit", "--county", "140702", "--month", "2020-11"]) == 0
    assert "已上报：榆次区 2020-11" in capsys.readouterr().out
    assert cli_main([*base, "--user", "李四", "unlock", "--county", "榆次区", "--month", "2020-11",
                     "--reason", "想改"]) != 0
    assert "市级管理员" in capsys.readouterr().err
    monkeypatch.setenv("JZAIR_PASSWORD", PASSWORDS["王主任"])
    assert cli_main([*base, "--user", "王主任", "unlock", "--county", "榆次区", "--month", "2020-11",
                     "--reason", "数据更正"]) == 0
    assert "已解锁" in capsys.readouterr().out
    assert cli_main([*base, "submissions", "--county", "榆次区"]) == 0
    out = capsys.readouterr().out
    assert "已解锁" in out and "数据更正" in out
    assert cli_main([*base, "submissions", "--month", "2020-11"]) == 0
    assert "介休市" in capsys.readouterr().out


@pytest.mark.slow
def test_check_month_open_for_other_monthly_data(db, setup):
    users, _ = setup
    submission.submit_month(db, "榆次区", "2020-11", users["yuci"], today=TODAY)
    with svc.write_records(db) as s:
        submission.check_month_open(s, JIEXIU, "2020-11")
        submission.check_month_open(s, YUCI, "2020-12")
        with pytest.raises(MonthLocked, match="2020-11.*李四"):
            submission.check_month_open(s, YUCI, "2020-10")


def test_monthly_figures_and_air_quality_of_a_submitted_month_are_locked(db, db_path, setup):
    from jzair_desktop.services import monthly

    users, _ = setup
    admin, clerk = users["admin"], users["yuci"]
    monthly.set_figure(db, clerk, "榆次区", "nonroad.inspection", "2020-11", 5)
    air.set_air_quality(db, clerk, "榆次区", "2020-11", pm25=60)
    submission.submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    before = snapshot(db)
    with pytest.raises(MonthLocked, match="2020-11"):
        monthly.set_figure(db, clerk, "榆次区", "nonroad.inspection", "2020-11", 9)
    with pytest.raises(MonthLocked, match="2020-10"):
        monthly.set_figure(db, admin, "榆次区", "nonroad.inspection", "2020-10", 1)
    with pytest.raises(MonthLocked):
        air.set_air_quality(db, clerk, "榆次区", "2020-11", pm25=61)
    assert snapshot(db) == before
    # A later month, another unit and the city area stay open.
    monthly.set_figure(db, clerk, "榆次区", "nonroad.inspection", "2020-12", 3)
    monthly.set_figure(db, users["jiexiu"], "介休市", "nonroad.inspection", "2020-11", 3)
    air.set_air_quality(db, admin, "市城区", "2020-11", pm25=45)


def test_the_air_quality_grid_respects_a_submitted_month(db, db_path, setup):
    from jzair_desktop.services.air import AirEntry, set_air_quality_many

    users, _ = setup
    clerk = users["yuci"]
    set_air_quality_many(db, clerk, [AirEntry("榆次区", "2020-11", 60, 2)])
    submission.submit_month(db, "榆次区", "2020-11", clerk, today=TODAY)
    before = snapshot(db)
    with pytest.raises(MonthLocked, match="2020-11"):
        set_air_quality_many(db, clerk, [AirEntry("榆次区", "2020-12", 50, 1), AirEntry("榆次区", "2020-11", 61, 2)])
    with pytest.raises(MonthLocked):
        set_air_quality_many(db, clerk, [AirEntry("榆次区", "2020-11", None, None)])  # clearing is a change too
    assert snapshot(db) == before
    assert set_air_quality_many(db, clerk, [AirEntry("榆次区", "2020-11", 60, 2)]) == 0  # unchanged cell: fine
