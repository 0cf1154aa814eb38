"""The aggregate reads behind the analytics summary: a handful of GROUP BY queries over indexed
columns, no per-member loops. Purchases carry their own running totals (amount, refunded), so
sales net of refunds are one SUM; ledger flows are one GROUP BY over the window's entries, whose
amounts are signed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.services.ports import LedgerFlows, MemberCounts, SalesFigures

_m = t.members.c
_p = t.purchases.c
_e = t.ledger_entries.c
_b = t.balances.c


class SqlAnalyticsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _days(self, first: Any, last: Any) -> Any:
        """Days between two timestamps, as a float expression of this dialect."""
        if self._conn.dialect.name == "sqlite":
            return sa.func.julianday(last) - sa.func.julianday(first)
        return sa.extract("epoch", last - first) / 86_400.0

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
        # Entry amounts are signed (credits positive, debits negative), so each flow is a sum
        # over the entries of one type in the window: no join with the postings.
        rows = self._conn.execute(
            sa.select(
                _e.type,
                sa.func.coalesce(sa.func.sum(_e.amount).filter(_e.amount > 0), 0),
                sa.func.coalesce(sa.func.sum(_e.amount).filter(_e.amount < 0), 0),
            )
            .where(
                _e.program_id == program_id,
                _e.wallet == wallet,
                _e.occurred_at >= start,
                _e.occurred_at < end,
            )
            .group_by(_e.type)
        )
        up: dict[str, int] = {}
        down: dict[str, int] = {}
        for kind, credits, debits in rows:
            up[str(kind)], down[str(kind)] = int(credits), -int(debits)
        outstanding, pending = self._conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(_b.available), 0),
                sa.func.coalesce(sa.func.sum(_b.pending), 0),
            ).where(_b.program_id == program_id, _b.wallet == wallet)
        ).one()
        return LedgerFlows(
            issued=up.get("earn", 0) + up.get("referral", 0) + up.get("adjust", 0),
            redeemed=down.get("redeem", 0) - up.get("redemption_cancel", 0),
            expired=down.get("expire", 0),
            clawed_back=down.get("refund", 0),
            adjusted_down=down.get("adjust", 0),
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
        n = per_member.c.n
        span = self._days(per_member.c.first, per_member.c.last)
        buyers, repeat, purchases, cycle_total = self._conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(n >= 2),
                sa.func.coalesce(sa.func.sum(n), 0),
                sa.func.coalesce(sa.func.sum(sa.case((n >= 2, span / (n - 1)))), 0),
            )
        ).one()
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
            cycle_days_total=float(cycle_total),
            cycle_members=int(repeat),
            lifetime_member_sales=int(lifetime),
        )
