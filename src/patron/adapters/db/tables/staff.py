"""Tables of staff users, their roles per program, sessions, one-time links and daily limits.

``staff_users`` and ``staff_sessions`` belong to the installation, not to a program (a staff user
may hold several programs); ``staff_grants`` and ``staff_daily_usage`` are program-scoped (program
first in the key, row-level security on PostgreSQL, migration 0024).
"""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import ID, metadata
from patron.adapters.db.types import UtcDateTime

staff_users = sa.Table(
    "staff_users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("every_program", sa.Boolean, nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("totp_secret", sa.String(200), nullable=True),  # sealed (AES-GCM)
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),  # a code works once
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("last_sign_in_at", UtcDateTime, nullable=True),
    sa.CheckConstraint("status IN ('active', 'disabled')", name="staff_status_known"),
)

staff_grants = sa.Table(
    "staff_grants",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("staff_id", ID, sa.ForeignKey("staff_users.id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("support_limit", sa.Integer, nullable=False),
    sa.Column("support_daily_limit", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(
        "role IN ('owner', 'manager', 'marketer', 'support', 'viewer')", name="staff_role_known"
    ),
    sa.Index("ix_staff_grants_staff_id", "staff_id"),
)

staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("staff_id", ID, sa.ForeignKey("staff_users.id"), nullable=False, index=True),
    sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("second_factor_pending", sa.Boolean, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("user_agent", sa.String(300), nullable=False),
)

staff_links = sa.Table(
    "staff_links",
    metadata,
    sa.Column("token_digest", sa.String(64), primary_key=True),
    sa.Column("staff_id", ID, sa.ForeignKey("staff_users.id"), nullable=False, index=True),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
)

staff_daily_usage = sa.Table(
    "staff_daily_usage",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("staff_id", ID, sa.ForeignKey("staff_users.id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("points", sa.BigInteger, nullable=False),
)
