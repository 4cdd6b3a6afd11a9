"""package_common.Change.mirror: the writes that make stored rows equal a package's, and their counts."""

from __future__ import annotations

from jzair_desktop.services.packages.common import Change


def test_mirror_counts_and_ops():
    change = Change("air_quality", "空气质量")
    have = {"2020-10": 40.0, "2020-11": 55.0, "2020-12": 70.0}
    wanted = {"2020-11": 55.0, "2020-12": 66.0, "2021-01": 80.0}
    ops = change.mirror(have, wanted, lambda row, want: row == want)
    assert ops == [("2020-12", 66.0), ("2021-01", 80.0), ("2020-10", None)]
    assert (change.new, change.changed, change.deleted, change.unchanged) == (1, 1, 1, 1)


def test_mirror_of_equal_sides_writes_nothing():
    change = Change("monthly_figures", "月度数据")
    rows = {("a", "2020-11"): 1.0}
    assert change.mirror(rows, dict(rows), lambda row, want: row == want) == []
    assert change.total_changes == 0 and change.unchanged == 1
