"""The daily roll-ups behind the dashboard (migration 0028): read, computed, stored.

A rolled-up day is a row of ``analytics_days`` (its sales figures) and its rows of
``analytics_day_flows`` (its ledger movements per type and wallet). The database keeps them
true: a write that can change a day's figures deletes the day's ``analytics_days`` row in the
writer's transaction (triggers of migration 0028), and a day's flows count only while its day
row exists (``rolled_days`` reads them joined, in one statement, so a day is read whole or not
at all).

Computing a day and storing it must not miss a write that commits in between: on PostgreSQL
``lock_sources`` takes ``SHARE ROW EXCLUSIVE`` locks on ``purchases`` and ``ledger_entries``
before the days are computed, which waits for the writers in flight and holds new ones until
the roll-up commits (they then delete any day they change, now that its row is visible); the
mode conflicts with itself, so two roll-ups (two dashboards opened at once) take turns rather
than store the same day twice. On SQLite the roll-up is a write transaction, and writers are
serialised already.

The raw figures of any ranges (``range_sales``, ``range_flows``) are one query each for up to
``CHUNK`` ranges: a small table of ranges joined with each range of the index, as the series'
buckets are read (``analytics_insight.py``).
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
from patron.services.ports import Bucket, DayFigures, Movements

_d = t.analytics_days.c
_f = t.analytics_day_flows.c
_p = t.purchases.c
_e = t.ledger_entries.c

ROLLED_TYPES = tuple(sorted(kind for kind in ENTRY_TYPES if kind != "release"))
"""The entry types a day's flows keep: every one but a release (which only moves pending points
to available), as the series reads them; the summary's flows are among them."""
CHUNK = 300
"""Ranges per query: SQLite caps a compound SELECT at 500 terms."""


def _sum(column: Any, *conditions: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(column).filter(*conditions), 0)


def _table(ranges: Sequence[Bucket]) -> Any:
    return sa.union_all(
        *[
            sa.select(
                sa.literal(i).label("i"),
                sa.literal(b.start, UtcDateTime).label("s"),
                sa.literal(b.end, UtcDateTime).label("e"),
            )
            for i, b in enumerate(ranges)
        ]
    ).subquery("ranges")


