"""Chart widgets of the dashboard (pyqtgraph), readable on screen and printed in black and white.

Every chart is a GraphicsLayoutWidget: the plot with its title, and below it, where the chart has one,
the legend, so that an exported PNG carries both. Rules that keep a grey printout readable:
  * every bar carries its value as text at its end (and the status in words where status matters);
  * statuses and stacks differ by fill *and* by hatching (Qt's pattern brushes, drawn over the fill);
  * reference lines (时序进度, targets) are dashed and labelled.
Qt 6 draws the predefined pattern brushes cosmetically (in device pixels), so the hatching keeps its
density however the view is scaled; it is drawn by a second bar item over the solid fill.

Charts keep their plot items and update them in place (setOpts, setData, setText): a redraw after the
as-of date changes creates nothing. Horizontal bars have their labels on the left axis (tick labels of
pyqtgraph cannot rotate). The tick and label font is the bundled CJK font (see `chart_font`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from pyqtgraph.graphicsItems.LegendItem import ItemSample
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QApplication

from jzair_desktop import paths

INK = QColor("#202020")
GRID = QColor("#d0d0d0")
STATUS_FILL = {
    "done": "#4f8f4f",
    "on_track": "#a9d3a9",
    "behind": "#f2cf5b",
    "overdue": "#e08a80",
    "no_target": "#dddddd",
    "met": "#7cbf7c",
    "not_met": "#e08a80",
    "no_data": "#dddddd",
    "pending": "#a9d3a9",
}
# Hatching per status, as in the printed report: behind '/', overdue 'x'.
STATUS_PATTERN: dict[str, Qt.BrushStyle] = {
    "behind": Qt.BrushStyle.BDiagPattern,
    "overdue": Qt.BrushStyle.DiagCrossPattern,
    "not_met": Qt.BrushStyle.DiagCrossPattern,
}
# Stacks: fills of distinct lightness and a distinct hatching each (readable without colour).
SERIES_FILL = ("#3b6ea5", "#9ecae1", "#e6a141", "#6aa56a", "#f3e3a0", "#b07aa1", "#d9d9d9", "#8c6d31")
SERIES_PATTERN: tuple[Qt.BrushStyle | None, ...] = (
    None,
    Qt.BrushStyle.BDiagPattern,
    Qt.BrushStyle.Dense6Pattern,
    Qt.BrushStyle.FDiagPattern,
    Qt.BrushStyle.CrossPattern,
    Qt.BrushStyle.HorPattern,
    Qt.BrushStyle.DiagCrossPattern,
    Qt.BrushStyle.VerPattern,
)
OVER_FILL = "#e08a80"
OK_FILL = "#8fb3d9"
BAR_HEIGHT = 0.62
LABEL_FILL = QColor(255, 255, 255, 225)  # behind value labels, so that no line runs through their digits

_family: str | None = None


def chart_family() -> str:
    """The bundled CJK font's family, registered with Qt once (the application may have done it already)."""
    global _family
    if _family is None:
        app = QApplication.instance()
        setup = app.property("jzairSetup") if app is not None else None
        family = (setup or {}).get("font") if isinstance(setup, dict) else None
        if not family:
            font_id = QFontDatabase.addApplicationFont(str(paths.font_path()))
            families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
            family = families[0] if families else QApplication.font().family()
        _family = family
    return _family


def chart_font(point_size: float = 9.0, *, bold: bool = False) -> QFont:
    font = QFont(chart_family())
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def pattern_brush(style: Qt.BrushStyle | None) -> QBrush:
    """A black hatching (or no brush) to draw over a solid fill."""
    if style is None:
        return QBrush(Qt.BrushStyle.NoBrush)
    return QBrush(QColor(0, 0, 0, 150), style)


class PatternSample(ItemSample):
    """A legend sample: the fill and the hatching of a stack or status."""

    def __init__(self, fill: str, pattern: Qt.BrushStyle | None) -> None:
        super().__init__(pg.PlotDataItem())
        self.fill = QColor(fill)
        self.pattern = pattern

    def paint(self, p: QPainter, *args: object) -> None:
        rect = QRectF(2, 3, 16, 14)
        p.setPen(QPen(INK, 1))
        p.setBrush(QBrush(self.fill))
        p.drawRect(rect)
        if self.pattern is not None:
            p.setBrush(pattern_brush(self.pattern))
            p.drawRect(rect)

    def mouseClickEvent(self, event) -> None:  # noqa: ANN001, N802 - legend entries do not hide items
        event.accept()


