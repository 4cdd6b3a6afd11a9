"""An import refuses an over-long text cell with its row and column, never cuts it (issue 22, item 5)."""

from __future__ import annotations

import datetime as dt

import pytest

from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.excel import ImportRejected
from jzair_desktop.services.ledgers import count_records
from tests.exchange import samples

TODAY = dt.date(2021, 3, 31)


def test_an_over_long_cell_is_refused_with_row_and_column(db, tmp_path):
    rows = samples.clean_rows("heating", 3, start=1)
    rows[1]["户主姓名"] = "王" * 41
    rows[2]["备注"] = "备" * 100_000
    path = samples.write_dict_rows(tmp_path / "长文本.xlsx", rows)
    data = excel_service.read_import_file(path, "heating")
    plan = excel_service.check_import(db, data, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    by_row = {(p.row, p.column): p.message for p in plan.report.errors}
    assert "内容过长（41个字），最多40个字" in by_row[(3, "户主姓名")]
    assert "最多500个字" in by_row[(4, "备注")]
    with pytest.raises(ImportRejected):
        excel_service.import_ledger(db, "heating", path, "榆次区", actor=BUILTIN_ADMIN, today=TODAY)
    assert count_records(db, "heating") == 0
