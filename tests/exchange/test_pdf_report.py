"""The monthly report PDF (services.report + exchange.pdf_report), checked through the PDF's own text."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from jzair_desktop.domain.validation import mask_id_number
from jzair_desktop.errors import JzairError, PermissionDenied
from jzair_desktop.exchange import pdf_report
from jzair_desktop.services import report, submission, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN, Actor
from jzair_desktop.storage.engine import read_session
from jzair_desktop.taskstate import Cancelled, TaskState
from tests.exchange import report_dataset as ds

D = dt.date
TITLE = "晋中市秋冬季大气污染综合治理攻坚行动进展月报"


@pytest.fixture
def data_db(db):
    ds.build(db)
    return db


@pytest.fixture
def outdir(tmp_path_factory):
    """An output folder of its own (the database file lives in tmp_path)."""
    return tmp_path_factory.mktemp("报告输出")


def pdf_pages(path: Path) -> list[str]:
    """Each page's text with runs of whitespace as one space."""
    return [re.sub(r"\s+", " ", page.extract_text()) for page in pypdf.PdfReader(str(path)).pages]


def squash(text: str) -> str:
    """Without any whitespace (wrapped cells break lines anywhere)."""
    return re.sub(r"\s+", "", text)


def section(text: str, start: str, end: str | None = None) -> str:
    i = text.index(start)
    j = text.index(end, i) if end else len(text)
    return text[i:j]


# --------------------------------------------------------------------------- city report
@pytest.mark.slow
def test_city_report_shows_the_figures_as_of_the_month_end(data_db, outdir):
    out = outdir / "全市月报（2020年11月）.pdf"
    result = report.write_report(data_db, out, "2020-11")
    pages = pdf_pages(out)
    text = " ".join(pages)

    assert result.pages == len(pages) and result.size == out.stat().st_size
    assert TITLE in pages[0] and "2020年11月" in pages[0]
    assert "数据截至：2020年11月30日" in pages[0]
    assert "编制：晋中市大气污染防治工作领导组办公室" in pages[0]
    # Trucks by unit: 榆次区 5 done (the truck of 2020-12-05 does not count), 2 in November; schedule 60/91.
    trucks = section(text, "国三及以下营运柴油货车淘汰（单位：辆", "全市合计")
    assert "榆次区 10 2 5 50.0% 65.9% ▲滞后 2" in trucks
    assert "太谷区 4 4 4 100.0% 65.9% ●已完成 1" in trucks
    assert "榆社县 8 0 0 0.0% 65.9% ▲滞后 3" in trucks
    assert "左权县 未分解 0 0 — 65.9% —未分解 —" in trucks
    assert "全市合计 8,869 6 9 0.1% 65.9% ▲滞后 —" in text
    # Heating: past its due date, so 50 of 100 is overdue.
    assert "榆次区 100 20 50 50.0% 100.0% ■逾期 1" in section(text, "1. 散煤治理（单位：户")
    # Monthly figures: 3 + 2 new-energy buses against the city's 76 (schedule to the campaign end: 60/181).
    assert "新能源公交替换（市建成区） 辆 76 2 5 6.6% 33.1% ▲滞后" in section(text, "月度填报指标")
    # Air quality of 市城区 (issue 17: the period to date, day-weighted, against the target and what the rest of
    # the period can still do): (40·31 + 60·30)/61 = 49.8 over 47 is behind, a perfect December would bring it to
    # 3040/92 = 33.0; one heavy day against none can no longer be met.
    assert "市城区 — — 47.0 49.8 +2.8 ▲滞后 — 0 1 ■已无法达 标" in section(text, "六、空气质量")


