"""The ledger's plain reads: entries, lots, consumptions, balances, activity and totals.

A mixin of ``SqlLedgerRepository``: nothing here locks a row or writes one; what the use cases
lock and save is in ``ledger.py``, what the release and expiry jobs need in ``ledger_jobs.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.adapters.db.ledger_audit import verify_ledger
from patron.adapters.db.ledger_lapse import balance_of
from patron.adapters.db.ledger_rows import entry_of, lot_of
from patron.domain.ledger import Balance, Consumption, Entry, Lot
from patron.services.ports import BalanceKey, Violation

_b = t.balances.c
_e = t.ledger_entries.c
_l = t.ledger_lots.c

_OPEN_LOTS = sa.select(t.ledger_lots).where(
    _l.member_id == sa.bindparam("m"), _l.wallet == sa.bindparam("w"), _l.remaining > 0
)
_ENTRY_BY_KEY = sa.select(t.ledger_entries).where(
    _e.program_id == sa.bindparam("p"), _e.key == sa.bindparam("k")
)


class LedgerReads:
    _conn: Connection

    def entry_by_key(self, program_id: str, key: str) -> Entry | None:
        row = self._conn.execute(_ENTRY_BY_KEY, {"p": program_id, "k": key}).first()
        return entry_of(row) if row else None

    def get_entry(self, program_id: str, entry_id: str) -> Entry | None:
        row = self._conn.execute(
            sa.select(t.ledger_entries).where(_e.program_id == program_id, _e.id == entry_id)
        ).first()
        return entry_of(row) if row else None

    def cancellation_of(self, entry_id: str) -> Entry | None:
        row = self._conn.execute(sa.select(t.ledger_entries).where(_e.reverses == entry_id)).first()
        return entry_of(row) if row else None

    def open_lots(self, member_id: str, wallet: str) -> list[Lot]:
        rows = self._conn.execute(_OPEN_LOTS, {"m": member_id, "w": wallet})
        return [lot_of(row) for row in rows]

    def open_lots_of(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, list[Lot]]:
        found: dict[BalanceKey, list[Lot]] = {key: [] for key in keys}
        if not keys:
            return found
        rows = self._conn.execute(
            sa.select(t.ledger_lots)
            .where(sa.tuple_(_l.member_id, _l.wallet).in_(list(keys)), _l.remaining > 0)
            .order_by(_l.id)
        )
        for row in rows:
            found[(row.member_id, row.wallet)].append(lot_of(row))
        return found

    def lots_of_entry(self, entry_id: str) -> list[Lot]:
        rows = self._conn.execute(sa.select(t.ledger_lots).where(_l.entry_id == entry_id))
        return [lot_of(row) for row in rows]

    def lots_by_id(self, lot_ids: Sequence[str]) -> list[Lot]:
        if not lot_ids:
            return []
        rows = self._conn.execute(sa.select(t.ledger_lots).where(_l.id.in_(list(lot_ids))))
        return [lot_of(row) for row in rows]

    def consumptions_of(self, entry_id: str) -> list[Consumption]:
        c = t.lot_consumptions.c
        rows = self._conn.execute(
            sa.select(c.entry_id, c.lot_id, c.amount).where(c.entry_id == entry_id)
        )
        return [Consumption(r.entry_id, r.lot_id, r.amount) for r in rows]

    def balances(self, program_id: str, member_ids: Sequence[str]) -> list[Balance]:
        if not member_ids:
            return []
        rows = self._conn.execute(
            sa.select(t.balances).where(
                _b.program_id == program_id, _b.member_id.in_(list(member_ids))
            )
        )
        return [balance_of(row) for row in rows]

    def activity(
        self, program_id: str, member_id: str, *, before: str | None, limit: int
    ) -> list[Entry]:
        conditions = [_e.program_id == program_id, _e.member_id == member_id]
        if before is not None:
            conditions.append(_e.id < before)
        stmt = sa.select(t.ledger_entries).where(*conditions).order_by(_e.id.desc()).limit(limit)
        return [entry_of(row) for row in self._conn.execute(stmt)]

    def total(
        self,
        member_id: str,
        wallet: str,
        types: Sequence[str],
        since: datetime | None,
        until: datetime | None,
    ) -> int:
        conditions = [_e.member_id == member_id, _e.wallet == wallet, _e.type.in_(list(types))]
        if since is not None:
            conditions.append(_e.occurred_at >= since)
        if until is not None:
            conditions.append(_e.occurred_at < until)
        stmt = sa.select(sa.func.coalesce(sa.func.sum(_e.amount), 0)).where(*conditions)
        return int(self._conn.execute(stmt).scalar_one())

    def expiring_between(
        self, program_id: str, wallet: str, start: datetime, end: datetime
    ) -> list[tuple[str, datetime, int]]:
        stmt = (
            sa.select(_l.member_id, _l.expires_at, sa.func.sum(_l.remaining))
            .where(
                _l.program_id == program_id,
                _l.wallet == wallet,
                _l.remaining > 0,
                _l.pending.is_(False),
                _l.expires_at >= start,
                _l.expires_at < end,
            )
            .group_by(_l.member_id, _l.expires_at)
            .order_by(_l.member_id, _l.expires_at)
        )
        return [(r[0], r[1], int(r[2])) for r in self._conn.execute(stmt)]

    def verify(self, program_id: str | None) -> list[Violation]:
        return verify_ledger(self._conn, program_id)
