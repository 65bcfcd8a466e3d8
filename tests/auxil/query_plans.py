"""A pytest plugin that keeps every statement the tests run on SQLite, for
``benchmarks/query_plans.py`` to EXPLAIN: which of them scan a whole table.

    YISHI_QUERY_PLANS=/tmp/plans .venv/bin/python -m pytest -p tests.auxil.query_plans \
        tests/e2e tests/e2e_web
    .venv/bin/python -m benchmarks.query_plans /tmp/plans

A scan is cheap in a test's database and grows with a real one: a batch of presses read every
ballot ever cast that way until the plans were looked at. Each distinct statement is kept
once, with the parameters of its first run (SQLite's plan does not depend on their values),
in ``<YISHI_QUERY_PLANS>-<xdist worker>.json``. Without the variable it keeps nothing.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

_KINDS = ("SELECT", "UPDATE", "DELETE", "WITH")
_kept: dict[str, list[Any]] = {}


def _keep(
    conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
) -> None:
    if conn.dialect.name != "sqlite" or statement in _kept:
        return
    if not statement.lstrip()[:6].upper().startswith(_KINDS):
        return
    if many:
        parameters = parameters[0] if parameters else ()
    _kept[statement] = [
        value if isinstance(value, int | float | str | None) else str(value)
        for value in (parameters or ())
    ]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("YISHI_QUERY_PLANS"):
        event.listen(Engine, "before_cursor_execute", _keep)


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get("YISHI_QUERY_PLANS")
    if out:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(f"{out}-{worker}.json", "w", encoding="utf-8") as file:
            json.dump(_kept, file, ensure_ascii=False)
