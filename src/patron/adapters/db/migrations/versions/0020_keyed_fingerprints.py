"""stored request fingerprints become keyed digests (HMAC-SHA256 with the server's secret)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 10:00:00

Until now the fingerprint beside an idempotency key, a purchase, a refund, an activity event and
a grant was the SHA-256 of the request (``sha256_hex(method " " path "\\n" canonical_json)``).
Such a body can name a member by email, and the fingerprint outlives the member's erasure: with
the rest of the request known, hashing guessed emails would confirm one. Patron now stores
``"k1:" + base64url(HMAC-SHA256(secret, sha256_hex(...)))`` (``patron.domain.fingerprints``).

The bodies are not kept, so the migration cannot digest them again; it does not need to: the
keyed form is computed *from* the old digest, so each stored digest ``d`` becomes
``"k1:" + base64url(HMAC-SHA256(secret, d))``, exactly what Patron computes now for the same
request, and a request sent before the migration replays after it.

``secret`` is ``PATRON_FINGERPRINT_SECRET``, handed over by ``patron db upgrade`` and by the
embedded upgrade at start (``migrate.upgrade``; the public development value when unset): the
migration must run with the secret the servers use.

Only unkeyed digests (64 hex digits) are re-keyed: fingerprints that are not digests (the
activity events of jobs and enrolments carry their own key) and fingerprints already keyed are
left alone, so running it again (after a downgrade) keys nothing twice. The downgrade cannot
recover the digests and leaves the keyed ones in place.

Rows are read and rewritten in batches of 2,000 per table, in primary-key order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000
VERSION = "k1:"
TABLES: dict[str, tuple[str, ...]] = {
    "idempotency_keys": ("scope", "key"),
    "purchases": ("id",),
    "refunds": ("id",),
    "activity_events": ("id",),
    "grants": ("id",),
}
"""Each table with a fingerprint column, and its primary key."""

HEX = frozenset("0123456789abcdef")


def keyed(secret: bytes, digest: str) -> str:
    mac = hmac.new(secret, digest.encode(), hashlib.sha256).digest()
    return VERSION + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def upgrade() -> None:
    secret = context.config.attributes.get("fingerprint_secret")
    if not secret:
        raise RuntimeError("migration 0020 needs the fingerprint secret (run `patron db upgrade`)")
    conn = op.get_bind()
    for name, key in TABLES.items():
        _rekey(conn, name, key, str(secret).encode())


def _rekey(conn: sa.Connection, name: str, key: tuple[str, ...], secret: bytes) -> None:
    table = sa.table(name, sa.column("fingerprint"), *(sa.column(k) for k in key))
    columns = [table.c[k] for k in key]
    update = (
        table.update()
        .where(*(table.c[k] == sa.bindparam(f"k_{k}") for k in key))
        .values(fingerprint=sa.bindparam("new"))
    )
    after: tuple[object, ...] | None = None
    while True:
        stmt = sa.select(*columns, table.c.fingerprint).order_by(*columns).limit(BATCH)
        if after is not None:
            stmt = stmt.where(sa.tuple_(*columns) > sa.tuple_(*after))
        rows = conn.execute(stmt).all()
        if not rows:
            return
        changes = [
            {**{f"k_{k}": row[i] for i, k in enumerate(key)}, "new": keyed(secret, row[-1])}
            for row in rows
            if len(row[-1]) == 64 and HEX.issuperset(row[-1])
        ]
        if changes:
            conn.execute(update, changes)
        after = tuple(rows[-1][: len(key)])


def downgrade() -> None:
    """Nothing to undo that can be undone: the unkeyed digests are gone for good."""
