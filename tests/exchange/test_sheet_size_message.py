"""A 2-row sheet whose XML is huge is refused for its size, not reported as having too many rows
(issue 16, finding 11). The size limit is lowered for the test so the file stays small."""

from __future__ import annotations

import pytest

from jzair_desktop.exchange import excel_import
from jzair_desktop.exchange.xlsx_common import column_letter
from jzair_desktop.services import excel as excel_service
from jzair_desktop.services.excel import ExcelFileError
from tests.exchange import samples


def test_a_two_row_sheet_with_huge_xml_is_refused_for_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(excel_import, "MAX_SHEET_XML_BYTES", 1 << 20)  # 1 MB instead of 2 GB
    headers = samples.headers_of("heating")
    cell = '<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    rows = [
        '<row r="1">' + "".join(cell.format(ref=f"{chr(65 + i)}1", text=h) for i, h in enumerate(headers)) + "</row>",
        # Two rows, but the second holds 300 cells of 5,000 characters each (each cell within Excel's limit).
        '<row r="2">' + cell.format(ref="A2", text="榆次区")
        + "".join(cell.format(ref=f"{column_letter(i)}2", text="备" * 5_000) for i in range(13, 313)) + "</row>",
    ]
    path = samples.write_raw_xlsx(tmp_path / "巨大.xlsx", "台账", rows)
    with pytest.raises(ExcelFileError) as err:
        excel_service.read_import_file(path, "heating")
    message = str(err.value)
    assert "工作表“台账”的内容过大（解压后超过 1 MB）" in message
    assert "300,030" not in message and "行" not in message  # before: "超过 300,030 行"
