"""analytics covering indexes: the summary's window scans read no table rows

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 17:45:00

Two indexes are widened, not added: each new one starts with the columns of the one it replaces,
so every query the old one served it serves too, and a write still updates one index.

- ``purchases (program_id, occurred_at)`` becomes ``(program_id, occurred_at, member_id, amount,
  refunded)``: the analytics summary's passes over a window's purchases (sales, orders, the
  per-member purchase cycle, active members) find every column they read in the index.
- ``ledger_entries (program_id, type, occurred_at)`` becomes ``(program_id, type, occurred_at,
  wallet, amount)``: the flows of every wallet are summed from the index alone.

On PostgreSQL the planner uses an index-only scan only where the visibility map allows it (after
a vacuum); SQLite reads a covering index always. The columns are key columns rather than
``INCLUDE`` columns so that both databases get the same index.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = (
    (
        "purchases",
        ("program_id", "occurred_at"),
        ("member_id", "amount", "refunded"),
    ),
    (
        "ledger_entries",
        ("program_id", "type", "occurred_at"),
        ("wallet", "amount"),
    ),
)


def _name(table: str, columns: Sequence[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, prefix, extra in WIDENED:
        # The wider index is built before the narrower one goes, so no query is left without one.
        op.create_index(_name(table, prefix + extra), table, [*prefix, *extra], unique=False)
        op.drop_index(_name(table, prefix), table_name=table)


def downgrade() -> None:
    for table, prefix, extra in WIDENED:
        op.create_index(_name(table, prefix), table, list(prefix), unique=False)
        op.drop_index(_name(table, prefix + extra), table_name=table)
