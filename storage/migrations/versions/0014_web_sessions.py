"""web sessions: the web pages' sign-in sessions and one-time sign-in codes (/web)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_web_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "web_signin_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_web_signin_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_web_signin_codes")),
    )


def downgrade() -> None:
    op.drop_table("web_signin_codes")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
