"""A member's current tier, its history, and tiers granted by hand or paid for."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import ID, metadata
from patron.adapters.db.types import UtcDateTime

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
