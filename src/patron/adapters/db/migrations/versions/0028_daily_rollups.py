"""daily roll-ups: the dashboard's additive figures per past day, invalidated by the database

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 15:30:00

``analytics_days`` holds, per program and local day of the program's time zone (its bounds in
UTC), the day's purchases net of refunds and the orders not refunded in full, of members and
of non-members; ``analytics_day_flows`` the day's ledger movements per (type, wallet), credits
and debits. A day's row in ``analytics_days`` is what makes its figures valid: a day without one
is read from the raw rows (``adapters/db/analytics_rollups.py``).

Triggers keep them true: any write that can change a day's figures deletes that day's row, in
the writer's own transaction (an entry inserted, whatever its ``occurred_at``; a purchase
inserted, deleted, or changed in its amount, refunds, member or date: the days of its old and
its new date). The ledger is append-only, so entries are only ever inserted. The day's flows
rows are left behind and ignored (the read joins them to their day) until the day is rolled up
again, which replaces them.

The members' index ``(program_id, tier_code)`` becomes ``(program_id, tier_code, status,
enrolled_at)``: the summary's count of members by tier (total and new, without the erased) is
then read from the index alone (76 → 28 ms at 100,000 members on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SETTING = "patron.program_id"
TABLES = ("analytics_days", "analytics_day_flows")
# (trigger, table, event, the rows whose day it invalidates)
TRIGGERS = (
    ("analytics_days_entry", "ledger_entries", "INSERT", ("NEW",)),
    ("analytics_days_purchase_insert", "purchases", "INSERT", ("NEW",)),
    (
        "analytics_days_purchase_update",
        "purchases",
        "UPDATE OF program_id, occurred_at, member_id, amount, refunded",
        ("OLD", "NEW"),
    ),
    ("analytics_days_purchase_delete", "purchases", "DELETE", ("OLD",)),
)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, patron.adapters.db.types.UtcDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "analytics_days",
        sa.Column("program_id", sa.String(36), nullable=False),
        _at("day_start"),
        _at("day_end"),
        sa.Column("member_sales", sa.BigInteger, nullable=False),
        sa.Column("member_orders", sa.BigInteger, nullable=False),
        sa.Column("anonymous_sales", sa.BigInteger, nullable=False),
        sa.Column("anonymous_orders", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("program_id", "day_start", name=op.f("pk_analytics_days")),
    )
    op.create_table(
        "analytics_day_flows",
        sa.Column("program_id", sa.String(36), nullable=False),
        _at("day_start"),
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("wallet", sa.String(32), nullable=False),
        sa.Column("credit", sa.BigInteger, nullable=False),
        sa.Column("debit", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "program_id", "day_start", "type", "wallet", name=op.f("pk_analytics_day_flows")
        ),
    )
    op.drop_index("ix_members_program_id_tier_code", table_name="members")
    op.create_index(
        "ix_members_program_id_tier_code_status_enrolled_at",
        "members",
        ["program_id", "tier_code", "status", "enrolled_at"],
        unique=False,
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger, table, event, rows in TRIGGERS:
        if postgres:
            deletes = " ".join(_delete(row, postgres) + ";" for row in rows)
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {deletes} RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {trigger}()"
            )
        else:
            deletes = " ".join(_delete(row, postgres) + ";" for row in rows)
            op.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} BEGIN {deletes} END")
    if postgres:
        _protect()


def _delete(row: str, postgres: bool) -> str:
    """Delete the rolled-up day holding ``row``'s ``occurred_at``. A local day starts at most
    26 hours before any moment it holds, so the range of the primary key read is two days."""
    earliest = (
        f"{row}.occurred_at - interval '2 days'"
        if postgres
        else f"datetime({row}.occurred_at, '-2 days')"
    )
    return (
        f"DELETE FROM analytics_days WHERE program_id = {row}.program_id"  # noqa: S608 (no input)
        f" AND day_start > {earliest} AND day_start <= {row}.occurred_at"
        f" AND day_end > {row}.occurred_at"
    )


def _protect() -> None:
    """The program tables' row-level security (migration 0016) for the new tables."""
    scope = f"nullif(current_setting('{SETTING}', true), '')"
    admitted = f"program_id = {scope} OR ({scope} IS NULL AND current_user <> '{ROLE}')"
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TABLES)} TO {ROLE}")
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY patron_scope ON "{table}" AS PERMISSIVE FOR ALL TO PUBLIC '
            f"USING ({admitted}) WITH CHECK ({admitted})"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger, table, _, _ in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_index("ix_members_program_id_tier_code_status_enrolled_at", table_name="members")
    op.create_index(
        "ix_members_program_id_tier_code", "members", ["program_id", "tier_code"], unique=False
    )
