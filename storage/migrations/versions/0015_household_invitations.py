"""household invitations: /invite codes for residents with no bot, and the web-only people
they make (platform "web")

A household invitation is a one-time code (only its SHA-256 is stored) that binds a browser
to a household of a building once the resident confirms the unit; it makes a person on the
new platform ``web``, registered and approved in that household; /revoke ends it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLES = ("chats", "users")
# The platforms as they are before and after this migration.
_BEFORE = ("telegram", "wecom")
_AFTER = ("telegram", "wecom", "web")


def _platforms(values: tuple[str, ...]) -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_platform"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_platform"), sa.column("platform").in_(values)
            )


def upgrade() -> None:
    _platforms(_AFTER)
    op.create_table(
        "household_invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "expires_at > issued_at",
            name=op.f("ck_household_invitations_expires_after_issued"),
        ),
        sa.CheckConstraint(
            "(redeemed_at IS NULL AND redeemed_by IS NULL)"
            " OR (redeemed_at IS NOT NULL AND redeemed_by IS NOT NULL)",
            name=op.f("ck_household_invitations_redeemed_by_whom"),
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL AND revoked_by IS NULL)"
            " OR (revoked_at IS NOT NULL AND revoked_by IS NOT NULL)",
            name=op.f("ck_household_invitations_revoked_by_whom"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_invitations_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["nodes.id"],
            name=op.f("fk_household_invitations_node_id_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_by"],
            ["users.user_id"],
            name=op.f("fk_household_invitations_redeemed_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_household_invitations_code_hash")),
    )
    op.create_index(
        "ix_household_invitations_household_id", "household_invitations", ["household_id"]
    )
    op.create_index(
        "ix_household_invitations_redeemed_by", "household_invitations", ["redeemed_by"]
    )


def downgrade() -> None:
    op.drop_index("ix_household_invitations_redeemed_by", table_name="household_invitations")
    op.drop_index("ix_household_invitations_household_id", table_name="household_invitations")
    op.drop_table("household_invitations")
    _platforms(_BEFORE)
