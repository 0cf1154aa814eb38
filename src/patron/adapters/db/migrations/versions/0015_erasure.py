"""erasure: per-program digest keys and the tombstones of erased members

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 14:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_keys",
        sa.Column("program_id", sa.String(length=36), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", patron.adapters.db.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_erasure_keys_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_erasure_keys")),
    )
    op.create_table(
        "erasures",
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("program_id", sa.String(length=36), nullable=False),
        sa.Column("erased_at", patron.adapters.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("email_digest", sa.String(length=64), nullable=True),
        sa.Column("phone_digest", sa.String(length=64), nullable=True),
        sa.Column("external_id_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_erasures_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_erasures_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_erasures")),
    )
    for column in ("email_digest", "phone_digest", "external_id_digest"):
        op.create_index(
            f"ix_erasures_program_id_{column}", "erasures", ["program_id", column], unique=False
        )


def downgrade() -> None:
    for column in ("email_digest", "phone_digest", "external_id_digest"):
        op.drop_index(f"ix_erasures_program_id_{column}", table_name="erasures")
    op.drop_table("erasures")
    op.drop_table("erasure_keys")
