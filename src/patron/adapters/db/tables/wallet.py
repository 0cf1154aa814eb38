"""Wallet passes: each program's Apple and Google pass settings (secrets sealed), when each
member's pass last changed, and the devices registered for its updates."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import ID, metadata
from patron.adapters.db.types import UtcDateTime

wallet_settings = sa.Table(
    "wallet_settings",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("apple_pass_type_id", sa.String(200), nullable=True),
    sa.Column("apple_team_id", sa.String(20), nullable=True),
    sa.Column("apple_subject", sa.String(500), nullable=True),
    sa.Column("apple_expires_at", UtcDateTime, nullable=True),
    sa.Column("apple_sealed", sa.Text, nullable=True),
    sa.Column("google_issuer_id", sa.String(40), nullable=True),
    sa.Column("google_class_suffix", sa.String(100), nullable=True),
    sa.Column("google_client_email", sa.String(320), nullable=True),
    sa.Column("google_sealed", sa.Text, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

wallet_passes = sa.Table(
    "wallet_passes",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

wallet_devices = sa.Table(
    "wallet_devices",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("device_id", sa.String(100), primary_key=True),
    sa.Column("pass_type_id", sa.String(200), primary_key=True),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("push_token", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_wallet_devices_member_id", "program_id", "member_id"),
)
