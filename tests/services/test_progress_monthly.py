"""Monthly figures and air quality (services.monthly): checks, upserts, permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jzair_desktop.errors import JzairError, PermissionDenied, ValidationFailed
from jzair_desktop.services import air, monthly
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.services.monthly import FigureEntry
from jzair_desktop.storage.engine import read_session
from jzair_desktop.storage.models import AirQualityMonth, MonthlyFigure

CLERK = Actor(name="榆次填报员", role="county_clerk", unit_code="140702")


def n_figures(db) -> int:
    with read_session(db.engine) as s:
        return s.scalar(select(func.count()).select_from(MonthlyFigure))


def test_counts_accumulate_and_upsert(db):
    monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-10", 3)
    monthly.set_figure(db, BUILTIN_ADMIN, "140702", "新能源公交替换（市建成区）", "2020年11月", "2")
    view = monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020/12", 4)
    assert (view.month, view.value, view.cumulative) == ("2020-12", 4, 9)
    view = monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-11", 5)  # upsert
    assert view.cumulative == 8
    listed = monthly.list_figures(db, unit="榆次区")
    assert [(v.month, v.value, v.cumulative) for v in listed] == [("2020-10", 3, 3), ("2020-11", 5, 8), ("2020-12", 4, 12)]
    assert n_figures(db) == 3
    assert monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "bus.new_energy", "2020-12", "") is None  # removes
    assert n_figures(db) == 2


def test_rates(db):
    view = monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "dust.sweeping", "2020-11", "72.5")
    assert (view.value, view.cumulative) == (72.5, None)
    monthly.set_figure(db, BUILTIN_ADMIN, "榆次区", "dust.fall", "2020-11", 250)  # not a percentage: up to 1000


@pytest.mark.parametrize(
    ("unit", "indicator", "month", "value", "message"),
    [
        ("榆次区", "bus.new_energy", "2020-11", -1, "不能为负数"),
        ("榆次区", "bus.new_energy", "2020-11", "2.5", "必须是整数"),
        ("榆次区", "bus.new_energy", "2020-11", "x", "必须是数字"),
        ("榆次区", "dust.sweeping", "2020-11", 101, "0 至 100%"),
        ("榆次区", "dust.sweeping", "2020-11", -1, "0 至 100%"),
        ("榆次区", "dust.fall", "2020-11", 1001, "0 至 1,000"),
        ("榆次区", "bus.new_energy", "2021-04", 1, "不在可填报的范围内（2020-03 至 2021-03）"),
        ("榆次区", "bus.new_energy", "2020-13", 1, "月份格式不正确"),
        ("榆次区", "bus.new_energy", "11月", 1, "月份格式不正确"),
        ("东城区", "bus.new_energy", "2020-11", 1, "未知的县"),
        ("榆次区", "trucks.eliminated", "2020-11", 1, "未知的指标：“trucks.eliminated”。可选：bus.new_energy"),
    ],
)
def test_bad_figures_refused(db, unit, indicator, month, value, message):
    with pytest.raises(JzairError) as err:
        monthly.set_figure(db, BUILTIN_ADMIN, unit, indicator, month, value)
    assert message in str(err.value)
    assert n_figures(db) == 0


def test_figures_all_or_nothing_and_permissions(db):
    with pytest.raises(ValidationFailed) as err:
        monthly.set_figures(db, BUILTIN_ADMIN, [
            FigureEntry("榆次区", "bus.new_energy", "2020-10", 1),
            FigureEntry("榆次区", "bus.new_energy", "2020-11", -2, where="第3行"),
        ])
    assert err.value.problems[0].startswith("第3行：")
    assert n_figures(db) == 0
    monthly.set_figure(db, CLERK, "榆次区", "bus.new_energy", "2020-10", 1)  # own unit
    with pytest.raises(JzairError, match="只能填报本县"):
        monthly.set_figure(db, CLERK, "太谷区", "bus.new_energy", "2020-10", 1)
    assert n_figures(db) == 1


def test_air_quality(db):
    view = air.set_air_quality(db, BUILTIN_ADMIN, "市城区", "2020-11", pm25="45.5", heavy_days="1")
    assert (view.area, view.pm25, view.heavy_days, view.pm25_max, view.heavy_days_max) == ("市城区", 45.5, 1, 47, 0)
    assert (view.pm25_ok, view.heavy_days_ok) == (True, False)
    view = air.set_air_quality(db, BUILTIN_ADMIN, "市城区", "2020-11", pm25=50)  # keeps heavy days
    assert (view.pm25, view.heavy_days, view.pm25_ok) == (50, 1, False)
    jan = air.set_air_quality(db, BUILTIN_ADMIN, "市城区", "2021-01", pm25=70, heavy_days=5)
    assert (jan.pm25_max, jan.heavy_days_max, jan.pm25_ok, jan.heavy_days_ok) == (72, 5, True, True)
    county = air.set_air_quality(db, CLERK, "140702", "2020-11", pm25=60)
    assert (county.area, county.area_name, county.pm25_max) == ("140702", "榆次区", None)
    air.set_air_quality_target(db, BUILTIN_ADMIN, "榆次区", "2020-10", "2020-12", pm25_max=55, heavy_days_max=1)
    listed = air.air_quality(db)
    assert [(v.area_name, v.month) for v in listed] == [("市城区", "2020-11"), ("市城区", "2021-01"), ("榆次区", "2020-11")]
    assert (listed[2].pm25_max, listed[2].pm25_ok) == (55, False)


@pytest.mark.parametrize(
    ("area", "month", "kwargs", "message"),
    [
        ("市城区", "2020-11", {"pm25": -1}, "0 至 1000"),
        ("市城区", "2020-11", {"pm25": 1000.5}, "0 至 1000"),
        ("市城区", "2020-11", {"pm25": "高"}, "必须是数字"),
        ("市城区", "2020-11", {"heavy_days": 31}, "0 至 30 之间的整数"),  # November has 30 days
        ("市城区", "2020-11", {"heavy_days": 1.5}, "整数"),
        ("市城区", "2020-11", {}, "至少填写"),
        ("城区", "2020-11", {"pm25": 40}, "未知的空气质量区域：“城区”。可选：市城区、榆次区"),
    ],
)
def test_bad_air_quality_refused(db, area, month, kwargs, message):
    with pytest.raises(JzairError) as err:
        air.set_air_quality(db, BUILTIN_ADMIN, area, month, **kwargs)
    assert message in str(err.value)
    with read_session(db.engine) as s:
        assert s.scalar(select(func.count()).select_from(AirQualityMonth)) == 0


def test_air_quality_permissions(db):
    with pytest.raises(PermissionDenied):
        air.set_air_quality(db, CLERK, "市城区", "2020-11", pm25=40)
    with pytest.raises(PermissionDenied):
        air.set_air_quality(db, CLERK, "太谷区", "2020-11", pm25=40)
    with pytest.raises(PermissionDenied):
        air.set_air_quality_target(db, CLERK, "榆次区", "2020-10", "2020-12", pm25_max=50)
    with pytest.raises(JzairError, match="重叠"):
        air.set_air_quality_target(db, BUILTIN_ADMIN, "市城区", "2020-12", "2021-01", pm25_max=50)
