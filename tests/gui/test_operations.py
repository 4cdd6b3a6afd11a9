"""Operations through gui.tasks: what they changed refreshes the pages that show it, user errors are shown by
one helper, a job that cannot stop shows no 取消, the task handle says when the job ended, and a large delete
on the ledger page runs off the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from jzair_desktop.domain.validation import check_record
from jzair_desktop.errors import JzairError
from jzair_desktop.gui import qtsetup, tasks
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.gui.pages.ledger import LedgerPage
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.changes import Changed, Changes
from tests.gui import ledger_samples as samples
from tests.gui.grid_page_helpers import record_message_boxes

SHOTS = Path("/tmp/shots/ops")


@pytest.fixture
def ctx(qapp, db) -> GuiContext:
    qtsetup.make_application()
    return GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())


@pytest.fixture
def boxes(monkeypatch):
    shown = record_message_boxes(monkeypatch)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


def seed_heating(db, n: int) -> None:
    rows = []
    for i in range(n):
        checked = check_record("heating", samples.heating(i), today=samples.TODAY)
        assert checked.ok, checked.errors
        rows.append(checked.values)
    with ledger_service.write_records(db) as s:
        ledger_service.insert_many(s, "heating", rows, actor=BUILTIN_ADMIN)


def heating_done(rows) -> float:  # noqa: ANN001
    """The city's households done so far in 散煤治理 (heating.total)."""
    return sum(r.done or 0 for r in rows if r.indicator == "heating.total" and r.county == "全市")


def settle(qtbot, page: LedgerPage) -> None:
    qtbot.waitUntil(lambda: not page.busy(), timeout=60_000)


# --------------------------------------------------------------------------- changes refresh what shows them
@pytest.mark.slow
def test_a_delete_in_the_heating_ledger_refreshes_exactly_the_pages_that_show_it(qtbot, ctx, boxes, monkeypatch):
    seed_heating(ctx.db, 3)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    page = window.show_page("heating")
    others = ["trucks", "dashboard", "report", "targets", "figures", "audit", "plan"]
    for key in others:
        window.page(key)
    told: list[tuple[str, Changes]] = []
    for key in others:
        widget = window.page(key)
        original = getattr(widget, "apply_changes", None)
        if original is not None:
            monkeypatch.setattr(widget, "apply_changes",
                                lambda c, _k=key, _o=original: (told.append((_k, c)), _o(c)))
    dashboard = window.page("dashboard")
    before = heating_done(dashboard.progress_rows())
    assert before > 0

    page.select_row(0)
    assert page.delete_selected()
    settle(qtbot, page)
    assert page.model.rowCount() == 2 and ledger_service.count_records(ctx.db, "heating") == 2
    deleted = Changes.of(ledgers=["heating"])
    assert told == [("dashboard", deleted), ("report", deleted), ("audit", deleted)]
    # The progress page shows the new figures when it is next shown.
    window.show_page("dashboard")
    assert heating_done(dashboard.progress_rows()) == before - 1

    # A change of targets: the targets, figures, progress and audit pages, no ledger page.
    told.clear()
    tasks.publish(ctx, Changes(targets=True))
    assert [k for k, _c in told] == ["dashboard", "report", "targets", "figures", "audit"]
    told.clear()
    tasks.publish(ctx, Changes())  # nothing changed: nobody is told
    assert told == []
    window.close()


def test_run_task_publishes_what_the_operation_returns_before_its_success_callback(qtbot, ctx):
    heard: list[Changes] = []
    ctx.signals.changed.connect(lambda changes, _source: heard.append(changes))
    done: list[object] = []
    job = tasks.run_task(None, "正在保存…", lambda _state: Changed(7, Changes(figures=True)), ctx=ctx,
                         on_success=lambda result: done.append((result.value, list(heard))))
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    assert done == [(7, [Changes(figures=True)])] and job.ended
    tasks.run_task(None, "正在读取…", lambda _state: 1, ctx=ctx, on_success=done.append)
    qtbot.waitUntil(lambda: len(done) == 2, timeout=10_000)
    assert heard == [Changes(figures=True)]  # a result without changes announces nothing


# --------------------------------------------------------------------------- user errors
def test_user_errors_show_the_title_and_the_chinese_message(qtbot, monkeypatch):
    shown = record_message_boxes(monkeypatch)
    parent = QWidget()
    qtbot.addWidget(parent)
    with tasks.user_errors(parent, "删除失败") as outcome:
        raise JzairError("该记录所在月份已上报，不能删除。")
    assert outcome.failed and str(outcome.error) == "该记录所在月份已上报，不能删除。"
    assert shown == [("warning", "删除失败", "该记录所在月份已上报，不能删除。")]

    with tasks.user_errors(parent, "删除失败") as outcome:
        pass
    assert not outcome.failed and len(shown) == 1

    # Anything else is no user error: it goes on (to the program's exception hook), nothing swallowed.
    with pytest.raises(ZeroDivisionError), tasks.user_errors(parent, "删除失败"):
        1 / 0  # noqa: B018
    assert len(shown) == 1

    tasks.show_user_error(parent, KeyError("uuid"), "恢复失败")
    kind, title, text = shown[-1]
    assert (kind, title) == ("critical", "恢复失败") and text.startswith("发生了意外错误：KeyError") and "日志" in text


