"""Messages to members: the program's templates, the message log, the unsubscribe keys."""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import ID, metadata
from patron.adapters.db.types import UtcDateTime

message_templates = sa.Table(
    "message_templates",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("event", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(8), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("subject_key", sa.String(200), nullable=False),
    sa.Column("event_id", ID, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=True),
    sa.Column("to_address", sa.String(320), nullable=True),
    sa.Column("subject", sa.String(300), nullable=True),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("last_attempt_at", UtcDateTime, nullable=True),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("detail", sa.String(500), nullable=True),
    sa.Column("resend_of", ID, nullable=True),
    sa.UniqueConstraint("program_id", "member_id", "event", "channel", "subject_key"),
    sa.Index("ix_messages_due", "program_id", "status", "next_attempt_at"),
    sa.Index("ix_messages_member_id_created_at", "member_id", "created_at"),
    sa.Index("ix_messages_member_id_channel_sent_at", "member_id", "channel", "sent_at"),
)

message_keys = sa.Table(
    "message_keys",
    metadata,
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
