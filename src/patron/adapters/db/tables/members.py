"""Members, their consents, and what erasure leaves of them.

An erased member keeps its row (the books reference it) without personal data. What is left of
the person is a tombstone of keyed digests, so an import cannot bring them back.
"""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import ID, metadata
from patron.adapters.db.types import JsonDoc, UtcDateTime


def _key(length: int) -> sa.types.TypeEngine[str]:
    """A search key column: compared byte by byte on PostgreSQL (``COLLATE "C"``), as SQLite
    compares text, so a prefix is one index range on both and both sort the keys alike
    (migration 0025)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


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
    # The summary's members by tier, from the index alone (migration 0028).
    sa.Index(
        "ix_members_program_id_tier_code_status_enrolled_at",
        "program_id",
        "tier_code",
        "status",
        "enrolled_at",
    ),
    # The members enrolled in each bucket of an analytics series (migration 0026).
    sa.Index("ix_members_program_id_enrolled_at_status", "program_id", "enrolled_at", "status"),
    # Each name key with the other behind it: a two-word name search reads the pair as one
    # range (migration 0033); one word reads the leading key alone.
    sa.Index("ix_members_program_id_first_key_last_key", "program_id", "first_key", "last_key"),
    sa.Index("ix_members_program_id_last_key_first_key", "program_id", "last_key", "first_key"),
    sa.Index("ix_members_program_id_name_key_id", "program_id", "name_key", "id"),
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
