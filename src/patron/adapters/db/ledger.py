"""The ledger's storage: balance rows locked per use case, append-only entries and postings.

Statements on the write path are built once at import (ADR 0001) and run with bound
parameters; inserts of a change are batched per table. Balance rows are locked in sorted
(member, wallet) order, so two use cases touching the same members can never deadlock on them;
on SQLite the single writer makes the lock implicit. Each balance update also checks the version
read under the lock, so a lost update would surface as a retryable error, never as wrong money.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from patron.adapters.db import tables as t
from patron.adapters.db.ledger_audit import verify_ledger
from patron.adapters.db.ledger_lapse import LapseQueries
from patron.adapters.db.ledger_lapse import balance_of as _balance
from patron.domain.errors import MemberNotFound
from patron.domain.ledger import Balance, Change, Consumption, Entry, Lot
from patron.services.ports import BalanceKey, ExpiryTotal, RetryableError, Violation

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
_OPEN_LOTS = sa.select(t.ledger_lots).where(
    _l.member_id == sa.bindparam("m"), _l.wallet == sa.bindparam("w"), _l.remaining > 0
)
_ENTRY_BY_KEY = sa.select(t.ledger_entries).where(
    _e.program_id == sa.bindparam("p"), _e.key == sa.bindparam("k")
)

# The expiry job's set-based statements (``expiry_totals``, ``expire_lots``), per backend and per
# kind of expiry: the lots past their date (``until`` bound) or every open lot (inactivity).
# Their parameters are the batch's wallets and entry ids, never one per lot. On PostgreSQL the
# batch arrives as arrays joined through ``unnest`` (a long ``IN`` list of (member, wallet) pairs
# is planned as a filter over every lot), and the lots are emptied and consumed by one statement.
_c = t.lot_consumptions.c


def _open(lots: Any, dated: bool) -> list[sa.ColumnElement[bool]]:
    return [lots.remaining > 0, *([lots.expires_at <= sa.bindparam("until")] if dated else [])]


def _batch(*columns: str) -> Any:
    """The batch's wallets as a PostgreSQL table: ``unnest`` of one text array per column, bound
    as ``batch_<column>`` (a parameter named like a column would become a SET of an UPDATE)."""
    arrays = [sa.bindparam(f"batch_{name}", type_=postgresql.ARRAY(sa.Text)) for name in columns]
    return sa.func.unnest(*arrays).table_valued(*columns).render_derived("batch")


def _expiry_totals(postgres: bool, dated: bool) -> sa.Select[Any]:
    totals = sa.select(
        _l.member_id,
        _l.wallet,
        sa.func.count().label("lots"),
        sa.func.sum(sa.case((_l.pending, _l.remaining), else_=0)).label("from_pending"),
        sa.func.sum(sa.case((_l.pending, 0), else_=_l.remaining)).label("from_available"),
        sa.func.max(_l.expires_at).label("latest"),
    )
    if postgres:
        k = _batch("member_id", "wallet")
        totals = totals.select_from(
            k.join(t.ledger_lots, sa.and_(_l.member_id == k.c.member_id, _l.wallet == k.c.wallet))
        )
    else:
        totals = totals.where(
            sa.tuple_(_l.member_id, _l.wallet).in_(sa.bindparam("keys", expanding=True))
        )
    return totals.where(*_open(_l, dated)).group_by(_l.member_id, _l.wallet)


def _expire_lots_postgres(dated: bool) -> sa.Insert:
    """Empty the lots and record what each had left as a consumption by its wallet's entry, in
    one statement (the ``UPDATE ... RETURNING`` feeds the ``INSERT``); the self-join reads the
    remainder before the update, which ``RETURNING`` cannot show."""
    k = _batch("member_id", "wallet", "entry_id")
    before = t.ledger_lots.alias("before")
    due = (
        sa.select(k.c.entry_id, before.c.id, before.c.remaining)
        .select_from(
            k.join(
                before,
                sa.and_(before.c.member_id == k.c.member_id, before.c.wallet == k.c.wallet),
            )
        )
        .where(*_open(before.c, dated))
        .subquery("due")
    )
    expired = (
        t.ledger_lots.update()
        .where(_l.id == due.c.id)
        .values(remaining=0)
        .returning(due.c.entry_id, due.c.id, due.c.remaining)
        .cte("expired")
    )
    return (
        t.lot_consumptions.insert()
        .from_select(
            ["entry_id", "lot_id", "amount"],
            sa.select(expired.c.entry_id, expired.c.id, expired.c.remaining),
        )
        .execution_options(preserve_rowcount=True)  # an INSERT's count is dropped otherwise
    )


def _consume_expiring_sqlite(dated: bool) -> sa.Insert:
    """One consumption of its whole remainder per open lot, by the expire entry of its wallet
    (SQLite has no data-modifying CTE: ``_EMPTY_CONSUMED`` then empties them)."""
    lots = (
        sa.select(_e.id, _l.id, _l.remaining)
        .select_from(
            t.ledger_entries.join(
                t.ledger_lots, sa.and_(_l.member_id == _e.member_id, _l.wallet == _e.wallet)
            )
        )
        .where(_e.id.in_(sa.bindparam("entries", expanding=True)), *_open(_l, dated))
    )
    return (
        t.lot_consumptions.insert()
        .from_select(["entry_id", "lot_id", "amount"], lots)
        .execution_options(preserve_rowcount=True)
    )


_EXPIRY_TOTALS = {
    (postgres, dated): _expiry_totals(postgres, dated)
    for postgres in (False, True)
    for dated in (False, True)
}
_EXPIRE_LOTS_POSTGRES = {dated: _expire_lots_postgres(dated) for dated in (False, True)}
_CONSUME_EXPIRING_SQLITE = {dated: _consume_expiring_sqlite(dated) for dated in (False, True)}
# Exactly the lots the entries just consumed are emptied, whatever the kind of expiry.
_EMPTY_CONSUMED = (
    t.ledger_lots.update()
    .where(
        _l.id.in_(
            sa.select(_c.lot_id).where(_c.entry_id.in_(sa.bindparam("entries", expanding=True)))
        )
    )
    .values(remaining=0)
)


class SqlLedgerRepository(LapseQueries):
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

    def expiry_totals(
        self, keys: Sequence[BalanceKey], until: datetime | None
    ) -> dict[BalanceKey, ExpiryTotal]:
        if not keys:
            return {}
        params: dict[str, Any] = (
            {"batch_member_id": [m for m, _ in keys], "batch_wallet": [w for _, w in keys]}
            if self._postgres
            else {"keys": list(keys)}
        )
        if until is not None:
            params["until"] = until
        rows = self._conn.execute(_EXPIRY_TOTALS[(self._postgres, until is not None)], params)
        return {
            (row.member_id, row.wallet): ExpiryTotal(
                lots=int(row.lots),
                from_pending=int(row.from_pending),
                from_available=int(row.from_available),
                latest=row.latest,
            )
            for row in rows
        }

    def expire_lots(self, entries: Mapping[BalanceKey, str], until: datetime | None) -> int:
        if not entries:
            return 0
        dated: dict[str, Any] = {} if until is None else {"until": until}
        if self._postgres:
            params = {
                "batch_member_id": [m for m, _ in entries],
                "batch_wallet": [w for _, w in entries],
                "batch_entry_id": list(entries.values()),
                **dated,
            }
            return int(
                self._conn.execute(_EXPIRE_LOTS_POSTGRES[until is not None], params).rowcount
            )
        ids = {"entries": list(entries.values())}
        consumed = self._conn.execute(_CONSUME_EXPIRING_SQLITE[until is not None], ids | dated)
        emptied = self._conn.execute(_EMPTY_CONSUMED, ids)
        if emptied.rowcount != consumed.rowcount:  # impossible under the balance locks
            raise RuntimeError(
                f"{consumed.rowcount} lots consumed by the expiry but {emptied.rowcount} emptied"
            )
        return int(consumed.rowcount)

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

    def balances(self, program_id: str, member_ids: Sequence[str]) -> list[Balance]:
        if not member_ids:
            return []
        rows = self._conn.execute(
            sa.select(t.balances).where(
                _b.program_id == program_id, _b.member_id.in_(list(member_ids))
            )
        )
        return [_balance(row) for row in rows]

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
