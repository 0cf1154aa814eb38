"""The reward catalogue and redemptions (with their vouchers)."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import BIG, ID, metadata
from patron.adapters.db.types import JsonDoc, UtcDateTime

rewards = sa.Table(
    "rewards",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.String(2000), nullable=True),
    sa.Column("cost_wallet", sa.String(32), nullable=False),
    sa.Column("cost_amount", BIG, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(64), nullable=True),
    sa.Column("stock", sa.Integer, nullable=True),
    sa.Column("per_member_limit", sa.Integer, nullable=True),
    sa.Column("tiers", JsonDoc, nullable=True),
    sa.Column("available_from", UtcDateTime, nullable=True),
    sa.Column("available_until", UtcDateTime, nullable=True),
    sa.Column("voucher_valid_days", sa.Integer, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("program_id", "code"),
    sa.CheckConstraint("cost_amount > 0", name="cost_positive"),
    sa.CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
)

redemptions = sa.Table(
    "redemptions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("reward_id", ID, sa.ForeignKey("rewards.id"), nullable=True),
    sa.Column("wallet", sa.String(32), nullable=False),
    sa.Column("amount", BIG, nullable=False),
    sa.Column("entry_id", ID, sa.ForeignKey("ledger_entries.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("voucher_code", sa.String(32), nullable=True),
    sa.Column("voucher_expires_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
    sa.Column("used_reference", sa.String(200), nullable=True),
    sa.Column("cancelled_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("program_id", "voucher_code"),
    sa.Index("ix_redemptions_member_id_reward_id", "member_id", "reward_id"),
    # The top rewards and the redeemers of a window (migration 0026).
    sa.Index(
        "ix_redemptions_program_id_created_at_member_id", "program_id", "created_at", "member_id"
    ),
)
