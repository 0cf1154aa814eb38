"""The schema, as SQLAlchemy Core tables.

Core tables rather than ORM classes: the hot paths (earn, refund, redeem) build their statements
once and run them on a connection, which ARCHITECTURE.md's measurements show is 2-4x cheaper per
request than the ORM. Alembic migrations in ``migrations/`` create and evolve this schema; the
tests compare the migrated database with these definitions.

Constraint names are fixed (``uq_<table>_<columns>``) because error translation reads them.
"""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.types import JsonDoc, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(36)


def _key(length: int) -> sa.types.TypeEngine[str]:
    """A search key column: compared byte by byte on PostgreSQL (``COLLATE "C"``), as SQLite
    compares text, so a prefix is one index range on both and both sort the keys alike
    (migration 0025)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


programs = sa.Table(
    "programs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("country", sa.String(2), nullable=True),
    sa.Column("config_version", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

program_configs = sa.Table(
    "program_configs",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("document", JsonDoc, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.CheckConstraint("version >= 1", name="version_positive"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=True, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False, unique=True),
    sa.Column("key_digest", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
    sa.CheckConstraint(
        "role IN ('platform', 'admin', 'pos', 'partner', 'read')", name="role_known"
    ),
    sa.CheckConstraint(
        "(role = 'platform') = (program_id IS NULL)", name="platform_keys_have_no_program"
    ),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("email_key", sa.String(320), nullable=True),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("card_number", sa.String(32), nullable=False),
    sa.Column("referral_code", sa.String(16), nullable=False),
    sa.Column("first_name", sa.String(200), nullable=True),
    sa.Column("last_name", sa.String(200), nullable=True),
    sa.Column("birth_date", sa.Date, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tier_code", sa.String(64), nullable=True),
    sa.Column("referred_by", ID, sa.ForeignKey("members.id"), nullable=True),
    sa.Column("attributes", JsonDoc, nullable=False),
    sa.Column("enrolled_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Name search keys (``domain.members.name_key``), written with every name (migration 0025).
    sa.Column("first_key", _key(200), nullable=True),
    sa.Column("last_key", _key(200), nullable=True),
    sa.Column("name_key", _key(401), nullable=True),
    sa.UniqueConstraint("program_id", "external_id"),
    sa.UniqueConstraint("program_id", "email_key"),
    sa.UniqueConstraint("program_id", "phone"),
    sa.UniqueConstraint("program_id", "card_number"),
    sa.UniqueConstraint("program_id", "referral_code"),
    sa.CheckConstraint("status IN ('active', 'frozen', 'closed', 'erased')", name="status_known"),
    sa.Index("ix_members_program_id_id", "program_id", "id"),
    sa.Index("ix_members_program_id_tier_code", "program_id", "tier_code"),
    sa.Index("ix_members_program_id_first_key", "program_id", "first_key"),
    sa.Index("ix_members_program_id_last_key", "program_id", "last_key"),
    sa.Index("ix_members_program_id_name_key_id", "program_id", "name_key", "id"),
    # The members enrolled in each bucket of an analytics series (migration 0026).
    sa.Index("ix_members_program_id_enrolled_at_status", "program_id", "enrolled_at", "status"),
)

member_consents = sa.Table(
    "member_consents",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor_kind", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("actor_name", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target_type", sa.String(32), nullable=False),
    sa.Column("target_id", sa.String(200), nullable=False),
    sa.Column("before", JsonDoc, nullable=True),
    sa.Column("after", JsonDoc, nullable=True),
    sa.Index("ix_audit_log_program_id_id", "program_id", "id"),
    sa.Index("ix_audit_log_program_id_target", "program_id", "target_type", "target_id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("body", JsonDoc, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
)

# --- the ledger -----------------------------------------------------------------------------
# Amounts are BIGINT: points, or minor units of the program currency for money wallets.

BIG = sa.BigInteger()

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

# --- purchases ------------------------------------------------------------------------------

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

# --- activity events and refunds -------------------------------------------------------------

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

# --- tiers -----------------------------------------------------------------------------------

member_tiers = sa.Table(
    "member_tiers",
    metadata,
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("since", UtcDateTime, nullable=False),
    sa.Column("until", UtcDateTime, nullable=True),
    sa.Column("cause", sa.String(16), nullable=False),
    sa.Column("best_ever", sa.String(32), nullable=True),
    sa.Index("ix_member_tiers_program_id_until", "program_id", "until"),
)

tier_history = sa.Table(
    "tier_history",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("from_code", sa.String(32), nullable=True),
    sa.Column("to_code", sa.String(32), nullable=False),
    sa.Column("cause", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(200), nullable=True),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("actor", sa.String(100), nullable=True),
    sa.Index("ix_tier_history_member_id_at", "member_id", "at"),
    # The tier migration of a window (migration 0026).
    sa.Index(
        "ix_tier_history_program_id_at_from_code_to_code",
        "program_id",
        "at",
        "from_code",
        "to_code",
    ),
)

tier_grants = sa.Table(
    "tier_grants",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False, index=True),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("until", UtcDateTime, nullable=True),
    sa.Column("paid", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# --- rewards, redemptions, vouchers ---------------------------------------------------------

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

# --- outbox ---------------------------------------------------------------------------------

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(64), nullable=True),
    sa.Column("payload", JsonDoc, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("published_at", UtcDateTime, nullable=True),
    sa.Index("ix_outbox_program_id_published_at", "program_id", "published_at"),
    sa.Index("ix_outbox_program_id_type_subject", "program_id", "type", "subject"),
)

# --- referrals ------------------------------------------------------------------------------

referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("referrer_id", ID, sa.ForeignKey("members.id"), nullable=False, index=True),
    sa.Column("referee_id", ID, sa.ForeignKey("members.id"), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=True),
    sa.Column("purchase", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("completed_at", UtcDateTime, nullable=True),
)

# --- segments -------------------------------------------------------------------------------

segments = sa.Table(
    "segments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("filter", JsonDoc, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("program_id", "code"),
)

# --- bulk grants ----------------------------------------------------------------------------

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("wallet", sa.String(32), nullable=False),
    sa.Column("amount", BIG, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("members", JsonDoc, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("granted", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("program_id", "external_id"),
)

# --- campaigns ------------------------------------------------------------------------------

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("start", UtcDateTime, nullable=False),
    sa.Column("end", UtcDateTime, nullable=False),
    sa.Column("audience", JsonDoc, nullable=False),
    sa.Column("rules", JsonDoc, nullable=False),
    sa.Column("budget", BIG, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("program_id", "code"),
    sa.Index("ix_campaigns_program_id_start", "program_id", "start"),
)

# --- webhooks -------------------------------------------------------------------------------

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("events", JsonDoc, nullable=False),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("previous_secret", sa.String(100), nullable=True),
    sa.Column("previous_secret_until", UtcDateTime, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("description", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("endpoint_id", ID, sa.ForeignKey("webhook_endpoints.id"), nullable=False),
    sa.Column("event_id", ID, sa.ForeignKey("outbox.id"), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_attempt_at", UtcDateTime, nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("delivered_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("endpoint_id", "event_id"),
    sa.Index("ix_webhook_deliveries_due", "program_id", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "delivery_id", ID, sa.ForeignKey("webhook_deliveries.id"), nullable=False, index=True
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)

# --- privacy --------------------------------------------------------------------------------
# An erased member keeps its row (the books reference it) without personal data. What is left
# of the person is a tombstone of keyed digests, so an import cannot bring them back.

erasure_keys = sa.Table(
    "erasure_keys",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

erasures = sa.Table(
    "erasures",
    metadata,
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("erased_at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("email_digest", sa.String(64), nullable=True),
    sa.Column("phone_digest", sa.String(64), nullable=True),
    sa.Column("external_id_digest", sa.String(64), nullable=True),
    sa.Index("ix_erasures_program_id_email_digest", "program_id", "email_digest"),
    sa.Index("ix_erasures_program_id_phone_digest", "program_id", "phone_digest"),
    sa.Index("ix_erasures_program_id_external_id_digest", "program_id", "external_id_digest"),
)


# The staff tables live in their own module; importing it here registers them on ``metadata``.
from patron.adapters.db import staff_tables as _staff_tables  # noqa: E402, F401
