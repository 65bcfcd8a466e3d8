"""ballot counts by option: an index every tally is counted from

A press's answer carries its topic's tally (WeCom's card, the ballot message), counted after
the batch's ballots with ``GROUP BY topic_id, option``: through the primary key (topic_id,
voter_key) that read every ballot row of the topic and sorted the counts in a temporary
B-tree; the index (topic_id, option) answers in order from the index alone (on SQLite,
50 topics of 200 ballots: 1.4 → 0.38 ms for a batch's 27 tallies).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 20:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.create_index("ix_ballots_topic_option", ["topic_id", "option"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_index("ix_ballots_topic_option")
