"""``patron audit``: recompute every balance from the postings and check the ledger invariants.

Each check is one aggregate query that returns only the rows that break it:

- ``entry_postings``: every entry has postings, in its own wallet, and its signed amount equals
  the net of its postings on the member's accounts (available only, for a release); postings
  are positive moves between two accounts, so each entry sums to zero per wallet by construction;
- ``balance_cache``: each cached balance (available, pending) equals the sum of its postings;
- ``lots_match_balance``: the remaining of available lots equals the available balance (zero when
  negative), the remaining of pending lots equals the pending balance;
- ``lot_consumption``: no lot is consumed beyond its amount: amount - remaining equals the sum of
  what entries took from it;
- ``negative_balance``: a negative balance exists only after a refund clawback, and the cached
  deficit equals it;
- ``lifetime_earned``: the cached lifetime total equals earns and referrals net of refunds.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.domain.ledger import AVAILABLE, EARNING_TYPES, PENDING
from patron.services.ports import Violation

_p = t.ledger_postings.c
_e = t.ledger_entries.c
_b = t.balances.c
_l = t.ledger_lots.c
_c = t.lot_consumptions.c


def _net(account: str) -> sa.ColumnElement[Any]:
    """Signed effect of a posting on ``account``."""
    return sa.case(
        (_p.destination == account, _p.amount),
        (_p.source == account, -_p.amount),
        else_=0,
    )


def _scoped(column: sa.ColumnElement[Any], program_id: str | None) -> list[sa.ColumnElement[bool]]:
    return [] if program_id is None else [column == program_id]


def verify_ledger(conn: Connection, program_id: str | None) -> list[Violation]:
    found: list[Violation] = []
    for check in (
        _entry_postings,
        _balance_cache,
        _lots_match_balance,
        _lot_consumption,
        _negative_balance,
        _lifetime_earned,
    ):
        found += check(conn, program_id)
    return found


def _entry_postings(conn: Connection, program_id: str | None) -> list[Violation]:
    pending_counts = sa.case((_e.type == "release", 0), else_=_net(PENDING))
    net = sa.func.coalesce(sa.func.sum(_net(AVAILABLE) + pending_counts), 0)
    wrong_wallet = sa.func.sum(sa.case((_p.wallet != _e.wallet, 1), else_=0))
    stmt = (
        sa.select(_e.id, _e.amount, net.label("net"), sa.func.count(_p.id).label("n"))
        .select_from(t.ledger_entries.outerjoin(t.ledger_postings, _p.entry_id == _e.id))
        .where(*_scoped(_e.program_id, program_id))
        .group_by(_e.id, _e.amount)
        .having(sa.or_(sa.func.count(_p.id) == 0, net != _e.amount, wrong_wallet > 0))
    )
    return [
        Violation(
            "entry_postings",
            f"entry {r.id}",
            f"amount {r.amount}, postings net {r.net} over {r.n} posting(s)",
        )
        for r in conn.execute(stmt)
    ]


def _balance_cache(conn: Connection, program_id: str | None) -> list[Violation]:
    sums = (
        sa.select(
            _p.member_id,
            _p.wallet,
            sa.func.sum(_net(AVAILABLE)).label("available"),
            sa.func.sum(_net(PENDING)).label("pending"),
        )
        .where(*_scoped(_p.program_id, program_id))
        .group_by(_p.member_id, _p.wallet)
        .subquery()
    )
    joined = t.balances.outerjoin(
        sums, sa.and_(sums.c.member_id == _b.member_id, sums.c.wallet == _b.wallet)
    )
    available = sa.func.coalesce(sums.c.available, 0)
    pending = sa.func.coalesce(sums.c.pending, 0)
    stmt = (
        sa.select(_b.member_id, _b.wallet, _b.available, _b.pending, available, pending)
        .select_from(joined)
        .where(*_scoped(_b.program_id, program_id))
        .where(sa.or_(_b.available != available, _b.pending != pending))
    )
    found = [
        Violation(
            "balance_cache",
            f"member {r[0]} wallet {r[1]}",
            f"cached available {r[2]} / pending {r[3]}, postings say {r[4]} / {r[5]}",
        )
        for r in conn.execute(stmt)
    ]
    orphans = (
        sa.select(sums.c.member_id, sums.c.wallet)
        .select_from(
            sums.outerjoin(
                t.balances, sa.and_(sums.c.member_id == _b.member_id, sums.c.wallet == _b.wallet)
            )
        )
        .where(_b.member_id.is_(None))
    )
    found += [
        Violation("balance_cache", f"member {r[0]} wallet {r[1]}", "postings without a balance")
        for r in conn.execute(orphans)
    ]
    return found


def _lots_match_balance(conn: Connection, program_id: str | None) -> list[Violation]:
    lots = (
        sa.select(
            _l.member_id,
            _l.wallet,
            sa.func.sum(sa.case((_l.pending.is_(False), _l.remaining), else_=0)).label("free"),
            sa.func.sum(sa.case((_l.pending.is_(True), _l.remaining), else_=0)).label("held"),
        )
        .where(*_scoped(_l.program_id, program_id))
        .group_by(_l.member_id, _l.wallet)
        .subquery()
    )
    free = sa.func.coalesce(lots.c.free, 0)
    held = sa.func.coalesce(lots.c.held, 0)
    positive = sa.case((_b.available > 0, _b.available), else_=0)
    stmt = (
        sa.select(_b.member_id, _b.wallet, _b.available, _b.pending, free, held)
        .select_from(
            t.balances.outerjoin(
                lots, sa.and_(lots.c.member_id == _b.member_id, lots.c.wallet == _b.wallet)
            )
        )
        .where(*_scoped(_b.program_id, program_id))
        .where(sa.or_(free != positive, held != _b.pending))
    )
    return [
        Violation(
            "lots_match_balance",
            f"member {r[0]} wallet {r[1]}",
            f"balance {r[2]} available / {r[3]} pending, lots hold {r[4]} / {r[5]}",
        )
        for r in conn.execute(stmt)
    ]


def _lot_consumption(conn: Connection, program_id: str | None) -> list[Violation]:
    taken = sa.func.coalesce(sa.func.sum(_c.amount), 0)
    stmt = (
        sa.select(_l.id, _l.amount, _l.remaining, taken)
        .select_from(t.ledger_lots.outerjoin(t.lot_consumptions, _c.lot_id == _l.id))
        .where(*_scoped(_l.program_id, program_id))
        .group_by(_l.id, _l.amount, _l.remaining)
        .having(sa.or_(_l.amount - _l.remaining != taken, taken > _l.amount))
    )
    return [
        Violation(
            "lot_consumption",
            f"lot {r[0]}",
            f"amount {r[1]}, remaining {r[2]}, consumed {r[3]}",
        )
        for r in conn.execute(stmt)
    ]


def _negative_balance(conn: Connection, program_id: str | None) -> list[Violation]:
    refunded = (
        sa.select(_e.id)
        .where(_e.member_id == _b.member_id, _e.wallet == _b.wallet, _e.type == "refund")
        .exists()
    )
    expected_deficit = sa.case((_b.available < 0, -_b.available), else_=0)
    stmt = (
        sa.select(_b.member_id, _b.wallet, _b.available, _b.deficit)
        .where(*_scoped(_b.program_id, program_id))
        .where(
            sa.or_(
                _b.deficit != expected_deficit,
                _b.pending < 0,
                sa.and_(_b.available < 0, sa.not_(refunded)),
            )
        )
    )
    return [
        Violation(
            "negative_balance",
            f"member {r[0]} wallet {r[1]}",
            f"available {r[2]}, deficit {r[3]}: negative only after a refund, deficit = -available",
        )
        for r in conn.execute(stmt)
    ]


def _lifetime_earned(conn: Connection, program_id: str | None) -> list[Violation]:
    counted = sa.case((_e.type.in_([*EARNING_TYPES, "refund"]), _e.amount), else_=0)
    sums = (
        sa.select(_e.member_id, _e.wallet, sa.func.sum(counted).label("earned"))
        .where(*_scoped(_e.program_id, program_id))
        .group_by(_e.member_id, _e.wallet)
        .subquery()
    )
    earned = sa.func.coalesce(sums.c.earned, 0)
    stmt = (
        sa.select(_b.member_id, _b.wallet, _b.lifetime_earned, earned)
        .select_from(
            t.balances.outerjoin(
                sums, sa.and_(sums.c.member_id == _b.member_id, sums.c.wallet == _b.wallet)
            )
        )
        .where(*_scoped(_b.program_id, program_id))
        .where(_b.lifetime_earned != earned)
    )
    return [
        Violation(
            "lifetime_earned",
            f"member {r[0]} wallet {r[1]}",
            f"cached {r[2]}, entries say {r[3]}",
        )
        for r in conn.execute(stmt)
    ]
