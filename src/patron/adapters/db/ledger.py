"""The ledger's storage: balance rows locked per use case, append-only entries and postings.

Statements on the write path are built once at import (ADR 0001) and run with bound
parameters; inserts of a change are batched per table. Balance rows are locked in sorted
(member, wallet) order, so two use cases touching the same members can never deadlock on them;
on SQLite the single writer makes the lock implicit. Each balance update also checks the version
read under the lock, so a lost update would surface as a retryable error, never as wrong money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from patron.adapters.db import tables as t
from patron.adapters.db.ledger_audit import verify_ledger
from patron.domain.errors import MemberNotFound
from patron.domain.ledger import Balance, Change, Consumption, Entry, Lot
from patron.services.ports import BalanceKey, RetryableError, Violation

_b = t.balances.c
_e = t.ledger_entries.c
_l = t.ledger_lots.c

_SELECT_BALANCE = sa.select(t.balances).where(
    _b.member_id == sa.bindparam("m"), _b.wallet == sa.bindparam("w")
)
_LOCK_BALANCE = _SELECT_BALANCE.with_for_update()
_SELECT_BALANCES = (
    sa.select(t.balances)
    .where(sa.tuple_(_b.member_id, _b.wallet).in_(sa.bindparam("keys", expanding=True)))
    .order_by(_b.member_id, _b.wallet)
)
_LOCK_BALANCES = _SELECT_BALANCES.with_for_update()


def _create_balance(postgres: bool) -> Any:
    insert = postgresql.insert if postgres else sqlite.insert
    return (
        insert(t.balances)
        .values(
            member_id=sa.bindparam("m"),
            wallet=sa.bindparam("w"),
            program_id=sa.bindparam("p"),
            available=0,
            pending=0,
            deficit=0,
            lifetime_earned=0,
            version=0,
        )
        .on_conflict_do_nothing(index_elements=[_b.member_id, _b.wallet])
    )


_CREATE_BALANCE = {postgres: _create_balance(postgres) for postgres in (False, True)}

_UPDATE_BALANCE = (
    t.balances.update()
    .where(
        _b.member_id == sa.bindparam("m"),
        _b.wallet == sa.bindparam("w"),
        _b.version == sa.bindparam("v"),
    )
    .values(
        available=sa.bindparam("available"),
        pending=sa.bindparam("pending"),
        deficit=sa.bindparam("deficit"),
        lifetime_earned=sa.bindparam("lifetime_earned"),
        last_activity_at=sa.bindparam("last_activity_at"),
        version=_b.version + 1,
    )
)
_UPDATE_LOT = (
    t.ledger_lots.update()
    .where(_l.id == sa.bindparam("lot_id"))
    .values(remaining=sa.bindparam("remaining"), pending=sa.bindparam("pending"))
)
_OPEN_LOTS = sa.select(t.ledger_lots).where(
    _l.member_id == sa.bindparam("m"), _l.wallet == sa.bindparam("w"), _l.remaining > 0
)
_ENTRY_BY_KEY = sa.select(t.ledger_entries).where(
    _e.program_id == sa.bindparam("p"), _e.key == sa.bindparam("k")
)


class SqlLedgerRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._postgres = dialect == "postgresql"
        self._held: dict[BalanceKey, Balance] = {}
        self._create_balance = _CREATE_BALANCE[self._postgres]
        self._lock = _LOCK_BALANCE if self._postgres else _SELECT_BALANCE
        self._lock_many = _LOCK_BALANCES if self._postgres else _SELECT_BALANCES

    def lock_balances(
        self, program_id: str, keys: Sequence[BalanceKey]
    ) -> dict[BalanceKey, Balance]:
        wanted = sorted(set(keys))
        # Rows locked earlier in this transaction stay locked until commit, and every change of
        # them went through ``save``, which keeps the held copy current.
        missing = [key for key in wanted if key not in self._held]
        if missing:
            found = self._select_locked(missing)
            absent = [key for key in missing if key not in found]
            if absent:
                self._conn.execute(
                    self._create_balance, [{"m": m, "w": w, "p": program_id} for m, w in absent]
                )
                found.update(self._select_locked(absent))
            unseen = [key for key in missing if key not in found]
            if unseen:
                # The row exists (the insert met it) but row-level security hides it: it is
                # another program's member, which this program must not even learn exists.
                raise MemberNotFound(
                    f"no member {unseen[0][0]!r} in this program", member=unseen[0][0]
                )
            self._held.update(found)
        return {key: self._held[key] for key in wanted}

    def _select_locked(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, Balance]:
        """One statement for many rows. On PostgreSQL the rows are locked in the order the
        ``ORDER BY`` returns them (LockRows runs above the sort), the same sorted order every
        use case uses, so two transactions cannot deadlock on balances."""
        if len(keys) == 1:
            ((member_id, wallet),) = keys
            rows = self._conn.execute(self._lock, {"m": member_id, "w": wallet})
        else:
            rows = self._conn.execute(self._lock_many, {"keys": list(keys)})
        return {(row.member_id, row.wallet): _balance(row) for row in rows}

    def save(self, program_id: str, change: Change) -> None:
        conn = self._conn
        if change.entries:
            conn.execute(t.ledger_entries.insert(), [_entry_row(e) for e in change.entries])
            postings = [
                {
                    "entry_id": e.id,
                    "program_id": program_id,
                    "member_id": e.member_id,
                    "wallet": e.wallet,
                    "source": p.source,
                    "destination": p.destination,
                    "amount": p.amount,
                }
                for e in change.entries
                for p in e.postings
            ]
            if postings:
                conn.execute(t.ledger_postings.insert(), postings)
        if change.new_lots:
            conn.execute(
                t.ledger_lots.insert(), [_lot_row(program_id, lot) for lot in change.new_lots]
            )
        if change.updated_lots:
            conn.execute(
                _UPDATE_LOT,
                [
                    {"lot_id": lot.id, "remaining": lot.remaining, "pending": lot.pending}
                    for lot in change.updated_lots
                ],
            )
        if change.consumptions:
            conn.execute(
                t.lot_consumptions.insert(),
                [
                    {"entry_id": c.entry_id, "lot_id": c.lot_id, "amount": c.amount}
                    for c in change.consumptions
                ],
            )
        if change.balances:
            # One statement for every balance of the change; each row still checks the version
            # read under its lock, so the summed row count proves no update was lost.
            updated = conn.execute(
                _UPDATE_BALANCE,
                [
                    {
                        "m": balance.member_id,
                        "w": balance.wallet,
                        "v": balance.version,
                        "available": balance.available,
                        "pending": balance.pending,
                        "deficit": balance.deficit,
                        "lifetime_earned": balance.lifetime_earned,
                        "last_activity_at": balance.last_activity_at,
                    }
                    for balance in change.balances
                ],
            )
            if updated.rowcount != len(change.balances):
                moved = ", ".join(f"{b.member_id}/{b.wallet}" for b in change.balances)
                raise RetryableError(f"a balance of {moved} moved")
            for balance in change.balances:
                key = (balance.member_id, balance.wallet)
                if key in self._held:
                    self._held[key] = replace(balance, version=balance.version + 1)

    def entry_by_key(self, program_id: str, key: str) -> Entry | None:
        row = self._conn.execute(_ENTRY_BY_KEY, {"p": program_id, "k": key}).first()
        return _entry(row) if row else None

    def get_entry(self, program_id: str, entry_id: str) -> Entry | None:
        row = self._conn.execute(
            sa.select(t.ledger_entries).where(_e.program_id == program_id, _e.id == entry_id)
        ).first()
        return _entry(row) if row else None

    def cancellation_of(self, entry_id: str) -> Entry | None:
        row = self._conn.execute(sa.select(t.ledger_entries).where(_e.reverses == entry_id)).first()
        return _entry(row) if row else None

    def open_lots(self, member_id: str, wallet: str) -> list[Lot]:
        rows = self._conn.execute(_OPEN_LOTS, {"m": member_id, "w": wallet})
        return [_lot(row) for row in rows]

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
            found[(row.member_id, row.wallet)].append(_lot(row))
        return found

    def lots_of_entry(self, entry_id: str) -> list[Lot]:
        rows = self._conn.execute(sa.select(t.ledger_lots).where(_l.entry_id == entry_id))
        return [_lot(row) for row in rows]

    def lots_by_id(self, lot_ids: Sequence[str]) -> list[Lot]:
        if not lot_ids:
            return []
        rows = self._conn.execute(sa.select(t.ledger_lots).where(_l.id.in_(list(lot_ids))))
        return [_lot(row) for row in rows]

    def consumptions_of(self, entry_id: str) -> list[Consumption]:
        c = t.lot_consumptions.c
        rows = self._conn.execute(
            sa.select(c.entry_id, c.lot_id, c.amount).where(c.entry_id == entry_id)
        )
        return [Consumption(r.entry_id, r.lot_id, r.amount) for r in rows]

    def due_for_release(self, program_id: str, now: datetime, limit: int) -> list[BalanceKey]:
        stmt = (
            sa.select(_l.member_id, _l.wallet)
            .where(
                _l.program_id == program_id,
                _l.pending.is_(True),
                _l.available_at <= now,
                _l.remaining > 0,
            )
            .distinct()
            .order_by(_l.member_id, _l.wallet)
            .limit(limit)
        )
        return [(r.member_id, r.wallet) for r in self._conn.execute(stmt)]

    def due_for_expiry(self, program_id: str, now: datetime, limit: int) -> list[BalanceKey]:
        stmt = (
            sa.select(_l.member_id, _l.wallet)
            .where(_l.program_id == program_id, _l.expires_at <= now, _l.remaining > 0)
            .distinct()
            .order_by(_l.member_id, _l.wallet)
            .limit(limit)
        )
        return [(r.member_id, r.wallet) for r in self._conn.execute(stmt)]

    def inactive_since(
        self, program_id: str, wallet: str, cutoff: datetime, limit: int
    ) -> list[BalanceKey]:
        stmt = (
            sa.select(_b.member_id, _b.wallet)
            .where(
                _b.program_id == program_id,
                _b.wallet == wallet,
                _b.last_activity_at <= cutoff,
                sa.or_(_b.available > 0, _b.pending > 0),
            )
            .order_by(_b.member_id)
            .limit(limit)
        )
        return [(r.member_id, r.wallet) for r in self._conn.execute(stmt)]

    def balances(self, program_id: str, member_ids: Sequence[str]) -> list[Balance]:
        if not member_ids:
            return []
        rows = self._conn.execute(
            sa.select(t.balances).where(
                _b.program_id == program_id, _b.member_id.in_(list(member_ids))
            )
        )
        return [_balance(row) for row in rows]

    def expiring(
        self, member_ids: Sequence[str], wallets: Sequence[str]
    ) -> list[tuple[str, str, datetime, int]]:
        if not member_ids or not wallets:
            return []
        stmt = (
            sa.select(_l.member_id, _l.wallet, _l.expires_at, sa.func.sum(_l.remaining))
            .where(
                _l.member_id.in_(list(member_ids)),
                _l.wallet.in_(list(wallets)),
                _l.remaining > 0,
                _l.expires_at.is_not(None),
            )
            .group_by(_l.member_id, _l.wallet, _l.expires_at)
            .order_by(_l.member_id, _l.wallet, _l.expires_at)
        )
        return [(r[0], r[1], r[2], int(r[3])) for r in self._conn.execute(stmt)]

    def activity(
        self, program_id: str, member_id: str, *, before: str | None, limit: int
    ) -> list[Entry]:
        conditions = [_e.program_id == program_id, _e.member_id == member_id]
        if before is not None:
            conditions.append(_e.id < before)
        stmt = sa.select(t.ledger_entries).where(*conditions).order_by(_e.id.desc()).limit(limit)
        return [_entry(row) for row in self._conn.execute(stmt)]

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


def _balance(row: Row[Any]) -> Balance:
    return Balance(
        member_id=row.member_id,
        wallet=row.wallet,
        available=row.available,
        pending=row.pending,
        lifetime_earned=row.lifetime_earned,
        last_activity_at=row.last_activity_at,
        version=row.version,
    )


def _entry_row(e: Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "program_id": e.program_id,
        "member_id": e.member_id,
        "wallet": e.wallet,
        "type": e.type,
        "amount": e.amount,
        "status": e.status,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "reference": e.reference,
        "key": e.key,
        "reverses": e.reverses,
        "reason": e.reason,
        "actor": e.actor,
        "config_version": e.config_version,
        "explanation": list(e.explanation) if e.explanation else None,
    }


def _entry(row: Row[Any]) -> Entry:
    return Entry(
        id=row.id,
        program_id=row.program_id,
        member_id=row.member_id,
        wallet=row.wallet,
        type=row.type,
        amount=row.amount,
        status=row.status,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        postings=(),
        reference=row.reference,
        key=row.key,
        reverses=row.reverses,
        reason=row.reason,
        actor=row.actor,
        config_version=row.config_version,
        explanation=tuple(row.explanation or ()),
    )


def _lot_row(program_id: str, lot: Lot) -> dict[str, Any]:
    return {
        "id": lot.id,
        "program_id": program_id,
        "member_id": lot.member_id,
        "wallet": lot.wallet,
        "entry_id": lot.entry_id,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "earned_at": lot.earned_at,
        "available_at": lot.available_at,
        "expires_at": lot.expires_at,
        "pending": lot.pending,
    }


def _lot(row: Row[Any]) -> Lot:
    return Lot(
        id=row.id,
        member_id=row.member_id,
        wallet=row.wallet,
        entry_id=row.entry_id,
        amount=row.amount,
        remaining=row.remaining,
        earned_at=row.earned_at,
        available_at=row.available_at,
        expires_at=row.expires_at,
        pending=row.pending,
    )
