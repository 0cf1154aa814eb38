"""The ledger's storage for its jobs: which wallets are due for release or expiry, and expiry's
set-based statements.

A mixin of ``SqlLedgerRepository``. The due lists are read without locks; ``expiry_totals`` and
``expire_lots`` run under the balance locks the job took through ``ledger.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import BalanceKey, ExpiryTotal

_e = t.ledger_entries.c
_l = t.ledger_lots.c

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


class JobQueries:
    _conn: Connection
    _postgres: bool

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
