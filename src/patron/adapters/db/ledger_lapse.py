"""The ledger's reads about expiry: what a balance shows as expiring, and which idle wallets
are near or past their inactivity deadline (the expiry job and its reminders).

A mixin of ``SqlLedgerRepository``: the statements read lots and balance rows, never lock them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from patron.adapters.db import tables as t
from patron.domain.ledger import Balance

_b = t.balances.c
_l = t.ledger_lots.c

_EXPIRING = (
    sa.select(_l.member_id, _l.wallet, _l.expires_at, _l.pending, sa.func.sum(_l.remaining))
    .where(
        _l.member_id.in_(sa.bindparam("members", expanding=True)),
        _l.wallet.in_(sa.bindparam("wallets", expanding=True)),
        _l.remaining > 0,
        _l.expires_at.is_not(None),
    )
    .group_by(_l.member_id, _l.wallet, _l.expires_at, _l.pending)
)


class LapseQueries:
    _conn: Connection

    def expiring(
        self, member_ids: Sequence[str], wallets: Sequence[str]
    ) -> list[tuple[str, str, datetime, bool, int]]:
        if not member_ids or not wallets:
            return []
        rows = self._conn.execute(
            _EXPIRING, {"members": list(member_ids), "wallets": list(wallets)}
        )
        return [(r[0], r[1], r[2], bool(r[3]), int(r[4])) for r in rows]

    def idle_wallets(
        self,
        program_id: str,
        wallet: str,
        bounds: tuple[datetime | None, datetime],
        *,
        after: str | None = None,
        limit: int,
    ) -> list[Balance]:
        first, last = bounds
        conditions = [
            _b.program_id == program_id,
            _b.wallet == wallet,
            _b.last_activity_at <= last,
            sa.or_(_b.available > 0, _b.pending > 0),
        ]
        if first is not None:
            conditions.append(_b.last_activity_at >= first)
        if after is not None:
            conditions.append(_b.member_id > after)
        stmt = sa.select(t.balances).where(*conditions).order_by(_b.member_id).limit(limit)
        return [balance_of(row) for row in self._conn.execute(stmt)]


def balance_of(row: Row[Any]) -> Balance:
    return Balance(
        member_id=row.member_id,
        wallet=row.wallet,
        available=row.available,
        pending=row.pending,
        lifetime_earned=row.lifetime_earned,
        last_activity_at=row.last_activity_at,
        version=row.version,
    )