@pytest.mark.slow
def test_warning_list_is_worst_first_and_names_units_and_gaps(data_db, outdir):
    out = outdir / "r.pdf"
    result = report.write_report(data_db, out, "2020-11")
    warnings = section(" ".join(pdf_pages(out)), "七、预警情况")
    # issue 17: 介休市's two 新泰钢铁 milestones, not recorded, are overdue with nothing done and come first
    assert "1介休市新泰钢铁超低排放改造" in squash(warnings)
    assert "■逾期未完成" in warnings
    assert "3 榆次区 散煤治理（户） 100 50 50.0% 100.0% 50.0 50户 ■逾期 2020-10-31" in warnings
    # 榆次区 trucks: 6.59 due by the schedule, 5 done: 15.9 points behind, about 2 trucks short.
    assert "货车淘汰（辆）10550.0%65.9%15.92辆▲滞后2020-12-31" in squash(warnings)
    assert "榆社县" in warnings
    assert warnings.index("■逾期") < warnings.index("▲滞后")
    assert result.warnings == len(re.findall(r"(▲滞后|■逾期|■逾期未完成) ?(20\d\d-\d\d-\d\d|按计划日期)", warnings))


@pytest.mark.slow
def test_every_page_has_header_and_page_x_of_y(data_db, outdir):
    out = outdir / "r.pdf"
    report.write_report(data_db, out, "2020-11", letters=True)
    pages = pdf_pages(out)
    assert len(pages) > 5
    for n, page in enumerate(pages, start=1):
        assert f"第 {n} 页 共 {len(pages)} 页" in page
        assert TITLE in page and "2020年11月 全市" in page


