"""state checks: each state column refuses a value the code does not know

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 08:00:00.000000

The values are written out here, as they are at this revision; ``storage/tables.py`` builds
the same constraints from the enums of ``storage/records.py`` (a test compares the two). A
database holding a value outside them is refused before anything changes, naming the table,
the column and the values found.

On SQLite, batch mode builds each table again with its constraints and copies the rows
(storage/migrate.py turns foreign keys off for the migration's transaction and checks the
references before it commits).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision = "0011"
down_revision = "0010"
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
            "Migration 0011 adds CHECK constraints that state columns hold only the values "
            "Yishi knows, and this database holds others: "
            + "; ".join(violations)
            + ". Nothing was changed. Correct or remove those rows (or restore a backup made "
            "before they were written), then run `yishi db upgrade` again."
        )
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(
                    op.f(_name(table, column)), _condition(column, values)
                )


def downgrade() -> None:
    for table, columns in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(_name(table, column)), type_="check")
