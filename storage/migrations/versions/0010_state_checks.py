"""state checks: each state column refuses a value the code does not know

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 08:00:00.000000

The values are written out here, as they are at this revision; ``storage/tables.py`` builds
the same constraints from the enums of ``storage/records.py`` (a test compares the two). A
database holding a value outside them is refused before anything changes, naming the table,
the column and the values found.

On SQLite the constraints are written into the tables' stored schema in place (SQLite's own
procedure for a change that leaves the rows as they are, in this migration's transaction).
Batch mode would copy each table and drop the original, and with foreign keys on (they are,
and cannot be turned off inside the one transaction of an upgrade) dropping ``topics`` or
``nodes`` deletes, through ON DELETE CASCADE, the ballots and posts that refer to them. The
rows were checked first, so every stored row satisfies the constraints it gains.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "nodes": {"level": ("community", "grid", "building")},
    "chats": {
        "type": ("private", "group", "supergroup", "channel"),
        "bot_status": (
            "creator",
            "administrator",
            "member",
            "restricted",
            "left",
            "kicked",
            "migrated",
        ),
    },
    "bind_codes": {"level": ("community", "grid", "building")},
    "role_grants": {
        "role": (
            "building_officer",
            "building_head",
            "grid_worker",
            "grid_head",
            "community_staff",
            "community_admin",
        )
    },
    "registrations": {"status": ("pending", "approved", "rejected")},
    "topics": {
        "rule": ("majority", "2/3", "278", "278-major", "opinion"),
        "scope": ("here", "all"),
        "status": ("open", "closed", "cancelled"),
    },
    "ballots": {"channel": ("button", "paper", "visit", "video")},
    "proposals": {"status": ("open", "accepted", "declined")},
    "outbox_parts": {"kind": ("text", "document", "photo")},
    "escalations": {
        "reason": ("no_quorum", "tie", "no_votes", "manual", "sla_expired"),
        "state": ("open", "accepted", "resolved", "escalated"),
    },
    "ratings": {"rating": ("satisfied", "basically", "unsatisfied")},
    "meetings": {
        "repeat": ("once", "weekly", "monthly_day", "monthly_nth"),
        "scope": ("here", "all"),
        "status": ("active", "cancelled", "ended"),
    },
    "meeting_occurrences": {"status": ("scheduled", "held", "cancelled")},
    "meeting_rsvps": {"answer": ("yes", "no")},
    "meeting_minutes": {"file_kind": ("photo", "document")},
}

_TABLE_SQL = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"
_SET_TABLE_SQL = "UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"


def _name(table: str, column: str) -> str:
    return f"ck_{table}_{column}"  # the naming convention of storage/tables.py


def _condition(column: str, values: tuple[str, ...]) -> sa.ColumnElement[bool]:
    return sa.column(column).in_(values)


def _violations(bind: Connection) -> list[str]:
    """Each column holding values outside its set: ``table.column: 'value' (N rows)``."""
    found = []
    for table, columns in CHECKS.items():
        for column, values in columns.items():
            cell: sa.ColumnClause[str] = sa.column(column)
            rows = bind.execute(
                sa.select(cell, sa.func.count())
                .select_from(sa.table(table, cell))
                .where(cell.not_in(values))  # NULL is not "not in": a NULL passes, as in CHECK
                .group_by(cell)
            ).all()
            found += [f"{table}.{column}: {value!r} ({count} rows)" for value, count in rows]
    return found


def upgrade() -> None:
    bind = op.get_bind()
    violations = _violations(bind)
    if violations:
        raise RuntimeError(
            "Migration 0010 adds CHECK constraints that state columns hold only the values "
            "Yishi knows, and this database holds others: "
            + "; ".join(violations)
            + ". Nothing was changed. Correct or remove those rows (or restore a backup made "
            "before they were written), then run `yishi db upgrade` again."
        )
    if bind.dialect.name == "sqlite":
        _add_sqlite_checks(bind)
        return
    for table, columns in CHECKS.items():
        for column, values in columns.items():
            op.create_check_constraint(
                op.f(_name(table, column)), table, _condition(column, values)
            )


def _add_sqlite_checks(bind: Connection) -> None:
    dialect = sqlite.dialect()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    for table, columns in CHECKS.items():
        stored = bind.execute(sa.text(_TABLE_SQL), {"name": table}).scalar_one()
        end = stored.rstrip().rindex(")")
        checks = "".join(
            f",\n\tCONSTRAINT {_name(table, column)} CHECK ("
            + str(
                _condition(column, values).compile(
                    dialect=dialect, compile_kwargs={"literal_binds": True}
                )
            )
            + ")"
            for column, values in columns.items()
        )
        bind.execute(
            sa.text(_SET_TABLE_SQL), {"sql": stored[:end].rstrip() + checks + "\n)", "name": table}
        )
    # A new schema version makes every connection read the tables' definitions again.
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _drop_sqlite_checks(bind: Connection) -> None:
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    for table, columns in CHECKS.items():
        stored = bind.execute(sa.text(_TABLE_SQL), {"name": table}).scalar_one()
        for column in columns:
            start = stored.index(f",\n\tCONSTRAINT {_name(table, column)} CHECK (")
            end = stored.index(")", stored.index(" IN (", start) + len(" IN (")) + 1  # IN (...)
            end = stored.index(")", end) + 1  # CHECK (...)
            stored = stored[:start] + stored[end:]
        bind.execute(sa.text(_SET_TABLE_SQL), {"sql": stored, "name": table})
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _drop_sqlite_checks(bind)
        return
    for table, columns in reversed(CHECKS.items()):
        for column in columns:
            op.drop_constraint(op.f(_name(table, column)), table, type_="check")