def test_the_cjk_font_is_embedded_as_a_subset_and_no_other_font_is_used(data_db, outdir):
    out = outdir / "r.pdf"
    report.write_report(data_db, out, "2020-11", "榆次区", letters=True)
    seen = set()
    for page in pypdf.PdfReader(str(out)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"])
            seen.add(name)
            assert re.fullmatch(r"/[A-Z]{6}\+WenQuanYiMicroHei.*", name), name
            assert "/FontFile2" in font["/FontDescriptor"].get_object()
    assert seen


# --------------------------------------------------------------------------- county report
def test_county_report_breaks_down_by_township_and_lists_overdue_items(data_db, outdir):
    out = outdir / "榆次区月报.pdf"
    report.write_report(data_db, out, "2020-11", "榆次区")
    pages = pdf_pages(out)
    text = " ".join(pages)
    assert "榆次区 2020年11月" in pages[0] and "报送单位：榆次区" in pages[0]
    assert "10 2 5 50.0% 65.9% ▲滞后 2/3" in text  # trucks, ranked among the 3 units with a target
    townships = section(text, "按乡（镇）分列")
    assert "东阳镇 30 30 0 100.0% 30 0 0 0" in townships
    assert "长凝镇 25 20 20 80.0% 0 20 0 0" in townships
    assert "合计 55 50 20 90.9% 30 20 0 0" in townships
    overdue = section(text, "未完成且已逾期的事项")
    assert "甲焦化有限公司 工业炉窑治理：焦炉烟气脱硫脱硝 2020-11-10 20" in overdue
    assert "乙焦化有限公司" not in overdue  # done before its planned date
    for i in range(5):
        raw = ds.id_number(i + 1)
        assert raw not in text
        assert mask_id_number(raw) in overdue
    assert "长凝镇 北合流村 王一" in overdue
    assert "太谷区" not in section(text, "七、预警情况")  # a county's warnings are its own


def test_many_open_households_are_summarised_by_township(data_db):
    ref = report.reference()
    with read_session(data_db.engine) as s:
        groups = report.open_items(s, ds.YC, D(2020, 11, 30), ref, household_limit=3)
    heating = next(g for g in groups if g.ledger == "heating")
    assert heating.total == 5 and heating.items == ()
    assert [(p.township, p.villages, p.households) for p in heating.by_township] == [("长凝镇", 1, 5)]
    assert heating.by_township[0].by_method == (0, 5, 0, 0)


# --------------------------------------------------------------------------- warning letters
@pytest.mark.slow
def test_letters_one_page_per_lagging_unit(data_db, outdir):
    out = outdir / "r.pdf"
    result = report.write_report(data_db, out, "2020-11", letters=True)
    pages = pdf_pages(out)
    letter_pages = [p for p in pages if "重点任务进展缓慢的预警函" in p]
    # issue 17: a limit nobody reported is 未报送, not a lag, so the letters go to the three units that lag
    assert len(letter_pages) == result.letters == 3
    first = letter_pages[0]
    assert "关于榆次区重点任务进展缓慢的预警函" in first  # the plan's words (二十一)
    # the city office's own number, not 晋…, which reads as the province's
    assert "榆次区人民政府：" in first and "市大气办预警〔2020〕1号" in first and "晋气防办" not in first
    assert "散煤治理（户）" in first and "已逾期，尚差50户" in first and "2020-10-31" in first
    assert "市级牵头单位" in first and "市能源局" in first
    assert "特此函告。" in first and first.count("晋中市大气污染防治工作领导组办公室") >= 2
    assert "2020年11月30日" in first
    assert "介休市人民政府：" in letter_pages[-1] and "逾期未完成" in letter_pages[-1]
    for p in letter_pages:
        assert p.count("的预警函") == 1


@pytest.mark.slow
def test_letters_are_for_the_city_office_only(data_db, outdir):
    clerk = Actor("李四", "county_clerk", ds.YC)
    with pytest.raises(PermissionDenied, match="预警函"):
        report.write_report(data_db, outdir / "r.pdf", "2020-11", "榆次区", letters=True, actor=clerk)
    with pytest.raises(PermissionDenied, match="本县"):
        report.write_report(data_db, outdir / "r.pdf", "2020-11", "太谷区", actor=clerk)
    with pytest.raises(PermissionDenied):
        report.write_report(data_db, outdir / "r.pdf", "2020-11", None, actor=clerk)
    report.write_report(data_db, outdir / "r.pdf", "2020-11", "榆次区", actor=clerk)
    assert not list(outdir.glob("*.tmp"))


# --------------------------------------------------------------------------- reproducibility
@pytest.mark.slow
def test_regenerating_after_later_records_gives_the_identical_file(data_db, outdir):
    first, again = outdir / "a.pdf", outdir / "b.pdf"
    county_first, county_again = outdir / "c.pdf", outdir / "d.pdf"
    report.write_report(data_db, first, "2020-11", letters=True)
    report.write_report(data_db, county_first, "2020-11", "榆次区")
    # Work done after the month's end.
    ds.add(data_db, "trucks", ds.YC, 2, eliminated_date=D(2020, 12, 20))
    ds.add(data_db, "heating", ds.TG, 3, status="已完工", done_date=D(2020, 12, 3))
    ds.add(data_db, "kilns", ds.YS, 1, status="已完成", actual_date=D(2020, 12, 2), planned_date=D(2020, 12, 31))
    report.write_report(data_db, again, "2020-11", letters=True)
    report.write_report(data_db, county_again, "2020-11", "榆次区")
    assert first.read_bytes() == again.read_bytes()
    assert county_first.read_bytes() == county_again.read_bytes()
    # …whereas work inside the month does change the report.
    ds.add(data_db, "trucks", ds.YC, 2, eliminated_date=D(2020, 11, 20))
    report.write_report(data_db, again, "2020-11")
    assert "榆次区 10 4 7 70.0% 65.9% ○按进度 2" in " ".join(pdf_pages(again))


@pytest.mark.slow
def test_a_submitted_month_is_reported_from_its_frozen_figures(data_db, outdir):
    submission.submit_month(data_db, "榆次区", "2020-11", BUILTIN_ADMIN, today=D(2020, 12, 2))
    targets.set_target(data_db, BUILTIN_ADMIN, "trucks.eliminated", "榆次区", 20)  # changed after submitting
    out = outdir / "r.pdf"
    result = report.write_report(data_db, out, "2020-11")
    text = " ".join(pdf_pages(out))
    assert result.frozen_units == ("榆次区",)
    assert "榆次区 10 2 5 50.0% 65.9% ▲滞后 2" in text
    assert "榆次区已上报本月数据，采用上报时锁定的数据" in squash(text)
    # 太谷区 has not submitted: its live figures are used.
    assert "太谷区 4 4 4 100.0% 65.9% ●已完成 1" in text


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2019-12", "不在攻坚行动期间"),
        ("2021-04", "不在攻坚行动期间"),
        ("2020-13", "月份格式不正确"),
        ("十二月", "月份格式不正确"),
        ("", "月份格式不正确"),
    ],
)
def test_a_month_outside_the_campaign_or_malformed_is_refused(data_db, outdir, month, message):
    with pytest.raises(JzairError, match=message):
        report.write_report(data_db, outdir / "r.pdf", month)
    assert not list(outdir.iterdir())


