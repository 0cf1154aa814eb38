"""Campaigns and the other ways a program reaches members: segments, referrals, bulk grants."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import BIG, ID, metadata
from patron.adapters.db.types import JsonDoc, UtcDateTime

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
