"""topics by node and date: an index the staff pages' figures and record read through

The participation page counts a scope's topics published in a period by category (and so
the number published), and the record searches a scope's topics by date: with a city's 100k
topics, reading them through (node_id, status) meant every topic row of the scope; the index
(node_id, created_at, category) answers from the index alone.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_topics_node_created", ["node_id", "created_at", "category"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("ix_topics_node_created")
