"""event awards are summed per rule for budgets: index them by (program_id, rule_id)

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-02 10:00:00

A rule's ``budget`` (and a campaign's) counts what the rule awarded on purchases *and* on
activity events. ``purchase_awards`` had an index on ``(program_id, rule_id)`` for that sum;
``event_awards`` only one on ``(member_id, rule_id)``, so each budgeted event would have scanned
every event award of the program. This adds the same index to ``event_awards``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_awards_program_id_rule_id", "event_awards", ["program_id", "rule_id"])


def downgrade() -> None:
    op.drop_index("ix_event_awards_program_id_rule_id", table_name="event_awards")
