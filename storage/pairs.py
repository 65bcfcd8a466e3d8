"""Rows looked up by a list of keys, or of two-column keys, bound as one parameter.

A hot statement that takes a batch's keys (storage/repositories/presses.py, a tally) is built
once and compiled once per dialect; its keys go in as one bound value whose SQL text does not
depend on how many there are:

- SQLite: a JSON array, read with ``json_each``. ``column IN (SELECT value FROM
  json_each(?))`` searches the column's index once per key; a pair of columns looks up the
  rows' ``rowid`` by a join of the pairs with the table, which SQLite runs as one search of the
  two-column index per pair (``EXPLAIN QUERY PLAN``: ``SCAN json_each``, ``SEARCH found USING
  COVERING INDEX ... (a=? AND b=?)``). JSON numbers are SQLite integers and JSON strings
  text, so they compare with the stored values as Python's ints and strs would (ids near
  2**63 included).
- PostgreSQL: typed arrays, ``column = ANY($1::BIGINT[])`` and ``(a, b) IN (SELECT * FROM
  unnest($1::INTEGER[], $2::VARCHAR[]))``: one prepared statement for any number of keys.

An expanding ``IN`` list, as these were, is rendered into the SQL text at every execution
(a few per cent of a press's CPU) and, on PostgreSQL, is a new statement to prepare for each
length. The obvious form for pairs, ``(a, b) IN ((?, ?), ...)``, SQLite ran as a scan of the
whole table; ``a IN (...) AND b IN (...)``, which replaced it, probed the index for every
combination of the two lists (1,350 probes for 54 pairs) and found pairs nobody asked for.
Here only the pairs asked for are found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, Column, ColumnElement, String, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class _InValues(ColumnElement[bool]):
    """``column`` is one of the values bound under ``name`` (:func:`in_values`)."""

    __visit_name__ = "in_values"
    inherit_cache = True  # the cache key: the column and the name
    _traverse_internals = [  # noqa: RUF012 (declared so by SQLAlchemy)
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is, not ``(...) = 1`` on SQLite

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


class _InPairs(ColumnElement[bool]):
    """``(first, second)`` is one of the pairs bound under ``name`` (:func:`in_pairs`)."""

    __visit_name__ = "in_pairs"
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012
        ("first", InternalTraversal.dp_clauseelement),
        ("second", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]
    type = Boolean()
    _is_implicitly_boolean = True

    def __init__(self, first: Column[Any], second: Column[Any], name: str) -> None:
        self.first = first
        self.second = second
        self.name = name


def in_values(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column IN`` the values given by :func:`values_parameters` under ``name``."""
    return _InValues(column, name)


def in_pairs(first: Column[Any], second: Column[Any], name: str) -> ColumnElement[bool]:
    """``(first, second) IN`` the pairs given by :func:`pairs_parameters` under ``name``:
    exactly those pairs. Both columns of one table, which has a two-column index (or primary
    key) on them; on SQLite, a table with a ``rowid``."""
    return _InPairs(first, second, name)


def values_parameters(dialect: Dialect, name: str, values: Iterable[Any]) -> dict[str, Any]:
    """The parameter of :func:`in_values` for these values (ints or strs), on ``dialect``
    (``connection.dialect``)."""
    if dialect.name == "sqlite":
        return {name: _json(list(values))}
    return {name: list(values)}


def pairs_parameters(
    dialect: Dialect, name: str, pairs: Iterable[tuple[Any, Any]]
) -> dict[str, Any]:
    """The parameters of :func:`in_pairs` for these pairs (of ints or strs), on ``dialect``."""
    if dialect.name == "sqlite":
        return {name: _json([[first, second] for first, second in pairs])}
    pairs = list(pairs)
    return {
        f"{name}_first": [first for first, _ in pairs],
        f"{name}_second": [second for _, second in pairs],
    }


def _json(values: list[Any]) -> str:
    return json.dumps(values, separators=(",", ":"))


# SQLite ------------------------------------------------------------------------------------


def _sqlite_parameter(name: str, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(bindparam(name, type_=String()), **kw)


@compiles(_InValues, "sqlite")
def _in_values_sqlite(element: _InValues, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = _sqlite_parameter(element.name, compiler, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"


@compiles(_InPairs, "sqlite")
def _in_pairs_sqlite(element: _InPairs, compiler: SQLCompiler, **kw: Any) -> str:
    # By rowid: a row-value IN over json_each searches the index by the first column only.
    # json_each under its own name, as benchmarks/query_plans.py expects its scan.
    table = compiler.preparer.format_table(element.first.table)
    first = compiler.preparer.quote(element.first.name)
    second = compiler.preparer.quote(element.second.name)
    pairs = _sqlite_parameter(element.name, compiler, **kw)
    return (
        f"{table}.rowid IN (SELECT found.rowid FROM json_each({pairs}) JOIN {table} AS found"
        f" ON found.{first} = json_extract(json_each.value, '$[0]')"
        f" AND found.{second} = json_extract(json_each.value, '$[1]'))"
    )


# PostgreSQL (and any other dialect: arrays are the standard's) --------------------------------


def _array_parameter(name: str, of: ColumnElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    item = of.type
    if isinstance(item, String) and item.length is not None:
        # Not VARCHAR(80)[]: the cast would cut a longer value down to one that may match.
        item = String()
    return compiler.process(bindparam(name, type_=ARRAY(item, dimensions=1)), **kw)


@compiles(_InValues)
def _in_values_array(element: _InValues, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY ({_array_parameter(element.name, element.column, compiler, **kw)})"


@compiles(_InPairs)
def _in_pairs_array(element: _InPairs, compiler: SQLCompiler, **kw: Any) -> str:
    first = compiler.process(element.first, **kw)
    second = compiler.process(element.second, **kw)
    firsts = _array_parameter(f"{element.name}_first", element.first, compiler, **kw)
    seconds = _array_parameter(f"{element.name}_second", element.second, compiler, **kw)
    return f"({first}, {second}) IN (SELECT * FROM unnest({firsts}, {seconds}))"