class LineSample(ItemSample):
    """A legend sample for a line with an optional dash and marker."""

    def __init__(self, pen: QPen, symbol: str | None = None) -> None:
        super().__init__(pg.PlotDataItem())
        self.line_pen = pen
        self.symbol = symbol

    def paint(self, p: QPainter, *args: object) -> None:
        p.setPen(self.line_pen)
        p.drawLine(QPointF(0, 10), QPointF(20, 10))
        if self.symbol == "o":
            p.setBrush(QBrush(self.line_pen.color()))
            p.drawEllipse(QPointF(10, 10), 3.5, 3.5)

    def mouseClickEvent(self, event) -> None:  # noqa: ANN001, N802
        event.accept()


def _set_category_ticks(axis: pg.AxisItem, labels: list[str]) -> None:
    """One label per row on a vertical axis, the axis made wide enough for the longest at once (pyqtgraph would
    widen it only at a later paint, hiding the labels that do not fit until then)."""
    axis.setTicks([[(i, label) for i, label in enumerate(labels)], []])
    fm = QFontMetrics(axis.style["tickFont"] or QFont())
    widest = max((fm.horizontalAdvance(label) for label in labels), default=0)
    axis.setWidth(widest + axis.style["tickTextOffset"][0] + 10)


class ChartWidget(pg.GraphicsLayoutWidget):
    """A titled plot on white, CJK axis fonts, no mouse zoom, with an optional legend below it."""

    def __init__(self, title: str = "", *, legend_columns: int = 0, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent=parent)
        self.setBackground("w")
        self.ci.setContentsMargins(6, 6, 22, 6)  # room on the right for the last tick label
        self.plot: pg.PlotItem = self.ci.addPlot(row=0, col=0)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.vb.setDefaultPadding(0.0)
        font = chart_font(9)
        for name in ("left", "bottom", "top", "right"):
            axis = self.plot.getAxis(name)
            axis.setStyle(tickFont=font, tickTextOffset=4, maxTickLevel=0)
            axis.setPen(pg.mkPen(INK))
            axis.setTextPen(pg.mkPen(INK))
            axis.label.setFont(font)
        self._title_set = False
        self.legend: pg.LegendItem | None = None
        if legend_columns:
            self.legend = pg.LegendItem(colCount=legend_columns, labelTextColor=INK, labelTextSize="9pt",
                                        horSpacing=6, frame=False)
            # In the layout (not floating over the plot), it may scale with the rest when exported larger.
            self.legend.setFlag(self.legend.GraphicsItemFlag.ItemIgnoresTransformations, False)
            self.ci.addItem(self.legend, row=1, col=0)
        self.set_title(title)

    def set_title(self, title: str, subtitle: str = "") -> None:
        """A bold title and, on a second line, a smaller subtitle (the date, the target, the totals)."""
        self.title = title
        self.subtitle = subtitle
        text = f"<b>{html.escape(title)}</b>"
        if subtitle:
            text += f"<br><span style='font-size:9pt'>{html.escape(subtitle)}</span>"
        if not self._title_set:  # the first title shows the label and gives its row a height
            self.plot.setTitle(title, color=INK.name(), size="11pt")
            self.plot.titleLabel.item.setFont(chart_font(11))
            self._title_set = True
        self.plot.titleLabel.setText(text, color=INK.name(), size="11pt")

    def set_axis_label(self, axis: str, text: str) -> None:
        self.plot.setLabel(axis, text, color=INK.name())
        self.plot.getAxis(axis).label.setFont(chart_font(9))

    def set_legend(self, entries: Sequence[tuple[ItemSample, str]]) -> None:
        """Replace the legend's entries (only when they differ from the current ones)."""
        if self.legend is None:
            return
        names = [name for _s, name in entries]
        if names == getattr(self, "_legend_names", None):
            return
        self.legend.clear()
        for sample, name in entries:
            self.legend.addItem(sample, name)
        for _sample, label in self.legend.items:
            label.item.setFont(chart_font(9))
            label.setText(label.text, color=INK.name(), size="9pt")
        self._legend_names = names

    def export_png(self, path: str | Path, *, scale: float = 1.0) -> Path:
        """Write the chart (title, plot and legend) as PNG; the widget must be shown (it is rendered)."""
        path = Path(path)
        exporter = ImageExporter(self.ci)
        width = max(1, round(self.ci.boundingRect().width() * scale))
        exporter.parameters()["width"] = width
        exporter.export(str(path))
        return path


