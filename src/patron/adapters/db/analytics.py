"""The aggregate reads behind the analytics summary: a handful of GROUP BY queries over indexed
columns, no per-member loops. Purchases carry their own running totals (amount, refunded), so
sales net of refunds are one SUM; ledger flows are read from the postings of the window's
entries (program-side accounts have no balance rows by design, see ``domain/ledger.py``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import LedgerFlows, MemberCounts, SalesFigures

_m = t.members.c
_p = t.purchases.c
_e = t.ledger_entries.c
_po = t.ledger_postings.c
_b = t.balances.c


class SqlAnalyticsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def members(
        self, program_id: str, start: datetime, end: datetime, active_since: datetime
    ) -> MemberCounts:
        counted = sa.and_(_m.program_id == program_id, _m.status != "erased", _m.enrolled_at < end)
        total, new = self._conn.execute(
            sa.select(sa.func.count(), sa.func.count().filter(_m.enrolled_at >= start)).where(
                counted
            )
        ).one()
        active = self._conn.execute(
            sa.select(sa.func.count(sa.distinct(_p.member_id))).where(
                _p.program_id == program_id,
                _p.member_id.is_not(None),
                _p.occurred_at >= active_since,
                _p.occurred_at < end,
            )
        ).scalar_one()
        tiers = {
            str(code): int(n)
            for code, n in self._conn.execute(
                sa.select(_m.tier_code, sa.func.count())
                .where(counted, _m.tier_code.is_not(None))
                .group_by(_m.tier_code)
            )
        }
        return MemberCounts(int(total), int(new), int(active), tiers)

    def flows(self, program_id: str, wallet: str, start: datetime, end: datetime) -> LedgerFlows:
        rows = self._conn.execute(
            sa.select(_po.source, _po.destination, sa.func.sum(_po.amount))
            .join(t.ledger_entries, _e.id == _po.entry_id)
            .where(
                _e.program_id == program_id,
                _e.wallet == wallet,
                _e.occurred_at >= start,
                _e.occurred_at < end,
            )
            .group_by(_po.source, _po.destination)
        )
        moved = {(str(s), str(d)): int(n) for s, d, n in rows}

        def into(account: str) -> int:
            return sum(n for (s, d), n in moved.items() if d == account and s != account)

        def out_of(account: str) -> int:
            return sum(n for (s, d), n in moved.items() if s == account and d != account)

        outstanding, pending = self._conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(_b.available), 0),
                sa.func.coalesce(sa.func.sum(_b.pending), 0),
            ).where(_b.program_id == program_id, _b.wallet == wallet)
        ).one()
        return LedgerFlows(
            issued=out_of("program:issued") + out_of("program:adjustments"),
            redeemed=into("program:redeemed") - out_of("program:redeemed"),
            expired=into("program:expired"),
            clawed_back=into("program:refunds"),
            adjusted_down=into("program:adjustments"),
            outstanding=int(outstanding),
            pending=int(pending),
        )

    def sales(self, program_id: str, start: datetime, end: datetime) -> SalesFigures:
        net = _p.amount - _p.refunded
        in_window = sa.and_(
            _p.program_id == program_id, _p.occurred_at >= start, _p.occurred_at < end
        )
        member_sales, anonymous_sales, orders = self._conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(net).filter(_p.member_id.is_not(None)), 0),
                sa.func.coalesce(sa.func.sum(net).filter(_p.member_id.is_(None)), 0),
                sa.func.count().filter(_p.refunded < _p.amount),
            ).where(in_window)
        ).one()
        per_member = (
            sa.select(
                _p.member_id,
                sa.func.count().label("n"),
                sa.func.min(_p.occurred_at).label("first"),
                sa.func.max(_p.occurred_at).label("last"),
            )
            .where(in_window, _p.member_id.is_not(None), _p.refunded < _p.amount)
            .group_by(_p.member_id)
            .subquery()
        )
        buyers, repeat, purchases = self._conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(per_member.c.n >= 2),
                sa.func.coalesce(sa.func.sum(per_member.c.n), 0),
            )
        ).one()
        spans = self._conn.execute(
            sa.select(per_member.c.n, per_member.c.first, per_member.c.last).where(
                per_member.c.n >= 2
            )
        )
        total_gap, members_with_gap = 0.0, 0
        for n, first, last in spans:
            first_at = first if isinstance(first, datetime) else datetime.fromisoformat(first)
            last_at = last if isinstance(last, datetime) else datetime.fromisoformat(last)
            total_gap += (last_at - first_at).total_seconds() / 86_400 / (int(n) - 1)
            members_with_gap += 1
        lifetime = self._conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(net), 0)).where(
                _p.program_id == program_id, _p.member_id.is_not(None), _p.occurred_at < end
            )
        ).scalar_one()
        return SalesFigures(
            member_sales=int(member_sales),
            anonymous_sales=int(anonymous_sales),
            orders=int(orders),
            buyers=int(buyers),
            repeat_buyers=int(repeat),
            member_orders=int(purchases),
            cycle_days_total=total_gap,
            cycle_members=members_with_gap,
            lifetime_member_sales=int(lifetime),
        )
