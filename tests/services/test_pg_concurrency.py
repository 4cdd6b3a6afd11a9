"""Several writers at once on a PostgreSQL database (issue 20): 4 processes import four units' ledgers from
workbooks while 2 processes edit and add records; afterwards every row is there, the audit chain is one
unbroken line that verifies, and no writer saw an error (no deadlock or busy message reached a user).
Also: two clerks submitting the same month at once get one submission, and simultaneous package exports take
distinct sequence numbers."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import traceback
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jzair_desktop.domain.reference import reference
from jzair_desktop.services import ledgers as svc
from jzair_desktop.services import submission
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.audit_verify import verify
from jzair_desktop.services.database import open_database
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import LEDGER_MODELS, AuditEntry, MonthSubmission
from tests.exchange.samples import write_clean
from tests.services.admin_helpers import raw

pytestmark = pytest.mark.slow

TODAY = dt.date(2021, 1, 15)
IMPORTS = (("heating", "榆次区"), ("trucks", "太谷区"), ("boilers", "祁县"), ("kilns", "平遥县"))
IMPORT_ROWS = 400
EDITOR_UNITS = ("140781", "140729")  # 介休市, 灵石县
SEEDED = 15  # heating records per editor unit before the start
ROUNDS = 3  # each editor changes each of its records this many times
ADDED = 10  # and adds this many records


def _run(conn, start, job, args) -> None:  # noqa: ANN001
    """A worker process: open the database, say it is ready, wait for the start, do the job, report."""
    try:
        db, _ = open_database(args[0])
        conn.send(("ready", None))
        start.wait(60)
        result = job(db, *args[1:])
        db.dispose()
        conn.send(("ok", result))
    except BaseException:  # noqa: BLE001 - every failure is reported to the test
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def _import(db, ledger_key: str, path: str, unit: str) -> int:  # noqa: ANN001
    from jzair_desktop.services.excel import import_ledger

    report = import_ledger(db, ledger_key, Path(path), unit, actor=BUILTIN_ADMIN, today=TODAY, error_file=False)
    return report.new


def _edit(db, unit: str, uuids: list[str]) -> int:  # noqa: ANN001
    n = 0
    for r in range(ROUNDS):
        for i, record_uuid in enumerate(uuids):
            svc.update_record(db, "heating", record_uuid, {**raw("heating", i, unit), "remarks": f"第{r + 1}次修改"},
                              actor=BUILTIN_ADMIN, today=TODAY)
            n += 1
    for i in range(ADDED):
        svc.create_record(db, "heating", raw("heating", 500 + i, unit), actor=BUILTIN_ADMIN, today=TODAY)
        n += 1
    return n


def _submit(db, unit: str, month: str) -> str:  # noqa: ANN001
    from jzair_desktop.errors import JzairError

    try:
        submission.submit_month(db, unit, month, BUILTIN_ADMIN, today=TODAY)
    except JzairError as exc:
        return f"refused: {exc}"
    return "submitted"


def _export(db, unit: str, folder: str) -> int:  # noqa: ANN001
    from jzair_desktop.services.packages.export import export_county_package

    return export_county_package(db, unit, "2020-12", Path(folder) / "报送包.jzpkg", actor=BUILTIN_ADMIN).sequence


def _together(jobs: list[tuple]) -> list[tuple[str, object]]:
    """Run (function, url, *args) jobs in separate processes started at the same moment; their results."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs, pipes = [], []
    for job, *args in jobs:
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_run, args=(child, start, job, tuple(args)))
        p.start()
        child.close()
        procs.append(p)
        pipes.append(parent)
    try:
        for pipe in pipes:
            assert pipe.poll(120), "a worker did not start"
            status, detail = pipe.recv()
            assert status == "ready", detail
        start.set()
        results = []
        for pipe in pipes:
            assert pipe.poll(300), "a worker did not finish (hung)"
            results.append(pipe.recv())
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    return results


def test_four_imports_and_two_editors_at_once(pg_url, tmp_path):
    db, _ = open_database(pg_url)
    try:
        seeded = {unit: [svc.create_record(db, "heating", raw("heating", i, unit), actor=BUILTIN_ADMIN,
                                           today=TODAY).uuid for i in range(SEEDED)] for unit in EDITOR_UNITS}
        jobs = [(_import, pg_url, key, str(write_clean(tmp_path / f"{key}.xlsx", key, IMPORT_ROWS, unit)), unit)
                for key, unit in IMPORTS]
        jobs += [(_edit, pg_url, unit, uuids) for unit, uuids in seeded.items()]
        results = _together(jobs)
        errors = [detail for status, detail in results if status != "ok"]
        assert not errors, "\n".join(errors)
        assert [r for _, r in results] == [IMPORT_ROWS] * 4 + [SEEDED * ROUNDS + ADDED] * 2

        with read_session(db.engine) as s:
            for key, unit in IMPORTS:
                model = LEDGER_MODELS[key]
                code = reference().resolve_unit(unit).code
                assert s.scalar(select(func.count()).where(model.unit_code == code)) == IMPORT_ROWS
            heating = LEDGER_MODELS["heating"]
            for unit in EDITOR_UNITS:
                assert s.scalar(select(func.count()).where(heating.unit_code == unit)) == SEEDED + ADDED
                remarks = set(s.scalars(select(heating.remarks).where(heating.uuid.in_(seeded[unit]))))
                assert remarks == {f"第{ROUNDS}次修改"}
            seqs = list(s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
            creates = s.scalar(select(func.count()).where(AuditEntry.action == "create"))
        assert seqs == list(range(1, len(seqs) + 1))  # one chain, no gap, no fork
        assert creates == 4 * IMPORT_ROWS + len(EDITOR_UNITS) * (SEEDED + ADDED)
        report = verify(db)
        assert report.ok, report
    finally:
        db.dispose()


def test_the_same_month_submitted_twice_at_once(pg_url):
    results = _together([(_submit, pg_url, "榆次区", "2020-12"), (_submit, pg_url, "榆次区", "2020-12")])
    outcomes = sorted(r for _, r in results)
    assert outcomes[1] == "submitted"
    assert outcomes[0].startswith("refused: ") and "不能重复上报" in outcomes[0]
    db, _ = open_database(pg_url)
    try:
        with read_session(db.engine) as s:
            assert s.scalar(select(func.count()).select_from(MonthSubmission)) == 1
        assert verify(db).ok
    finally:
        db.dispose()


def test_simultaneous_exports_take_distinct_sequence_numbers(pg_url, tmp_path):
    folders = [tmp_path / f"out{i}" for i in range(3)]
    for f in folders:
        f.mkdir()
    results = _together([(_export, pg_url, "榆次区", str(f)) for f in folders])
    assert [status for status, _ in results] == ["ok"] * 3, "\n".join(str(d) for _, d in results)
    assert sorted(r for _, r in results) == [1, 2, 3]
    db, _ = open_database(pg_url)
    try:
        assert verify(db).ok
    finally:
        db.dispose()
