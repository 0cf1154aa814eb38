"""Buyer spans (migration 0031): each member's purchases over a span of whole past days.

The summary's per-member figures are read from a span's buyers (one row per member who bought
in it) instead of from the span's purchases (one row per purchase): over a year of a program with
100,000 members and 1,000,000 purchases, some 100,000 rows instead of 900,000, and no grouping.
The rest of a window (today, a partial first day) is read raw, per member, and merged with the
span's rows of the same members (``services/analytics_spans.py``).

Building a span must not miss a purchase that commits while its buyers are computed, and it
takes three steps, so that purchases are held back for a moment only, not for the computation:

1. ``open_span`` (its own transaction): on PostgreSQL, ``LOCK purchases IN SHARE ROW EXCLUSIVE
   MODE`` waits for the writers of purchases in flight to commit; then the span's row is written,
   not ready, with a fresh token, and committed (which releases the lock). From then on, a write
   of a purchase dated in the span deletes that row (the triggers of 0031), in its own
   transaction.
2. ``fill_span`` (one transaction): the span's row is marked ready, if it is still there with the
   token (an ``UPDATE``: a writer's delete that came first wins; one that comes after waits for
   this transaction's row lock and deletes the ready row when it commits). Then the buyers are
   computed and inserted by one ``INSERT ... SELECT``, which sees every purchase committed before
   it began, so every one before step 1 ended; any later one deletes the span.
3. Reads take a span's buyers only while its row is ready.

On SQLite writers are serialised: step 2 is a write transaction, and no purchase commits during
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from patron.adapters.db import tables as t
from patron.adapters.db.types import UtcDateTime
from patron.services.ports import Bucket, BuyerFigures, MemberPurchases

_s = t.analytics_spans.c
_sb = t.analytics_span_buyers.c
_p = t.purchases.c
CHUNK = 500
"""Members per lookup of their span rows."""


class SpanQueries:
    _conn: Connection

    def _days(self, first: Any, last: Any) -> Any:
        """Days between two timestamps, as a float expression of this dialect."""
        if self._conn.dialect.name == "sqlite":
            return sa.func.julianday(last) - sa.func.julianday(first)
        return sa.extract("epoch", last - first) / 86_400.0

    def _key(self, program_id: str, span: Bucket) -> list[Any]:
        return [_s.program_id == program_id, _s.span_start == span.start, _s.span_end == span.end]

    def _ready(self, program_id: str, span: Bucket, token: str) -> Any:
        return (
            sa.select(sa.literal(1))
            .where(*self._key(program_id, span), _s.token == token, _s.ready.is_(True))
            .exists()
        )

    def ready_span(
        self, program_id: str, start: datetime, end: datetime
    ) -> tuple[Bucket, str] | None:
        row = self._conn.execute(
            sa.select(_s.span_start, _s.span_end, _s.token)
            .where(
                _s.program_id == program_id,
                _s.span_start == start,
                _s.span_end <= end,
                _s.ready.is_(True),
            )
            .order_by(_s.span_end.desc())
            .limit(1)
        ).first()
        return None if row is None else (Bucket(row.span_start, row.span_end), str(row.token))

    def open_span(
        self, program_id: str, span: Bucket, token: str, now: datetime, purpose: str
    ) -> None:
        if self._conn.dialect.name == "postgresql":
            self._conn.exec_driver_sql("LOCK TABLE purchases IN SHARE ROW EXCLUSIVE MODE")
        self._conn.execute(sa.delete(t.analytics_spans).where(*self._key(program_id, span)))
        self._conn.execute(
            sa.insert(t.analytics_spans).values(
                program_id=program_id,
                span_start=span.start,
                span_end=span.end,
                purpose=purpose,
                ready=False,
                token=token,
                computed_at=now,
            )
        )

    def fill_span(self, program_id: str, span: Bucket, token: str) -> bool:
        marked = self._conn.execute(
            sa.update(t.analytics_spans)
            .where(*self._key(program_id, span), _s.token == token, _s.ready.is_(False))
            .values(ready=True)
        )
        if marked.rowcount != 1:
            return False
        self._conn.execute(
            sa.delete(t.analytics_span_buyers).where(
                _sb.program_id == program_id,
                _sb.span_start == span.start,
                _sb.span_end == span.end,
            )
        )
        if self._conn.dialect.name == "postgresql":
            # One group per buyer, about 170 bytes each (see SqlAnalyticsRepository.buyers).
            self._conn.exec_driver_sql("SET LOCAL work_mem = '32MB'")
        standing = _p.refunded < _p.amount
        orders = sa.func.count().filter(standing)
        first = sa.func.min(_p.occurred_at).filter(standing)
        last = sa.func.max(_p.occurred_at).filter(standing)
        self._conn.execute(
            sa.insert(t.analytics_span_buyers).from_select(
                [
                    "program_id",
                    "span_start",
                    "span_end",
                    "member_id",
                    "orders",
                    "first_at",
                    "last_at",
                    "latest_at",
                    "cycle_days",
                ],
                sa.select(
                    _p.program_id,
                    sa.literal(span.start, UtcDateTime),
                    sa.literal(span.end, UtcDateTime),
                    _p.member_id,
                    orders,
                    first,
                    last,
                    sa.func.max(_p.occurred_at),
                    sa.case((orders >= 2, self._days(first, last) / (orders - 1))),
                )
                .where(
                    _p.program_id == program_id,
                    _p.occurred_at >= span.start,
                    _p.occurred_at < span.end,
                    _p.member_id.is_not(None),
                )
                .group_by(_p.program_id, _p.member_id),
            )
        )
        # Counted, not the INSERT's row count, which not every driver reports for a SELECT.
        counted = (
            sa.select(sa.func.count())
            .where(
                _sb.program_id == program_id,
                _sb.span_start == span.start,
                _sb.span_end == span.end,
            )
            .scalar_subquery()
        )
        self._conn.execute(
            sa.update(t.analytics_spans).where(*self._key(program_id, span)).values(buyers=counted)
        )
        if self._conn.dialect.name == "postgresql":
            # Fresh statistics, or the planner takes a span just built for one row and reads a
            # member's row by scanning the whole span (a warning, not an error, for a role
            # that does not own the table).
            self._conn.exec_driver_sql("ANALYZE analytics_span_buyers")
        return True

    def prune_spans(
        self, program_id: str, windows_before: datetime, ended_before: datetime
    ) -> None:
        self._conn.execute(
            sa.delete(t.analytics_spans).where(
                _s.program_id == program_id,
                sa.or_(
                    sa.and_(_s.purpose == "window", _s.computed_at < windows_before),
                    _s.span_end < ended_before,
                ),
            )
        )
        kept = sa.select(sa.literal(1)).where(
            _s.program_id == _sb.program_id,
            _s.span_start == _sb.span_start,
            _s.span_end == _sb.span_end,
        )
        self._conn.execute(
            sa.delete(t.analytics_span_buyers).where(_sb.program_id == program_id, ~kept.exists())
        )

    def window_spans(self, program_id: str, since: datetime) -> list[Bucket]:
        return [
            Bucket(start, end)
            for start, end in self._conn.execute(
                sa.select(_s.span_start, _s.span_end).where(
                    _s.program_id == program_id,
                    _s.purpose == "window",
                    _s.computed_at >= since,
                )
            )
        ]

    def span_buyer_counts(self, program_id: str, spans: Sequence[Bucket]) -> dict[Bucket, int]:
        if not spans:
            return {}
        return {
            Bucket(start, end): int(n)
            for start, end, n in self._conn.execute(
                sa.select(_s.span_start, _s.span_end, _s.buyers).where(
                    _s.program_id == program_id,
                    _s.ready.is_(True),
                    sa.or_(
                        *[sa.and_(_s.span_start == b.start, _s.span_end == b.end) for b in spans]
                    ),
                )
            )
        }

    def span_figures(
        self, program_id: str, span: Bucket, token: str, active_since: datetime
    ) -> BuyerFigures | None:
        n = _sb.orders
        ready, buyers, repeat, orders, cycle, active = self._conn.execute(
            sa.select(
                self._ready(program_id, span, token),
                sa.func.count().filter(n >= 1),
                sa.func.count().filter(n >= 2),
                sa.func.coalesce(sa.func.sum(n), 0),
                sa.func.coalesce(sa.func.sum(_sb.cycle_days), 0),
                sa.func.count().filter(_sb.latest_at >= active_since),
            ).where(
                _sb.program_id == program_id,
                _sb.span_start == span.start,
                _sb.span_end == span.end,
            )
        ).one()
        if not ready:
            return None
        return BuyerFigures(int(buyers), int(repeat), int(orders), float(cycle), int(active))

    def gap_buyers(
        self, program_id: str, span: Bucket, token: str, gaps: Sequence[Bucket]
    ) -> list[tuple[MemberPurchases, MemberPurchases | None]] | None:
        """Each member who bought in ``gaps``: their purchases there, and in the span; None
        when the span (with that token) is no longer ready."""
        if not gaps:
            return []
        standing = _p.refunded < _p.amount
        raw = (
            sa.select(
                _p.member_id,
                sa.func.count().filter(standing).label("n"),
                sa.func.min(_p.occurred_at).filter(standing).label("first"),
                sa.func.max(_p.occurred_at).filter(standing).label("last"),
                sa.func.max(_p.occurred_at).label("latest"),
            )
            .where(
                _p.program_id == program_id,
                _p.member_id.is_not(None),
                sa.or_(*[sa.and_(_p.occurred_at >= g.start, _p.occurred_at < g.end) for g in gaps]),
            )
            .group_by(_p.member_id)
            .subquery("gap")
        )
        # Two statements, each checking the span is still ready with its token (a rebuild
        # changes the token, so both read the same buyers): the gap's members, then their rows
        # in the span by primary key (a join would hash the whole span when the planner has
        # no statistics of a span just built).
        ready = self._ready(program_id, span, token)
        gap = self._conn.execute(sa.select(ready, raw)).all()
        if not gap:
            return []
        if not gap[0][0]:
            return None
        before: dict[str, MemberPurchases] = {}
        members = [str(row.member_id) for row in gap]
        for first in range(0, len(members), CHUNK):
            rows = self._conn.execute(
                sa.select(
                    ready, _sb.member_id, _sb.orders, _sb.first_at, _sb.last_at, _sb.latest_at
                ).where(
                    _sb.program_id == program_id,
                    _sb.span_start == span.start,
                    _sb.span_end == span.end,
                    _sb.member_id.in_(members[first : first + CHUNK]),
                )
            ).all()
            if rows and not rows[0][0]:
                return None
            for _, member, n, first_at, last_at, latest_at in rows:
                before[str(member)] = MemberPurchases(
                    str(member), int(n), first_at, last_at, latest_at
                )
        found: list[tuple[MemberPurchases, MemberPurchases | None]] = [
            (
                MemberPurchases(str(row.member_id), int(row.n), row.first, row.last, row.latest),
                before.get(str(row.member_id)),
            )
            for row in gap
        ]
        return found
