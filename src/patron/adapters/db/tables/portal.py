"""Tables of the member portal: one-time sign-in links and sessions (migration 0029), and the
sign-in requests made at the portal's sign-in page that the worker has yet to answer (0032).

All are program tables (row-level security on PostgreSQL). Links and sessions hold only the
SHA-256 digest of their token; a request holds the email's comparison key until the worker
takes it (``services.portal.send_requested``), which deletes it whatever it finds.
"""

from __future__ import annotations

import sqlalchemy as sa

from patron.adapters.db.tables.base import ID, metadata
from patron.adapters.db.types import UtcDateTime

portal_links = sa.Table(
    "portal_links",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False, index=True),
    sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("return_url", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
)

portal_sessions = sa.Table(
    "portal_sessions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("member_id", ID, sa.ForeignKey("members.id"), nullable=False, index=True),
    sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

portal_sign_in_requests = sa.Table(
    "portal_sign_in_requests",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("program_id", ID, sa.ForeignKey("programs.id"), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False),
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Index("ix_portal_sign_in_requests_program_id_requested_at", "program_id", "requested_at"),
)
