"""A PDF's pages, one under the other, fitted to the width of the view (pages rendered by PDFium).

`load(path)` reads the file once (the preview keeps the bytes, so it keeps showing what it loaded even
after the file is replaced, and holds no handle on it). Each page is a QLabel of the page's shape;
only the pages in and near the view are rendered, off the GUI thread (gui.tasks.run_task), at the
label's width in device pixels. Pages far from the view give their pixmaps back, so a report of a
hundred pages costs the memory of a few. Scrolling or resizing renders what came into view.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from jzair_desktop.exchange.pdf_render import page_sizes, read_pdf, render_pages
from jzair_desktop.gui.tasks import run_task

log = logging.getLogger(__name__)

MARGIN = 14  # around the pages, in pixels
SPACING = 14  # between pages
KEEP_AROUND = 3  # pages beyond those near the view that keep their pixmaps
MAX_PAGE_PIXELS_WIDE = 2400  # a very wide window does not render posters
EMPTY_TEXT = "生成后在此预览报告的各页。"


def to_qimage(page) -> QImage:  # noqa: ANN001 - exchange.pdf_render.PageImage
    """A QImage that owns its pixels (RGB32, cheap to turn into a pixmap). Any thread."""
    image = QImage(page.rgb, page.width, page.height, page.stride, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)


class PdfPreview(QScrollArea):
    """Continuous pages fitted to the width. `page_changed(current, count)` follows the scrolling (1-based)."""

    page_changed = Signal(int, int)
    load_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        # Always on: a scroll bar that comes and goes changes the width, which changes the page heights.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._container = QWidget()
        self._container.setObjectName("pdfPages")
        self._container.setStyleSheet("#pdfPages { background: #8a8a8a; }")
        self._layout = QVBoxLayout(self._container)
        self._layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        self._layout.setSpacing(SPACING)
        self._message = QLabel(EMPTY_TEXT)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setStyleSheet("color: white; font-size: 14px; padding: 24px;")
        self._layout.addWidget(self._message)
        self._layout.addStretch(1)
        self.setWidget(self._container)

        self._data: bytes | None = None
        self._sizes: list[tuple[float, float]] = []
        self._labels: list[QLabel] = []
        self._rendered: dict[int, int] = {}  # page -> pixel width its pixmap was rendered at
        self._token = 0  # bumped by every load/clear: results of older jobs are dropped
        self._job = None
        self._loading = False
        self._current = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._refresh)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    # ------------------------------------------------------------------ public
    def load(self, path: Path | str) -> None:
        """Show the PDF at `path` (read and measured off the GUI thread)."""
        self._reset()
        self._loading = True
        self._message.setText("正在载入预览……")
        self._message.show()
        token = self._token

        def work(_state):  # noqa: ANN001, ANN202 - runs on a pool thread
            data = read_pdf(path)
            return data, page_sizes(data)

        self._job = run_task(self, "正在载入预览……", work, show_progress=False,
                             on_success=lambda r: self._loaded(token, *r),
                             on_error=lambda exc: self._failed(token, exc))

    def clear(self) -> None:
        self._reset()
        self._message.setText(EMPTY_TEXT)
        self._message.show()

    def page_count(self) -> int:
        return len(self._labels)

    def page_label(self, index: int) -> QLabel:
        return self._labels[index]

    def rendered_pages(self) -> list[int]:
        """Pages that hold a pixmap now, in order."""
        return sorted(self._rendered)

    def current_page(self) -> int:
        """The page at the middle of the view (0-based)."""
        return self._current

    def is_idle(self) -> bool:
        """Nothing loading or rendering, and every page near the view rendered at the current width."""
        return not self._loading and self._job is None and not self._timer.isActive() and not self._needed()

    def scroll_to_page(self, index: int) -> None:
        if 0 <= index < len(self._labels):
            self._layout.activate()
            self.verticalScrollBar().setValue(self._labels[index].y() - MARGIN)
            self._schedule()

    def message(self) -> str:
        return self._message.text() if self._message.isVisible() or not self._labels else ""

    # ------------------------------------------------------------------ loading
    def _reset(self) -> None:
        self._token += 1
        if self._job is not None:
            self._job.state.cancel()
            self._job = None
        self._loading = False
        for label in self._labels:
            self._layout.removeWidget(label)
            label.deleteLater()
        self._labels, self._sizes, self._rendered, self._data = [], [], {}, None
        self._current = 0

    def _loaded(self, token: int, data: bytes, sizes: list[tuple[float, float]]) -> None:
        if token != self._token:
            return
        self._job = None
        self._loading = False
        self._data, self._sizes = data, sizes
        self._message.hide()
        for i in range(len(sizes)):
            label = QLabel(f"第 {i + 1} 页")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: white; color: #999999;")
            self._layout.insertWidget(self._layout.count() - 1, label, 0, Qt.AlignmentFlag.AlignHCenter)
            self._labels.append(label)
        self._fit_width()
        self.verticalScrollBar().setValue(0)
        self._schedule()

    def _failed(self, token: int, exc: BaseException) -> None:
        if token != self._token:
            return
        self._job = None
        self._loading = False
        log.warning("preview failed: %s", exc)
        text = f"无法预览：{exc}"
        self._message.setText(text)
        self._message.show()
        self.load_failed.emit(text)

    # ------------------------------------------------------------------ layout
    def _page_width(self) -> int:
        return max(120, self.viewport().width() - 2 * MARGIN)

    def _fit_width(self) -> None:
        width = self._page_width()
        dpr = self.devicePixelRatioF()
        for i, (label, (w_pt, h_pt)) in enumerate(zip(self._labels, self._sizes, strict=True)):
            size = (width, round(width * h_pt / w_pt))
            if (label.width(), label.height()) == size:
                continue
            label.setFixedSize(*size)
            if i in self._rendered:
                # Stretch the old pixmap (quickly) until the page is rendered at the new width.
                pixmap = label.pixmap().scaled(round(size[0] * dpr), round(size[1] * dpr))
                pixmap.setDevicePixelRatio(dpr)
                label.setPixmap(pixmap)
        self._layout.activate()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        anchor = self._current
        offset = 0.0
        if self._labels:
            label = self._labels[anchor]
            offset = (self.verticalScrollBar().value() - label.y()) / max(1, label.height())
        super().resizeEvent(event)
        if self._labels:
            self._fit_width()
            label = self._labels[anchor]
            self.verticalScrollBar().setValue(label.y() + round(offset * label.height()))
            self._schedule()

    # ------------------------------------------------------------------ rendering
    def _scrolled(self) -> None:
        self._update_current()
        self._schedule()

    def _schedule(self) -> None:
        if self._labels:
            self._timer.start()

    def _target_pixels(self) -> int:
        return min(MAX_PAGE_PIXELS_WIDE, round(self._page_width() * self.devicePixelRatioF()))

    def _near_view(self) -> range:
        """Pages that intersect the view widened by half a view above and below."""
        if not self._labels:
            return range(0)
        top = self.verticalScrollBar().value()
        height = self.viewport().height()
        lo_y, hi_y = top - height // 2, top + height + height // 2
        near = [i for i, lb in enumerate(self._labels) if lb.y() + lb.height() >= lo_y and lb.y() <= hi_y]
        return range(near[0], near[-1] + 1) if near else range(0)

    def _needed(self) -> list[int]:
        target = self._target_pixels()
        return [i for i in self._near_view() if self._rendered.get(i) != target]

    def _update_current(self) -> None:
        if not self._labels:
            return
        middle = self.verticalScrollBar().value() + self.viewport().height() // 2
        current = len(self._labels) - 1
        for i, label in enumerate(self._labels):
            if label.y() + label.height() + SPACING // 2 >= middle:
                current = i
                break
        if current != self._current:
            self._current = current
        self.page_changed.emit(current + 1, len(self._labels))

    def _refresh(self) -> None:
        if not self._labels or self._data is None:
            return
        self._update_current()
        near = self._near_view()
        keep = range(max(0, near.start - KEEP_AROUND), near.stop + KEEP_AROUND)
        for i in [i for i in self._rendered if i not in keep]:
            self._labels[i].setPixmap(QPixmap())
            del self._rendered[i]
        if self._job is not None:
            return  # its completion refreshes again
        needed = self._needed()
        if not needed:
            return
        target = self._target_pixels()
        data, sizes, token = self._data, list(self._sizes), self._token

        def work(state):  # noqa: ANN001, ANN202 - runs on a pool thread
            out = []
            for index in needed:
                scale = target / sizes[index][0]
                for page in render_pages(data, scale=scale, first=index, last=index, state=state):
                    out.append((index, to_qimage(page)))
            return out

        self._job = run_task(self, "正在渲染预览……", work, show_progress=False,
                             on_success=lambda images: self._rendered_batch(token, target, images),
                             on_error=lambda exc: self._failed(token, exc),
                             on_cancel=lambda: None)

    def _rendered_batch(self, token: int, target: int, images: list[tuple[int, QImage]]) -> None:
        if token != self._token:
            return
        self._job = None
        dpr = self.devicePixelRatioF()
        for index, image in images:
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(dpr)
            self._labels[index].setPixmap(pixmap)
            self._rendered[index] = target
        self._refresh()
