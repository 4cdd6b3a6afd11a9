"""The GUI on a PostgreSQL server: 设置 → 数据库 → 连接服务器 (the password never in the settings file),
the connect dialog's timeout and 取消, starting against the saved connection, 重试 after a lost connection
(nothing half-written), and a ledger page showing another clerk's changes (数据已被他人修改，已刷新)."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from jzair_desktop.cli.context import CliContext
from jzair_desktop.gui import app as gui_app
from jzair_desktop.gui import tasks
from jzair_desktop.gui.change_watch import OTHERS_CHANGED, ServerChangeWatcher
from jzair_desktop.gui.context import DataSignals, GuiContext
from jzair_desktop.gui.dialogs import server_connect
from jzair_desktop.gui.dialogs.server_connect import ServerConnectDialog, save_connection, saved_connection
from jzair_desktop.gui.main_window import MainWindow
from jzair_desktop.gui.pages.settings import SettingsPage
from jzair_desktop.services import ledgers as ledger_service
from jzair_desktop.services import server
from jzair_desktop.services.actor import BUILTIN_ADMIN
from jzair_desktop.services.database import Database, open_database
from tests.gui import ledger_samples as samples
from tests.gui.shot_helpers import use_app_font
from tests.server_helpers import ConnectionCutter, connection_of, silent_server

SHOTS = Path("/tmp/shots/pggui")


def shoot(widget, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


@pytest.fixture
def server_db(pg_url):
    db, _ = open_database(pg_url)
    yield db
    db.dispose()


@pytest.fixture
def boxes(monkeypatch):
    rec = types.SimpleNamespace(shown=[], retries=[], retry_answers=[])

    def show(kind):
        return lambda *a, **k: rec.shown.append((kind, a[1], a[2]))

    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, show(kind))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)

    def retry(parent, title, exc):
        rec.retries.append((title, str(exc)))
        answer = rec.retry_answers.pop(0)
        return answer(title, str(exc)) if callable(answer) else answer

    monkeypatch.setattr(tasks, "ASK_RETRY", retry)
    return rec


def fill(dialog: ServerConnectDialog, url: str, *, password: str | None = None, remember: bool = True) -> str:
    conn, real = connection_of(url)
    dialog.host.setText(conn.host)
    dialog.port.setValue(conn.port)
    dialog.database.setText(conn.database)
    dialog.account.setText(conn.account)
    dialog.password.setText(real if password is None else password)
    dialog.remember.setChecked(remember)
    return real


def open_dialog(qtbot, **kwargs) -> ServerConnectDialog:
    use_app_font()
    dialog = ServerConnectDialog(**kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# ------------------------------------------------------------------------------------------- connecting
def test_connecting_saves_the_connection_and_never_the_password(qtbot, pg_url, _isolated_data_dir, memory_keyring):
    dialog = open_dialog(qtbot)
    password = fill(dialog, pg_url, remember=True)
    shoot(dialog, "connect_dialog")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=20_000)
    try:
        assert dialog.db.path is None and dialog.db.location == dialog.connection().label
        conn = saved_connection()
        assert conn == dialog.connection().checked()
        assert server.saved_password(conn) == password  # in the credential store
        ini = GuiContext.settings().fileName()
        assert Path(ini).read_text(encoding="utf-8").count(conn.host) >= 1
        for path in files_under(_isolated_data_dir):  # nowhere in the settings file, nor any file of ours
            assert password.encode() not in path.read_bytes(), path
    finally:
        dialog.db.dispose()


def test_without_remember_the_kept_password_is_removed(qtbot, pg_url, memory_keyring):
    conn, password = connection_of(pg_url)
    server.remember_password(conn, password)
    dialog = open_dialog(qtbot, conn=conn, password=password)
    assert dialog.remember.isChecked()
    dialog.remember.setChecked(False)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.db is not None, timeout=20_000)
    dialog.db.dispose()
    assert memory_keyring.entries == {}
    assert saved_connection() == conn


def test_a_wrong_password_is_shown_in_the_dialog(qtbot, pg_url):
    dialog = open_dialog(qtbot)
    fill(dialog, pg_url, password="not-the-password")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "密码错误" in dialog.status.text(), timeout=20_000)
    assert dialog.isVisible() and dialog.db is None and dialog.connect_button.isEnabled()
    assert saved_connection() is None  # nothing saved from a failed connection
    shoot(dialog, "connect_dialog_wrong_password")


def test_empty_fields_are_refused_before_connecting(qtbot):
    dialog = open_dialog(qtbot)
    assert not dialog.start_connect()
    assert "请填写服务器" in dialog.status.text()
    dialog.host.setText("db.example")
    assert not dialog.start_connect()
    assert dialog.status.text() == "请输入密码。"


@pytest.mark.slow  # waits for a timeout / a whole office set-up / many examples
def test_connecting_can_be_cancelled_and_times_out(qtbot, monkeypatch):
    monkeypatch.setattr(server, "CONNECT_TIMEOUT_S", 3)
    with silent_server() as port:
        dialog = open_dialog(qtbot)
        dialog.host.setText("127.0.0.1")
        dialog.port.setValue(port)
        dialog.password.setText("pw")
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        assert dialog.connecting and not dialog.host.isEnabled() and dialog.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: "已等待 1 秒" in dialog.status.text(), timeout=5_000)
        shoot(dialog, "connect_dialog_connecting")
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)  # at once, not after the timeout
        assert not dialog.connecting and dialog.isVisible() and dialog.host.isEnabled()
        assert dialog.status.text() == "已取消连接，没有打开服务器上的数据库。"
        assert tasks.wait_for_jobs(15)  # the abandoned attempt ends by itself; its answer is dropped
        assert dialog.db is None and "已取消" in dialog.status.text()
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "超时" in dialog.status.text(), timeout=15_000)
        assert dialog.db is None and dialog.connect_button.isEnabled()
        shoot(dialog, "connect_dialog_timeout")
    dialog.reject()
    assert not dialog.isVisible()


# ------------------------------------------------------------------------------------------- at start
def _answer_later(action) -> QTimer:  # noqa: ANN001
    """Run `action(dialog)` on the connect dialog once it is shown (exec() runs its own loop)."""
    timer = QTimer()
    timer.setInterval(100)

    def poke() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, ServerConnectDialog) and w.isVisible():
                timer.stop()
                action(w)
                return

    timer.timeout.connect(poke)
    timer.start()
    return timer


def test_start_connects_to_the_saved_server_with_the_kept_password(qtbot, pg_url):
    conn, password = connection_of(pg_url)
    save_connection(conn)
    server.remember_password(conn, password)
    guard = _answer_later(lambda d: QTimer.singleShot(30_000, d.reject))  # never hang the suite
    opened = gui_app.open_server_at_start(CliContext())
    guard.stop()
    assert isinstance(opened, Database)
    try:
        assert opened.location == conn.label
        assert ledger_service.count_records(opened, "heating") == 0
    finally:
        opened.dispose()


def test_start_asks_for_the_password_when_none_is_kept(qtbot, pg_url):
    use_app_font()
    conn, password = connection_of(pg_url)
    save_connection(conn)

    def type_it(dialog: ServerConnectDialog) -> None:
        assert dialog.password.text() == "" and dialog.host.text() == conn.host
        assert dialog.local_button is not None
        shoot(dialog, "connect_dialog_at_start")
        dialog.password.setText(password)
        dialog.remember.setChecked(False)
        dialog.connect_button.click()

    guard = _answer_later(type_it)
    opened = gui_app.open_server_at_start(CliContext())
    guard.stop()
    assert isinstance(opened, Database)
    opened.dispose()


def test_start_may_use_the_local_database_or_give_up(qtbot, pg_url):
    conn, _password = connection_of(pg_url)
    assert gui_app.open_server_at_start(CliContext()) == server_connect.LOCAL  # nothing saved
    save_connection(conn)
    assert gui_app.open_server_at_start(CliContext(db_path="x.sqlite3")) == server_connect.LOCAL  # --db wins
    guard = _answer_later(lambda d: d.local_button.click())
    assert gui_app.open_server_at_start(CliContext()) == server_connect.LOCAL
    guard.stop()
    guard = _answer_later(lambda d: d.cancel_button.click())
    assert gui_app.open_server_at_start(CliContext()) is None
    guard.stop()


# ------------------------------------------------------------------------------------------- settings page
def test_settings_page_connects_and_goes_back_to_the_local_file(qtbot, server_db, pg_url, memory_keyring):
    use_app_font()
    ctx = GuiContext(db=server_db, actor=BUILTIN_ADMIN, signals=DataSignals())
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 760)
    page.show()
    box = page.server_box
    assert box.now.text().startswith("服务器上的数据库 ") and box.next.text() == "打开本机数据库文件"
    assert not box.local_button.isEnabled()
    dialog = box.open_dialog()
    fill(dialog, pg_url, remember=True)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: "已连接并保存" in box.note.text(), timeout=20_000)
    assert "密码保存在系统凭据管理器中" in box.next.text() and box.local_button.isEnabled()
    shoot(page, "settings_page_server")
    qtbot.mouseClick(box.local_button, Qt.MouseButton.LeftButton)
    assert saved_connection() is None and memory_keyring.entries == {}
    assert box.next.text() == "打开本机数据库文件" and "已改回本机数据库" in box.note.text()


# ------------------------------------------------------------------------------------------- working on it
def _window(qtbot, db: Database) -> MainWindow:
    use_app_font()
    ctx = GuiContext(db=db, actor=BUILTIN_ADMIN, signals=DataSignals())
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_ledger_page_shows_another_clerks_changes(qtbot, server_db, pg_url):
    for n in range(3):
        samples.create(server_db, "heating", n)
    window = _window(qtbot, server_db)
    page = window.show_page("heating")
    assert page.model.rowCount() == 3
    watcher = ServerChangeWatcher(QApplication.instance(), window.ctx, parent=window, interval_ms=3_600_000)
    qtbot.waitUntil(lambda: watcher.mark is not None, timeout=10_000)
    other, _ = open_database(pg_url)  # another clerk's program on the same server database
    try:
        for n in range(3, 5):
            samples.create(other, "heating", n)
    finally:
        other.dispose()
    assert watcher.poll()
    qtbot.waitUntil(lambda: page.model.rowCount() == 5, timeout=10_000)
    assert page.status_line.text() == OTHERS_CHANGED
    assert window.statusBar().currentMessage() == OTHERS_CHANGED
    window.statusBar().clearMessage()  # the message goes after a while; then the server's name shows again
    assert window.db_label.text() == f"服务器数据库：{server_db.location}"
    shoot(window, "heating_page_on_server")
    # Nothing new: the next look changes nothing and says nothing more.
    page.show_status("")
    assert watcher.poll()
    qtbot.waitUntil(lambda: watcher._job not in tasks.running_jobs(), timeout=10_000)  # its answer delivered
    assert page.status_line.text() == "" and page.model.rowCount() == 5


def test_a_lost_connection_offers_retry_and_never_writes_half(qtbot, pg_server, server_db, boxes):
    uuids = [samples.create(server_db, "heating", n) for n in range(2)]
    window = _window(qtbot, server_db)
    page = window.show_page("heating")
    page.table.selectAll()
    # Declined: the delete is undone as a whole (the records' updates ran, the audit entry was cut off).
    cutter = ConnectionCutter(server_db.engine, pg_server, "select pg_advisory_xact_lock(")
    boxes.retry_answers = [False]
    assert page.delete_selected()
    qtbot.waitUntil(lambda: not page.busy(), timeout=20_000)
    cutter.remove()
    assert len(boxes.retries) == 1 and "连接已断开" in boxes.retries[0][1] and "没有写入" in boxes.retries[0][1]
    assert ledger_service.count_records(server_db, "heating") == 2
    assert page.status_line.text() == "已取消，没有改动任何记录。"
    # 重试: the same delete runs again and is done once.
    cutter = ConnectionCutter(server_db.engine, pg_server, "select pg_advisory_xact_lock(")
    boxes.retry_answers = [True]
    page.table.selectAll()
    assert page.delete_selected()
    qtbot.waitUntil(lambda: not page.busy() and page.model.rowCount() == 0, timeout=20_000)
    cutter.remove()
    assert len(boxes.retries) == 2 and cutter.cut == 1
    assert ledger_service.count_records(server_db, "heating") == 0
    assert ledger_service.count_records(server_db, "heating", ledger_service.RecordQuery(deleted=True)) == 2
    assert not [s for s in boxes.shown if s[0] == "critical"]
    assert len(uuids) == 2


def test_the_retry_question(qtbot):
    use_app_font()
    from jzair_desktop.errors import ServerUnavailable
    from jzair_desktop.storage.engine import SERVER_LOST_MESSAGE

    box = tasks.retry_box(None, "删除失败", ServerUnavailable(SERVER_LOST_MESSAGE))
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    assert [b.text() for b in box.buttons()] and box.defaultButton().text() == "重试"
    shoot(box, "retry_question")


def test_the_form_keeps_what_was_typed_when_the_connection_drops(qtbot, pg_server, server_db, boxes):
    from jzair_desktop.gui.dialogs.record_form import RecordForm

    ctx = GuiContext(db=server_db, actor=BUILTIN_ADMIN, signals=DataSignals())
    form = RecordForm(ctx, "heating")
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    for key, value in samples.heating(1).items():
        form.fields[key].set_value(value)
    cutter = ConnectionCutter(server_db.engine, pg_server, "select pg_advisory_xact_lock(")
    boxes.retry_answers = [False]
    assert not form.save()
    assert "连接已断开" in boxes.retries[0][1] and "未保存" in form.status.text()
    assert ledger_service.count_records(server_db, "heating") == 0
    assert form.fields["householder"].value() == "王建国1" and form.isVisible()
    cutter.remove()
    cutter = ConnectionCutter(server_db.engine, pg_server, "select pg_advisory_xact_lock(")
    boxes.retry_answers = [True]
    with qtbot.waitSignal(form.finished):
        assert form.save()
    cutter.remove()
    assert cutter.cut == 1 and len(boxes.retries) == 2
    assert ledger_service.count_records(server_db, "heating") == 1


def test_a_record_another_clerk_holds_gives_busy_and_retry(qtbot, pg_server, pg_url, boxes, monkeypatch):
    import psycopg

    monkeypatch.setattr(server, "LOCK_TIMEOUT_MS", 800)
    conn, password = connection_of(pg_url)
    db = server.open_server(conn, password)
    try:
        samples.create(db, "heating", 1)
        window = _window(qtbot, db)
        page = window.show_page("heating")
        holder = psycopg.connect(**pg_server.libpq_kwargs(conn.database))  # another clerk, mid-transaction
        holder.execute("SELECT * FROM heating FOR UPDATE")

        def answer(title, message):  # noqa: ARG001
            holder.commit()  # the other clerk finishes meanwhile
            return True

        boxes.retry_answers = [answer]
        page.table.selectAll()
        assert page.delete_selected()
        qtbot.waitUntil(lambda: not page.busy() and page.model.rowCount() == 0, timeout=20_000)
        holder.close()
        assert len(boxes.retries) == 1 and "正忙" in boxes.retries[0][1] and "没有写入" in boxes.retries[0][1]
        assert ledger_service.count_records(db, "heating") == 0
    finally:
        db.dispose()


def test_the_form_refuses_to_overwrite_another_clerks_save(qtbot, server_db, pg_url, boxes):
    from jzair_desktop.gui.dialogs.record_form import RecordForm

    uuid = samples.create(server_db, "heating", 1)
    ctx = GuiContext(db=server_db, actor=BUILTIN_ADMIN, signals=DataSignals())
    form = RecordForm(ctx, "heating", record=ledger_service.get_record(server_db, "heating", uuid))
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    other, _ = open_database(pg_url)  # another clerk saves the same household meanwhile
    try:
        record = ledger_service.get_record(other, "heating", uuid)
        ledger_service.update_record(other, "heating", uuid, dict(record.values, phone="13900000001"),
                                     actor=BUILTIN_ADMIN)
    finally:
        other.dispose()
    form.fields["area_m2"].set_value(99.0)
    assert not form.save()
    assert [(kind, title) for kind, title, _text in boxes.shown] == [("warning", "未保存")]
    assert "已被“系统管理员”修改" in boxes.shown[0][2] and form.isVisible()
    now = ledger_service.get_record(server_db, "heating", uuid)
    assert now.values["phone"] == "13900000001" and now.values["area_m2"] == 85.5


def test_start_with_the_server_down_says_why_and_offers_the_local_file(qtbot):
    from tests.server_helpers import closed_port

    use_app_font()  # as the program registers it at start
    conn = server.ServerConnection("127.0.0.1", closed_port())
    save_connection(conn)
    server.remember_password(conn, "pw")
    seen: list[str] = []

    def wait_for_the_message(dialog: ServerConnectDialog) -> None:
        if "服务器没有启动" in dialog.status.text() and not dialog.connecting:
            seen.append(dialog.status.text())
            shoot(dialog, "connect_dialog_server_down")
            dialog.local_button.click()
        else:
            QTimer.singleShot(50, lambda: wait_for_the_message(dialog))

    guard = _answer_later(wait_for_the_message)
    assert gui_app.open_server_at_start(CliContext()) == server_connect.LOCAL
    guard.stop()
    assert seen and "127.0.0.1" in seen[0]
    assert saved_connection() == conn  # still saved: the next start tries the server again
