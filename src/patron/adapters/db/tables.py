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
    sa.UniqueConstraint("program_id", "external_id"),
    sa.UniqueConstraint("program_id", "email_key"),
    sa.UniqueConstraint("program_id", "phone"),
    sa.UniqueConstraint("program_id", "card_number"),
    sa.UniqueConstraint("program_id", "referral_code"),
    sa.CheckConstraint("status IN ('active', 'frozen', 'closed', 'erased')", name="status_known"),
    sa.Index("ix_members_program_id_id", "program_id", "id"),
    sa.Index("ix_members_program_id_tier_code", "program_id", "tier_code"),
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
