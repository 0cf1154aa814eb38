"""The dashboard's reads beyond the summary's flows: one aggregate query per figure.

- expiry forecast: one pass over the lots expiring in the next 90 days, on ``(program_id,
  expires_at)``; for an inactivity wallet, one pass over its balances, whose deadline the service
  turns into bounds of ``last_activity_at`` (a deadline is a monotone function of it);
- tier migration: one ``GROUP BY from_code, to_code`` over the window's tier history;
- top rules: the window's purchase and event awards of a wallet, grouped by rule;
- top rewards, and the order values of redeemers: the window's redemptions (not cancelled),
  then the redeemers' purchases of the window by ``(member_id, occurred_at)``;
- the series: one join of a small table of buckets with each of the members and the purchases,
  so that each bucket is one range of an index (``(program_id, enrolled_at, ...)``,
  ``(program_id, occurred_at, ...)``) and no row is bucketed by a chain of comparisons (the
  ledger movements per bucket come from the daily roll-ups, ``analytics_rollups.py``).

Indexes: migration 0026.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.adapters.db.types import UtcDateTime
from patron.domain.ledger import ENTRY_TYPES
from patron.services.ports import (
    Bucket,
    BucketFigures,
    RewardRedemptions,
    RuleAwards,
)

_l = t.ledger_lots.c
_b = t.balances.c
_h = t.tier_history.c
_r = t.redemptions.c
_w = t.rewards.c
_p = t.purchases.c
_e = t.ledger_entries.c
_m = t.members.c

# Every entry type that changes a balance's available + pending: a release only moves pending
# points to available, and its amount is what became available, so it is left out of the sums.
BALANCE_TYPES = tuple(sorted(kind for kind in ENTRY_TYPES if kind != "release"))


def _sum(column: Any, *conditions: Any) -> Any:
    picked = sa.func.sum(column).filter(*conditions) if conditions else sa.func.sum(column)
    return sa.func.coalesce(picked, 0)


class InsightQueries:
    _conn: Connection

    def expiring(
        self, program_id: str, start: datetime, horizons: Sequence[datetime]
    ) -> dict[str, list[int]]:
        columns = [_sum(_l.remaining, _l.expires_at < horizon) for horizon in horizons]
        return {
            str(row[0]): [int(n) for n in row[1:]]
            for row in self._conn.execute(
                sa.select(_l.wallet, *columns)
                .where(
                    _l.program_id == program_id,
                    _l.expires_at >= start,
                    _l.expires_at < max(horizons),
                    _l.remaining > 0,
                )
                .group_by(_l.wallet)
            )
        }

    def idle_balances(self, program_id: str, wallet: str, bounds: Sequence[datetime]) -> list[int]:
        # What expires at the deadline: the available balance (a deficit is still owed) and
        # the pending points, as the member's balance shows it (domain/expiry.outlook).
        left = sa.case((_b.available > 0, _b.available), else_=0) + _b.pending
        first, *ends = bounds
        row = self._conn.execute(
            sa.select(*[_sum(left, _b.last_activity_at < end) for end in ends]).where(
                _b.program_id == program_id,
                _b.wallet == wallet,
                _b.last_activity_at >= first,
                _b.last_activity_at < max(ends),
            )
        ).one()
        return [int(n) for n in row]

    def tier_changes(
        self, program_id: str, start: datetime, end: datetime
    ) -> list[tuple[str | None, str, int]]:
        return [
            (None if before is None else str(before), str(after), int(n))
            for before, after, n in self._conn.execute(
                sa.select(_h.from_code, _h.to_code, sa.func.count())
                .where(_h.program_id == program_id, _h.at >= start, _h.at < end)
                .group_by(_h.from_code, _h.to_code)
            )
        ]

    def top_rules(
        self, program_id: str, wallet: str, start: datetime, end: datetime, limit: int
    ) -> list[RuleAwards]:
        awards = sa.union_all(
            *[
                sa.select(table.c.rule_id, table.c.amount).where(
                    table.c.program_id == program_id,
                    table.c.occurred_at >= start,
                    table.c.occurred_at < end,
                    table.c.wallet == wallet,
                )
                for table in (t.purchase_awards, t.event_awards)
            ]
        ).subquery()
        issued = sa.func.sum(awards.c.amount)
        return [
            RuleAwards(str(rule), int(amount), int(n))
            for rule, amount, n in self._conn.execute(
                sa.select(awards.c.rule_id, issued, sa.func.count())
                .group_by(awards.c.rule_id)
                .order_by(issued.desc(), awards.c.rule_id)
                .limit(limit)
            )
        ]

    def _redeemed(self, program_id: str, start: datetime, end: datetime) -> list[Any]:
        return [
            _r.program_id == program_id,
            _r.created_at >= start,
            _r.created_at < end,
            _r.status != "cancelled",
        ]

    def top_rewards(
        self, program_id: str, start: datetime, end: datetime, limit: int
    ) -> list[RewardRedemptions]:
        n = sa.func.count()
        spent = sa.func.sum(_r.amount)
        return [
            RewardRedemptions(code, name, str(wallet), int(count), int(amount))
            for code, name, wallet, count, amount in self._conn.execute(
                sa.select(_w.code, _w.name, _r.wallet, n, spent)
                .select_from(t.redemptions.outerjoin(t.rewards, _w.id == _r.reward_id))
                .where(*self._redeemed(program_id, start, end))
                .group_by(_r.reward_id, _w.code, _w.name, _r.wallet)
                .order_by(n.desc(), spent.desc(), _w.code)
                .limit(limit)
            )
        ]

    def redeemer_sales(self, program_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        # The redeemers first (their index range of the window), then each one's purchases of
        # the window by ``(member_id, occurred_at)``: a read of the redeemers' purchases only.
        redeemers = (
            sa.select(_r.member_id)
            .where(*self._redeemed(program_id, start, end))
            .distinct()
            .subquery()
        )
        net, standing = _p.amount - _p.refunded, _p.refunded < _p.amount
        sales, orders = self._conn.execute(
            sa.select(_sum(net), sa.func.count().filter(standing))
            .select_from(redeemers)
            .join(t.purchases, _p.member_id == redeemers.c.member_id)
            .where(_p.program_id == program_id, _p.occurred_at >= start, _p.occurred_at < end)
        ).one()
        return int(sales), int(orders)

    def buckets(
        self, program_id: str, buckets: Sequence[Bucket], known_active: Sequence[int | None]
    ) -> BucketFigures:
        table = sa.union_all(
            *[
                sa.select(
                    sa.literal(i).label("i"),
                    sa.literal(b.start, UtcDateTime).label("s"),
                    sa.literal(b.end, UtcDateTime).label("e"),
                )
                for i, b in enumerate(buckets)
            ]
        ).subquery("buckets")
        within = [table.c.s, table.c.e]

        def inside(column: Any) -> Any:
            return sa.and_(column >= within[0], column < within[1])

        new = [0] * len(buckets)
        for i, n in self._conn.execute(
            sa.select(table.c.i, sa.func.count())
            .select_from(table)
            .join(
                t.members,
                sa.and_(_m.program_id == program_id, inside(_m.enrolled_at), _m.status != "erased"),
            )
            .group_by(table.c.i)
        ):
            new[int(i)] = int(n)
        active = [0 if n is None else n for n in known_active]
        unknown = [i for i, n in enumerate(known_active) if n is None]
        if not unknown:
            return BucketFigures(new, active)
        for i, n in self._conn.execute(
            sa.select(table.c.i, sa.func.count(sa.distinct(_p.member_id)))
            .select_from(table)
            .join(
                t.purchases,
                sa.and_(
                    _p.program_id == program_id, inside(_p.occurred_at), _p.member_id.is_not(None)
                ),
            )
            .where(table.c.i.in_(unknown))
            .group_by(table.c.i)
        ):
            active[int(i)] = int(n)
        return BucketFigures(new, active)

    def owed(self, program_id: str, since: datetime) -> dict[str, tuple[int, int]]:
        """Per wallet: what the balances hold now (available + pending), and the sum of the
        entries dated at or after ``since`` (so the first minus the second is what they held
        at ``since``, by the ledger's dates)."""
        now = {
            str(wallet): int(n)
            for wallet, n in self._conn.execute(
                sa.select(_b.wallet, _sum(_b.available + _b.pending))
                .where(_b.program_id == program_id)
                .group_by(_b.wallet)
            )
        }
        later = {
            str(wallet): int(n)
            for wallet, n in self._conn.execute(
                sa.select(_e.wallet, _sum(_e.amount))
                .where(
                    _e.program_id == program_id,
                    _e.type.in_(BALANCE_TYPES),
                    _e.occurred_at >= since,
                )
                .group_by(_e.wallet)
            )
        }
        return {w: (now.get(w, 0), later.get(w, 0)) for w in sorted({*now, *later})}
