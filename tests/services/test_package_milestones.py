"""Milestones (节点任务) travel in a county's package (milestones.jsonl): recorded at the county with the day
and the evidence, they reach the city's progress as done for that unit; cleared at the county, they are
cleared at the city; a package of an older version without the member leaves the city's as they are. A
package carrying another unit's milestone, or a malformed milestone row, is refused whole with a message
naming the member, the line and the reason, and the city database file is byte for byte what it was."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from jzair_desktop.exchange import jzpkg
from jzair_desktop.exchange.jzpkg import PackageError
from jzair_desktop.services import audit_verify, milestones
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.packages import export as export
from jzair_desktop.services.packages import importer as imp
from jzair_desktop.services.progress import compute_progress
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import AuditEntry, Milestone
from tests.services.package_helpers import edit_lines, file_sha256, fresh_db, private_key_of, remake

JIEXIU, QIXIAN = "140781", "140727"
RETROFIT = "steel.xintai_ultra_low"  # 新泰钢铁超低排放改造, 介休市 only, due 2020-09-30
SURVEY = "mines.survey"  # 露天矿山摸底排查, every county
RECORDED = dt.date(2021, 1, 5)  # the county's "today" when it records
AS_OF = dt.date(2021, 3, 31)
MEMBER = jzpkg.MILESTONES_MEMBER


def city_rows(db) -> list[tuple]:  # noqa: ANN001
    with read_session(db.engine) as s:
        return [(r.indicator_key, r.unit_code, r.done_date, r.evidence, r.updated_by)
                for r in s.scalars(select(Milestone).order_by(Milestone.indicator_key))]


def progress_of(db, key: str, unit: str):  # noqa: ANN001, ANN201
    return next(r for r in compute_progress(db, AS_OF) if r.indicator == key and r.unit_code == unit)


def milestone_entries(db) -> list[tuple]:  # noqa: ANN001
    with read_session(db.engine) as s:
        return [(e.action, e.record_uuid, e.unit_code, json.loads(e.before_json) if e.before_json else None,
                 json.loads(e.after_json) if e.after_json else None)
                for e in s.scalars(select(AuditEntry).where(AuditEntry.ledger == milestones.AUDIT_SUBJECT)
                                   .order_by(AuditEntry.seq))]


def test_a_milestone_recorded_at_the_county_is_done_at_the_city(tmp_path):
    county = fresh_db(tmp_path / "县" / "介休市.sqlite3")
    city = fresh_db(tmp_path / "市" / "市级.sqlite3")
    milestones.set_milestone(county, BUILTIN_ADMIN, RETROFIT, "介休市", "2020-10-16", "介环函〔2020〕96号",
                             today=RECORDED)
    milestones.set_milestone(county, BUILTIN_ADMIN, SURVEY, "介休市", "2020-12-20", "介休市露天矿山清单", today=RECORDED)
    assert progress_of(city, RETROFIT, JIEXIU).status == "overdue"  # before: the city knows nothing

    first = export.export_county_package(county, JIEXIU, "2021-01", tmp_path / "第1号.jzpkg", actor=BUILTIN_ADMIN)
    assert first.counts["milestones"] == 2
    preview = imp.preview_package(city, first.path, actor=BUILTIN_ADMIN)
    change = next(c for c in preview.changes if c.key == "milestones")
    assert (change.title, change.new, change.changed, change.deleted) == ("节点任务", 2, 0, 0)
    assert imp.import_package(city, first.path, actor=BUILTIN_ADMIN).imported

    row = progress_of(city, RETROFIT, JIEXIU)
    assert (row.status, row.done_date, row.evidence, row.status_label) == (
        "done", dt.date(2020, 10, 16), "介环函〔2020〕96号", "逾期完成")
    assert progress_of(city, SURVEY, JIEXIU).status == "done"
    assert progress_of(city, SURVEY, QIXIAN).status == "overdue"  # nobody else's changed
    assert city_rows(city) == [(SURVEY, JIEXIU, dt.date(2020, 12, 20), "介休市露天矿山清单", BUILTIN_ADMIN.name),
                               (RETROFIT, JIEXIU, dt.date(2020, 10, 16), "介环函〔2020〕96号", BUILTIN_ADMIN.name)]
    # audited on the city machine under the subject and key the milestone service uses
    entries = milestone_entries(city)
    assert [(a, k, u) for a, k, u, _, _ in entries] == [("create", f"{SURVEY}@{JIEXIU}", JIEXIU),
                                                        ("create", f"{RETROFIT}@{JIEXIU}", JIEXIU)]
    assert entries[1][4]["done_date"] == "2020-10-16" and entries[1][4]["evidence"] == "介环函〔2020〕96号"
    assert audit_verify.verify(city).ok

    # Cleared at the county: an older version's package (no milestones.jsonl) leaves the city's alone ...
    assert milestones.clear_milestone(county, BUILTIN_ADMIN, RETROFIT, "介休市")
    second = export.export_county_package(county, JIEXIU, "2021-02", tmp_path / "第2号.jzpkg", actor=BUILTIN_ADMIN)
    old = remake(second.path, tmp_path / "旧版本.jzpkg", private_key=private_key_of(county),
                 members=lambda data: data.pop(MEMBER))
    result = imp.import_package(city, old, actor=BUILTIN_ADMIN)
    assert result.imported and "milestones" not in {c.key for c in result.preview.changes}
    assert progress_of(city, RETROFIT, JIEXIU).status == "done"
    # ... and the next package of the current version clears it at the city too.
    third = export.export_county_package(county, JIEXIU, "2021-02", tmp_path / "第3号.jzpkg", actor=BUILTIN_ADMIN)
    result = imp.import_package(city, third.path, actor=BUILTIN_ADMIN)
    change = next(c for c in result.preview.changes if c.key == "milestones")
    assert (change.new, change.changed, change.deleted, change.unchanged) == (0, 0, 1, 1)
    assert progress_of(city, RETROFIT, JIEXIU).status == "overdue"
    assert [k for k, *_ in city_rows(city)] == [SURVEY]
    assert milestone_entries(city)[-1][:3] == ("delete", f"{RETROFIT}@{JIEXIU}", JIEXIU)
    assert audit_verify.verify(city).ok
    # the same package again changes nothing
    before = file_sha256(city)
    assert not imp.import_package(city, third.path, actor=BUILTIN_ADMIN).imported
    assert file_sha256(city) == before
    county.dispose()


# --- refusals -------------------------------------------------------------------------------------


@dataclass
class Setup:
    folder: Path
    genuine: Path
    key: bytes
    city: object

    def remade(self, name: str, change: Callable[[list[dict]], None]) -> Path:
        return remake(self.genuine, self.folder / name, private_key=self.key,
                      members=lambda data: edit_lines(data, MEMBER, change))


@pytest.fixture
def setup(tmp_path):
    county = fresh_db(tmp_path / "县" / "介休市.sqlite3")
    milestones.set_milestone(county, BUILTIN_ADMIN, RETROFIT, "介休市", "2020-10-16", "介环函〔2020〕96号",
                             today=RECORDED)
    genuine = export.export_county_package(county, JIEXIU, "2021-01", tmp_path / "报送包.jzpkg",
                                           actor=BUILTIN_ADMIN).path
    key = private_key_of(county)
    county.dispose()
    city = fresh_db(tmp_path / "市" / "市级.sqlite3")
    yield Setup(tmp_path, genuine, key, city)
    city.dispose()


def _set(field: str, value: object) -> Callable[[list[dict]], None]:
    return lambda rows: rows[0].update({field: value})


def _add(**fields: object) -> Callable[[list[dict]], None]:
    return lambda rows: rows.append({**rows[0], **fields})


CASES: dict[str, tuple[Callable[[list[dict]], None], str]] = {
    # another unit's milestone beside the unit's own (valid) one: the whole package is refused
    "another_units_milestone": (_add(unit_code=QIXIAN, indicator="industry.relocation_huilong"),
                                "第 2 行：节点任务属于 140727，不是报送包的单位 介休市（140781）"),
    "bad_date": (_set("done_date", "2020-13-01"), "第 1 行：字段 done_date（完成日期）应为日期.*“2020-13-01”"),
    "date_not_iso": (_set("done_date", "2020/10/16"), "第 1 行：字段 done_date（完成日期）应为日期"),
    "date_a_number": (_set("done_date", 20201016), "第 1 行：字段 done_date 应为"),
    "date_in_the_future": (_set("done_date", "2999-01-01"), "第 1 行：.*完成日期 2999-01-01 晚于今天"),
    "date_before_the_plan": (_set("done_date", "2019-06-01"), "第 1 行：.*早于 2020-01-01"),
    "unknown_indicator": (_set("indicator", "steel.nothing"), "第 1 行：未知的指标：“steel.nothing”"),
    "not_a_milestone": (_set("indicator", "heating.total"), "第 1 行：.*不是节点任务类指标（而是累计进度类指标）"),
    "outside_the_units_scope": (_set("indicator", "industry.relocation_liuquxiang"),
                                "第 1 行：“企业搬迁：六曲香酒厂”只涉及.*不涉及“介休市”"),
    "city_level": (_set("indicator", "rail.yangmei_siding"), "第 1 行：.*是全市节点任务"),
    "no_evidence": (_set("evidence", ""), "第 1 行：字段 evidence 应为"),
    "blank_evidence": (_set("evidence", "   "), "第 1 行：.*须填写完成依据"),
    "evidence_too_long": (_set("evidence", "文" * 201), "第 1 行：字段 evidence 应为不超过 200 个字"),
    "twice": (_add(evidence="另一份文件"), "第 2 行：“新泰钢铁超低排放改造（含清洁运输改造）”重复出现"),
    "missing_field": (lambda rows: rows[0].pop("evidence"), "第 1 行：缺少字段 evidence"),
    "extra_field": (_set("status", "done"), "第 1 行：有多余字段 status"),
    "bad_stamp": (_set("updated_at", "昨天"), "第 1 行：字段 updated_at 应为日期时间"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_milestone_row_refuses_the_whole_package(setup, case):
    change, reason = CASES[case]
    path = setup.remade(f"{case}.jzpkg", change)
    before = file_sha256(setup.city)
    for dry_run in (True, False):
        with pytest.raises(PackageError, match=f"文件 {MEMBER} {reason}") as info:
            imp.import_package(setup.city, path, actor=BUILTIN_ADMIN, dry_run=dry_run)
        assert path.name in str(info.value) and "被拒绝" in str(info.value)
        assert file_sha256(setup.city) == before
    assert imp.import_history(setup.city) == [] and city_rows(setup.city) == []


@pytest.mark.slow
def test_the_genuine_package_goes_in(setup):
    """The refusals above are about the edit, not the package they were made from."""
    assert imp.import_package(setup.city, setup.genuine, actor=BUILTIN_ADMIN).imported
    assert [k for k, *_ in city_rows(setup.city)] == [RETROFIT]


ROW_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**9), st.floats(allow_nan=False, allow_infinity=False),
                       st.text(max_size=12), st.sampled_from(["2020-10-16", "2020-02-30", RETROFIT, SURVEY,
                                                              JIEXIU, QIXIAN, "heating.total", "2020-10-16T08:00:00"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["unit_code", "indicator", "done_date", "evidence", "updated_at", "updated_by"]),
       value=ROW_VALUES)
@pytest.mark.slow
def test_any_milestone_row_is_accepted_checked_or_refused_clearly(setup, field, value):
    """Whatever a field holds, the preview either accepts a row the recording service would accept or
    refuses it with a message naming the member and line; nothing else escapes."""
    path = setup.remade("fuzz.jzpkg", _set(field, value))
    try:
        preview = imp.preview_package(setup.city, path, actor=BUILTIN_ADMIN)
    except PackageError as exc:
        assert f"文件 {MEMBER} 第 1 行" in str(exc), str(exc)
        return
    assert next(c for c in preview.changes if c.key == "milestones").new == 1
