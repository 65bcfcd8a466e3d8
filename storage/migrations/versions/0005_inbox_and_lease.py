"""inbox of fetched updates (replaces processed_updates) and the one-instance lease

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("received_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_handled_at", ["handled_at"], unique=False)

    op.create_table(
        "instance_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_lease")),
    )
    # The inbox now says which updates were handled (and it says so after, not before, their
    # handlers ran); the ids recorded here are carried over so that none is handled again.
    op.execute(
        "INSERT INTO inbox (update_id, payload, received_at, handled_at) "
        "SELECT update_id, NULL, handled_at, handled_at FROM processed_updates"
    )
    op.drop_table("processed_updates")


def downgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.execute(
        "INSERT INTO processed_updates (update_id, handled_at) "
        "SELECT update_id, handled_at FROM inbox WHERE handled_at IS NOT NULL"
    )
    op.drop_table("instance_lease")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_handled_at")

    op.drop_table("inbox")
