"""Who is acting: the services check every write against the actor's role and unit."""

from __future__ import annotations

from dataclasses import dataclass

from jzair_desktop.errors import PermissionDenied

ROLES = {"city_admin": "市级管理员", "county_admin": "县级管理员", "county_clerk": "县级填报员", "viewer": "只读用户"}

# Roles tied to one unit (their accounts carry the unit's code).
UNIT_ROLES = frozenset({"county_admin", "county_clerk"})
# Roles that manage the installation: accounts, backups, restore (the city's or one county's installation).
ADMIN_ROLES = frozenset({"city_admin", "county_admin"})


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str = "city_admin"
    unit_code: str | None = None  # a county clerk's or county administrator's own unit

    @property
    def is_city(self) -> bool:
        return self.role == "city_admin"

    @property
    def is_admin(self) -> bool:
        """The administrator of this installation (city, or a county installation's own administrator)."""
        return self.role in ADMIN_ROLES

    @property
    def is_county(self) -> bool:
        """A county role (county_admin, county_clerk): tied to one unit, its own."""
        return self.role in UNIT_ROLES

    @property
    def own_unit(self) -> str | None:
        """The unit code a county role is tied to; None for the city administrator and viewers."""
        return self.unit_code if self.role in UNIT_ROLES else None

    def can_write(self, unit_code: str | None = None) -> bool:
        """May change data of `unit_code` (None: of some unit at all). The one rule check_write enforces."""
        if self.role == "city_admin":
            return True
        if self.role in UNIT_ROLES:
            return unit_code is None or unit_code == self.unit_code
        return False  # viewers and unknown roles

    def can_read(self, unit_code: str | None) -> bool:
        """May see records of `unit_code` at all (masked or whole): a county role its own unit's only."""
        if self.role in ("city_admin", "viewer"):
            return True
        return self.role in UNIT_ROLES and unit_code == self.unit_code

    def can_read_personal(self, unit_code: str | None) -> bool:
        """May see the personal fields (身份证号, 联系电话) of a record of `unit_code` whole."""
        if self.role == "city_admin":
            return True
        return self.role in UNIT_ROLES and unit_code == self.unit_code

    @property
    def can_see_personal_data(self) -> bool:
        """Sees personal fields whole anywhere at all (viewers never do)."""
        return self.role in ("city_admin", *UNIT_ROLES)

    def check_write(self, unit_code: str | None = None, *, unit_name: str | None = None) -> None:
        """Raise PermissionDenied unless this actor may change data of `unit_code` (can_write)."""
        if self.can_write(unit_code):
            return
        if self.role == "viewer":
            raise PermissionDenied(f"用户“{self.name}”是只读用户，不能修改数据。")
        if self.role in UNIT_ROLES:
            raise PermissionDenied(
                f"用户“{self.name}”只能填报本县（区、市）的数据，不能修改“{unit_name or unit_code}”的记录。"
            )
        raise PermissionDenied(f"未知的角色：{self.role}")

    def check_city(self, what: str) -> None:
        if not self.is_city:
            raise PermissionDenied(f"只有市级管理员可以{what}。")

    def check_admin(self, what: str) -> None:
        if not self.is_admin:
            raise PermissionDenied(f"只有管理员（市级管理员或县级管理员）可以{what}。")


# With no account on the machine (a database never set up), the app runs as this built-in administrator.
BUILTIN_ADMIN = Actor(name="系统管理员", role="city_admin")