def _text_item(anchor: tuple[float, float], *, size: float = 8.5, fill: QColor | None = None) -> pg.TextItem:
    item = pg.TextItem("", color=INK, anchor=anchor, fill=fill)
    item.setFont(chart_font(size))
    return item


def _ensure_texts(plot: pg.PlotItem, pool: list[pg.TextItem], n: int, anchor: tuple[float, float],
                  fill: QColor | None = None) -> None:
    while len(pool) < n:
        item = _text_item(anchor, fill=fill)
        plot.addItem(item)
        pool.append(item)
    for i, item in enumerate(pool):
        item.setVisible(i < n)


# --------------------------------------------------------------------------- completion bars
@dataclass(frozen=True, slots=True)
class StatusBar:
    label: str  # the unit's name on the axis
    value: float | None  # completion in percent; None: no bar (未分解)
    status: str
    text: str  # at the bar's end, e.g. '62.3% 滞后'
    schedule: float | None = None  # this row's 时序进度 in percent (drawn as a tick)


class CompletionChart(ChartWidget):
    """One horizontal bar per unit: completion, coloured and hatched by status, with the schedule line."""

    rowClicked = Signal(int)

    def __init__(self, title: str = "", parent=None) -> None:  # noqa: ANN001
        super().__init__(title, legend_columns=4, parent=parent)
        self.plot.invertY(True)
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        self.set_axis_label("bottom", "完成率（%）")
        self._fill = pg.BarGraphItem(x0=[], y=[], width=[], height=BAR_HEIGHT, pen=pg.mkPen(INK, width=0.8),
                                     brushes=[])
        self._hatch = pg.BarGraphItem(x0=[], y=[], width=[], height=BAR_HEIGHT, pen=pg.mkPen(None), brushes=[])
        self.plot.addItem(self._fill)
        self.plot.addItem(self._hatch)
        dash = pg.mkPen(INK, width=1.6, style=Qt.PenStyle.DashLine)
        self._line = pg.InfiniteLine(angle=90, pen=dash)
        self.plot.addItem(self._line)
        # The line's label sits in a free strip above the first bar.
        self._line_text = _text_item((0.5, 0), fill=LABEL_FILL)
        self.plot.addItem(self._line_text)
        self._ticks_path = pg.PlotDataItem([], [], pen=pg.mkPen(INK, width=2.4), connect="pairs")
        self.plot.addItem(self._ticks_path)
        self._texts: list[pg.TextItem] = []
        self.rows: list[StatusBar] = []
        self.set_legend([(PatternSample(STATUS_FILL[s], STATUS_PATTERN.get(s)), name)
                         for s, name in (("done", "已完成"), ("on_track", "按进度"), ("behind", "滞后"),
                                         ("overdue", "逾期"))])
        self.scene().sigMouseClicked.connect(self._scene_clicked)
        self._ends: list[float] = []  # where each bar ends (percent), for the x range
        self._x_min_max = 104.0  # the x range's right end before the labels are fitted
        self.plot.vb.sigResized.connect(self._fit_x_range)

    def _fit_x_range(self) -> None:
        """Room on the right for every bar's text ('100.0% 已完成') at the plot's present width in pixels."""
        x_max = self._x_min_max
        plot_px = self.plot.vb.width()
        if plot_px > 0:
            for item, end in zip(self._texts, self._ends, strict=False):
                text_px = item.boundingRect().width() + 6
                if plot_px > text_px + 20:  # the bar's end in pixels plus its text within the plot
                    x_max = max(x_max, end * plot_px / (plot_px - text_px))
        self.plot.setXRange(-x_max * 0.012, x_max, padding=0)

    def set_rows(self, rows: Sequence[StatusBar]) -> None:
        self.rows = list(rows)
        n = len(rows)
        ys = list(range(n))
        widths = [r.value if r.value is not None else 0.0 for r in rows]
        self._fill.setOpts(x0=[0.0] * n, y=ys, width=widths, height=BAR_HEIGHT,
                           brushes=[pg.mkBrush(STATUS_FILL.get(r.status, STATUS_FILL["no_target"])) for r in rows])
        self._hatch.setOpts(x0=[0.0] * n, y=ys, width=widths, height=BAR_HEIGHT,
                            brushes=[pattern_brush(STATUS_PATTERN.get(r.status)) for r in rows])
        top = max([100.0, *widths])
        x_max = top * 1.28 + 4
        _ensure_texts(self.plot, self._texts, n, (0, 0.5), fill=LABEL_FILL)
        for i, (item, r) in enumerate(zip(self._texts, rows, strict=False)):
            item.setText(r.text)
            item.setPos(widths[i] + top * 0.01, i)
        schedules = [r.schedule for r in rows if r.schedule is not None]
        uniform = bool(schedules) and max(schedules) - min(schedules) < 1e-6
        self._line.setVisible(uniform)
        self._line_text.setVisible(bool(schedules))
        if uniform:
            self._line.setValue(schedules[0])
            self._line_text.setText(f"时序进度 {schedules[0]:.1f}%")
            self._line_text.setAnchor((0.5 if 12 < schedules[0] < x_max - 12 else (0 if schedules[0] <= 12 else 1), 0))
            self._line_text.setPos(schedules[0], -1.3)
            self._ticks_path.setData([], [])
        else:
            if schedules:
                self._line_text.setText("时序进度：各县竖线")
                self._line_text.setAnchor((1, 0))
                self._line_text.setPos(x_max, -1.3)
            xs: list[float] = []
            yy: list[float] = []
            for i, r in enumerate(rows):
                if r.schedule is not None:
                    xs += [r.schedule, r.schedule]
                    yy += [i - 0.42, i + 0.42]
            self._ticks_path.setData(xs, yy)
        _set_category_ticks(self.plot.getAxis("left"), [r.label for r in rows])
        self._ends = [widths[i] + top * 0.01 for i in range(n)]
        self._x_min_max = x_max
        self._fit_x_range()
        self.plot.setYRange(-1.35, max(n, 1) - 0.4, padding=0)

    def bar_widths(self) -> list[float]:
        """The drawn bar lengths (percent), in row order (for checks)."""
        return [float(w) for w in self._fill.opts["width"]]

    def row_at(self, scene_pos: QPointF) -> int | None:
        vb = self.plot.vb
        box = vb.sceneBoundingRect()
        axis = self.plot.getAxis("left").sceneBoundingRect()
        if not (box.contains(scene_pos) or axis.contains(scene_pos)):
            return None
        y = vb.mapSceneToView(QPointF(box.left() + 1, scene_pos.y())).y()
        i = round(y)
        if 0 <= i < len(self.rows) and abs(y - i) <= 0.5:
            return i
        return None

    def scene_pos_of_row(self, i: int) -> QPointF:
        """The scene position of the middle of row `i`'s bar (or of its start when it has none)."""
        x = max(self.rows[i].value or 0.0, 2.0) / 2 if self.rows else 0.0
        return self.plot.vb.mapViewToScene(QPointF(x, i))

    def _scene_clicked(self, event) -> None:  # noqa: ANN001
        if event.button() != Qt.MouseButton.LeftButton:
            return
        row = self.row_at(event.scenePos())
        if row is not None:
            self.rowClicked.emit(row)


