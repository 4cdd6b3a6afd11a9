"""Leaving with work in hand (issue 22, items 4 and 8): unsaved grid edits ask 保存 / 不保存 / 取消 on close and
on page switch; a running export or report asks whether to wait or cancel, and a cancelled job says so."""

from __future__ import annotations

import logging
import threading

import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from jzair_desktop.gui import qtsetup, tasks, unsaved
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.services import monthly, targets
from jzair_desktop.services.actor import BUILTIN_ADMIN
from tests.gui.grid_page_helpers import delete_deferred_widgets, record_message_boxes
from tests.gui.shot_helpers import shoot, use_app_font

YC = "140702"
SAVE, DISCARD, CANCEL = (QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Discard,
                         QMessageBox.StandardButton.Cancel)


@pytest.fixture(autouse=True)
def _delete_widgets(qapp):
    yield
    delete_deferred_widgets()


@pytest.fixture
def boxes(monkeypatch):
    return record_message_boxes(monkeypatch)


@pytest.fixture
def asked(monkeypatch):
    """unsaved.ASK answers from `answers` (a list, first first) and records the questions."""
    rec = type("Rec", (), {"questions": [], "answers": []})()

    def ask(parent, title, text):
        rec.questions.append(text)
        return rec.answers.pop(0) if rec.answers else DISCARD  # 不保存 when the test's window is closed at its end

    monkeypatch.setattr(unsaved, "ASK", ask)
    return rec


@pytest.fixture
def window(qtbot, db):
    use_app_font()
    qtsetup.make_application()
    w = MainWindow(GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals()))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def edit_figure(w: MainWindow, value: str = "12"):
    page = w.show_page("figures")
    m = page.figures.model
    m.setData(m.index_of(YC, "2020-11"), value)
    assert page.has_unsaved_changes()
    return page


def stored(db) -> dict:
    return {(v.indicator, v.unit_code, v.month): v.value for v in monthly.list_figures(db)}


def test_closing_with_unsaved_figures_asks_and_cancel_keeps_the_window_and_the_edits(window, db, asked):
    page = edit_figure(window)
    asked.answers = [CANCEL]
    assert not window.close()
    assert window.isVisible() and page.has_unsaved_changes()
    assert "“月度数据”有 1 处修改尚未保存" in asked.questions[0] and "关闭程序" in asked.questions[0]
    assert stored(db) == {}


def test_closing_with_unsaved_figures_and_save_writes_them(window, db, asked):
    edit_figure(window)
    asked.answers = [SAVE]
    assert window.close()
    assert stored(db) == {("bus.new_energy", YC, "2020-11"): 12.0}


def test_closing_with_unsaved_figures_and_dont_save_drops_them(window, db, asked):
    edit_figure(window)
    asked.answers = [DISCARD]
    assert window.close()
    assert stored(db) == {}


def test_a_refused_save_on_close_keeps_the_window_open_on_the_page(window, db, asked, boxes):
    page = edit_figure(window, "-5")
    asked.answers = [SAVE]
    window.show_page("heating")  # the switch asks first
    assert asked.questions and window.current_key() == "figures"  # …and a refused save stays
    asked.answers = [SAVE]
    assert not window.close()
    assert window.isVisible() and window.current_key() == "figures"
    assert "不能为负数" in page.figures.problem_label.text()


def test_switching_page_asks_and_cancel_stays(window, db, asked):
    page = edit_figure(window)
    asked.answers = [CANCEL]
    window.show_page("heating")
    assert window.current_key() == "figures" and page.has_unsaved_changes()
    asked.answers = [DISCARD]
    window.show_page("heating")
    assert window.current_key() == "heating" and not page.has_unsaved_changes()
    assert stored(db) == {}
    assert window.close()  # nothing left to ask about
    assert len(asked.questions) == 2  # the two switches; the close had nothing to ask


def test_targets_page_takes_part_too(window, db, asked):
    page = window.show_page("targets")
    assert page.set_cell("heating.gas", YC, "1000")
    assert page.has_unsaved_changes()
    asked.answers = [SAVE]
    window.show_page("figures")
    assert window.current_key() == "figures"
    assert {t.unit_code: t.value for t in targets.target_table(db) if t.indicator == "heating.gas"
            for t in t.units}[YC] == 1000


def test_a_cell_still_being_typed_counts_as_unsaved(window, qtbot, db, asked):
    page = window.show_page("figures")
    table = page.figures.table
    m = page.figures.model
    table.setCurrentIndex(m.index_of(YC, "2020-11"))
    table.edit(m.index_of(YC, "2020-11"))
    editor = QApplication.focusWidget()
    editor.setText("7")
    asked.answers = [SAVE]
    assert window.close()
    assert stored(db) == {("bus.new_energy", YC, "2020-11"): 7.0}


def _answer_when_shown(name: str, button_text: str, shot: str) -> None:
    """When the question box appears: screenshot it, then press the button."""
    def look() -> None:
        box = QApplication.activeModalWidget()
        if box is None or box.objectName() != name:
            QTimer.singleShot(20, look)
            return
        shoot(box, shot)
        next(b for b in box.findChildren(QPushButton) if b.text() == button_text).click()

    QTimer.singleShot(20, look)


