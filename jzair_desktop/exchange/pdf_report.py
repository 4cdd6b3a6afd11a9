"""The monthly report (月报) as a PDF: plain report data in, an A4 PDF out (reportlab, no Qt, no database).

services/report.py gathers the figures as of the month's end into a `ReportData`; `render_report`
lays them out: a title block and one-page overview, one section per ledger (tables by unit or by
乡（镇）, vector charts), the monthly-figure indicators, air quality against targets, the warning list
(预警) worst first, the open and overdue items of a county, and, on request, one 预警函 per lagging
unit. Every page carries the report header and "第 X 页 共 Y 页".

Output is deterministic (reportlab `invariant=1`): the same data gives a byte-identical file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepInFrame,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

from jzair_desktop.exchange.pdf_charts import ProgressBar, ValueBar, limit_chart, progress_chart
from jzair_desktop.exchange.pdf_common import (
    FONT,
    FRAME_HEIGHT,
    FRAME_WIDTH,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    OFFICIAL_RED,
    PAGE_SIZE,
    STATUS_FILL,
    Col,
    Styles,
    data_table,
    escape,
    fmt_date_cn,
    fmt_month_cn,
    fmt_number,
    fmt_percent,
    make_styles,
    numbered_canvas,
    status_legend,
    status_text,
)
from jzair_desktop.exchange.report_data import (
    AirHistoryRow,
    AirRow,
    Figure,
    IndicatorBlock,
    LedgerBlock,
    Letter,
    OpenItem,
    OpenItemGroup,
    ReportData,
    TownshipFigure,
    WarningItem,
    fmt_rate,
)
from jzair_desktop.taskstate import NULL_STATE, TaskState

CHINESE_NUMERALS = "一二三四五六七八九十"


# =========================================================================== helpers
def _section_no(n: int) -> str:
    return CHINESE_NUMERALS[n - 1] if 1 <= n <= 10 else str(n)


def _value(fig: Figure, ind: IndicatorBlock, which: str) -> str:
    value = getattr(fig, which)
    if which == "done" and fig.done_text:
        return fig.done_text
    if fig.kind == "milestone":
        if which == "target":
            return "—" if fig.status == "no_target" else "按时完成"
        if which == "month":
            return "—"
        return "—" if fig.status == "no_target" else "未完成"
    if fig.status == "no_target" and fig.status_label == "无任务" and which != "done":
        return "—"
    if ind.measure == "rate":
        if which == "month":
            return "—"
        if value is None:
            return "未填报" if which == "done" else "—"
        return fmt_rate(value, ind.unit)
    if which == "target" and value is None:
        return "未分解"
    return fmt_number(value)


def _rate_target(ind: IndicatorBlock, fig: Figure) -> str:
    if fig.target is None:
        return "—"
    sign = "≥" if ind.compare == "ge" else "≤"
    return f"{sign}{fmt_rate(fig.target, ind.unit)}"


def _due_short(text: str) -> str:
    """A due date for a narrow column: the date, or 按计划日期 for per-record plans."""
    return "按计划日期" if text.startswith("按") else text


def _pm(value: float | None, missing: str) -> str:
    return missing if value is None else f"{value:.1f}"


def _fig_status(fig: Figure) -> str:
    return status_text(fig.status, fig.status_label)


def _status_fill(status: str) -> colors.Color | None:
    return STATUS_FILL.get(status)


def _mark_status(fills: dict[tuple[int, int], colors.Color], cell: tuple[int, int], status: str) -> None:
    """Shade `cell` (row, column) in the colour of `status`, if it has one."""
    fill = _status_fill(status)
    if fill is not None:
        fills[cell] = fill


def _completion(fig: Figure) -> str:
    if fig.completion is None or fig.kind != "cumulative":
        return "—"
    return fmt_percent(fig.completion)


def _schedule(fig: Figure) -> str:
    if fig.schedule is None or fig.kind == "limit" or fig.status_label == "无任务":
        return "—"
    return fmt_percent(fig.schedule)


def _figure_cells(fig: Figure, ind: IndicatorBlock) -> list[str]:
    """目标 | 本月完成 | 累计完成 | 完成率 | 时序进度 | 状态 of one figure, as the progress tables show them."""
    return [
        _value(fig, ind, "target"),
        _value(fig, ind, "month"),
        _value(fig, ind, "done"),
        _completion(fig),
        _schedule(fig),
        _fig_status(fig),
    ]


# =========================================================================== the builder
class _Builder:
    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.s: Styles = make_styles()
        self.story: list[Flowable] = []
        self.section = 0

    # ---------------------------------------------------------------- small pieces
    def add(self, *flowables: Flowable) -> None:
        self.story.extend(flowables)

    def h1(self, text: str) -> Paragraph:
        self.section += 1
        return Paragraph(f"{_section_no(self.section)}、{escape(text)}", self.s.h1)

    def h2(self, text: str) -> Paragraph:
        return Paragraph(escape(text), self.s.h2)

    def p(self, text: str) -> Paragraph:
        return Paragraph(text, self.s.body)

    def note(self, text: str) -> Paragraph:
        return Paragraph(escape(text), self.s.note)

    # ---------------------------------------------------------------- title and overview
    def title_block(self) -> None:
        d = self.data
        self.add(Spacer(1, 2 * mm))
        self.add(Paragraph(escape(d.title), self.s.title))
        sub = fmt_month_cn(d.month) if d.is_city else f"{d.unit_name}　{fmt_month_cn(d.month)}"
        self.add(Paragraph(escape(sub), self.s.subtitle))
        self.add(Spacer(1, 2 * mm))
        meta = f"数据截至：{fmt_date_cn(d.as_of)}"
        if d.is_city:
            meta += f"　　编制：{d.issuer}"
        else:
            meta += f"　　报送单位：{d.unit_name}"
        self.add(Paragraph(escape(meta), self.s.meta))
        self.add(Paragraph(escape(f"依据：{d.plan_title}（{d.plan_doc_no}）"), self.s.meta))
        self.add(Spacer(1, 2 * mm))
        self.add(HRFlowable(width="100%", thickness=1.6, color=OFFICIAL_RED, spaceBefore=1, spaceAfter=1))
        self.add(HRFlowable(width="100%", thickness=0.5, color=OFFICIAL_RED, spaceBefore=1, spaceAfter=4))

    def overview(self) -> None:
        d = self.data
        self.add(self.h1("总体进展"))
        self.add(self.p(escape(self._summary_text())))
        cols = [
            Col("序号", 22, "center"),
            Col("任务（方案条目）", 113, "left", wrap=True),
            Col("单位", 26, "center"),
            Col("目标", 46, "right"),
            Col("本月完成", 44, "right"),
            Col("累计完成", 48, "right"),
            Col("完成率", 40, "right"),
            Col("时序进度", 45, "right"),
            Col("状态", 42, "center"),
        ]
        if d.is_city:
            cols.append(Col("时限", 56, "center"))
        else:
            cols.append(Col("全市排名", 34, "center"))
        rows, fills = [], {}
        for i, ind in enumerate(d.overview):
            f = ind.overall
            row = [
                str(i + 1),
                f"{ind.name}（{ind.plan_item}）",
                ind.unit,
                *_figure_cells(f, ind),
            ]
            row.append(_due_short(ind.due_text) if d.is_city else (f"{f.rank}/{ind.ranked}" if f.rank else "—"))
            rows.append(row)
            _mark_status(fills, (i, 8), f.status)
        self.add(data_table(self.s, cols, rows, cell_fills=fills))
        self.add(self.note(status_legend()))
        if not d.is_city:
            bars = [
                ProgressBar(ind.name, ind.overall.completion, ind.overall.status, schedule=ind.overall.schedule)
                for ind in d.overview
            ]
            self.add(
                KeepTogether(
                    [
                        Paragraph(escape(f"图　{d.unit_name}各项台账任务完成率"), self.s.cell_center),
                        progress_chart(bars, None, label_width=118, bar_height=7, bar_gap=3,
                                       caption="粗短竖线为该项任务的时序进度"),
                    ]
                )
            )
        self.add(self.note(d.source_note))
        for extra in d.extra_notes:
            self.add(self.note(extra))

    def _summary_text(self) -> str:
        d = self.data
        counts = {k: 0 for k in ("done", "on_track", "behind", "overdue", "未分解", "无任务")}
        for ind in d.overview:
            key = ind.overall.status if ind.overall.status != "no_target" else ind.overall.status_label
            counts[key] = counts.get(key, 0) + 1
        who = "全市" if d.is_city else d.unit_name
        parts = [
            f"截至{fmt_date_cn(d.as_of)}，{who}{len(d.overview)}项台账类攻坚任务中，"
            f"已完成{counts['done']}项，按进度推进{counts['on_track']}项，滞后{counts['behind']}项，"
            f"逾期{counts['overdue']}项"
        ]
        if counts.get("met") or counts.get("not_met"):  # limits judged from a ledger (六个百分之百)
            parts.append(f"，限值类达标{counts.get('met', 0)}项、未达标{counts.get('not_met', 0)}项")
        if counts["未分解"]:
            parts.append(f"，目标未分解{counts['未分解']}项")
        if counts["无任务"]:
            parts.append(f"，台账中无治理任务{counts['无任务']}项")
        parts.append("。")
        heads = []
        seen = set()
        for ind in d.overview:
            ledger = ind.key.split(".")[0]
            if ledger in seen:
                continue
            seen.add(ledger)
            f = ind.overall
            if f.done is None or ind.measure == "rate":
                continue
            text = f"{ind.name}累计完成{fmt_number(f.done)}{ind.unit}"
            if f.completion is not None:
                text += f"（完成率{fmt_percent(f.completion)}）"
            heads.append(text)
        if heads:
            parts.append("其中，" + "；".join(heads) + "。")
        n_air = sum(1 for w in d.warnings if w.is_air)
        n_over = sum(1 for w in d.warnings if w.status == "overdue")
        n_not_met = sum(1 for w in d.warnings if w.status == "not_met" and not w.is_air)
        n_behind = len(d.warnings) - n_air - n_over - n_not_met
        if d.warnings:
            where = "各县（区、市）共有" if d.is_city else f"{d.unit_name}共有"
            units = len({w.unit_code for w in d.warnings})
            kinds = [f"空气质量{n_air}项"] if n_air else []
            kinds += [f"逾期{n_over}项"] if n_over else []
            kinds += [f"限值未达标{n_not_met}项"] if n_not_met else []
            kinds += [f"滞后{n_behind}项"] if n_behind else []
            who = f"（涉及{units}个县（区、市））" if d.is_city else ""
            parts.append(f"{where}{len(d.warnings)}项预警{who}：{'、'.join(kinds)}，详见“预警情况”。")
        else:
            parts.append("本月无进度预警。")
        return "".join(parts)

    # ---------------------------------------------------------------- ledger sections
    def ledgers(self) -> None:
        d = self.data
        self.add(PageBreak() if d.is_city else CondPageBreak(120 * mm))
        self.add(self.h1("分项任务进展"))
        for n, block in enumerate(d.ledgers, start=1):
            if n > 1:
                self.add(CondPageBreak(120 * mm))
            self.add(self.h2(f"（{_section_no(n)}）{block.title}"))
            if d.is_city:
                self._city_ledger(block)
            else:
                self._county_ledger(block)

    def _city_ledger(self, block: LedgerBlock) -> None:
        for k, ind in enumerate(block.indicators, start=1):
            head = Paragraph(
                escape(f"{k}. {ind.name}（单位：{ind.unit}；全市目标：{ind.target_text}；"
                       f"时限：{ind.due_text}；牵头：{ind.department}）"),
                self.s.cell,
            )
            table = self._unit_table(ind)
            self.add(KeepTogether([head, Spacer(1, 1.5 * mm), table]))
            self.add(Spacer(1, 3 * mm))
            if ind.key == block.chart_indicator:
                bars = [ProgressBar(f.label, f.completion, f.status) for f in ind.units]
                self.add(
                    KeepTogether(
                        [
                            Paragraph(escape(f"图　{ind.name}完成率（按县区）"), self.s.cell_center),
                            progress_chart(bars, ind.overall.schedule, caption="虚线为时序进度"),
                        ]
                    )
                )
                self.add(Spacer(1, 4 * mm))

    def _unit_table(self, ind: IndicatorBlock) -> Flowable:
        cols = [
            Col("县（区、市）", 70, "left", wrap=True),
            Col("目标", 56, "right"),
            Col("本月完成", 54, "right"),
            Col("累计完成", 58, "right"),
            Col("完成率", 50, "right"),
            Col("时序进度", 50, "right"),
            Col("状态", 50, "center"),
            Col("排名", 34, "center"),
        ]
        rows, fills = [], {}
        for i, f in enumerate([*ind.units, ind.overall]):
            is_total = i == len(ind.units)
            rows.append(
                [
                    "全市合计" if is_total else f.label,
                    *_figure_cells(f, ind),
                    "—" if f.rank is None else str(f.rank),
                ]
            )
            _mark_status(fills, (i, 6), f.status)
        return data_table(self.s, cols, rows, total_rows=[len(ind.units)], cell_fills=fills)

    def _county_ledger(self, block: LedgerBlock) -> None:
        cols = [
            Col("任务", 112, "left", wrap=True),
            Col("目标", 50, "right"),
            Col("本月完成", 50, "right"),
            Col("累计完成", 54, "right"),
            Col("完成率", 46, "right"),
            Col("时序进度", 46, "right"),
            Col("状态", 46, "center"),
            Col("时限", 56, "center"),
            Col("全市排名", 40, "center"),
        ]
        rows, fills = [], {}
        for i, ind in enumerate(block.indicators):
            f = ind.overall
            rows.append(
                [
                    f"{ind.name}（{ind.unit}）",
                    *_figure_cells(f, ind),
                    _due_short(ind.due_text),
                    f"{f.rank}/{ind.ranked}" if f.rank else "—",
                ]
            )
            _mark_status(fills, (i, 6), f.status)
        self.add(data_table(self.s, cols, rows, cell_fills=fills))
        self.add(Spacer(1, 3 * mm))
        if block.townships:
            self._townships(block)

    def _townships(self, block: LedgerBlock) -> None:
        methods = block.township_methods
        cols = [
            Col("乡（镇）", 72, "left", wrap=True),
            Col("登记户数", 46, "right"),
            Col("累计完成", 46, "right"),
            Col("本月完成", 46, "right"),
            Col("完成比例", 44, "right"),
            *[Col(m, 44, "right", wrap=True) for m in methods],
        ]
        rows = []
        total_reg = total_done = total_month = 0
        totals = [0] * len(methods)
        for t in block.townships:
            share = t.done / t.registered if t.registered else None
            rows.append(
                [t.township, fmt_number(t.registered), fmt_number(t.done), fmt_number(t.month), fmt_percent(share),
                 *[fmt_number(v) for v in t.by_method]]
            )
            total_reg += t.registered
            total_done += t.done
            total_month += t.month
            totals = [a + b for a, b in zip(totals, t.by_method, strict=True)]
        rows.append(
            ["合计", fmt_number(total_reg), fmt_number(total_done), fmt_number(total_month),
             fmt_percent(total_done / total_reg if total_reg else None), *[fmt_number(v) for v in totals]]
        )
        head = Paragraph(escape("按乡（镇）分列（完成比例 = 累计完成户数 ÷ 台账登记户数；各改造方式列为累计完成户数）"),
                         self.s.cell)
        self.add(KeepTogether([head, Spacer(1, 1.5 * mm),
                               data_table(self.s, cols, rows, total_rows=[len(rows) - 1])]))
        self.add(Spacer(1, 3 * mm))
        bars = []
        for t in block.townships:
            share = t.done / t.registered if t.registered else None
            status = "done" if share is not None and share >= 1 - 1e-9 else (
                "behind" if share is not None and block.township_schedule is not None
                and block.township_schedule - share > 0.05 else "on_track")
            if share is not None and status != "done" and self.data.as_of > self._heating_due(block):
                status = "overdue"
            bars.append(ProgressBar(t.township, share, status))
        self.add(
            KeepTogether(
                [
                    Paragraph(escape("图　各乡（镇）完成比例"), self.s.cell_center),
                    progress_chart(bars, block.township_schedule, caption="虚线为时序进度"),
                ]
            )
        )

    def _heating_due(self, block: LedgerBlock) -> dt.date:
        for ind in block.indicators:
            try:
                return dt.date.fromisoformat(ind.due_text)
            except ValueError:
                continue
        return dt.date.max

    # ---------------------------------------------------------------- monthly figures
    def monthly(self) -> None:
        d = self.data
        self.add(CondPageBreak(90 * mm))
        self.add(self.h1("月度填报指标和节点任务"))
        self.add(self.note("以下指标由各县（区、市）按月填报：累计类为本月新增与累计数，按时序进度评价；限值类为最近一次"
                           "填报的月度值，每月对照限值评价（达标月数为目标期间内达标月数/已填报月数，某月未达标即使"
                           "此后达标也保留在内）；节点类为完成日期与依据。“—”为该项任务不涉及的单位（无任务）。"))
        cols = [
            Col("序号", 22, "center"),
            Col("指标", 107, "left", wrap=True),
            Col("单位", 40, "center", wrap=True),
            Col("目标", 46, "right"),
            Col("本月", 40, "right"),
            Col("累计/最新值", 54, "right", wrap=True),
            Col("完成率", 40, "right"),
            Col("时序进度", 45, "right"),
            Col("状态", 42, "center"),
        ]
        if not d.is_city:
            cols.append(Col("全市排名", 34, "center"))
        rows, fills = [], {}
        for i, ind in enumerate(d.monthly):
            f = ind.overall
            target = _rate_target(ind, f) if ind.measure == "rate" else _value(f, ind, "target")
            done = _value(f, ind, "done")
            if ind.measure == "rate" and f.note and f.done is not None and not f.done_text:
                done = f"{done}（{f.note}）"
            row = [str(i + 1), ind.name, ind.unit, target, _value(f, ind, "month"), done,
                   _completion(f), _schedule(f), _fig_status(f)]
            if not d.is_city:
                row.append(f"{f.rank}/{ind.ranked}" if f.rank else "—")
            rows.append(row)
            _mark_status(fills, (i, 8), f.status)
        self.add(data_table(self.s, cols, rows, cell_fills=fills))
        if d.is_city:
            self.add(self.note("全市累计类为各县（区、市）之和（铁路货运量为市级填报数）；限值类不取平均值，"
                               "列出达到各自限值的单位数/已填报单位数；节点类为已完成单位数。"))

    # ---------------------------------------------------------------- 建筑工地 and 问题清单 (十七, 十八, 二十)
    def sites(self) -> None:
        d, sec = self.data, self.data.sites
        if sec is None:
            return
        self.add(CondPageBreak(70 * mm))
        self.add(self.h1("建筑工地"))
        who = "全市" if d.is_city else d.unit_name
        supervised = sum(r.supervised for r in sec.rows if r.county != "合计")
        target = "" if sec.target is None else f"（目标{fmt_number(sec.target)}个）"
        self.add(self.p(escape(
            f"截至{fmt_date_cn(d.as_of)}，{who}动态监管建筑工地{fmt_number(supervised)}个{target}。"
            "“六个百分之百”达标率为六项（工地周边围挡、物料堆放覆盖、土方开挖湿法作业、路面硬化、出入车辆清洗、"
            "渣土车辆密闭运输）全部落实的在建工地占在建工地的比例，要求100%（方案第十七条）。")))
        cols = [
            Col("县（区、市）", 70, "left", wrap=True),
            Col("动态监管工地", 58, "right", wrap=True),
            Col("其中在建", 46, "right"),
            Col("六个百分之百达标", 58, "right", wrap=True),
            Col("达标率", 46, "right"),
            Col("在线监测", 46, "right"),
            Col("视频监控", 46, "right"),
        ]
        rows, fills, totals = [], {}, []
        for i, r in enumerate(sec.rows):
            rate = r.rate
            rows.append([r.county, fmt_number(r.supervised), fmt_number(r.active), fmt_number(r.meeting),
                         "—" if rate is None else fmt_percent(rate), fmt_number(r.online), fmt_number(r.video)])
            if r.county == "合计":
                totals.append(i)
            elif rate is not None:
                _mark_status(fills, (i, 4), "met" if r.meeting == r.active else "not_met")
        self.add(data_table(self.s, cols, rows, cell_fills=fills, total_rows=totals))
        if not sec.failing_total:
            self.add(self.p("在建工地“六个百分之百”全部落实。"))
            return
        head = f"“六个百分之百”未全部落实的在建工地：{fmt_number(sec.failing_total)}个"
        parts: list[Flowable] = [Spacer(1, 2 * mm), self.h2(head)]
        if len(sec.failing) < sec.failing_total:
            parts.append(self.note(f"以下列出{len(sec.failing)}个，其余见“建筑工地”台账。"))
        cols = [Col("序号", 24, "center")]
        if d.is_city:
            cols.append(Col("县（区、市）", 54, "left", wrap=True))
        cols += [Col("项目名称", 130, "left", wrap=True), Col("施工单位", 100, "left", wrap=True),
                 Col("未落实事项", 120, "left", wrap=True)]
        rows = []
        for i, f in enumerate(sec.failing):
            row = [str(i + 1)]
            if d.is_city:
                row.append(f.county)
            rows.append([*row, f.project_name, f.contractor, "、".join(f.failing)])
        self.add(KeepTogether([*parts, Spacer(1, 1.5 * mm)]))
        self.add(data_table(self.s, cols, rows))

    def problems(self) -> None:
        d, sec = self.data, self.data.problems
        if sec is None:
            return
        self.add(CondPageBreak(70 * mm))
        self.add(self.h1("问题清单"))
        who = "全市" if d.is_city else d.unit_name
        total = sum(r.total for r in sec.rows if r.county != "合计")
        done = sum(r.done for r in sec.rows if r.county != "合计")
        self.add(self.p(escape(
            f"截至{fmt_date_cn(d.as_of)}，{who}问题清单（《三年行动计划》《柴油货车攻坚》未完成任务及监督帮扶、督察"
            f"发现的问题）共{fmt_number(total)}项，已整改（含已销号）{fmt_number(done)}项，超过整改时限仍未整改"
            f"{fmt_number(sec.overdue_total)}项（方案第十八条、第二十条）。")))
        cols = [
            Col("县（区、市）", 70, "left", wrap=True),
            Col("问题总数", 50, "right"),
            Col("本月新增", 50, "right"),
            Col("本月整改", 50, "right"),
            Col("累计整改", 50, "right"),
            Col("未整改", 50, "right"),
            Col("逾期未整改", 54, "right", wrap=True),
        ]
        rows, fills, totals = [], {}, []
        for i, r in enumerate(sec.rows):
            rows.append([r.county, fmt_number(r.total), fmt_number(r.opened), fmt_number(r.closed), fmt_number(r.done),
                         fmt_number(r.open), fmt_number(r.overdue)])
            if r.county == "合计":
                totals.append(i)
            elif r.overdue:
                _mark_status(fills, (i, 6), "overdue")
        self.add(data_table(self.s, cols, rows, cell_fills=fills, total_rows=totals))
        self.add(self.note("本月新增按发现（交办）日期统计，未填的按录入日期；整改按整改完成日期统计。"))
        if not sec.overdue_total:
            return
        head = f"超过整改时限仍未整改的问题：{fmt_number(sec.overdue_total)}项"
        parts: list[Flowable] = [Spacer(1, 2 * mm), self.h2(head)]
        if len(sec.overdue) < sec.overdue_total:
            parts.append(self.note(f"以下列出逾期最久的{len(sec.overdue)}项，其余见“问题清单”台账。"))
        cols = [Col("序号", 24, "center")]
        if d.is_city:
            cols.append(Col("县（区、市）", 50, "left", wrap=True))
        cols += [Col("来源及文号", 80, "left", wrap=True), Col("问题（任务）描述", 130, "left", wrap=True),
                 Col("责任部门", 62, "left", wrap=True), Col("整改时限", 56, "center"), Col("逾期天数", 40, "right")]
        rows = []
        for i, p in enumerate(sec.overdue):
            row = [str(i + 1)]
            if d.is_city:
                row.append(p.county)
            source = f"{p.source}（{p.document_no}）" if p.document_no else p.source
            rows.append([*row, source, f"{p.description}（{p.status}）", p.department, p.due_date.isoformat(),
                         fmt_number(p.overdue_days)])
        self.add(KeepTogether([*parts, Spacer(1, 1.5 * mm)]))
        self.add(data_table(self.s, cols, rows))

    # ---------------------------------------------------------------- air quality
    def air(self) -> None:
        d = self.data
        self.add(CondPageBreak(110 * mm))
        self.add(self.h1("空气质量"))
        period = next((a.period for a in d.air if a.period), "")
        cols = [
            Col("区域", 54, "left", wrap=True),
            Col("档次", 26, "center"),
            Col("2019年同期PM2.5", 44, "right", wrap=True),
            Col("PM2.5 目标", 38, "right", wrap=True),
            Col("PM2.5 期间至今", 42, "right", wrap=True),
            Col("差距", 36, "right"),
            Col("评价", 46, "center", wrap=True),
            Col("重污染天数 2019年同期", 46, "right", wrap=True),
            Col("天数目标", 36, "right", wrap=True),
            Col("期间至今", 36, "right", wrap=True),
            Col("评价", 46, "center", wrap=True),
        ]
        rows, fills = [], {}
        for i, a in enumerate(d.air):
            gap = None if a.pm25_period_mean is None or a.pm25_max is None else a.pm25_period_mean - a.pm25_max
            rows.append(
                [
                    a.area,
                    "—" if a.grade is None else f"{a.grade}档",
                    _pm(a.pm25_baseline, "—"),
                    _pm(a.pm25_max, "未设定"),
                    _pm(a.pm25_period_mean, "未填报"),
                    "—" if gap is None else f"{gap:+.1f}",
                    status_text(a.pm25_status, a.pm25_status_label or "—"),
                    fmt_number(a.heavy_baseline, missing="—"),
                    fmt_number(a.heavy_max, missing="未设定"),
                    fmt_number(a.heavy_period, missing="未填报"),
                    status_text(a.heavy_status, a.heavy_status_label or "—"),
                ]
            )
            _mark_status(fills, (i, 6), a.pm25_status)
            _mark_status(fills, (i, 10), a.heavy_status)
        if period:
            self.add(self.p(escape(f"目标期间：{period}。对照2019年同期，按档次确定PM2.5浓度和重污染天数控制目标"
                                   "（市城区为方案规定的目标，重污染天数为重度及以上污染天数）。")))
        self.add(data_table(self.s, cols, rows, cell_fills=fills, font_size=8))
        self.add(self.note("PM2.5单位：微克/立方米。期间至今：目标期间开始至本月PM2.5月均浓度按天数加权的平均值、重污染天数"
                           "之和；差距为期间至今减目标（正数为超出）。评价：○按进度（期间至今不超过目标）　▲滞后（超过目标，"
                           "余下月份仍可达标）　■未达标／已无法达标（余下月份即使为零也无法达标）　●达标（期间结束且达标）。"
                           "县（区、市）的档次和2019年同期基准由市大气办录入，目标由此推算。"))
        bars = [ValueBar(a.area, a.pm25_period_mean, a.pm25_max, baseline=a.pm25_baseline) for a in d.air]
        if any(b.value is not None for b in bars):
            self.add(
                KeepTogether(
                    [
                        Paragraph(escape(f"图　{period or fmt_month_cn(d.month)}PM2.5期间至今浓度与目标、2019年同期"
                                         "（微克/立方米）"), self.s.cell_center),
                        limit_chart(bars, unit="期间均值上限", caption=""),
                    ]
                )
            )
        if d.air_history:
            hist_cols = [
                Col("月份", 60, "center"),
                Col("PM2.5（微克/立方米）", 80, "right", wrap=True),
                Col("PM2.5目标（期间均值）", 80, "right", wrap=True),
                Col("重度及以上污染天数" if d.air_history_area == "市城区" else "重污染天数", 60, "right", wrap=True),
                Col("天数目标（期间合计）", 80, "right", wrap=True),
            ]
            hist_rows = [
                [fmt_month_cn(h.month), _pm(h.pm25, "未填报"), _pm(h.pm25_max, "未设定"),
                 fmt_number(h.heavy_days, missing="未填报"), fmt_number(h.heavy_max, missing="未设定")]
                for h in d.air_history
            ]
            self.add(
                KeepTogether(
                    [
                        Spacer(1, 3 * mm),
                        Paragraph(escape(f"{d.air_history_area}逐月空气质量"), self.s.cell),
                        Spacer(1, 1.5 * mm),
                        data_table(self.s, hist_cols, hist_rows, width=FRAME_WIDTH * 0.8),
                    ]
                )
            )

    # ---------------------------------------------------------------- warnings
    def warnings(self) -> None:
        d = self.data
        self.add(CondPageBreak(80 * mm))
        self.add(self.h1("预警情况"))
        if not d.warnings:
            self.add(self.p("截至本月末，" + ("各县（区、市）" if d.is_city else d.unit_name)
                            + "各项任务均未滞后于时序进度，无预警。"))
            return
        self.add(self.note("空气质量改善达不到时序进度的列在最前（方案第二十一条），其后为已过时限仍未完成（逾期、"
                           "逾期未完成）、限值未达标和完成率低于时序进度5个百分点以上（滞后）的任务，同类按落后幅度"
                           "从大到小排列。落后：时序进度减完成率（百分点）；缺口：滞后任务为按时序进度应完成而未完成的"
                           "数量，逾期任务为距目标尚差的数量，限值和空气质量为超出（或低于）限值的幅度。"))
        cols = [Col("序号", 22, "center")]
        if d.is_city:
            cols.append(Col("县（区、市）", 56, "left", wrap=True))
        cols += [
            Col("任务", 91 if d.is_city else 147, "left", wrap=True),
            Col("目标", 40, "right"),
            Col("累计完成", 42, "right"),
            Col("完成率", 38, "right"),
            Col("时序进度", 43, "right"),
            Col("落后", 34, "right"),
            Col("缺口", 56, "right", wrap=True),
            Col("状态", 36, "center"),
            Col("时限", 54, "center"),
        ]
        status_col = len(cols) - 2
        rows, fills = [], {}
        for i, w in enumerate(d.warnings):
            row = [str(i + 1)]
            if d.is_city:
                row.append(w.county)
            cumulative = w.kind == "cumulative"
            row += [f"{w.name}（{w.unit}）", w.target_text(), w.done_text(),
                    fmt_percent(w.completion) if cumulative else "—",
                    fmt_percent(w.schedule) if cumulative or w.kind == "milestone" else "—",
                    f"{w.points_behind:.1f}" if cumulative else "—", w.shortfall_text(),
                    status_text(w.status, w.status_label), _due_short(w.due_text)]
            rows.append(row)
            _mark_status(fills, (i, status_col), w.status)
        self.add(data_table(self.s, cols, rows, cell_fills=fills, font_size=8))

    # ---------------------------------------------------------------- open items (county)
    def open_items(self) -> None:
        d = self.data
        self.add(CondPageBreak(80 * mm))
        self.add(self.h1("未完成且已逾期的事项"))
        total = sum(g.total for g in d.open_items)
        if total == 0:
            self.add(self.p(f"截至{fmt_date_cn(d.as_of)}，{d.unit_name}台账中没有已过计划完成日期仍未完成的事项。"))
            return
        self.add(self.p(escape(f"截至{fmt_date_cn(d.as_of)}，{d.unit_name}共有{fmt_number(total)}项已过计划完成日期"
                               "（清洁取暖为任务时限）仍未完成的事项，请逐项督办。")))
        n = 0
        for g in d.open_items:
            if not g.total:
                continue
            n += 1
            unit_word = "户" if g.kind == "household" else "项"
            head = f"（{_section_no(n)}）{g.title}：{fmt_number(g.total)}{unit_word}"
            parts: list[Flowable] = [self.h2(head)]
            if g.rule:
                parts.append(self.note(g.rule))
            if g.by_township:
                parts.append(self.note("未完成农户较多，按乡（镇）汇总；农户名单可在“清洁取暖”台账中按状态筛选后导出。"))
                self.add(KeepTogether([*parts, Spacer(1, 1.5 * mm)]))
                self.add(self._open_by_township(g))
                self.add(Spacer(1, 3 * mm))
                continue
            if g.kind == "household":
                cols = [
                    Col("序号", 26, "center"),
                    Col("乡（镇）", 64, "left", wrap=True),
                    Col("村（社区）", 64, "left", wrap=True),
                    Col("户主姓名", 52, "left", wrap=True),
                    Col("身份证号", 96, "center"),
                    Col("改造方式", 56, "center", wrap=True),
                    Col("逾期天数", 44, "right"),
                ]
                rows = [[str(i + 1), it.place.split("/")[0], it.place.split("/")[-1], it.label, it.id_masked or "—",
                         it.detail, fmt_number(it.overdue_days)] for i, it in enumerate(g.items)]
            else:
                cols = [
                    Col("序号", 26, "center"),
                    Col("单位/企业名称", 130, "left", wrap=True),
                    Col("任务/治理内容", 130, "left", wrap=True),
                    Col("计划完成日期", 62, "center"),
                    Col("逾期天数", 44, "right"),
                ]
                rows = [[str(i + 1), it.label, it.detail, it.planned.isoformat() if it.planned else "—",
                         fmt_number(it.overdue_days)] for i, it in enumerate(g.items)]
            if len(g.items) < g.total:
                parts.append(self.note(f"以下列出逾期最久的{len(g.items)}项，其余{g.total - len(g.items)}项见台账。"))
            self.add(KeepTogether([*parts, Spacer(1, 1.5 * mm)]))
            self.add(data_table(self.s, cols, rows))
            self.add(Spacer(1, 3 * mm))
        self.add(self.note("身份证号已脱敏显示；逾期天数按数据截至日计算。"))

    def _open_by_township(self, g: OpenItemGroup) -> Flowable:
        cols = [
            Col("乡（镇）", 80, "left", wrap=True),
            Col("涉及村（社区）", 56, "right", wrap=True),
            Col("未完成户数", 56, "right"),
            *[Col(m, 50, "right", wrap=True) for m in g.methods],
        ]
        rows = [[p.township, fmt_number(p.villages), fmt_number(p.households), *[fmt_number(v) for v in p.by_method]]
                for p in g.by_township]
        totals = [sum(p.by_method[k] for p in g.by_township) for k in range(len(g.methods))]
        rows.append(["合计", fmt_number(sum(p.villages for p in g.by_township)),
                     fmt_number(sum(p.households for p in g.by_township)), *[fmt_number(v) for v in totals]])
        return data_table(self.s, cols, rows, total_rows=[len(rows) - 1])

    # ---------------------------------------------------------------- letters
    def letters(self) -> None:
        d = self.data
        date = d.letter_date or d.as_of
        for letter in d.letters:
            self.add(PageBreak())
            body = _Builder(d)
            body._letter(letter, date)
            # One page per letter: a long list of tasks shrinks the letter rather than spilling over.
            self.add(KeepInFrame(FRAME_WIDTH, FRAME_HEIGHT - 1, body.story, mode="shrink"))

    def _letter(self, letter: Letter, date: dt.date) -> None:
        d = self.data
        s = self.s
        self.add(Spacer(1, 4 * mm))
        self.add(Paragraph(escape(d.issuer), s.letter_org))
        self.add(Spacer(1, 2 * mm))
        self.add(Paragraph(escape(letter.number), s.letter_no))
        self.add(HRFlowable(width="100%", thickness=1.8, color=OFFICIAL_RED, spaceBefore=3, spaceAfter=8))
        air = [w for w in letter.items if w.is_air]
        tasks = [w for w in letter.items if not w.is_air]
        reasons = []
        if air:
            reasons.append("空气质量改善幅度达不到时序进度")
        if tasks:
            reasons.append("重点任务进展缓慢")
        self.add(Paragraph(escape(f"关于{letter.unit_name}{'及'.join(reasons)}的预警函"), s.letter_title))
        self.add(Paragraph(escape(f"{_addressee(letter.unit_name)}："), s.letter_sign.clone("addressee", alignment=0)))
        you = _you(letter.unit_name)
        counts = []
        if air:
            counts.append(f"空气质量{len(air)}项未达到控制目标的时序要求")
        n_over = sum(1 for w in tasks if w.status == "overdue")
        n_not_met = sum(1 for w in tasks if w.status == "not_met")
        n_behind = len(tasks) - n_over - n_not_met
        if n_over:
            counts.append(f"{n_over}项已过时限仍未完成")
        if n_not_met:
            counts.append(f"{n_not_met}项限值未达标")
        if n_behind:
            counts.append(f"{n_behind}项完成率低于时序进度5个百分点以上")
        self.add(
            Paragraph(
                escape(
                    f"根据各县（区、市）报送的空气质量和台账数据，截至{fmt_date_cn(d.as_of)}，{you}"
                    f"落实《{d.plan_title}》（{d.plan_doc_no}）的情况中，有{len(letter.items)}项预警，其中"
                    + "、".join(counts) + "，具体如下："
                ),
                s.letter_body,
            )
        )
        cols = [
            Col("序号", 22, "center"),
            Col("预警事项", 118, "left", wrap=True),
            Col("目标", 42, "right", wrap=True),
            Col("完成/现状", 48, "right", wrap=True),
            Col("完成率", 38, "right"),
            Col("差距", 104, "left", wrap=True),
            Col("时限", 50, "center", wrap=True),
            Col("市级牵头单位", 62, "left", wrap=True),
        ]
        rows = []
        for i, w in enumerate(letter.items):
            rows.append([str(i + 1), f"{w.name}（{w.unit}）", w.target_text(), w.done_text(),
                         fmt_percent(w.completion) if w.kind == "cumulative" else "—", w.gap_text(),
                         _due_short(w.due_text), w.departments or "—"])
        self.add(Spacer(1, 1 * mm))
        self.add(data_table(self.s, cols, rows, font_size=8.5))
        self.add(Spacer(1, 3 * mm))
        reply_by = date + dt.timedelta(days=10)
        self.add(
            Paragraph(
                escape(
                    f"请{you}高度重视，对照空气质量控制目标和重点任务逐项分析滞后原因，制定整改措施，倒排工期、"
                    "压实责任，确保在时限内完成；已过时限的任务须立即整改到位。"
                    f"请于{fmt_date_cn(reply_by)}前将整改情况书面报送市大气污染防治工作领导组办公室。"
                ),
                s.letter_body,
            )
        )
        self.add(Paragraph("特此函告。", s.letter_body))
        self.add(Spacer(1, 10 * mm))
        self.add(Paragraph(escape(d.issuer), s.letter_sign))
        self.add(Paragraph(escape(fmt_date_cn(date)), s.letter_sign))

    # ---------------------------------------------------------------- whole document
    def build_story(self) -> list[Flowable]:
        self.title_block()
        self.overview()
        self.ledgers()
        self.monthly()
        self.sites()
        self.problems()
        self.air()
        self.warnings()
        if not self.data.is_city:
            self.open_items()
        if self.data.letters:
            self.letters()
        return self.story


def _addressee(unit_name: str) -> str:
    if unit_name.endswith("开发区"):
        return f"{unit_name}管委会"
    return f"{unit_name}人民政府"


def _you(unit_name: str) -> str:
    """你区 / 你县 / 你市 by the unit's name."""
    last = unit_name[-1:]
    return f"你{last}" if last in ("区", "县", "市") else "你单位"