def test_a_failed_background_job_shows_its_error_title(qtbot, monkeypatch):
    shown = record_message_boxes(monkeypatch)

    def refused(_state: tasks.TaskState) -> None:
        raise JzairError("备份文件已损坏：校验和不符。")

    job = tasks.run_task(None, "正在检查备份文件…", refused, error_title="无法恢复")
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert shown == [("warning", "无法恢复", "备份文件已损坏：校验和不符。")] and job.ended


# --------------------------------------------------------------------------- cancellable, ended
def _progress_dialog(parent: QWidget) -> QWidget:
    return parent.findChild(QWidget, "taskProgress")


@pytest.mark.slow
@pytest.mark.parametrize("cancellable", [True, False])
def test_a_job_that_cannot_stop_shows_no_cancel_button(qtbot, cancellable):
    qtsetup.make_application()
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(640, 420)
    parent.show()
    release = threading.Event()
    job = tasks.run_task(parent, "正在恢复数据库…", lambda _state: release.wait(20), cancellable=cancellable)
    try:
        assert not job.ended
        qtbot.waitUntil(lambda: _progress_dialog(parent) is not None and _progress_dialog(parent).isVisible(),
                        timeout=5000)
        dialog = _progress_dialog(parent)
        buttons = [b.text() for b in dialog.findChildren(QPushButton) if b.isVisible()]
        SHOTS.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(SHOTS / f"progress_{'cancellable' if cancellable else 'not_cancellable'}.png"))
        if cancellable:
            assert buttons == ["取消"]
        else:
            assert buttons == []
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc neither hides the window nor stops the job
            dialog.close()
            assert dialog.isVisible() and not job.state.cancelled
    finally:
        release.set()
    assert job.wait(10) and job.ended
    qtbot.waitUntil(lambda: not tasks.running_jobs(), timeout=10_000)
    qtbot.waitUntil(lambda: _progress_dialog(parent) is None or not _progress_dialog(parent).isVisible(),
                    timeout=5000)


def test_the_handle_says_when_the_job_has_ended(qtbot):
    release = threading.Event()
    delivered: list[object] = []
    job = tasks.run_task(None, "正在导出…", lambda _state: release.wait(10) and "完成", show_progress=False,
                         on_success=delivered.append)
    assert not job.ended and not job.wait(0.05)
    release.set()
    assert job.wait(10) and job.ended  # any thread may wait for it (the exit backup does)
    qtbot.waitUntil(lambda: delivered == ["完成"], timeout=10_000)

    failing = tasks.run_task(None, "正在导出…", lambda _state: 1 / 0, show_progress=False, on_error=delivered.append)
    assert failing.wait(10) and failing.ended  # a job that raised has ended too
    qtbot.waitUntil(lambda: len(delivered) == 2, timeout=10_000)


# --------------------------------------------------------------------------- a large delete
@pytest.mark.slow
def test_a_delete_of_2000_rows_runs_off_the_gui_thread_and_the_table_updates(qtbot, ctx, boxes, monkeypatch):
    seed_heating(ctx.db, 2100)
    page = LedgerPage(ctx, "heating")
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitExposed(page)
    assert page.model.rowCount() == 2100
    threads: list[bool] = []
    real_delete = ledger_service.delete_records

    def delete_records(*a, **k):  # noqa: ANN002, ANN003
        threads.append(threading.current_thread() is threading.main_thread())
        return real_delete(*a, **k)

    monkeypatch.setattr(ledger_service, "delete_records", delete_records)
    heard: list[Changes] = []
    ctx.signals.changed.connect(lambda changes, _source: heard.append(changes))
    selection = QItemSelection()
    last = page.model.columnCount() - 1
    for r in range(2100):
        if r % 21:  # 2,000 rows in 100 runs, every 21st row kept
            selection.select(page.model.index(r, 0), page.model.index(r, last))
    page.table.selectionModel().select(
        selection, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    picked = page.selected_ids()
    assert len(picked) == 2000
    first_kept = page.model.ids[21]

    assert page.delete_selected()
    assert page.busy() and not page.act_undo.isEnabled()  # the write goes on in the background
    settle(qtbot, page)
    assert threads == [False]
    assert ledger_service.count_records(ctx.db, "heating") == 100
    assert page.model.rowCount() == 100 and page.count_label.text() == "显示 100 条 / 共 100 条"
    assert not set(picked) & set(page.model.ids)
    assert page.selected_ids() == [first_kept]  # the row that takes the place of the first deleted one
    assert heard == [Changes.of(ledgers=["heating"])]
    assert "2000 条记录" in page.status_line.text() and not [b for b in boxes if b[0] != "information"]

    assert page.undo()  # the undo runs off the GUI thread as well
    settle(qtbot, page)
    assert page.model.rowCount() == 2100 and ledger_service.count_records(ctx.db, "heating") == 2100
    assert heard == [Changes.of(ledgers=["heating"])] * 2
