"""Rows looked up by many two-column keys, through the index on SQLite as on PostgreSQL.

The obvious statement, ``(a, b) IN ((?, ?), ...)`` (SQLAlchemy's ``tuple_(a, b).in_(...)``),
SQLite renders as ``(a, b) IN (VALUES ...)`` and runs as a scan of the whole table: a batch of
presses read every ballot and every membership ever recorded (``EXPLAIN QUERY PLAN``: ``SCAN
ballots``), a cost that grew with the database. ``a IN (...) AND b IN (...)`` is a search of
the two-column index on both databases; it may find a few more rows than asked for (a key of
one pair with the other of another), which the caller leaves out. The statement is built
and compiled once, as every expanding ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam


def pair_in(
    first: ColumnElement[Any], second: ColumnElement[Any], name: str
) -> ColumnElement[bool]:
    """``first IN (...) AND second IN (...)``, the lists given by :func:`pair_parameters`
    under ``name``."""
    return and_(
        first.in_(bindparam(f"{name}_first", expanding=True)),
        second.in_(bindparam(f"{name}_second", expanding=True)),
    )


def pair_parameters(name: str, pairs: Iterable[tuple[Any, Any]]) -> dict[str, list[Any]]:
    """The parameters of :func:`pair_in` for these pairs (each side's values, sorted)."""
    pairs = list(pairs)
    return {
        f"{name}_first": sorted({first for first, _ in pairs}),
        f"{name}_second": sorted({second for _, second in pairs}),
    }
