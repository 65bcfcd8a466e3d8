"""push_webhooks: a WeCom group's 消息推送 webhook, set with /pushwebhook (the weekly chart)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_webhooks",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("set_by", sa.BigInteger(), nullable=False),
        sa.Column("set_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.chat_id"], name=op.f("fk_push_webhooks_chat_id_chats")
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_push_webhooks")),
    )


def downgrade() -> None:
    op.drop_table("push_webhooks")
