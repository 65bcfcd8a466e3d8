"""Every SQL statement takes its values as bound parameters: no string-built SQL.

The source of the application (bot/, storage/, channels/telegram/) is parsed and every call of
``text(...)``, ``exec_driver_sql(...)``, ``execute(...)`` (and ``executemany``/``executescript``)
is checked: its statement must not be an f-string, ``%``-formatted, ``.format()``-ed or
concatenated string (nor a variable assigned one earlier in the same function), and
``execute`` must not be handed raw SQL text with SELECT/INSERT/UPDATE/DELETE (SQLAlchemy Core
constructs bind their values). The exceptions are listed below, each with its reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "storage", "channels", "emulators")
SINKS = frozenset({"text", "exec_driver_sql", "execute", "executemany", "executescript"})
RAW_SINKS = SINKS - {"text"}
DML = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

# (file, how the statement starts): constants only, no value from outside.
ALLOWED = {
    ("storage/database.py", "PRAGMA busy_timeout="): "an int constant of the module",
    ("storage/migrations/versions/0005_inbox_and_lease.py", "INSERT INTO inbox "): (
        "a constant data migration (no values)"
    ),
    ("storage/migrations/versions/0005_inbox_and_lease.py", "INSERT INTO processed_updates "): (
        "its downgrade"
    ),
    # A backup file read or finished through the standard library's sqlite3 (no engine there):
    # constant statements, no value from outside.
    ("storage/backup/sqlite_file.py", "PRAGMA journal_mode=DELETE"): "a constant pragma",
    ("storage/backup/sqlite_file.py", "SELECT version_num FROM alembic_version"): (
        "a constant read of the file's schema revision"
    ),
    ("storage/backup/sqlite_file.py", "SELECT id FROM topics WHERE ballot_salt IS NOT NULL"): (
        "a constant read of the open secret ballots"
    ),
}


def _sink(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name if name in SINKS else None


def _statement(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in ("statement", "sql", "text", "clause"):
            return keyword.value
    return None


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _built(node: ast.expr, tainted: dict[str, str]) -> str | None:
    """How ``node`` builds a string from values, if it does."""
    if isinstance(node, ast.JoinedStr) and any(
        isinstance(part, ast.FormattedValue) for part in node.values
    ):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_str(node.left):
        return "%-formatting"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        sides = (node.left, node.right)
        if any(_is_str(side) or _built(side, tainted) for side in sides) and not all(
            _is_str(side) for side in sides
        ):
            return "concatenation"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and _is_str(node.func.value)
    ):
        return ".format()"
    if isinstance(node, ast.Name) and node.id in tainted:
        return f"{node.id}, built with {tainted[node.id]}"
    return None


def _opening(node: ast.expr) -> str:
    if _is_str(node):
        return str(node.value)  # type: ignore[attr-defined]
    if isinstance(node, ast.JoinedStr) and node.values and _is_str(node.values[0]):
        return str(node.values[0].value)  # type: ignore[attr-defined]
    return ast.unparse(node)


def offenders_in(source: str, path: str) -> list[str]:
    found = []
    tree = ast.parse(source)
    scopes: list[ast.AST] = [tree]
    scopes += [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for scope in scopes:
        tainted: dict[str, str] = {}
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                how = _built(node.value, tainted)
                if isinstance(target, ast.Name) and how:
                    tainted[target.id] = how
            if not isinstance(node, ast.Call) or (sink := _sink(node)) is None:
                continue
            statement = _statement(node)
            if statement is None:
                continue
            how = _built(statement, tainted)
            raw = _opening(statement) if _is_str(statement) else ""
            if how is None and sink in RAW_SINKS and DML.search(raw):
                how = "raw SQL text"
            opening = _opening(statement)
            if how and not any(
                path == file and opening.startswith(start) for file, start in ALLOWED
            ):
                found.append(f"{path}:{node.lineno}: {sink}() given {how}: {opening[:60]!r}")
    return sorted(set(found))


def test_no_sql_is_built_from_strings() -> None:
    offenders = []
    for folder in SCANNED:
        for file in sorted((ROOT / folder).rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            offenders += offenders_in(file.read_text(encoding="utf-8"), path)
    assert offenders == [], "SQL built from strings (bind the values instead):\n" + "\n".join(
        offenders
    )


def test_the_allowed_exceptions_still_exist() -> None:
    """An exception whose statement is gone must leave the list (it would hide a new one)."""
    for file, start in ALLOWED:
        assert start in (ROOT / file).read_text(encoding="utf-8"), (file, start)


def test_the_scanner_finds_what_it_looks_for() -> None:
    source = """
async def f(connection, name, table):
    await connection.execute(text(f"SELECT * FROM users WHERE name = '{name}'"))
    connection.exec_driver_sql("DELETE FROM users WHERE id = %s" % name)
    query = "UPDATE users SET name = '{}'".format(name)
    await connection.execute(text(query))
    await connection.execute("SELECT 1 FROM " + table)
    cursor.execute("INSERT INTO t VALUES (1)")
    await connection.execute(text("SELECT * FROM users WHERE name = :name"), {"name": name})
    await connection.execute(select(users).where(users.c.name == name))
"""
    found = offenders_in(source, "example.py")
    assert [line.split(": ", 1)[1].split(" given ")[1].split(":")[0] for line in found] == [
        "an f-string",
        "%-formatting",
        "query, built with .format()",
        "concatenation",
        "raw SQL text",
    ]