def test_month_spellings_are_accepted():
    assert report.parse_report_month("2020年11月") == "2020-11"
    assert report.parse_report_month("2020/1".replace("2020", "2021")) == "2021-01"
    assert report.parse_report_month(" 2020.12 ") == "2020-12"


def test_an_unknown_unit_is_refused_naming_the_units(data_db, outdir):
    with pytest.raises(JzairError, match="未知的县（区、市）：“太原市”.*榆次区"):
        report.write_report(data_db, outdir / "r.pdf", "2020-11", "太原市")
    assert report.resolve_scope("全市") is None and report.resolve_scope("140700") is None
    assert report.resolve_scope("140781").name == "介休市"


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing/r.pdf", "输出文件夹不存在"), ("r.txt", "应以 .pdf 结尾"), ("folder.pdf", "是一个文件夹")],
)
def test_an_output_path_that_cannot_be_written_is_refused(data_db, outdir, name, message):
    (outdir / "folder.pdf").mkdir()
    with pytest.raises(JzairError, match=message):
        report.write_report(data_db, outdir / name, "2020-11")


def test_a_failed_write_never_replaces_a_good_report(data_db, outdir, monkeypatch):
    out = outdir / "月报.pdf"
    report.write_report(data_db, out, "2020-11")
    good = out.read_bytes()

    def half_written(data, path, *, state):  # noqa: ANN001
        Path(path).write_bytes(b"%PDF-1.4\n% truncated")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pdf_report, "render_report", half_written)
    with pytest.raises(JzairError, match="写入报告失败.*原有文件未被改动"):
        report.write_report(data_db, out, "2020-11")
    assert out.read_bytes() == good
    assert sorted(p.name for p in outdir.iterdir()) == ["月报.pdf"]


def test_a_failure_inside_the_layout_leaves_no_file(data_db, outdir, monkeypatch):
    def broken(self):  # noqa: ANN001
        raise RuntimeError("layout failed")

    monkeypatch.setattr(pdf_report._Builder, "air", broken)
    with pytest.raises(RuntimeError):
        report.write_report(data_db, outdir / "r.pdf", "2020-11")
    assert not list(outdir.iterdir())


def test_cancelling_stops_and_leaves_no_file(data_db, outdir):
    seen = []

    def cancel_when_laying_out(done, total, text):  # noqa: ANN001
        seen.append(done)
        if text.startswith("正在排版"):
            state.cancel()

    state = TaskState(cancel_when_laying_out)
    with pytest.raises(Cancelled):
        report.write_report(data_db, outdir / "r.pdf", "2020-11", state=state)
    assert not list(outdir.iterdir())
    assert seen


def test_progress_reaches_the_end(data_db, outdir):
    seen = []
    report.write_report(data_db, outdir / "r.pdf", "2020-11",
                        state=TaskState(lambda done, total, text: seen.append((done, total, text))))
    assert seen[-1][0] == seen[-1][1] == 100
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


def test_an_empty_database_still_gives_a_complete_report(db, outdir):
    out = outdir / "r.pdf"
    result = report.write_report(db, out, "2020-10", "晋中开发区")
    text = " ".join(pdf_pages(out))
    assert result.pages >= 2
    assert "没有已过计划完成日期仍未完成的事项" in text
    assert "第 1 页 共" in text


@pytest.mark.slow
def test_the_report_core_does_not_import_qt():
    code = (
        "import sys, jzair_desktop.services.report, jzair_desktop.exchange.pdf_report;"
        "sys.exit(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
