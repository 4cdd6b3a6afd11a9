"""The blank import template: headers, look, formats, dropdowns and the 填表说明 sheet."""

from __future__ import annotations

import openpyxl
import pytest

from jzair_desktop.domain.ledgers import LEDGER_KEYS, ledger
from jzair_desktop.domain.reference import reference
from jzair_desktop.exchange import excel_template
from jzair_desktop.exchange.excel_template import (
    INSTRUCTIONS_SHEET,
    OPTIONS_SHEET,
    inline_list_formula,
    write_template,
)
from jzair_desktop.exchange.xlsx_common import column_letter


def _dropdowns(ws) -> dict[str, str]:
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list" and dv.showErrorMessage
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = dv.formula1
    return out


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_template_layout(tmp_path, key):
    d = ledger(key)
    path = write_template(d, tmp_path / f"{key}.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == [d.sheet_title, INSTRUCTIONS_SHEET]
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == [c.header for c in d.columns]
    assert ws.freeze_panes == "A2" and ws.max_row == 1
    for i, col in enumerate(d.columns):
        cell = ws.cell(1, i + 1)
        letter = column_letter(i)
        assert cell.font.b and cell.comment is not None
        assert ("必填" if col.required else "选填") in cell.comment.text
        assert cell.fill.fgColor.rgb.endswith("C00000" if col.required else "2F5597")
        assert ws.column_dimensions[letter].width == col.width + 2
        fmt = ws.column_dimensions[letter].number_format
        if col.kind == "date":
            assert fmt == "yyyy-mm-dd"
        if col.kind == "idcard":
            assert fmt == "@"
    drops = _dropdowns(ws)
    expected = {column_letter(i) for i, c in enumerate(d.columns) if c.kind in ("enum", "bool", "unit")}
    assert set(drops) == expected
    for i, col in enumerate(d.columns):
        if col.kind in ("enum", "bool"):
            assert drops[column_letter(i)] == '"' + ",".join(col.choices) + '"'
    assert drops["A"] == '"' + ",".join(u.name for u in reference().units) + '"'


@pytest.mark.parametrize("key", LEDGER_KEYS)
def test_instructions_sheet(tmp_path, key):
    d = ledger(key)
    ws = openpyxl.load_workbook(write_template(d, tmp_path / "t.xlsx"))[INSTRUCTIONS_SHEET]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    table = {r[1]: r for r in rows if r and r[1] in {c.header for c in d.columns}}
    assert set(table) == {c.header for c in d.columns}
    for col in d.columns:
        row = table[col.header]
        assert row[2] == ("必填" if col.required else "选填")
        if col.help:
            assert col.help in row[3]
        if col.kind == "enum":
            assert row[4] == "、".join(col.choices)
    text = "\n".join(str(v) for r in rows for v in r if v)
    assert "填表规则" in text and "合计" in text and "错误.xlsx" in text
    assert "视为重复登记" in text or "请确认不是重复登记" in text


def test_heating_instructions_mention_the_stove_rule_and_id_text(tmp_path):
    ws = openpyxl.load_workbook(write_template(ledger("heating"), tmp_path / "t.xlsx"))[INSTRUCTIONS_SHEET]
    text = "\n".join(str(c.value) for r in ws.iter_rows() for c in r if c.value)
    assert "采暖季" in text and "文本" in text


def test_inline_list_limit():
    assert inline_list_formula(["是", "否"]) == '"是,否"'
    assert inline_list_formula(["a,b", "c"]) is None
    assert inline_list_formula(["长" * 100, "列" * 100, "表" * 60]) is None  # over Excel's 255 characters


def test_long_lists_go_to_a_hidden_sheet(tmp_path, monkeypatch):
    long_names = [f"第{i:03d}个很长的县区名称用于测试" for i in range(40)]
    original = excel_template.choices_of
    monkeypatch.setattr(
        excel_template, "choices_of", lambda col: tuple(long_names) if col.kind == "unit" else original(col)
    )
    wb = openpyxl.load_workbook(write_template(ledger("trucks"), tmp_path / "长.xlsx"))
    assert wb.sheetnames == [ledger("trucks").sheet_title, INSTRUCTIONS_SHEET, OPTIONS_SHEET]
    options = wb[OPTIONS_SHEET]
    assert options.sheet_state == "hidden"
    assert [c.value for c in options["A"]][1:] == long_names
    drops = _dropdowns(wb.worksheets[0])
    assert drops["A"] == f"'{OPTIONS_SHEET}'!$A$2:$A$41"
    assert drops["D"] == '"国零,国一,国二,国三"'  # short lists stay inline


def test_template_refuses_a_missing_folder(tmp_path):
    with pytest.raises(Exception, match="文件夹不存在"):
        write_template(ledger("kilns"), tmp_path / "没有" / "t.xlsx")
