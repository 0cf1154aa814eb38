"""Purchases, activity events and refunds, with the awards each one earned."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import BIG, ID, metadata
from patron.adapters.db.types import JsonDoc, UtcDateTime

purchases = sa.Table(
    "purchases",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=True),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("store_id", sa.String(64), nullable=True),
    sa.Column("eligible_amount", BIG, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("config_version", sa.Integer, nullable=False),
    sa.Column("document", JsonDoc, nullable=False),
    sa.Column("result", JsonDoc, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    # Running totals kept by refunds, so tier metrics, segments and analytics sum one column
    # instead of re-reading every refund: the subtotal (minor units), what refunds gave back of
    # it, and what is left of the eligible amount.
    sa.Column("amount", BIG, nullable=False, server_default="0"),
    sa.Column("refunded", BIG, nullable=False, server_default="0"),
    sa.Column("eligible_left", BIG, nullable=False, server_default="0"),
    sa.UniqueConstraint("program_id", "external_id"),
    sa.Index("ix_purchases_member_id_occurred_at", "member_id", "occurred_at"),
    # Covers the analytics summary's passes over a window's purchases (migration 0017).
    sa.Index(
        "ix_purchases_program_id_occurred_at_member_id_amount_refunded",
        "program_id",
        "occurred_at",
        "member_id",
        "amount",
        "refunded",
    ),
)

purchase_awards = sa.Table(
    "purchase_awards",
    metadata,
    sa.Column("purchase_id", ID, sa.ForeignKey("purchases.id"), primary_key=True),
    sa.Column("rule_id", sa.String(64), primary_key=True),
    sa.Column("program_id", ID, nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("wallet", sa.String(32), nullable=False),
    sa.Column("amount", BIG, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("entry_id", ID, sa.ForeignKey("ledger_entries.id"), nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.Index("ix_purchase_awards_member_id_rule_id", "member_id", "rule_id"),
    sa.Index("ix_purchase_awards_program_id_rule_id", "program_id", "rule_id"),
    # The top earning rules of a window, from the index alone (migration 0026).
    sa.Index(
        "ix_purchase_awards_program_id_occurred_at_wallet_rule_id_amount",
        "program_id",
        "occurred_at",
        "wallet",
        "rule_id",
        "amount",
    ),
)

activity_events = sa.Table(
    "activity_events",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("result", JsonDoc, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("program_id", "external_id"),
    sa.Index("ix_activity_events_member_id_type", "member_id", "type"),
)

event_awards = sa.Table(
    "event_awards",
    metadata,
    sa.Column("event_id", ID, sa.ForeignKey("activity_events.id"), primary_key=True),
    sa.Column("rule_id", sa.String(64), primary_key=True),
    sa.Column("program_id", ID, nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("wallet", sa.String(32), nullable=False),
    sa.Column("amount", BIG, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("entry_id", ID, sa.ForeignKey("ledger_entries.id"), nullable=False),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.Index("ix_event_awards_member_id_rule_id", "member_id", "rule_id"),
    sa.Index("ix_event_awards_program_id_rule_id", "program_id", "rule_id"),
    # The top earning rules of a window, from the index alone (migration 0026).
    sa.Index(
        "ix_event_awards_program_id_occurred_at_wallet_rule_id_amount",
        "program_id",
        "occurred_at",
        "wallet",
        "rule_id",
        "amount",
    ),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("purchase_id", ID, sa.ForeignKey("purchases.id"), nullable=False, index=True),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("document", JsonDoc, nullable=False),
    sa.Column("result", JsonDoc, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("program_id", "external_id"),
)
