"""Streaming reads for ``patron export``: rows in id order, fetched in chunks, so an export of
millions of rows holds one chunk in memory (a server-side cursor on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t

CHUNK = 2000


def _stream(conn: Connection, stmt: sa.Select[Any]) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(yield_per=CHUNK).execute(stmt)
    for row in result:
        yield {str(key): value for key, value in row._mapping.items()}


def members(conn: Connection, program_id: str) -> Iterator[dict[str, Any]]:
    m, tier = t.members.c, t.member_tiers.c
    stmt = (
        sa.select(
            m.id,
            m.external_id,
            m.email,
            m.phone,
            m.first_name,
            m.last_name,
            m.birth_date,
            m.status,
            m.card_number,
            m.referral_code,
            m.enrolled_at,
            tier.code.label("tier"),
            m.attributes,
        )
        .outerjoin(t.member_tiers, tier.member_id == m.id)
        .where(m.program_id == program_id)
        .order_by(m.id)
    )
    yield from _stream(conn, stmt)


def purchases(conn: Connection, program_id: str) -> Iterator[dict[str, Any]]:
    p, mem = t.purchases.c, t.members.c
    stmt = (
        sa.select(
            p.id,
            p.external_id,
            mem.external_id.label("member_external_id"),
            p.member_id,
            p.occurred_at,
            p.channel,
            p.store_id,
            p.amount,
            p.refunded,
            p.eligible_amount,
            p.eligible_left,
            p.document,
        )
        .outerjoin(t.members, mem.id == p.member_id)
        .where(p.program_id == program_id)
        .order_by(p.id)
    )
    yield from _stream(conn, stmt)


def ledger(conn: Connection, program_id: str) -> Iterator[dict[str, Any]]:
    e = t.ledger_entries.c
    stmt = (
        sa.select(
            e.id,
            e.member_id,
            e.wallet,
            e.type,
            e.amount,
            e.status,
            e.occurred_at,
            e.recorded_at,
            e.reference,
            e.reason,
            e.reverses,
            e.actor,
            e.explanation,
        )
        .where(e.program_id == program_id)
        .order_by(e.id)
    )
    yield from _stream(conn, stmt)