def letter_number(letter_date: dt.date, n: int, prefix: str = "市大气办预警") -> str:
    """The letter's number: the city office's own prefix (plan.toml letter_prefix), 〔year〕n号."""
    return f"{prefix}〔{letter_date.year}〕{n}号"


def render_report(data: ReportData, out: Path | str, *, state: TaskState = NULL_STATE) -> int:
    """Write the report to `out` (a path; the caller makes it atomic). Returns the number of pages."""
    builder = _Builder(data)
    story = builder.build_story()
    header_right = f"{fmt_month_cn(data.month)}　{data.unit_name}"
    doc = SimpleDocTemplate(
        str(out),
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=f"{data.title}（{fmt_month_cn(data.month)}，{data.unit_name}）",
        author=data.issuer if data.is_city else data.unit_name,
        subject=f"数据截至{data.as_of.isoformat()}",
        creator="jzair_desktop",
        keywords=data.audit_keyword,
        invariant=1,
        initialFontName=FONT,
        initialFontSize=10,
        lang="zh-CN",
    )
    total = max(1, len(story))

    def on_progress(kind: str, value: int) -> None:
        if kind == "PROGRESS":
            state.progress(value, total, "正在排版报告…")

    doc.setProgressCallBack(on_progress)
    doc.build(story, canvasmaker=numbered_canvas(data.title, header_right, last_page_note=data.audit_line))
    return doc.page


__all__ = [
    "AirHistoryRow",
    "AirRow",
    "Figure",
    "IndicatorBlock",
    "LedgerBlock",
    "Letter",
    "OpenItem",
    "OpenItemGroup",
    "ReportData",
    "TownshipFigure",
    "WarningItem",
    "letter_number",
    "render_report",
]
