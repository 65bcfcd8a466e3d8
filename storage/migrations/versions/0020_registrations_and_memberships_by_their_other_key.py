"""registrations by building, memberships by person: the indexes their reads search

A building's registrations (the household roll a household topic's tally counts, the
pending-registrations card, /stats) were read through the unique (user_id, node_id), which
leads with the person: every registration of the city was scanned for one building. A
person's chats (the web's "my household" page and its open topics) were read through the
primary key (chat_id, user_id), which leads with the chat: every membership was scanned.
Found by EXPLAIN QUERY PLAN over every statement the end-to-end tests run on SQLite.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 21:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index("ix_registrations_node_status", ["node_id", "status"], unique=False)
    with op.batch_alter_table("chat_members", schema=None) as batch_op:
        batch_op.create_index("ix_chat_members_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_members", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_members_user_id")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_node_status")
