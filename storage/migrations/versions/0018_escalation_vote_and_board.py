"""the staff board: which vote a grid opened on an escalated matter, and the board's index

``escalations.vote_topic_id`` names the topic a receiving node opened on the matter
(发起网格表决), so the board can say 网格表决中 while it is open. The board lists the waiting
hops of many nodes, oldest SLA first: ``(state, sla_due_at)`` serves that scan.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vote_topic_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_escalations_state_sla", ["state", "sla_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_state_sla")
        batch_op.drop_column("vote_topic_id")
