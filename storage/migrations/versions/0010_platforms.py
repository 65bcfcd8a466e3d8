"""platforms: the channel each chat and person lives on, and the platform's own name for them

Every chat and person so far is on Telegram and keeps Telegram's id as Yishi's id; the
platform's own name (``address``) is that id in decimal. Chats and people of other platforms
(WeCom) get ids of their own at or above 2**53, where no Telegram id can be.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# (table, its id column): the same two columns and constraints on each.
_TABLES = (("chats", "chat_id"), ("users", "user_id"))
_PLATFORMS = ("telegram", "wecom")  # as they were when this migration was written


def upgrade() -> None:
    for table, id_column in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "platform", sa.String(length=16), nullable=False, server_default="telegram"
                )
            )
            batch_op.add_column(sa.Column("address", sa.String(length=128), nullable=True))
        rows = sa.table(table, sa.column(id_column, sa.BigInteger), sa.column("address"))
        op.execute(rows.update().values(address=sa.cast(rows.c[id_column], sa.String(128))))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("address", existing_type=sa.String(length=128), nullable=False)
            batch_op.create_unique_constraint(
                op.f(f"uq_{table}_platform_address"), ["platform", "address"]
            )
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_platform"), sa.column("platform").in_(_PLATFORMS)
            )


def downgrade() -> None:
    for table, _ in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_platform"), type_="check")
            batch_op.drop_constraint(op.f(f"uq_{table}_platform_address"), type_="unique")
            batch_op.drop_column("address")
            batch_op.drop_column("platform")
