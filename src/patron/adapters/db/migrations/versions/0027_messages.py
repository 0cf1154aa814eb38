"""messages: templates, the message log, unsubscribe keys, and the outbox's message mark

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 15:10:00

The messages worker turns outbox facts into messages (SPEC §11). ``outbox.messaged_at`` marks
the facts it has handled, beside ``published_at`` for webhooks, so the two consumers never wait
on each other. Facts already in the outbox when this migration runs are marked handled: an
upgraded installation must not write to its members about everything that ever happened.

``messages`` is unique on (program, member, event, channel, subject of the event): a fact turns
into a given message at most once, whatever reruns or workers. The three tables are program
tables with the row-level security of migration 0016 on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SETTING = "patron.program_id"
TABLES = ("message_templates", "messages", "message_keys")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, patron.adapters.db.types.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(_at("messaged_at", nullable=True))
    op.execute("UPDATE outbox SET messaged_at = occurred_at")
    op.create_index("ix_outbox_program_id_messaged_at", "outbox", ["program_id", "messaged_at"])
    op.create_table(
        "message_templates",
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        _at("updated_at"),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_message_templates_program_id_programs"),
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "event", "channel", name=op.f("pk_message_templates")
        ),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("to_address", sa.String(320), nullable=True),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        _at("next_attempt_at", nullable=True),
        _at("last_attempt_at", nullable=True),
        _at("sent_at", nullable=True),
        _at("created_at"),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.Column("resend_of", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_messages_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_messages_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "program_id",
            "member_id",
            "event",
            "channel",
            "subject_key",
            name=op.f("uq_messages_program_id_member_id_event_channel_subject_key"),
        ),
    )
    op.create_index("ix_messages_due", "messages", ["program_id", "status", "next_attempt_at"])
    op.create_index("ix_messages_member_id_created_at", "messages", ["member_id", "created_at"])
    op.create_index(
        "ix_messages_member_id_channel_sent_at", "messages", ["member_id", "channel", "sent_at"]
    )
    op.create_table(
        "message_keys",
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_message_keys_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_message_keys")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _protect()


def _protect() -> None:
    """The program tables' row-level security (migration 0016) for the new tables."""
    scope = f"nullif(current_setting('{SETTING}', true), '')"
    admitted = f"program_id = {scope} OR ({scope} IS NULL AND current_user <> '{ROLE}')"
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TABLES)} TO {ROLE}")
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY patron_scope ON "{table}" AS PERMISSIVE FOR ALL TO PUBLIC '
            f"USING ({admitted}) WITH CHECK ({admitted})"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_index("ix_outbox_program_id_messaged_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("messaged_at")