def test_the_real_unsaved_question_has_three_chinese_buttons(window, db):
    edit_figure(window)
    _answer_when_shown("unsavedQuestion", "取消", "unsaved_question")
    assert not window.close()
    _answer_when_shown("unsavedQuestion", "不保存", "unsaved_question")
    assert window.close()


# --------------------------------------------------------------------------- running jobs
def slow_job(release: threading.Event):
    def work(state):
        while not release.wait(0.01):
            state.progress(0, 0, "")  # raises Cancelled once cancelled
        return "完成"
    return work


def test_closing_while_an_export_runs_asks_and_cancel_says_so(window, qtbot, boxes, monkeypatch):
    release = threading.Event()
    asked_about = []
    monkeypatch.setattr(tasks, "ASK_RUNNING", lambda p, jobs, action: asked_about.append([j.what for j in jobs])
                        or "cancel")
    tasks.run_task(window, "正在导出…", slow_job(release), on_success=lambda r: boxes.append(("ok", r, "")))
    try:
        assert window.close()
    finally:
        release.set()
    assert asked_about == [["导出"]]
    assert ("information", "已取消", "已取消导出，没有保存任何结果。") in boxes
    assert not tasks.running_jobs()


def test_closing_while_a_report_runs_can_wait_for_it(window, qtbot, boxes, monkeypatch):
    release = threading.Event()
    done = []

    def answer(parent, jobs, action):
        QTimer.singleShot(200, release.set)  # the job finishes while the window waits
        return "wait"

    monkeypatch.setattr(tasks, "ASK_RUNNING", answer)
    tasks.run_task(window, "正在生成月报……", slow_job(release), on_success=done.append)
    assert window.close()
    assert done == ["完成"] and not tasks.running_jobs()


def test_closing_while_a_job_runs_can_be_called_off(window, qtbot, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(tasks, "ASK_RUNNING", lambda p, jobs, action: "stay")
    tasks.run_task(window, "正在生成月报……", slow_job(release))
    try:
        assert not window.close()
        assert window.isVisible() and tasks.running_jobs()
    finally:
        release.set()
        tasks.wait_for_jobs(5)


def test_the_real_running_job_question(window, qtbot, boxes):
    release = threading.Event()
    tasks.run_task(window, "正在生成月报……", slow_job(release))
    _answer_when_shown("runningJobsQuestion", "取消任务", "running_job_question")
    try:
        assert window.close()
    finally:
        release.set()
    assert ("information", "已取消", "已取消生成月报，没有保存任何结果。") in boxes


def test_a_job_that_cannot_stop_is_waited_for_and_the_question_offers_no_cancel(window, qtbot, boxes):
    release = threading.Event()
    done: list[str] = []
    tasks.run_task(window, "正在恢复数据库…", slow_job(release), cancellable=False, on_success=done.append)
    seen: list[tuple[list[str], str]] = []

    def look() -> None:
        box = QApplication.activeModalWidget()
        if box is None or box.objectName() != "runningJobsQuestion":
            QTimer.singleShot(20, look)
            return
        seen.append(([b.text() for b in box.findChildren(QPushButton)], box.text()))
        shoot(box, "running_job_question_no_cancel")
        QTimer.singleShot(200, release.set)  # the job ends while the window waits for it
        next(b for b in box.findChildren(QPushButton) if b.text() == "等待完成").click()

    QTimer.singleShot(20, look)
    assert window.close()
    buttons, text = seen[0]
    assert sorted(buttons) == sorted(["等待完成", "返回"]) and "不能中途停止" in text
    assert done == ["完成"] and not boxes  # waited for, not cancelled


def test_a_job_ending_after_its_window_is_gone_does_not_raise(caplog):
    job = tasks._Job(lambda state: 1, tasks.TaskState(), "正在导出…")  # noqa: SLF001
    shiboken6.delete(job.signals)  # the window and its signal objects are gone
    with caplog.at_level(logging.WARNING):
        job.run()  # before: RuntimeError: Signal source has been deleted
    assert "after its window was closed" in caplog.text


def test_a_progress_report_made_at_once_by_the_job_reaches_on_progress(qtbot):
    """on_progress is connected before the job starts: a report the job makes at its first step is not lost
    while the GUI thread is still busy (the exit backup's “正在完成当天的自动备份…” was lost so)."""
    import time

    got: list[str] = []
    reported = threading.Event()

    def job(state: tasks.TaskState) -> int:
        state.progress(0, 0, "第一步", force=True)
        reported.set()
        return 1

    done: list[int] = []
    tasks.run_task(None, "测试", job, on_success=done.append, on_progress=lambda _d, _t, text: got.append(text),
                   show_progress=False)
    assert reported.wait(5)
    time.sleep(0.05)  # the GUI thread is busy while the job reports
    qtbot.waitUntil(lambda: done == [1], timeout=5000)
    assert got == ["第一步"]
