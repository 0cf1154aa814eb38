"""portal sign-in requests: what the portal's sign-in page asked for, answered by the worker

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 19:00:00

Asking for a sign-in link by email used to look the address up, mint a link and queue the email
in the request: an enrolled address answered measurably later than an unknown one, which told
whether someone is a member. The page now writes one row per request, whatever the address, in
its own transaction; the worker's message step takes the rows, looks the address up and sends
the link (``services.portal.send_requested``), deleting each row it takes. A committed request
is never lost: a crash before the worker's transaction commits leaves the row for the next run.

A program table with the row-level security of migration 0016 on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import patron.adapters.db.types

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "patron_tenant"
SETTING = "patron.program_id"
TABLE = "portal_sign_in_requests"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column(
            "requested_at", patron.adapters.db.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f(f"fk_{TABLE}_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(
        "ix_portal_sign_in_requests_program_id_requested_at",
        TABLE,
        ["program_id", "requested_at"],
    )
    if op.get_bind().dialect.name == "postgresql":
        scope = f"nullif(current_setting('{SETTING}', true), '')"
        admitted = f"program_id = {scope} OR ({scope} IS NULL AND current_user <> '{ROLE}')"
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {ROLE}")
        op.execute(f'ALTER TABLE "{TABLE}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{TABLE}" FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY patron_scope ON "{TABLE}" AS PERMISSIVE FOR ALL TO PUBLIC '
            f"USING ({admitted}) WITH CHECK ({admitted})"
        )


def downgrade() -> None:
    op.drop_table(TABLE)