# --------------------------------------------------------------------------- stacked bars
class StackedBarChart(ChartWidget):
    """Horizontal bars split into stacks (counts), with a legend of fills and hatchings."""

    def __init__(self, title: str = "", parent=None) -> None:  # noqa: ANN001
        super().__init__(title, legend_columns=3, parent=parent)
        self.plot.invertY(True)
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        self.set_axis_label("bottom", "数量")
        self._fills: list[pg.BarGraphItem] = []
        self._hatches: list[pg.BarGraphItem] = []
        self._totals: list[pg.TextItem] = []
        self._inner: list[pg.TextItem] = []
        self.categories: tuple[str, ...] = ()
        self.stacks: tuple[str, ...] = ()
        self.counts: tuple[tuple[int, ...], ...] = ()
        self._segments: list[tuple[float, float, float, str]] = []  # (left, width, row, text) of every segment
        self.setMouseTracking(True)
        # Labels are placed again whenever the scale changes: one fits only inside its own segment.
        self.plot.getViewBox().sigResized.connect(self._place_labels)
        self.plot.getViewBox().sigRangeChanged.connect(self._place_labels)

    def _ensure_series(self, n: int) -> None:
        while len(self._fills) < n:
            k = len(self._fills)
            fill = pg.BarGraphItem(x0=[], y=[], width=[], height=BAR_HEIGHT, pen=pg.mkPen(INK, width=0.8),
                                   brush=pg.mkBrush(SERIES_FILL[k % len(SERIES_FILL)]))
            hatch = pg.BarGraphItem(x0=[], y=[], width=[], height=BAR_HEIGHT, pen=pg.mkPen(None),
                                    brush=pattern_brush(SERIES_PATTERN[k % len(SERIES_PATTERN)]))
            self.plot.addItem(fill)
            self.plot.addItem(hatch)
            self._fills.append(fill)
            self._hatches.append(hatch)
        for k, (f, h) in enumerate(zip(self._fills, self._hatches, strict=True)):
            f.setVisible(k < n)
            h.setVisible(k < n)

    def set_data(self, categories: Sequence[str], stacks: Sequence[str], counts: Sequence[Sequence[int]]) -> None:
        self.categories, self.stacks = tuple(categories), tuple(stacks)
        self.counts = tuple(tuple(row) for row in counts)
        n, m = len(categories), len(stacks)
        self._ensure_series(m)
        ys = list(range(n))
        left = [0.0] * n
        totals = [float(sum(row)) for row in counts]
        top = max([1.0, *totals])
        self._segments = []
        for k in range(m):
            widths = [float(counts[i][k]) for i in range(n)]
            self._fills[k].setOpts(x0=list(left), y=ys, width=widths, height=BAR_HEIGHT)
            self._hatches[k].setOpts(x0=list(left), y=ys, width=widths, height=BAR_HEIGHT)
            for i, w in enumerate(widths):
                if w > 0:
                    self._segments.append((left[i], w, float(i), f"{int(w):,}"))
                left[i] += w
        _ensure_texts(self.plot, self._totals, n, (0, 0.5), fill=LABEL_FILL)
        for i, item in enumerate(self._totals[:n]):
            item.setText(f"{int(totals[i]):,}")
            item.setPos(totals[i] + top * 0.01, i)
        self._place_labels()
        _set_category_ticks(self.plot.getAxis("left"), list(categories))
        self.plot.setXRange(-top * 0.012, top * 1.18, padding=0)
        self.plot.setYRange(-0.6, max(n, 1) - 0.4, padding=0)
        self.set_legend([
            (PatternSample(SERIES_FILL[k % len(SERIES_FILL)], SERIES_PATTERN[k % len(SERIES_PATTERN)]), s)
            for k, s in enumerate(stacks)
        ])

    def segment_widths(self, stack: int) -> list[float]:
        return [float(w) for w in self._fills[stack].opts["width"]]

    def _place_labels(self, *_args: object) -> None:
        """A count inside each segment wide enough to hold it at the present scale; the others (and every
        number) are in the row's tooltip. Labels never overlap: each stays inside its own segment."""
        per_pixel = self.plot.getViewBox().viewPixelSize()[0]
        metrics = QFontMetrics(chart_font(8.5))
        shown = []
        for x0, w, y, text in self._segments:
            need = (metrics.horizontalAdvance(text) + 8) * per_pixel if per_pixel > 0 else float("inf")
            if w >= need:
                shown.append((x0 + w / 2, y, text))
        _ensure_texts(self.plot, self._inner, len(shown), (0.5, 0.5), fill=LABEL_FILL)
        for item, (x, y, text) in zip(self._inner, shown, strict=False):
            item.setText(text)
            item.setPos(x, y)

    def inner_labels(self) -> list[tuple[float, float, str]]:
        """The segment labels now shown: (centre x, row, text)."""
        return [(i.pos().x(), i.pos().y(), i.textItem.toPlainText()) for i in self._inner if i.isVisible()]

    def row_tooltip(self, row: int) -> str:
        """“集中供热：未开工 12，已完工 940；共 2,640” — every segment of a row, also those without a label."""
        if not 0 <= row < len(self.categories):
            return ""
        parts = [f"{stack} {n:,}" for stack, n in zip(self.stacks, self.counts[row], strict=True) if n]
        total = sum(self.counts[row])
        return f"{self.categories[row]}：{'，'.join(parts) or '无'}；共 {total:,}"

    def mouseMoveEvent(self, event) -> None:  # noqa: ANN001, N802
        super().mouseMoveEvent(event)
        point = self.plot.getViewBox().mapSceneToView(self.mapToScene(event.position().toPoint()))
        row = round(point.y())
        inside = self.plot.getViewBox().sceneBoundingRect().contains(self.mapToScene(event.position().toPoint()))
        self.setToolTip(self.row_tooltip(row) if inside and abs(point.y() - row) <= BAR_HEIGHT / 2 else "")


