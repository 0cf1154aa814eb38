"""wallet passes: each program's Apple Wallet and Google Wallet settings, the passes' devices,
and the outbox's wallet mark

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 16:00:00

One row per program (SPEC §10). What a read may show (the pass type, team, certificate subject
and expiry; the Google issuer and service account's e-mail) is kept in plain columns; the
certificate's private key, its password, the WWDR intermediate and the service-account key are
sealed (AES-256-GCM, ``patron.services.sealing``) into ``apple_sealed`` and ``google_sealed``.

``wallet_passes`` holds when each member's pass last changed (the web service's "updated since"
and ``Last-Modified``); ``wallet_devices`` the devices that registered a pass for updates, with
their push tokens (Apple's PassKit web service). ``outbox.wallet_at`` marks the facts the wallet
job has handled, beside ``published_at`` (webhooks) and ``messaged_at`` (messages), so no
consumer waits on another; facts already in the outbox when this runs are marked handled.

Program tables with the row-level security of migration 0016 on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SETTING = "patron.program_id"
TABLES = ("wallet_settings", "wallet_passes", "wallet_devices")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, patron.adapters.db.types.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "wallet_settings",
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("apple_pass_type_id", sa.String(200), nullable=True),
        sa.Column("apple_team_id", sa.String(20), nullable=True),
        sa.Column("apple_subject", sa.String(500), nullable=True),
        _at("apple_expires_at", nullable=True),
        sa.Column("apple_sealed", sa.Text, nullable=True),
        sa.Column("google_issuer_id", sa.String(40), nullable=True),
        sa.Column("google_class_suffix", sa.String(100), nullable=True),
        sa.Column("google_client_email", sa.String(320), nullable=True),
        sa.Column("google_sealed", sa.Text, nullable=True),
        _at("updated_at"),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_wallet_settings_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_wallet_settings")),
    )
    op.create_table(
        "wallet_passes",
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_wallet_passes_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_wallet_passes_member_id_members")
        ),
        sa.PrimaryKeyConstraint("program_id", "member_id", name=op.f("pk_wallet_passes")),
    )
    op.create_table(
        "wallet_devices",
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.String(100), nullable=False),
        sa.Column("pass_type_id", sa.String(200), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("push_token", sa.String(200), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_wallet_devices_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_wallet_devices_member_id_members")
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "device_id", "pass_type_id", "member_id", name=op.f("pk_wallet_devices")
        ),
    )
    op.create_index("ix_wallet_devices_member_id", "wallet_devices", ["program_id", "member_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(_at("wallet_at", nullable=True))
    op.execute("UPDATE outbox SET wallet_at = occurred_at")
    op.create_index("ix_outbox_program_id_wallet_at", "outbox", ["program_id", "wallet_at"])
    if op.get_bind().dialect.name == "postgresql":
        _protect()


def _protect() -> None:
    """The program tables' row-level security (migration 0016) for the new table."""
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
    op.drop_index("ix_outbox_program_id_wallet_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("wallet_at")
    for table in reversed(TABLES):
        op.drop_table(table)
