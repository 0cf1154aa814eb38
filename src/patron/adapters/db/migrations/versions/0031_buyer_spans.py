"""buyer spans: each member's purchases over a span of whole past days, invalidated by the database

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 19:00:00

The summary's per-member figures (buyers, repeat buyers, the purchase cycle, the active members)
are not sums of days, so the daily roll-ups of 0028 cannot serve them; over a long window they
were the dashboard's one slow read (a pass over every purchase of the window, grouped by
member). ``analytics_spans`` names a span of whole past days of a program, and
``analytics_span_buyers`` holds, per member who bought in it, the orders not refunded in full,
the first and last of them (and the mean days between them), and the latest purchase of any
kind: one row per buyer instead of one per purchase (``adapters/db/analytics_spans.py``).

A span's row in ``analytics_spans`` (``ready``) is what makes its buyers valid. Triggers keep it
true: a purchase inserted, deleted, or changed in its amount, refunds, member or date deletes
every span holding its old or its new date, in the writer's own transaction. The buyers rows
left behind are ignored (reads join them to a ready span) and replaced when the span is built
again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SETTING = "patron.program_id"
TABLES = ("analytics_spans", "analytics_span_buyers")
# (trigger, event on purchases, the rows whose spans it invalidates)
TRIGGERS = (
    ("analytics_spans_purchase_insert", "INSERT", ("NEW",)),
    (
        "analytics_spans_purchase_update",
        "UPDATE OF program_id, occurred_at, member_id, amount, refunded",
        ("OLD", "NEW"),
    ),
    ("analytics_spans_purchase_delete", "DELETE", ("OLD",)),
)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, patron.adapters.db.types.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "analytics_spans",
        sa.Column("program_id", sa.String(36), nullable=False),
        _at("span_start"),
        _at("span_end"),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("ready", sa.Boolean, nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        _at("computed_at"),
        sa.Column("buyers", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint(
            "program_id", "span_start", "span_end", name=op.f("pk_analytics_spans")
        ),
    )
    op.create_table(
        "analytics_span_buyers",
        sa.Column("program_id", sa.String(36), nullable=False),
        _at("span_start"),
        _at("span_end"),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("orders", sa.BigInteger, nullable=False),
        _at("first_at", nullable=True),
        _at("last_at", nullable=True),
        _at("latest_at"),
        sa.Column("cycle_days", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint(
            "program_id",
            "span_start",
            "span_end",
            "member_id",
            name=op.f("pk_analytics_span_buyers"),
        ),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger, event, rows in TRIGGERS:
        deletes = " ".join(_delete(row) + ";" for row in rows)
        if postgres:
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {deletes} RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON purchases "
                f"FOR EACH ROW EXECUTE FUNCTION {trigger}()"
            )
        else:
            op.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON purchases BEGIN {deletes} END")
    if postgres:
        _protect()


def _delete(row: str) -> str:
    """Delete the spans holding ``row``'s ``occurred_at`` (a program has a handful)."""
    return (
        f"DELETE FROM analytics_spans WHERE program_id = {row}.program_id"  # noqa: S608 (no input)
        f" AND span_start <= {row}.occurred_at AND span_end > {row}.occurred_at"
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
    for trigger, _, _ in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON purchases" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    for table in reversed(TABLES):
        op.drop_table(table)