# --------------------------------------------------------------------------- progress over time
def _month_ticks(first: dt.date, last: dt.date, origin: dt.date) -> list[tuple[float, str]]:
    ticks = []
    day = first.replace(day=1)
    if day < first:
        day = (day + dt.timedelta(days=32)).replace(day=1)
    while day <= last:
        label = f"{day.year}年{day.month}月" if day.month == 1 or not ticks else f"{day.month}月"
        ticks.append(((day - origin).days, label))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return ticks


class ProgressCurveChart(ChartWidget):
    """Cumulative completion (or the done count where there is no target) against the schedule line."""

    def __init__(self, title: str = "", parent=None) -> None:  # noqa: ANN001
        super().__init__(title, legend_columns=3, parent=parent)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.done_pen = pg.mkPen("#1f4e8c", width=2.4)
        self.schedule_pen = pg.mkPen(INK, width=1.6, style=Qt.PenStyle.DashLine)
        self._done = pg.PlotDataItem([], [], pen=self.done_pen, symbol="o", symbolSize=5,
                                     symbolBrush=pg.mkBrush("#1f4e8c"), symbolPen=pg.mkPen("#1f4e8c"))
        self._schedule = pg.PlotDataItem([], [], pen=self.schedule_pen)
        self._target = pg.InfiniteLine(angle=0, pen=pg.mkPen("#7a7a7a", width=1.2, style=Qt.PenStyle.DotLine),
                                       label="目标", labelOpts={"position": 0.03, "color": INK,
                                                               "anchors": [(0, 1), (0, 1)]})
        self._target.label.setFont(chart_font(8.5))
        self._end = _text_item((0, 1), fill=LABEL_FILL)
        for item in (self._schedule, self._done, self._target, self._end):
            self.plot.addItem(item)
        self.days: list[dt.date] = []
        self.values: list[float] = []

    def set_points(self, days: Sequence[dt.date], values: Sequence[float], schedule: Sequence[float] | None,
                   *, origin: dt.date, value_label: str, end_text: str, value_name: str = "完成率",
                   target: tuple[float, str] | None = None) -> None:
        """`values` and `schedule` (None: no schedule line) in the same measure, e.g. percent;
        `target`: a horizontal reference line (value, label)."""
        self.days, self.values = list(days), list(values)
        xs = [(d - origin).days for d in days]
        self._done.setData(xs, list(values))
        if schedule is not None:
            self._schedule.setData(xs, list(schedule))
        else:
            self._schedule.setData([], [])
        self._schedule.setVisible(schedule is not None)
        self._target.setVisible(target is not None)
        if target is not None:
            self._target.setValue(target[0])
            self._target.label.setFormat(target[1])
        self.set_axis_label("left", value_label)
        if days:
            last = days[-1]
            self.plot.getAxis("bottom").setTicks([_month_ticks(days[0], last, origin), []])
            x_max = max(xs[-1], 7)
            # Room left of the first day, so that its month label (centred on the tick) is drawn.
            self.plot.setXRange(min(xs[0], 0) - max(5, x_max * 0.03), x_max + max(6, x_max * 0.04), padding=0)
            self._end.setText(end_text)
            self._end.setPos(xs[-1], values[-1] if values else 0)
            self._end.setAnchor((1, 1) if xs[-1] > x_max * 0.6 else (0, 1))
        top = max([*values, *(schedule or []), target[0] if target else 0.0, 1.0])
        self.plot.setYRange(-top * 0.03, top * 1.12, padding=0)  # from 0, with room below for the 0 label
        entries = [(LineSample(self.done_pen, "o"), value_name)]
        if schedule is not None:
            entries.append((LineSample(self.schedule_pen), "时序进度"))
        self.set_legend(entries)


