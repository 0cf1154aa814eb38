"""dashboard indexes: each of the dashboard's figures is one range of an index

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 10:00:00

The admin console's dashboard (SPEC §9) reads, for a window, figures the summary did not have;
without these, each would scan every row of its table for the program:

- ``members (program_id, enrolled_at, status)``: the members enrolled in each bucket of a series
  (one range per bucket; ``status`` leaves the erased out without reading the row);
- ``tier_history (program_id, at, from_code, to_code)``: the tier migration of a window (the
  table only had ``(member_id, at)``);
- ``purchase_awards`` and ``event_awards (program_id, occurred_at, wallet, rule_id, amount)``:
  the top earning rules of a window, summed from the index alone (the ``(program_id, rule_id)``
  indexes serve the rule budgets, which read a rule's whole history);
- ``redemptions (program_id, created_at, member_id)``: the top rewards and the redeemers of a
  window (the table had no index by program).

These tables are appended to (or, for members and redemptions, updated rarely and never in these
columns but ``status``), so an extra index costs the hot paths little. ``balances`` and
``ledger_lots`` get none: their rows are updated on every earn and redemption, and an index on
``last_activity_at`` or ``remaining`` would end the in-place (HOT) updates of migration 0018.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("members", ("program_id", "enrolled_at", "status")),
    ("tier_history", ("program_id", "at", "from_code", "to_code")),
    ("purchase_awards", ("program_id", "occurred_at", "wallet", "rule_id", "amount")),
    ("event_awards", ("program_id", "occurred_at", "wallet", "rule_id", "amount")),
    ("redemptions", ("program_id", "created_at", "member_id")),
)


def _name(table: str, columns: Sequence[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns in INDEXES:
        op.create_index(_name(table, columns), table, list(columns), unique=False)


def downgrade() -> None:
    for table, columns in reversed(INDEXES):
        op.drop_index(_name(table, columns), table_name=table)
