"""Staff users of the console: accounts, roles per program, sessions, one-time links, daily limits

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 12:30:00

``staff_grants`` and ``staff_daily_usage`` are program-scoped: on PostgreSQL they get the same
row-level security policy as every program table (migration 0016), and the tenant role may use
them. ``staff_users``, ``staff_sessions`` and ``staff_links`` belong to the installation: a
staff user is authenticated before any program is known, like an API key.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SCOPED = ("staff_grants", "staff_daily_usage")
SETTING = "patron.program_id"


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, patron.adapters.db.types.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("every_program", sa.Boolean, nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("totp_secret", sa.String(200), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("last_sign_in_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'disabled')", name=op.f("ck_staff_users_staff_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_staff_users_email_key")),
    )
    op.create_table(
        "staff_grants",
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("support_limit", sa.Integer, nullable=False),
        sa.Column("support_daily_limit", sa.Integer, nullable=False),
        _at("created_at"),
        sa.CheckConstraint(
            "role IN ('owner', 'manager', 'marketer', 'support', 'viewer')",
            name=op.f("ck_staff_grants_staff_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_staff_grants_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_grants_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("program_id", "staff_id", name=op.f("pk_staff_grants")),
    )
    op.create_index("ix_staff_grants_staff_id", "staff_grants", ["staff_id"])
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("last_seen_at"),
        sa.Column("second_factor_pending", sa.Boolean, nullable=False),
        _at("revoked_at", nullable=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_staff_sessions_token_digest")),
    )
    op.create_index(op.f("ix_staff_sessions_staff_id"), "staff_sessions", ["staff_id"])
    op.create_table(
        "staff_links",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_links_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_staff_links")),
    )
    op.create_index(op.f("ix_staff_links_staff_id"), "staff_links", ["staff_id"])
    op.create_table(
        "staff_daily_usage",
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_staff_daily_usage_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_daily_usage_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("program_id", "staff_id", "day", name=op.f("pk_staff_daily_usage")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _protect()


def _protect() -> None:
    """The program tables' row-level security (migration 0016) for the new program tables."""
    scope = f"nullif(current_setting('{SETTING}', true), '')"
    admitted = f"program_id = {scope} OR ({scope} IS NULL AND current_user <> '{ROLE}')"
    everything = ", ".join(
        f'"{name}"'
        for name in ("staff_users", "staff_grants", "staff_sessions", "staff_links", *SCOPED)
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {everything} TO {ROLE}")
    for table in SCOPED:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY patron_scope ON "{table}" AS PERMISSIVE FOR ALL TO PUBLIC '
            f"USING ({admitted}) WITH CHECK ({admitted})"
        )


def downgrade() -> None:
    for table in ("staff_daily_usage", "staff_links", "staff_sessions", "staff_grants"):
        op.drop_table(table)
    op.drop_table("staff_users")
