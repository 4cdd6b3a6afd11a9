"""Vector charts for the monthly report (reportlab.graphics, no Qt).

Both charts are horizontal bars, one per unit, with the unit name on the left and the value printed
at the bar's end, so they read without colour: statuses differ by fill *and* by hatching, and the
reference line (时序进度 or the PM2.5 target) is dashed or thick and labelled. Value labels sit on a
white patch so a reference line never runs through their digits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from jzair_desktop.exchange.pdf_common import (
    FONT,
    FRAME_WIDTH,
    GRID,
    INK,
    RULE,
    STATUS_SYMBOL,
    register_fonts,
)

# Fill and hatching per status: the hatch keeps 'behind' and 'overdue' apart on a grey printer.
BAR_FILL = {
    "done": colors.HexColor("#4f8f4f"),
    "on_track": colors.HexColor("#a9d3a9"),
    "behind": colors.HexColor("#f2cf5b"),
    "overdue": colors.HexColor("#e08a80"),
    "no_target": colors.HexColor("#dddddd"),
}
BAR_HATCH = {"done": "", "on_track": "", "behind": "/", "overdue": "x", "no_target": ""}
STATUS_NAMES = {"done": "已完成", "on_track": "按进度", "behind": "滞后", "overdue": "逾期"}
NEUTRAL_FILL = colors.HexColor("#c8c8c8")

LABEL_WIDTH = 62.0
VALUE_WIDTH = 74.0
BAR_HEIGHT = 11.0
BAR_GAP = 5.0
TOP_SPACE = 30.0  # legend and reference-line label
BOTTOM_SPACE = 20.0  # axis ticks
VALUE_FONT = 7.5


@dataclass(frozen=True)
class ProgressBar:
    label: str
    fraction: float | None  # completion (1.0 = 100 %); None: no target
    status: str
    text: str = ""  # printed after the bar; default: the percentage and status symbol
    schedule: float | None = None  # this bar's own 时序进度, drawn as a short thick tick


@dataclass(frozen=True)
class ValueBar:
    label: str
    value: float | None
    limit: float | None  # the target this bar must stay at or below; None: no target set
    text: str = ""
    baseline: float | None = None  # a reference value drawn as a dashed mark (2019's same period)


def _hatch(drawing: Drawing, x: float, y: float, w: float, h: float, pattern: str, spacing: float = 4.5) -> None:
    """Diagonal hatching inside a rectangle: '/' rising lines, 'x' both directions."""
    if w <= 0.5 or h <= 0.5 or not pattern:
        return
    directions = [1] if pattern == "/" else [1, -1]
    for direction in directions:
        t = -h
        while t < w:
            u0, u1 = max(0.0, -t), min(h, w - t)
            if u1 > u0:
                if direction == 1:
                    drawing.add(Line(x + t + u0, y + u0, x + t + u1, y + u1, strokeColor=INK, strokeWidth=0.4))
                else:
                    drawing.add(Line(x + t + u0, y + h - u0, x + t + u1, y + h - u1, strokeColor=INK,
                                     strokeWidth=0.4))
            t += spacing


def _label(drawing: Drawing, x: float, y: float, text: str, *, size: float = VALUE_FONT,
           colour: colors.Color = INK) -> None:
    """Text on a white patch (readable over grid and reference lines)."""
    w = stringWidth(text, FONT, size)
    drawing.add(Rect(x - 1, y - 2, w + 2, size + 2.5, fillColor=colors.white, strokeColor=None, strokeWidth=0))
    drawing.add(String(x, y, text, fontName=FONT, fontSize=size, fillColor=colour))


def _axis_max(values: Sequence[float], floor: float) -> float:
    top = max([floor, *values])
    return math.ceil(top / 0.2 - 1e-9) * 0.2


def _legend_item(drawing: Drawing, x: float, y: float, fill: colors.Color, hatch: str, label: str) -> float:
    drawing.add(Rect(x, y - 1, 14, 8, fillColor=fill, strokeColor=INK, strokeWidth=0.4))
    _hatch(drawing, x, y - 1, 14, 8, hatch, spacing=3.0)
    drawing.add(String(x + 17, y, label, fontName=FONT, fontSize=7.5, fillColor=INK))
    return x + 17 + stringWidth(label, FONT, 7.5) + 12


def progress_chart(
    bars: Sequence[ProgressBar], schedule: float | None, *, width: float = FRAME_WIDTH, caption: str = "",
    label_width: float = LABEL_WIDTH, bar_height: float = BAR_HEIGHT, bar_gap: float = BAR_GAP,
) -> Drawing:
    """Completion per unit as horizontal bars, with the schedule (时序进度) as a dashed vertical line
    (or, per bar, as a short thick tick when the bars have their own schedules)."""
    register_fonts()
    n = max(1, len(bars))
    step = bar_height + bar_gap
    plot_h = n * step + bar_gap
    top_space = TOP_SPACE if schedule is not None else 16.0  # room for the schedule line's label
    height = top_space + plot_h + BOTTOM_SPACE
    d = Drawing(width, height, initialFontName=FONT, initialFontSize=8)
    x0 = label_width
    plot_w = width - label_width - VALUE_WIDTH
    values = [min(b.fraction, 2.0) for b in bars if b.fraction is not None]
    values += [b.schedule for b in bars if b.schedule is not None]
    top = _axis_max(values + ([schedule] if schedule is not None else []), 1.0)
    y_base = BOTTOM_SPACE

    def xs(frac: float) -> float:
        return x0 + plot_w * max(0.0, min(frac, top)) / top

    ticks = int(round(top / 0.2))
    for i in range(ticks + 1):
        frac = i * 0.2
        x = xs(frac)
        d.add(Line(x, y_base, x, y_base + plot_h, strokeColor=GRID, strokeWidth=0.3,
                   strokeDashArray=None if i == 0 else [1, 2]))
        d.add(String(x, y_base - 10, f"{frac * 100:.0f}%", fontName=FONT, fontSize=7, fillColor=INK,
                     textAnchor="middle"))
    d.add(Line(x0, y_base, x0 + plot_w, y_base, strokeColor=RULE, strokeWidth=0.6))

    labels: list[tuple[float, float, str, colors.Color]] = []
    for i, bar in enumerate(bars):
        y = y_base + plot_h - (i + 1) * step
        d.add(String(x0 - 4, y + bar_height / 2 - 2.8, bar.label, fontName=FONT, fontSize=8, fillColor=INK,
                     textAnchor="end"))
        if bar.fraction is None:
            labels.append((x0 + 3, y + bar_height / 2 - 2.8, bar.text or "未分解", RULE))
            continue
        w = xs(bar.fraction) - x0
        status = bar.status if bar.status in BAR_FILL else "on_track"
        d.add(Rect(x0, y, w, bar_height, fillColor=BAR_FILL[status], strokeColor=INK, strokeWidth=0.4))
        _hatch(d, x0, y, w, bar_height, BAR_HATCH[status])
        text_x = x0 + w + 3
        if bar.fraction > top:
            d.add(String(x0 + w - 2, y + bar_height / 2 - 2.8, "»", fontName=FONT, fontSize=8,
                         fillColor=colors.white, textAnchor="end"))
        if bar.schedule is not None:
            sx = xs(bar.schedule)
            d.add(Line(sx, y - 1.5, sx, y + bar_height + 1.5, strokeColor=INK, strokeWidth=2.0))
            text_x = max(text_x, sx + 4)
        text = bar.text or f"{bar.fraction * 100:.1f}% {STATUS_SYMBOL.get(status, '')}"
        labels.append((text_x, y + bar_height / 2 - 2.8, text, INK))

    if schedule is not None:
        x = xs(schedule)
        d.add(Line(x, y_base - 2, x, y_base + plot_h + 4, strokeColor=INK, strokeWidth=1.1, strokeDashArray=[4, 2]))
        label = f"时序进度 {schedule * 100:.1f}%"
        anchor = "end" if x > x0 + plot_w * 0.75 else "start"
        d.add(String(x + (-3 if anchor == "end" else 3), y_base + plot_h + 5, label, fontName=FONT, fontSize=7.5,
                     fillColor=INK, textAnchor=anchor))
    for x, y, text, colour in labels:
        _label(d, x, y, text, colour=colour)

    lx = 0.0
    used = [s for s in ("done", "on_track", "behind", "overdue") if any(b.status == s for b in bars)]
    for status in used or ["on_track"]:
        lx = _legend_item(d, lx, height - 10, BAR_FILL[status], BAR_HATCH[status],
                          f"{STATUS_SYMBOL[status]}{STATUS_NAMES[status]}")
    if caption:
        d.add(String(width, height - 10, caption, fontName=FONT, fontSize=7.5, fillColor=RULE, textAnchor="end"))
    return d


def limit_chart(
    bars: Sequence[ValueBar], *, unit: str, width: float = FRAME_WIDTH, caption: str = ""
) -> Drawing:
    """Values per area as horizontal bars with each area's limit as a short thick tick; bars over the limit
    are hatched, bars without a limit are plain grey."""
    register_fonts()
    n = max(1, len(bars))
    step_y = BAR_HEIGHT + BAR_GAP
    plot_h = n * step_y + BAR_GAP
    height = TOP_SPACE + plot_h + BOTTOM_SPACE
    d = Drawing(width, height, initialFontName=FONT, initialFontSize=8)
    x0 = LABEL_WIDTH
    plot_w = width - LABEL_WIDTH - VALUE_WIDTH
    values = [b.value for b in bars if b.value is not None] + [b.limit for b in bars if b.limit is not None]
    values += [b.baseline for b in bars if b.baseline is not None]
    raw_top = max(values or [1.0])
    step = 10.0 ** max(0, math.floor(math.log10(raw_top))) if raw_top >= 1 else 1.0
    if raw_top / step < 3:
        step /= 2
    top = math.ceil(raw_top * 1.05 / step) * step
    y_base = BOTTOM_SPACE

    def xs(v: float) -> float:
        return x0 + plot_w * max(0.0, min(v, top)) / top

    k = 0
    while k * step <= top + 1e-9:
        tick = k * step
        x = xs(tick)
        d.add(Line(x, y_base, x, y_base + plot_h, strokeColor=GRID, strokeWidth=0.3,
                   strokeDashArray=None if k == 0 else [1, 2]))
        d.add(String(x, y_base - 10, f"{tick:g}", fontName=FONT, fontSize=7, fillColor=INK, textAnchor="middle"))
        k += 1
    d.add(Line(x0, y_base, x0 + plot_w, y_base, strokeColor=RULE, strokeWidth=0.6))
    labels: list[tuple[float, float, str, colors.Color]] = []
    kinds: set[str] = set()
    for i, bar in enumerate(bars):
        y = y_base + plot_h - (i + 1) * step_y
        d.add(String(x0 - 4, y + 2.5, bar.label, fontName=FONT, fontSize=8, fillColor=INK, textAnchor="end"))
        limit_x = xs(bar.limit) if bar.limit is not None else x0
        if bar.value is None:
            labels.append((max(x0 + 3, limit_x + 4), y + 2.5, bar.text or "未填报", RULE))
        else:
            if bar.limit is None:
                fill, hatch, kind = NEUTRAL_FILL, "", "none"
            elif bar.value > bar.limit + 1e-9:
                fill, hatch, kind = BAR_FILL["overdue"], "x", "over"
            else:
                fill, hatch, kind = BAR_FILL["on_track"], "", "ok"
            kinds.add(kind)
            w = xs(bar.value) - x0
            d.add(Rect(x0, y, w, BAR_HEIGHT, fillColor=fill, strokeColor=INK, strokeWidth=0.4))
            _hatch(d, x0, y, w, BAR_HEIGHT, hatch)
            labels.append((max(x0 + w, limit_x) + 4, y + 2.5, bar.text or f"{bar.value:g}", INK))
        if bar.limit is not None:
            d.add(Line(limit_x, y - 2, limit_x, y + BAR_HEIGHT + 2, strokeColor=INK, strokeWidth=2.2))
        if bar.baseline is not None:
            bx = xs(bar.baseline)
            d.add(Line(bx, y - 2, bx, y + BAR_HEIGHT + 2, strokeColor=RULE, strokeWidth=1.0, strokeDashArray=[1.5, 1]))
            kinds.add("baseline")
    for x, y, text, colour in labels:
        _label(d, x, y, text, colour=colour)
    lx = 0.0
    if "ok" in kinds or not kinds:
        lx = _legend_item(d, lx, height - 10, BAR_FILL["on_track"], "", "达标")
    if "over" in kinds:
        lx = _legend_item(d, lx, height - 10, BAR_FILL["overdue"], "x", "超标")
    if "none" in kinds:
        lx = _legend_item(d, lx, height - 10, NEUTRAL_FILL, "", "未设定目标")
    d.add(Line(lx + 7, height - 13, lx + 7, height - 1, strokeColor=INK, strokeWidth=2.2))
    d.add(String(lx + 14, height - 10, f"目标值（{unit}）", fontName=FONT, fontSize=7.5, fillColor=INK))
    if "baseline" in kinds:
        bx = lx + 14 + stringWidth(f"目标值（{unit}）", FONT, 7.5) + 10
        d.add(Line(bx, height - 13, bx, height - 1, strokeColor=RULE, strokeWidth=1.0, strokeDashArray=[1.5, 1]))
        d.add(String(bx + 5, height - 10, "2019年同期", fontName=FONT, fontSize=7.5, fillColor=INK))
    if caption:
        d.add(String(width, height - 10, caption, fontName=FONT, fontSize=7.5, fillColor=RULE, textAnchor="end"))
    return d
