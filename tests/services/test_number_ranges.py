"""Numbers that are not numbers (issue 22, item 1): every path refuses absurd magnitudes, NaN and infinity,
normalises full-width digits, and a city 月报 never shows inf or nan.

Before the fix `1e308` (and 99999999999999999999) was saved as a monthly figure; two such months summed to
infinity, 上报 froze `"done": Infinity` and the city report printed `inf inf% ●已完成`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import openpyxl
import pytest
from sqlalchemy import func, select

from jzair_desktop.domain.reference import reference
from jzair_desktop.domain.validation import NUMBER_MAX
from jzair_desktop.errors import JzairError, ValidationFailed
from jzair_desktop.services import air, ledgers, monthly, report, submission, targets
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import MonthlyFigure, MonthSubmission
from tests.exchange import samples
from tests.gui import ledger_samples
from tests.services.admin_helpers import sql

TODAY = dt.date(2021, 3, 31)
ABSURD = (1e308, "1e308", "99999999999999999999", float("inf"), "inf", float("nan"), "NaN", 10**400, "１" * 30)


def n_rows(db, model) -> int:
    with read_session(db.engine) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("value", ABSURD)
def test_monthly_figures_refuse_absurd_numbers(db, value):
    with pytest.raises(JzairError):
        monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-11", value)
    assert n_rows(db, MonthlyFigure) == 0


def test_a_count_stays_within_ten_times_the_city_target_and_a_rate_within_100(db):
    ind = reference().indicator("bus.new_energy")
    assert ind.value_range() == (0.0, 760.0)  # ten times the city target of 76
    monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-10", 760)
    with pytest.raises(JzairError) as err:
        monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-11", 761)
    assert "超出合理范围" in str(err.value) and "760" in str(err.value)
    assert reference().indicator("dust.sweeping").value_range() == (0.0, 100.0)
    assert reference().indicator("dust.fall").value_range() == (0.0, 1000.0)  # plan.toml `max`


@pytest.mark.parametrize("value", ABSURD)
def test_targets_refuse_absurd_numbers(db, value):
    with pytest.raises(JzairError):
        targets.set_target(db, BUILTIN_ADMIN, "heating.gas", "榆次区", value)
    with pytest.raises(JzairError):
        targets.set_target(db, BUILTIN_ADMIN, "heating.gas", "榆次区", 121_001)  # > ten times 12,100


@pytest.mark.parametrize("value", ABSURD)
def test_air_quality_refuses_absurd_numbers(db, value):
    with pytest.raises(JzairError):
        air.set_air_quality(db, BUILTIN_ADMIN, "榆次区", "2020-11", pm25=value)
    with pytest.raises(JzairError):
        air.set_air_quality(db, BUILTIN_ADMIN, "榆次区", "2020-11", heavy_days=value)


@pytest.mark.parametrize(
    ("ledger", "field", "value"),
    [("heating", "area_m2", v) for v in ABSURD] + [
        ("heating", "area_m2", 50_001),
        ("heating", "subsidy_yuan", "99999999999999999999"),
        ("heating", "subsidy_yuan", 1_000_001),
        ("trucks", "subsidy_yuan", 1e308),
        ("boilers", "capacity_th", 1e9),
        ("vocs", "bypass_count", 10**400),
        ("vocs", "bypass_count", 1_001),
    ],
)
def test_ledger_amounts_areas_and_counts_refuse_absurd_numbers(db, ledger, field, value):
    raw = {**_valid(ledger), field: value}
    with pytest.raises(ValidationFailed) as err:
        ledgers.create_record(db, ledger, raw, actor=BUILTIN_ADMIN, today=TODAY)
    assert field in {p.field for p in err.value.problems}


def _valid(ledger: str) -> dict:
    return getattr(ledger_samples, ledger)(1)


def test_full_width_digits_are_stored_as_numbers_not_as_typed(db):
    view = monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-11", "１２")
    assert view.value == 12.0
    assert targets.set_target(db, BUILTIN_ADMIN, "heating.gas", "榆次区", "１，２００").value == 1200.0
    row = air.set_air_quality(db, BUILTIN_ADMIN, "榆次区", "2020-11", pm25="４５．５", heavy_days="２")
    assert (row.pm25, row.heavy_days) == (45.5, 2)
    uuid = ledgers.create_record(db, "heating", {**_valid("heating"), "area_m2": "１２０．５"}, actor=BUILTIN_ADMIN,
                                 today=TODAY).uuid
    assert ledgers.get_record(db, "heating", uuid).values["area_m2"] == 120.5


def test_an_excel_import_refuses_an_absurd_number_cell_with_row_and_column(db, tmp_path):
    rows = samples.clean_rows("heating", 3, start=1)
    rows[1]["采暖面积（平方米）"] = 1e308
    rows[2]["补贴金额（元）"] = "99999999999999999999"
    path = samples.write_dict_rows(tmp_path / "大数.xlsx", rows)
    with pytest.raises(JzairError) as err:
        excel_service.import_ledger(db, "heating", path, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    assert "第3行" in str(err.value) or "2 行" in str(err.value) or "错误" in str(err.value)
    assert ledgers.count_records(db, "heating") == 0


def test_submission_never_freezes_infinity(db):
    """Figures written into the database by hand (past every check) still cannot be frozen as Infinity."""
    for month in ("2020-10", "2020-11"):
        sql(db, "INSERT INTO monthly_figures (unit_code, indicator_key, month, value, updated_at, updated_by) "
                "VALUES ('140702', 'bus.new_energy', ?, 1e308, '2020-12-01 00:00:00', 'x')", (month,))
    with pytest.raises(JzairError) as err:
        submission.submit_month(db, "榆次区", "2020-11", BUILTIN_ADMIN, today=TODAY)
    assert "不是有效的数值" in str(err.value)
    assert n_rows(db, MonthSubmission) == 0


def _numbers(obj, path="report"):
    if isinstance(obj, bool) or obj is None:
        return
    if isinstance(obj, float | int):
        yield path, obj
    elif isinstance(obj, str):
        yield path, obj
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _numbers(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}[{k}]")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")


def test_the_city_report_shows_no_inf_or_nan_after_every_input_path_was_tried(db, tmp_path):
    for value in ABSURD:  # every service path, each refused
        for attempt in (
            lambda v=value: monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-10", v),
            lambda v=value: monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-11", v),
            lambda v=value: monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "dust.fall", "2020-11", v),
            lambda v=value: targets.set_target(db, BUILTIN_ADMIN, "bus.new_energy", "榆次区", v),
            lambda v=value: air.set_air_quality(db, BUILTIN_ADMIN, "市城区", "2020-11", pm25=v),
            lambda v=value: ledgers.create_record(db, "heating", {**_valid("heating"), "subsidy_yuan": v},
                                                  actor=BUILTIN_ADMIN, today=TODAY),
        ):
            with pytest.raises(JzairError):
                attempt()
    targets_path = tmp_path / "目标.xlsx"
    from jzair_desktop.services import targets_excel as targets_xlsx

    targets_xlsx.export_targets(db, targets_path)  # and the targets workbook
    wb = openpyxl.load_workbook(targets_path)
    ws = wb.active
    ws.cell(4, 3, 1e308)
    wb.save(targets_path)
    with pytest.raises(JzairError):
        targets_xlsx.import_targets(db, BUILTIN_ADMIN, targets_path)
    monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-11", 760)
    data = report.build_report_data(db, "2020-11")
    for where, v in _numbers(data):
        if isinstance(v, str):
            assert "inf" not in v.lower().split() and "nan" not in v.lower().split(), (where, v)
        else:
            assert math.isfinite(v) and abs(v) <= NUMBER_MAX, (where, v)
