"""The ledger: balances, entries with their double-entry postings, lots and what consumed them.

Amounts are BIGINT: points, or minor units of the program currency for money wallets.
"""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import BIG, ID, metadata
from patron.adapters.db.types import JsonDoc, UtcDateTime

balances = sa.Table(
    "balances",
    metadata,
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("wallet", sa.String(32), primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("available", BIG, nullable=False),
    sa.Column("pending", BIG, nullable=False),
    sa.Column("deficit", BIG, nullable=False),
    sa.Column("lifetime_earned", BIG, nullable=False),
    sa.Column("last_activity_at", UtcDateTime, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint("pending >= 0", name="pending_not_negative"),
    sa.CheckConstraint("deficit >= 0", name="deficit_not_negative"),
    # Only a clawback raises the deficit; any other write that overdraws breaks this check.
    sa.CheckConstraint("available + deficit >= 0", name="negative_only_by_clawback"),
    sa.Index("ix_balances_program_id_wallet", "program_id", "wallet"),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("wallet", sa.String(32), nullable=False),
    sa.Column("type", sa.String(24), nullable=False),
    sa.Column("amount", BIG, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("reference", sa.String(200), nullable=True),
    sa.Column("key", sa.String(300), nullable=True),
    sa.Column("reverses", ID, sa.ForeignKey("ledger_entries.id"), nullable=True, unique=True),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("actor", sa.String(100), nullable=True),
    sa.Column("config_version", sa.Integer, nullable=True),
    sa.Column("explanation", JsonDoc, nullable=True),
    sa.UniqueConstraint("program_id", "key"),
    sa.Index("ix_ledger_entries_member_id_id", "member_id", "id"),
    # Wide enough for the analytics flows to be summed from the index alone (migration 0017).
    sa.Index(
        "ix_ledger_entries_program_id_type_occurred_at_wallet_amount",
        "program_id",
        "type",
        "occurred_at",
        "wallet",
        "amount",
    ),
)

ledger_postings = sa.Table(
    "ledger_postings",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("entry_id", ID, sa.ForeignKey("ledger_entries.id"), nullable=False, index=True),
    sa.Column("program_id", ID, nullable=False),
    sa.Column("member_id", ID, nullable=False),
    sa.Column("wallet", sa.String(32), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("destination", sa.String(32), nullable=False),
    sa.Column("amount", BIG, nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint("source <> destination", name="distinct_accounts"),
    sa.Index("ix_ledger_postings_member_id_wallet", "member_id", "wallet"),
)

ledger_lots = sa.Table(
    "ledger_lots",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("wallet", sa.String(32), nullable=False),
    sa.Column("entry_id", ID, sa.ForeignKey("ledger_entries.id"), nullable=False, index=True),
    sa.Column("amount", BIG, nullable=False),
    sa.Column("remaining", BIG, nullable=False),
    sa.Column("earned_at", UtcDateTime, nullable=False),
    sa.Column("available_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
    sa.Index("ix_ledger_lots_member_id_wallet", "member_id", "wallet"),
    sa.Index("ix_ledger_lots_program_id_expires_at", "program_id", "expires_at"),
    sa.Index(
        "ix_ledger_lots_program_id_pending_available_at", "program_id", "pending", "available_at"
    ),
    # Room on every page for an in-place (HOT) update of each lot: migration 0018.
    postgresql_with={"fillfactor": "50"},
)

lot_consumptions = sa.Table(
    "lot_consumptions",
    metadata,
    sa.Column("entry_id", ID, sa.ForeignKey("ledger_entries.id"), primary_key=True),
    sa.Column("lot_id", ID, sa.ForeignKey("ledger_lots.id"), primary_key=True),
    sa.Column("amount", BIG, nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.Index("ix_lot_consumptions_lot_id", "lot_id"),
)

APPEND_ONLY_TABLES = ("ledger_entries", "ledger_postings", "lot_consumptions")
"""Posted rows: the database refuses UPDATE and DELETE on them (triggers, migration 0002)."""
