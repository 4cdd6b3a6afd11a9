"""SQL that means the same on SQLite and PostgreSQL where the two spell or behave differently.

- Text order: SQLite compares text by code point; PostgreSQL by the database's collation (a Windows server's
  default is the system's locale), so the same ORDER BY could list townships differently on a server.
  `codepoint(expr)` orders by code point on both (COLLATE "C" on PostgreSQL).
- LIKE: SQLite's is case-insensitive for ASCII letters (plates, VINs, credit codes typed in lower case), and
  PostgreSQL's is not. `like_ci(expr, pattern)` is LIKE on SQLite and ILIKE on PostgreSQL.
- SUM of REAL values past the double range: infinity on SQLite (which the checks then refuse with a message),
  an error ("value out of range") on PostgreSQL. `float_sum(expr)` sums as NUMERIC there; Python's float()
  of the result gives infinity on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import Boolean, Float


class _CodepointOrder(ColumnElement):
    inherit_cache = True

    def __init__(self, expr: Any) -> None:
        self.expr = expr
        self.type = getattr(expr, "type", String())


@compiles(_CodepointOrder)
def _codepoint_default(element: _CodepointOrder, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.expr, **kw)


@compiles(_CodepointOrder, "postgresql")
def _codepoint_postgresql(element: _CodepointOrder, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(element.expr, **kw)}) COLLATE "C"'


def codepoint(expr: Any) -> Any:
    """`expr` for ORDER BY, compared by code point on every backend (text only; other types unchanged)."""
    if isinstance(getattr(expr, "type", None), String):
        return _CodepointOrder(expr)
    return expr


class _LikeCi(ColumnElement):
    inherit_cache = True
    type = Boolean()

    def __init__(self, expr: Any, pattern: str) -> None:
        self.expr = expr
        self.pattern = pattern


@compiles(_LikeCi)
def _like_default(element: _LikeCi, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.expr.like(element.pattern), **kw)


@compiles(_LikeCi, "postgresql")
def _like_postgresql(element: _LikeCi, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.expr.ilike(element.pattern), **kw)


def like_ci(expr: Any, pattern: str) -> Any:
    """`expr LIKE pattern`, case-insensitive for ASCII letters on every backend (as SQLite's LIKE is)."""
    return _LikeCi(expr, pattern)


class _FloatSum(ColumnElement):
    inherit_cache = True
    type = Float()

    def __init__(self, expr: Any) -> None:
        self.expr = expr


@compiles(_FloatSum)
def _sum_default(element: _FloatSum, compiler: Any, **kw: Any) -> str:
    return f"sum({compiler.process(element.expr, **kw)})"


@compiles(_FloatSum, "postgresql")
def _sum_postgresql(element: _FloatSum, compiler: Any, **kw: Any) -> str:
    return f"sum(CAST({compiler.process(element.expr, **kw)} AS NUMERIC))"


def float_sum(expr: Any) -> Any:
    """SUM(expr) of REAL values; read it with float() (infinity past the double range on every backend)."""
    return _FloatSum(expr)
