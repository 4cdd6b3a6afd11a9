"""用户管理: the accounts (city_admin adds, disables, enables and resets passwords; everyone with an
account can change the own password). With no account yet, the first one (a city_admin) is made here."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jzair_desktop.domain.reference import reference
from jzair_desktop.gui.context import GuiContext
from jzair_desktop.gui.tasks import publish, user_errors
from jzair_desktop.gui.widgets.common import FormDialog, list_table
from jzair_desktop.gui.widgets.password_fields import PasswordFields
from jzair_desktop.services import accounts, installation
from jzair_desktop.services.actor import BUILTIN_ADMIN, ROLES, UNIT_ROLES
from jzair_desktop.services.changes import Changes

HEADERS = ("用户名", "角色", "县（区、市）", "状态", "创建时间", "创建人")
STYLE = """
QLabel#usersHint { color: #555; }
"""


class AddUserDialog(FormDialog):
    def __init__(self, ctx: GuiContext, parent: QWidget | None = None, *, first: bool = False) -> None:
        super().__init__("新增用户", parent)
        self.ctx = ctx
        self.info: accounts.UserInfo | None = None
        self.name = QLineEdit()
        self.name.setObjectName("userName")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("userDisplayName")
        self.display_name.setPlaceholderText("如真实姓名，可不填")
        inst = installation.installation_of(ctx.db)
        self.role = QComboBox()
        self.role.setObjectName("userRole")
        for code, label in ROLES.items():
            if first and code != "city_admin":
                continue
            if code == "county_admin" and (inst is None or inst.is_city):
                continue  # a county installation's own administrator
            if code == "city_admin" and inst is not None and not inst.is_city:
                continue
            self.role.addItem(label, code)
        self.county = QComboBox()
        self.county.setObjectName("userCounty")
        for u in reference().units:
            if inst is None or inst.is_city or u.code == inst.unit:
                self.county.addItem(u.name, u.code)
        self.form.addRow("用户名：", self.name)
        self.form.addRow("显示名称：", self.display_name)
        self.form.addRow("角色：", self.role)
        self.form.addRow("县（区、市）：", self.county)
        self.passwords = PasswordFields(self.form, name=self.name.text, parent=self)
        self.name.textChanged.connect(self.passwords.update)
        if first:
            note = QLabel("第一个账户必须是市级管理员。创建后，打开程序和修改数据都需要登录。")
            note.setWordWrap(True)
            self.form.addRow(note)
        self.role.currentIndexChanged.connect(self._role_changed)
        self._role_changed()

    def _role_changed(self) -> None:
        self.county.setEnabled(self.role.currentData() in UNIT_ROLES)

    def run(self) -> None:
        role = self.role.currentData()
        unit = self.county.currentData() if role in UNIT_ROLES else None
        self.info = accounts.add_user(self.ctx.db, self.ctx.actor, self.name.text(), role, self.passwords.value(),
                                      unit=unit, display_name=self.display_name.text())


class PasswordDialog(FormDialog):
    def __init__(self, ctx: GuiContext, name: str, parent: QWidget | None = None) -> None:
        own = name == ctx.actor.name
        super().__init__("修改我的密码" if own else f"重置“{name}”的密码", parent)
        self.ctx = ctx
        self.user_name = name
        if not own:
            note = QLabel("重置密码同时解除该账户的锁定。")
            self.form.addRow(note)
        self.passwords = PasswordFields(self.form, "新密码：", name=lambda: name, parent=self)

    def run(self) -> None:
        accounts.change_password(self.ctx.db, self.ctx.actor, self.user_name, self.passwords.value())


class UsersPage(QWidget):
    def __init__(self, ctx: GuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.users: list[accounts.UserInfo] = []
        self.setStyleSheet(STYLE)
        title = QLabel("用户管理")
        title.setObjectName("pageTitle")
        self.hint = QLabel()
        self.hint.setObjectName("usersHint")
        self.hint.setWordWrap(True)
        self.table = list_table(HEADERS, "usersTable")
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("新增用户…")
        self.reset_button = QPushButton("重置密码…")
        self.disable_button = QPushButton("停用")
        self.enable_button = QPushButton("启用")
        self.own_button = QPushButton("修改我的密码…")
        self.add_button.clicked.connect(lambda: self.add_user())
        self.reset_button.clicked.connect(lambda: self.reset_password())
        self.disable_button.clicked.connect(lambda: self.set_disabled(True))
        self.enable_button.clicked.connect(lambda: self.set_disabled(False))
        self.own_button.clicked.connect(lambda: self.change_own_password())
        buttons = QHBoxLayout()
        for b in (self.add_button, self.reset_button, self.disable_button, self.enable_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.own_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self.refresh()

    @property
    def is_admin(self) -> bool:
        return self.ctx.actor.is_admin

    def selected(self) -> accounts.UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.users[rows[0].row()] if rows else None

    def refresh(self) -> None:
        self.users = accounts.list_users(self.ctx.db)
        actor = self.ctx.actor
        if not self.users:
            self.hint.setText("尚未创建任何账户：程序以内置的系统管理员身份运行，不需要登录。"
                              "创建的第一个账户必须是市级管理员；创建后打开程序和修改数据都需要登录。")
        elif self.is_admin:
            self.hint.setText(f"当前用户：{actor.name}（{ROLES.get(actor.role, actor.role)}）。"
                              "县级填报员只能填报本县（区、市）的记录；只读用户只能查看。密码输错后，下次登录前须等待的时间逐次加长（最长 30 秒），账户不会被锁死。")
        else:
            self.hint.setText(f"当前用户：{actor.name}（{ROLES.get(actor.role, actor.role)}）。"
                              "只有市级管理员（县级安装上是本机的县级管理员）可以新增、停用用户和重置密码；您可以修改自己的密码。")
        t = self.table
        t.setRowCount(len(self.users))
        for r, u in enumerate(self.users):
            values = (u.name, u.role_label, u.unit_name, u.status_text(), f"{u.created_at:%Y-%m-%d %H:%M}",
                      u.created_by)
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 3 and v != "正常":
                    item.setForeground(QBrush(QColor("#c62828")))
                t.setItem(r, c, item)
        t.resizeColumnsToContents()
        for c in range(len(HEADERS) - 1):
            t.setColumnWidth(c, t.columnWidth(c) + 24)
        t.horizontalHeader().setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self._update_buttons()

    def _update_buttons(self) -> None:
        no_accounts = not self.users
        admin = self.is_admin and self.ctx.actor != BUILTIN_ADMIN
        sel = self.selected()
        self.add_button.setEnabled(no_accounts or admin)
        self.add_button.setText("创建第一个账户…" if no_accounts else "新增用户…")
        self.reset_button.setEnabled(admin and sel is not None)
        self.disable_button.setEnabled(admin and sel is not None and not sel.disabled and sel.name != self.ctx.actor.name)
        self.enable_button.setEnabled(admin and sel is not None and sel.disabled)
        self.own_button.setEnabled(any(u.name == self.ctx.actor.name for u in self.users))

    # -- actions (dialogs are returned unopened when `show` is False, for tests) --------------------
    def add_user(self, *, show: bool = True) -> AddUserDialog:
        first = not self.users
        dialog = AddUserDialog(self.ctx, self, first=first)
        if show and dialog.exec() == QDialog.DialogCode.Accepted:
            self.after_add(dialog)
        return dialog

    def after_add(self, dialog: AddUserDialog) -> None:
        first = self.ctx.actor == BUILTIN_ADMIN
        self.refresh()
        if first and dialog.info is not None:
            QMessageBox.information(self, "已创建第一个账户",
                                    f"已创建市级管理员“{dialog.info.name}”。从现在起需要登录，请用该账户登录。")
            self.relogin(dialog.info.name)

    def relogin(self, name: str) -> None:
        from jzair_desktop.gui.dialogs.login import login

        actor = login(self.ctx.db, user=name, parent=self)
        if actor is None:
            self.window().close()
            return
        self.set_actor(actor)

    def set_actor(self, actor) -> None:  # noqa: ANN001
        self.ctx.actor = actor
        label = getattr(self.window(), "user_label", None)
        if label is not None:
            label.setText(f"用户：{actor.name}")
        publish(self.ctx, Changes(accounts=True, everything=True), self)
        self.refresh()

    def reset_password(self, *, show: bool = True) -> PasswordDialog | None:
        sel = self.selected()
        if sel is None:
            return None
        dialog = PasswordDialog(self.ctx, sel.name, self)
        if show and dialog.exec() == QDialog.DialogCode.Accepted:
            self.refresh()
        return dialog

    def change_own_password(self, *, show: bool = True) -> PasswordDialog:
        dialog = PasswordDialog(self.ctx, self.ctx.actor.name, self)
        if show:
            dialog.exec()
        return dialog

    def set_disabled(self, disabled: bool) -> bool:
        sel = self.selected()
        if sel is None:
            return False
        if disabled and QMessageBox.question(
            self, "停用用户", f"停用用户“{sel.name}”？停用后该用户不能登录，可以再启用。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
        ) != QMessageBox.StandardButton.Yes:
            return False
        with user_errors(self, "操作未完成") as outcome:
            accounts.set_disabled(self.ctx.db, self.ctx.actor, sel.name, disabled)
        if outcome.failed:
            return False
        self.refresh()
        row = next((i for i, u in enumerate(self.users) if u.name == sel.name), None)
        if row is not None:
            self.table.selectRow(row)
        return True

    def showEvent(self, event) -> None:  # noqa: ANN001, N802
        self.refresh()
        super().showEvent(event)


def make_page(ctx: GuiContext) -> UsersPage:
    page = UsersPage(ctx)
    page.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return page
