"""API keys remember when they were last used

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 09:00:00

``last_used_at`` is shown by ``GET .../api-keys`` and ``patron keys list``; it is written at
most once a minute per key (``patron.services.api_keys``), so it costs no write per request.
Keys used before this migration show null until their next use.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_used_at", patron.adapters.db.types.UtcDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