class RollupQueries:
    _conn: Connection

    def rolled_days(
        self, program_id: str, start: datetime, end: datetime, *, flows: bool = True
    ) -> list[DayFigures]:
        columns = [
            _d.day_start,
            _d.day_end,
            _d.member_sales,
            _d.member_orders,
            _d.anonymous_sales,
            _d.anonymous_orders,
        ]
        source: Any = t.analytics_days
        if flows:
            columns += [_f.type, _f.wallet, _f.credit, _f.debit]
            source = source.outerjoin(
                t.analytics_day_flows,
                sa.and_(_f.program_id == _d.program_id, _f.day_start == _d.day_start),
            )
        rows = self._conn.execute(
            sa.select(*columns)
            .select_from(source)
            .where(_d.program_id == program_id, _d.day_start >= start, _d.day_start < end)
            .order_by(_d.day_start)
        )
        days: dict[datetime, DayFigures] = {}
        for row in rows:
            day = days.get(row.day_start)
            if day is None:
                day = days[row.day_start] = DayFigures(
                    Bucket(row.day_start, row.day_end),
                    int(row.member_sales),
                    int(row.member_orders),
                    int(row.anonymous_sales),
                    int(row.anonymous_orders),
                    {},
                )
            if flows and row.type is not None:
                day.flows[str(row.type), str(row.wallet)] = (int(row.credit), int(row.debit))
        return list(days.values())

    def range_sales(
        self, program_id: str, ranges: Sequence[Bucket]
    ) -> list[tuple[int, int, int, int]]:
        """Per range: member sales and orders, non-member sales and orders (net of refunds;
        orders not refunded in full)."""
        found = [(0, 0, 0, 0)] * len(ranges)
        for first in range(0, len(ranges), CHUNK):
            part = ranges[first : first + CHUNK]
            table = _table(part)
            net, standing = _p.amount - _p.refunded, _p.refunded < _p.amount
            member, anonymous = _p.member_id.is_not(None), _p.member_id.is_(None)
            for i, *figures in self._conn.execute(
                sa.select(
                    table.c.i,
                    _sum(net, member),
                    sa.func.count().filter(member, standing),
                    _sum(net, anonymous),
                    sa.func.count().filter(anonymous, standing),
                )
                .select_from(table)
                .join(
                    t.purchases,
                    sa.and_(
                        _p.program_id == program_id,
                        _p.occurred_at >= table.c.s,
                        _p.occurred_at < table.c.e,
                    ),
                )
                .group_by(table.c.i)
            ):
                a, b, c, d = (int(n) for n in figures)
                found[first + int(i)] = (a, b, c, d)
        return found

    def range_flows(self, program_id: str, ranges: Sequence[Bucket]) -> list[Movements]:
        """Per range: the ledger movements by (type, wallet) as (credits, debits)."""
        found: list[Movements] = [{} for _ in ranges]
        for first in range(0, len(ranges), CHUNK):
            part = ranges[first : first + CHUNK]
            table = _table(part)
            for i, kind, wallet, up, down in self._conn.execute(
                sa.select(
                    table.c.i,
                    _e.type,
                    _e.wallet,
                    _sum(_e.amount, _e.amount > 0),
                    _sum(_e.amount, _e.amount < 0),
                )
                .select_from(table)
                .join(
                    t.ledger_entries,
                    sa.and_(
                        _e.program_id == program_id,
                        _e.type.in_(ROLLED_TYPES),
                        _e.occurred_at >= table.c.s,
                        _e.occurred_at < table.c.e,
                    ),
                )
                .group_by(table.c.i, _e.type, _e.wallet)
            ):
                found[first + int(i)][str(kind), str(wallet)] = (int(up), int(down))
        return found

    def earliest(self, program_id: str) -> datetime | None:
        # Entries by type: each is the first row of a range of ``(program_id, type,
        # occurred_at, ...)``, where a MIN over every type would read the whole index range.
        firsts = [
            sa.select(sa.func.min(_p.occurred_at)).where(_p.program_id == program_id),
            *(
                sa.select(sa.func.min(_e.occurred_at)).where(
                    _e.program_id == program_id, _e.type == kind
                )
                for kind in sorted(ENTRY_TYPES)
            ),
        ]
        found = self._conn.execute(sa.select(*(f.scalar_subquery() for f in firsts))).one()
        known = [UtcDateTime().process_result_value(f, self._conn.dialect) for f in found]
        return min((f for f in known if f is not None), default=None)

    def rolled_bounds(self, program_id: str, start: datetime, end: datetime) -> list[Bucket]:
        return [
            Bucket(s, e)
            for s, e in self._conn.execute(
                sa.select(_d.day_start, _d.day_end).where(
                    _d.program_id == program_id, _d.day_start >= start, _d.day_start < end
                )
            )
        ]

    def lock_sources(self) -> None:
        if self._conn.dialect.name == "postgresql":
            self._conn.exec_driver_sql(
                "LOCK TABLE purchases, ledger_entries IN SHARE ROW EXCLUSIVE MODE"
            )

    def store_days(self, program_id: str, days: Sequence[DayFigures]) -> None:
        if not days:
            return
        starts = [d.day.start for d in days]
        for first in range(0, len(starts), CHUNK):
            part = starts[first : first + CHUNK]
            for table in (t.analytics_day_flows, t.analytics_days):
                self._conn.execute(
                    sa.delete(table).where(
                        table.c.program_id == program_id, table.c.day_start.in_(part)
                    )
                )
        self._conn.execute(
            sa.insert(t.analytics_days),
            [
                {
                    "program_id": program_id,
                    "day_start": d.day.start,
                    "day_end": d.day.end,
                    "member_sales": d.member_sales,
                    "member_orders": d.member_orders,
                    "anonymous_sales": d.anonymous_sales,
                    "anonymous_orders": d.anonymous_orders,
                }
                for d in days
            ],
        )
        flows = [
            {
                "program_id": program_id,
                "day_start": d.day.start,
                "type": kind,
                "wallet": wallet,
                "credit": up,
                "debit": down,
            }
            for d in days
            for (kind, wallet), (up, down) in d.flows.items()
        ]
        if flows:
            self._conn.execute(sa.insert(t.analytics_day_flows), flows)
