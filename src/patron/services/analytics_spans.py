"""Buyer spans: the summary's per-member figures over a long window without a pass over all its
purchases.

Buyers, repeat buyers, the purchase cycle and the active members are per-member figures: a
member who bought in March and in May is one buyer and one repeat buyer of the two months, not
two buyers, so they are not sums of days and the daily roll-ups (``analytics_rollups``) cannot
serve them. A *span* is a run of whole past days of the program's time zone for which each
member's purchases are kept, one row per buyer (``adapters/db/analytics_spans.py``, migration
0031): the orders not refunded in full, the first and the last of them, and the latest purchase
of any kind.

A window's figures are then the span's figures, corrected for the members who also bought in
the rest of the window (today, a partial first day): for each of them, what they add once
their purchases there are merged with their purchases in the span. The correction reads only
the rest of the window, so a year's figures cost a pass over its buyers (one row each, no
grouping), not over its purchases.

Spans are used for windows of ``SPAN_MIN_DAYS`` or more that hold the active days (the active
members are those with a purchase in the last 90 days of the window); shorter windows are read
raw, which is fast enough. The dashboard builds the spans of the windows it shows when they are
missing, before it reads (the first view of a day pays for it, some seconds at a million
purchases); the API's summary and ``patron report`` use the spans they find. A span is exact
while it is ready: a purchase written in it later (back-dated, refunded, erased) deletes it in
its own transaction, and the window is read raw until the span is built again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from patron.domain.programs import Program
from patron.services.ports import (
    Bucket,
    BuyerFigures,
    MemberPurchases,
    UnitOfWork,
    UnitOfWorkFactory,
)
from patron.services.transactions import run_in_transaction, run_read

SPAN_MIN_DAYS = 60
BUCKET_MIN_DAYS = 28
KEEP = timedelta(days=2)
"""Window spans computed longer ago than this are forgotten when another span is built (a
window ending today moves every day)."""
KEEP_BUCKETS = timedelta(days=800)
"""Spans that ended longer ago than this are forgotten too (a past month's span stays true
until a purchase is written in it)."""


def _midnight_after(moment: datetime, timezone: str) -> datetime:
    """The first local midnight at or after ``moment``."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone).replace(tzinfo=None)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    at = day.replace(tzinfo=zone).astimezone(UTC)
    if at < moment:
        at = (day + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
    return at


def _midnight_before(moment: datetime, timezone: str) -> datetime:
    """The last local midnight at or before ``moment``."""
    zone = ZoneInfo(timezone)
    day = moment.astimezone(zone).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    at = day.replace(tzinfo=zone).astimezone(UTC)
    if at > moment:  # a midnight that a clock change skipped
        at = (day - timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
    return at


def span_for(program: Program, start: datetime, end: datetime, now: datetime) -> Bucket | None:
    """The span a window's buyers are read from: its whole local days before today's; None for
    a window too short to need one."""
    first = _midnight_after(start, program.timezone)
    last = min(_midnight_before(end, program.timezone), _midnight_before(now, program.timezone))
    if last - first < timedelta(days=SPAN_MIN_DAYS):
        return None
    return Bucket(first, last)


def build(
    uow_factory: UnitOfWorkFactory, program: Program, start: datetime, end: datetime, now: datetime
) -> bool:
    """Build the span of ``[start, end)`` unless it is ready; whether one was built."""
    span = span_for(program, start, end, now)
    return span is not None and _build(uow_factory, program, span, now, "window")


def _build(
    uow_factory: UnitOfWorkFactory, program: Program, span: Bucket, now: datetime, purpose: str
) -> bool:
    """Two transactions (``adapters/db/analytics_spans.py`` says why): neither holds writers
    back for longer than the writes in flight take to commit."""
    ready = run_read(
        uow_factory, lambda uow: uow.analytics.ready_span(program.id, span.start, span.end)
    )
    if ready is not None and ready[0] == span:
        return False
    token = secrets.token_hex(16)
    run_in_transaction(
        uow_factory, lambda uow: uow.analytics.open_span(program.id, span, token, now, purpose)
    )

    def fill(uow: UnitOfWork) -> bool:
        uow.analytics.prune_spans(program.id, now - KEEP, now - KEEP_BUCKETS)
        return uow.analytics.fill_span(program.id, span, token)

    return run_in_transaction(uow_factory, fill)


def _days_later(moment: datetime, days: int, timezone: str) -> datetime:
    """The local midnight ``days`` calendar days after the local midnight ``moment``."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return _midnight_before(local.replace(tzinfo=zone).astimezone(UTC), timezone)


def roll_forward(uow_factory: UnitOfWorkFactory, program: Program, now: datetime) -> int:
    """Build today's spans of the windows the dashboard showed lately, before anyone asks (the
    scheduled jobs, after midnight): the spans that ended last, and the ones that end where
    those begin (their previous periods), moved forward to end at today's midnight; how many
    were built."""
    recent = run_read(uow_factory, lambda uow: uow.analytics.window_spans(program.id, now - KEEP))
    if not recent:
        return 0
    today = _midnight_before(now, program.timezone)
    last = max(span.end for span in recent)
    days = round((today - last) / timedelta(days=1))
    if days <= 0:
        return 0
    latest = [span for span in recent if span.end == last]
    starts = {span.start for span in latest}
    wanted = latest + [span for span in recent if span.end in starts]
    built = 0
    for span in wanted:
        moved = Bucket(
            _days_later(span.start, days, program.timezone),
            _days_later(span.end, days, program.timezone),
        )
        built += _build(uow_factory, program, moved, now, "window")
    return built


def bucket_spans(program: Program, tiles: list[Bucket], now: datetime) -> list[Bucket]:
    """The buckets of a chart whose active members a span serves: months (or longer) of whole
    past local days."""
    today = _midnight_before(now, program.timezone)
    return [
        tile
        for tile in tiles
        if tile.end - tile.start >= timedelta(days=BUCKET_MIN_DAYS)
        and tile.end <= today
        and tile.start == _midnight_after(tile.start, program.timezone)
        and tile.end == _midnight_before(tile.end, program.timezone)
    ]


def build_buckets(
    uow_factory: UnitOfWorkFactory, program: Program, tiles: list[Bucket], now: datetime
) -> int:
    """Build the spans of a chart's past month buckets that are not ready; how many."""
    wanted = bucket_spans(program, tiles, now)
    ready = run_read(uow_factory, lambda uow: uow.analytics.span_buyer_counts(program.id, wanted))
    return sum(
        _build(uow_factory, program, tile, now, "bucket") for tile in wanted if tile not in ready
    )


def bucket_active(uow: UnitOfWork, program: Program, tiles: list[Bucket]) -> list[int | None]:
    """Per bucket, its active members when a ready span is the bucket (its buyers are the
    members with a purchase in it), else None."""
    counts = uow.analytics.span_buyer_counts(program.id, tiles)
    return [counts.get(tile) for tile in tiles]


@dataclass(frozen=True, slots=True)
class _Share:
    """What one member adds to the figures."""

    buyers: int
    repeat: int
    orders: int
    cycle: float
    active: int


def _share(member: MemberPurchases | None, active_since: datetime) -> _Share:
    if member is None:
        return _Share(0, 0, 0, 0.0, 0)
    cycle = 0.0
    if member.orders >= 2 and member.first_at and member.last_at:
        cycle = (member.last_at - member.first_at).total_seconds() / 86_400 / (member.orders - 1)
    return _Share(
        buyers=int(member.orders >= 1),
        repeat=int(member.orders >= 2),
        orders=member.orders,
        cycle=cycle,
        active=int(member.latest_at >= active_since),
    )


def _merged(more: MemberPurchases, before: MemberPurchases | None) -> MemberPurchases:
    if before is None:
        return more
    firsts = [at for at in (more.first_at, before.first_at) if at is not None]
    lasts = [at for at in (more.last_at, before.last_at) if at is not None]
    return MemberPurchases(
        more.member_id,
        more.orders + before.orders,
        min(firsts, default=None),
        max(lasts, default=None),
        max(more.latest_at, before.latest_at),
    )


def _from_span(
    uow: UnitOfWork, program: Program, start: datetime, end: datetime, active_since: datetime
) -> BuyerFigures | None:
    if active_since < start:
        return None
    ready = uow.analytics.ready_span(program.id, _midnight_after(start, program.timezone), end)
    if ready is None:
        return None
    span, token = ready
    base = uow.analytics.span_figures(program.id, span, token, active_since)
    gaps = [g for g in (Bucket(start, span.start), Bucket(span.end, end)) if g.start < g.end]
    pairs = uow.analytics.gap_buyers(program.id, span, token, gaps)
    if base is None or pairs is None:  # invalidated in between: read raw
        return None
    buyers, repeat, orders, cycle, active = (
        base.buyers,
        base.repeat_buyers,
        base.member_orders,
        base.cycle_days_total,
        base.active_members,
    )
    for more, before in pairs:
        now, was = _share(_merged(more, before), active_since), _share(before, active_since)
        buyers += now.buyers - was.buyers
        repeat += now.repeat - was.repeat
        orders += now.orders - was.orders
        cycle += now.cycle - was.cycle
        active += now.active - was.active
    return BuyerFigures(buyers, repeat, orders, cycle, active)


def buyer_figures(
    uow: UnitOfWork, program: Program, start: datetime, end: datetime, active_since: datetime
) -> BuyerFigures:
    """The per-member figures of ``[start, end)``: from a ready span and the rest of the window
    when there is one, else from the window's purchases."""
    found = _from_span(uow, program, start, end, active_since)
    if found is not None:
        return found
    return uow.analytics.buyers(program.id, start, end, active_since)
