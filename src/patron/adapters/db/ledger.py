"""The ledger's storage: balance rows locked per use case, append-only entries and postings.

Statements on the write path are built once at import (ADR 0001) and run with bound
parameters; inserts of a change are batched per table. Balance rows are locked in sorted
(member, wallet) order, so two use cases touching the same members can never deadlock on them;
on SQLite the single writer makes the lock implicit. Each balance update also checks the version
read under the lock, so a lost update would surface as a retryable error, never as wrong money.

``SqlLedgerRepository`` is composed from mixins by what they do: this module locks and saves;
``ledger_reads`` reads entries, lots and balances; ``ledger_jobs`` finds the wallets due for
release or expiry and expires lots set-based; ``ledger_lapse`` reads what is expiring and which
wallets are idle. ``ledger_rows`` converts rows and domain values both ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.adapters.db.ledger_jobs import JobQueries
from patron.adapters.db.ledger_lapse import LapseQueries, balance_of
from patron.adapters.db.ledger_reads import LedgerReads
from patron.adapters.db.ledger_rows import entry_row, lot_row
from patron.domain.errors import MemberNotFound
from patron.domain.ledger import Balance, Change
from patron.services.ports import BalanceKey, RetryableError

_b = t.balances.c
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


def _balance_update(version: Any) -> Any:
    """The update of one balance row, checking the version read under its lock; ``version`` is
    what the row's version becomes."""
    return (
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
            version=version,
        )
    )


_UPDATE_BALANCE = _balance_update(_b.version + 1)
# A balance changed several times in one batch is written once (``patron.adapters.db.batched``).
WRITE_BALANCE = _balance_update(sa.bindparam("to_version"))
_UPDATE_LOT = (
    t.ledger_lots.update()
    .where(_l.id == sa.bindparam("lot_id"))
    .values(remaining=sa.bindparam("remaining"), pending=sa.bindparam("pending"))
)


class SqlLedgerRepository(LedgerReads, JobQueries, LapseQueries):
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

    def held(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, Balance]:
        return {key: self._held[key] for key in keys if key in self._held}

    def _select_locked(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, Balance]:
        """One statement for many rows. On PostgreSQL the rows are locked in the order the
        ``ORDER BY`` returns them (LockRows runs above the sort), the same sorted order every
        use case uses, so two transactions cannot deadlock on balances."""
        if len(keys) == 1:
            ((member_id, wallet),) = keys
            rows = self._conn.execute(self._lock, {"m": member_id, "w": wallet})
        else:
            rows = self._conn.execute(self._lock_many, {"keys": list(keys)})
        return {(row.member_id, row.wallet): balance_of(row) for row in rows}

    def save(self, program_id: str, change: Change) -> None:
        conn = self._conn
        if change.entries:
            conn.execute(t.ledger_entries.insert(), [entry_row(e) for e in change.entries])
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
                t.ledger_lots.insert(), [lot_row(program_id, lot) for lot in change.new_lots]
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
