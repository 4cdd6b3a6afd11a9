"""The target split (任务分解) to and from a workbook: the service over exchange/targets_xlsx.py's file format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jzair_desktop.errors import ValidationFailed
from jzair_desktop.exchange.targets_xlsx import raise_problems, read_split_workbook, write_split_workbook
from jzair_desktop.services.actor import Actor
from jzair_desktop.services.database import Database
from jzair_desktop.services.targets import (
    TargetEntry,
    check_entries,
    is_integral,
    splittable_indicators,
    target_table,
    write_checked,
)
from jzair_desktop.storage.engine import write_session


@dataclass(frozen=True, slots=True)
class TargetImportResult:
    path: Path
    set: int
    cleared: int
    unchanged: int
    cells: int


def export_targets(db: Database, path: str | Path) -> Path:
    """Write the current split to `path` (.xlsx). Returns the path written."""
    inds = splittable_indicators()
    values = {(t.indicator, u.unit_code): u.value for t in target_table(db) for u in t.units}
    return write_split_workbook(path, inds, values, {i.key for i in inds if is_integral(i)})


def import_targets(db: Database, actor: Actor, path: str | Path) -> TargetImportResult:
    """Check every cell of a split workbook and write it in one transaction (city office only)."""
    actor.check_city("导入任务分解表")
    path = Path(path)
    cells, problems = read_split_workbook(path, splittable_indicators())
    entries = [TargetEntry(c.indicator, c.unit, c.value, where=c.where) for c in cells]
    try:
        items = check_entries(entries)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    if problems:
        raise_problems(path.name, problems)
    with write_session(db.engine) as s:
        result = write_checked(s, actor, items, source=f"导入 {path.name}")
    return TargetImportResult(path, result.set, result.cleared, result.unchanged, len(entries))
