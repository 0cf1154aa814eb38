"""Streaming reads for ``patron export``: rows in id order, fetched in chunks, so an export of
millions of rows holds one chunk in memory (a server-side cursor on PostgreSQL).

The caller passes the connection of a unit of work scoped to the program, so on PostgreSQL the
database keeps each read inside it even without the ``program_id`` filters below.
"""

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
    """Each member with its tier, its consents (the latest record per channel: granted, when,
    from where) and its balances per wallet (available and pending, in minor units for money
    wallets), read a chunk of members at a time."""
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
    result = conn.execution_options(yield_per=CHUNK).execute(stmt)
    for chunk in result.partitions():
        ids = [row.id for row in chunk]
        consents, balances = _consents_of(conn, ids), _balances_of(conn, ids)
        for row in chunk:
            yield {
                **{str(key): value for key, value in row._mapping.items()},
                "consents": consents.get(row.id, {}),
                "balances": balances.get(row.id, {}),
            }


def _consents_of(conn: Connection, member_ids: list[str]) -> dict[str, dict[str, Any]]:
    c = t.member_consents.c
    found: dict[str, dict[str, Any]] = {}
    rows = conn.execute(
        sa.select(c.member_id, c.channel, c.granted, c.recorded_at, c.source)
        .where(c.member_id.in_(member_ids))
        .order_by(c.id)  # oldest first: the latest record per channel wins
    )
    for row in rows:
        found.setdefault(row.member_id, {})[row.channel] = {
            "granted": bool(row.granted),
            "at": row.recorded_at,
            "source": row.source,
        }
    return found


def _balances_of(conn: Connection, member_ids: list[str]) -> dict[str, dict[str, Any]]:
    b = t.balances.c
    found: dict[str, dict[str, Any]] = {}
    rows = conn.execute(
        sa.select(b.member_id, b.wallet, b.available, b.pending)
        .where(b.member_id.in_(member_ids))
        .order_by(b.member_id, b.wallet)
    )
    for row in rows:
        found.setdefault(row.member_id, {})[row.wallet] = {
            "available": row.available,
            "pending": row.pending,
        }
    return found


def balances(conn: Connection, program_id: str) -> Iterator[dict[str, Any]]:
    """What each member with an external id holds per wallet (available and pending, in minor
    units for money wallets), when it is more than nothing."""
    b, m = t.balances.c, t.members.c
    stmt = (
        sa.select(
            m.external_id.label("member_external_id"),
            b.wallet,
            (b.available + b.pending).label("amount"),
        )
        .join(t.members, m.id == b.member_id)
        .where(
            b.program_id == program_id,
            m.external_id.is_not(None),
            b.available + b.pending > 0,
        )
        .order_by(m.id, b.wallet)
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
