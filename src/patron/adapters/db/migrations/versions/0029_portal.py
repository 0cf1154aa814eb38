"""portal: the member portal's one-time sign-in links and sessions

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 16:00:00

A link (emailed, minted by the merchant's backend for single sign-on, or sent from the console)
works once within its lifetime and opens a session; both hold only the SHA-256 digest of their
token. They are program tables with the row-level security of migration 0016 on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SETTING = "patron.program_id"
TABLES = ("portal_links", "portal_sessions")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, patron.adapters.db.types.UtcDateTime(timezone=True), nullable=nullable)


def _common(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f(f"fk_{table}_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f(f"fk_{table}_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("token_digest", name=op.f(f"uq_{table}_token_digest")),
    ]


def upgrade() -> None:
    op.create_table(
        "portal_links",
        *_common("portal_links"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("return_url", sa.String(500), nullable=True),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
    )
    op.create_index("ix_portal_links_member_id", "portal_links", ["member_id"])
    op.create_table(
        "portal_sessions",
        *_common("portal_sessions"),
        _at("created_at"),
        _at("expires_at"),
        _at("revoked_at", nullable=True),
    )
    op.create_index("ix_portal_sessions_member_id", "portal_sessions", ["member_id"])
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