# --------------------------------------------------------------------------- monthly values vs limit
class MonthBarChart(ChartWidget):
    """Vertical bars per month with the target (an upper limit) as a dashed step per month."""

    def __init__(self, title: str = "", parent=None) -> None:  # noqa: ANN001
        super().__init__(title, legend_columns=3, parent=parent)
        self.plot.showGrid(x=False, y=True, alpha=0.2)
        self._fill = pg.BarGraphItem(x=[], height=[], width=0.6, pen=pg.mkPen(INK, width=0.8), brushes=[])
        self._hatch = pg.BarGraphItem(x=[], height=[], width=0.6, pen=pg.mkPen(None), brushes=[])
        self.limit_pen = pg.mkPen(INK, width=2.0, style=Qt.PenStyle.DashLine)
        self._limit = pg.PlotDataItem([], [], pen=self.limit_pen, connect="pairs")
        for item in (self._fill, self._hatch, self._limit):
            self.plot.addItem(item)
        self._texts: list[pg.TextItem] = []
        self._limit_texts: list[pg.TextItem] = []
        self.values: list[float | None] = []

    def set_data(self, months: Sequence[str], values: Sequence[float | None], limits: Sequence[float | None], *,
                 unit: str, digits: int = 0) -> None:
        self.values = list(values)
        n = len(months)
        xs = list(range(n))
        heights = [v or 0.0 for v in values]
        over = [v is not None and lim is not None and v > lim for v, lim in zip(values, limits, strict=True)]
        self._fill.setOpts(x=xs, height=heights, width=0.6,
                           brushes=[pg.mkBrush(OVER_FILL if o else OK_FILL) for o in over])
        self._hatch.setOpts(x=xs, height=heights, width=0.6,
                            brushes=[pattern_brush(STATUS_PATTERN["overdue"] if o else None) for o in over])
        lx: list[float] = []
        ly: list[float] = []
        for i, lim in enumerate(limits):
            if lim is not None:
                lx += [i - 0.45, i + 0.45]
                ly += [lim, lim]
        self._limit.setData(lx, ly)
        top = max([1.0, *heights, *(lim for lim in limits if lim is not None)])
        _ensure_texts(self.plot, self._texts, n, (0.5, 1))
        for i, (item, v) in enumerate(zip(self._texts, values, strict=False)):
            if v is None:
                item.setText("未填报")
                item.setPos(i, 0)
            else:
                item.setText(f"{v:.{digits}f}" + ("（超标）" if over[i] else ""))
                item.setPos(i, v + top * 0.01)
        # One label per run of months with the same limit, above the line at the run's left end.
        limit_points = [(i, lim) for i, lim in enumerate(limits)
                        if lim is not None and (i == 0 or limits[i - 1] != lim)]
        _ensure_texts(self.plot, self._limit_texts, len(limit_points), (0, 1), fill=LABEL_FILL)
        for item, (i, lim) in zip(self._limit_texts, limit_points, strict=False):
            item.setText(f"目标≤{lim:.{digits}f}")
            item.setPos(i - 0.45, lim)
        self.plot.getAxis("bottom").setTicks([[(i, m) for i, m in enumerate(months)], []])
        self.set_axis_label("left", unit)
        left = self.plot.getAxis("left")
        if digits == 0:
            top = max(top, 5.0)
            step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if s >= top / 8 or s == 1000)
            left.setTickSpacing(major=step, minor=step)
        self.plot.setXRange(-0.6, max(n, 1) - 0.4, padding=0)
        self.plot.setYRange(-top * 0.03, top * 1.18, padding=0)  # from 0, with room for the 0 label
        if limit_points:
            self.set_legend([(PatternSample(OK_FILL, None), "未超过目标"),
                             (PatternSample(OVER_FILL, STATUS_PATTERN["overdue"]), "超过目标"),
                             (LineSample(self.limit_pen), "目标（上限）")])
        else:
            self.set_legend([(PatternSample(OK_FILL, None), "当月数值（未设定目标）")])

    def bar_heights(self) -> list[float]:
        return [float(h) for h in self._fill.opts["height"]]
