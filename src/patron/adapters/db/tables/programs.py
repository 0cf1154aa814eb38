"""Programs and how they are reached: configuration versions, API keys, idempotency records."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import ID, metadata
from patron.adapters.db.types import JsonDoc, UtcDateTime

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
