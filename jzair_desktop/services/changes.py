"""What an operation changed, so the windows can refresh what shows it (plain Python, no Qt).

An operation run by the GUI (gui.tasks.run_task) returns a `Changes`, or a result that carries one in its
`changes` attribute (`Changed(value, changes)` wraps any value); the GUI publishes it once, and the main window
refreshes the pages that show any of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    """Kinds of data an operation wrote. Empty: nothing changed (a read, a refused or repeated import)."""

    ledgers: frozenset[str] = frozenset()  # ledger keys whose records changed
    units: frozenset[str] = frozenset()  # unit codes whose data changed (empty: not narrowed down)
    months: frozenset[str] = frozenset()  # months submitted or unlocked ("2020-12")
    targets: bool = False  # the split of targets per unit
    figures: bool = False  # monthly figures, air quality and its targets, milestones
    accounts: bool = False  # user accounts, or who works in the window
    packages: bool = False  # package history and pinned keys
    everything: bool = False  # the whole database (a restore, a package import, another program's writes)
    others: bool = False  # made by someone else (another clerk on the server, another program): pages say so

    @classmethod
    def of(cls, *, ledgers: Iterable[str] = (), units: Iterable[str] = (), months: Iterable[str] = (),
           **flags: bool) -> Changes:
        return cls(ledgers=frozenset(ledgers), units=frozenset(units), months=frozenset(months), **flags)

    def __bool__(self) -> bool:
        return bool(self.ledgers or self.months or self.targets or self.figures or self.accounts or self.packages
                    or self.everything)

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            ledgers=self.ledgers | other.ledgers, units=self.units | other.units, months=self.months | other.months,
            targets=self.targets or other.targets, figures=self.figures or other.figures,
            accounts=self.accounts or other.accounts, packages=self.packages or other.packages,
            everything=self.everything or other.everything, others=self.others or other.others,
        )

    def ledger(self, key: str) -> bool:
        """Whether the records of ledger `key` may have changed."""
        return self.everything or key in self.ledgers

    def progress(self) -> bool:
        """Whether anything the progress figures are computed from may have changed."""
        return bool(self.everything or self.ledgers or self.targets or self.figures or self.months)


NOTHING = Changes()
EVERYTHING = Changes(everything=True)


@dataclass(frozen=True)
class Changed(Generic[T]):
    """An operation's result together with what it changed."""

    value: T
    changes: Changes = field(default=NOTHING)


def changes_of(result: Any) -> Changes:
    """The changes an operation's result reports: the result itself, its `changes` attribute, or nothing."""
    if isinstance(result, Changes):
        return result
    found = getattr(result, "changes", None)
    return found if isinstance(found, Changes) else NOTHING


__all__ = ["EVERYTHING", "NOTHING", "Changed", "Changes", "changes_of"]
