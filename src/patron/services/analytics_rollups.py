"""Daily roll-ups: the summary's and the series' additive figures, read per whole past day.

Every figure that is a sum over a window's rows is a sum over its days: the ledger flows (per
entry type and wallet, credits and debits), net sales and orders not refunded in full (of
members and of non-members), and so the lifetime sales of members before the window's end and
the series' movements per bucket. A day is a calendar day of the program's time zone. Once a
day is over, the scheduled jobs (``services/jobs.py``) and the dashboard (before it reads, when
days are missing: a fresh install, a first read) roll it up: its figures are computed from the
raw rows and stored (migration 0028). A read of a window then takes the rolled-up days inside
it and reads the raw rows only of the rest (``split``): the partial first and last days of a
window that does not start or end at a local midnight, today, and any day not rolled up (yet,
or again).

Exactness. The figures of a rolled-up day are the raw rows' figures at the time it was rolled
up; what could change them afterwards is a write dated in that day: an entry or a purchase
with an ``occurred_at`` in the past (imports, back-dated purchases and events), a refund of
one of its purchases, an erasure or a correction that touches its purchases. Such a write
deletes the day's roll-up in its own transaction (database triggers, so no write path can
forget it), and the day is read raw until it is rolled up again; the roll-up itself holds such
writes back while it computes (``adapters/db/analytics_rollups.py``). Figures are integers, so
a sum of days is the raw sum exactly; the tests compare them on random data.

What is not a sum of days is read raw, in one pass: buyers, repeat buyers and the purchase cycle
(per member), the active members, members and tiers (the members table), the series' active
members per bucket, and "now" figures (balances).

A day is known by its bounds in UTC: if the program's time zone changes, the stored days no
longer fall on its midnights and are ignored (read raw) until rolled up in the new zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from patron.domain.programs import Program
from patron.services.ports import Bucket, DayFigures, Movements, UnitOfWork

BEGINNING = datetime(1, 1, 1, tzinfo=UTC)
"""The lower bound of "every purchase before the window's end"."""


@dataclass(frozen=True, slots=True)
class Split:
    """A window as rolled-up days and raw ranges, which tile it without overlap."""

    days: list[DayFigures]
    gaps: list[Bucket]


def _midnight(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def local_days(start: datetime, end: datetime, timezone: str) -> list[Bucket]:
    """The whole days of ``timezone`` inside ``[start, end)``."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    found: list[Bucket] = []
    while True:
        begin = _midnight(day, zone)
        day += timedelta(days=1)
        finish = _midnight(day, zone)
        if finish > end:
            return found
        if begin >= start:
            found.append(Bucket(begin, finish))


def is_local_day(day: Bucket, timezone: str) -> bool:
    """Whether ``day`` is a whole calendar day of ``timezone``."""
    return local_days(day.start, day.end, timezone) == [day]


def split(
    uow: UnitOfWork, program: Program, start: datetime, end: datetime, *, flows: bool = True
) -> Split:
    """``[start, end)`` as its rolled-up days and the raw ranges between them (the days'
    flows left out when not asked for: the sales figures read a day's row alone)."""
    days = [
        d
        for d in uow.analytics.rolled_days(program.id, start, end, flows=flows)
        if d.day.end <= end and is_local_day(d.day, program.timezone)
    ]
    gaps = []
    at = start
    for d in days:
        if d.day.start > at:
            gaps.append(Bucket(at, d.day.start))
        at = d.day.end
    if at < end:
        gaps.append(Bucket(at, end))
    return Split(days, gaps)


def add(total: Movements, more: Movements) -> None:
    for key, (up, down) in more.items():
        was = total.get(key, (0, 0))
        total[key] = (was[0] + up, was[1] + down)


def movements(uow: UnitOfWork, program: Program, start: datetime, end: datetime) -> Movements:
    """The ledger movements of ``[start, end)`` by (type, wallet)."""
    parts = split(uow, program, start, end)
    total: Movements = {}
    for d in parts.days:
        add(total, d.flows)
    for raw in uow.analytics.range_flows(program.id, parts.gaps):
        add(total, raw)
    return total


def bucket_movements(uow: UnitOfWork, program: Program, tiles: list[Bucket]) -> list[Movements]:
    """The ledger movements of each bucket (buckets tile a window; each of their bounds is a
    local midnight or the window's)."""
    if not tiles:
        return []
    parts = split(uow, program, tiles[0].start, tiles[-1].end)
    found: list[Movements] = [{} for _ in tiles]

    def tile_of(moment: datetime) -> int:
        return next(i for i, tile in enumerate(tiles) if tile.start <= moment < tile.end)

    for d in parts.days:
        add(found[tile_of(d.day.start)], d.flows)
    pieces: list[tuple[int, Bucket]] = []
    for gap in parts.gaps:
        for i, tile in enumerate(tiles):
            lo, hi = max(gap.start, tile.start), min(gap.end, tile.end)
            if lo < hi:
                pieces.append((i, Bucket(lo, hi)))
    for (i, _), raw in zip(
        pieces, uow.analytics.range_flows(program.id, [p for _, p in pieces]), strict=True
    ):
        add(found[i], raw)
    return found


@dataclass(frozen=True, slots=True)
class Sales:
    member_sales: int
    member_orders: int
    anonymous_sales: int
    anonymous_orders: int
    lifetime_member_sales: int  # every member purchase before the window's end


def sales(uow: UnitOfWork, program: Program, start: datetime, end: datetime) -> Sales:
    """The window's sales and orders, and the members' sales of all time before its end."""
    window = _sums(uow, program, start, end)
    before = _sums(uow, program, BEGINNING, start)
    return Sales(*window, lifetime_member_sales=before[0] + window[0])


def _sums(
    uow: UnitOfWork, program: Program, start: datetime, end: datetime
) -> tuple[int, int, int, int]:
    parts = split(uow, program, start, end, flows=False)
    found = [
        (d.member_sales, d.member_orders, d.anonymous_sales, d.anonymous_orders) for d in parts.days
    ]
    found += uow.analytics.range_sales(program.id, parts.gaps)
    a, b, c, d = (sum(column) for column in zip(*found, strict=True)) if found else (0, 0, 0, 0)
    return a, b, c, d


def roll_up(uow: UnitOfWork, program: Program, now: datetime) -> int:
    """Roll up every past day of the program not rolled up yet (from its earliest purchase or
    entry to yesterday, in its time zone); the number of days written. Run in a write
    transaction: the job's, or the dashboard's before it reads."""
    earliest = uow.analytics.earliest(program.id)
    if earliest is None:
        return 0
    zone = ZoneInfo(program.timezone)
    today = _midnight(
        now.astimezone(zone).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0),
        zone,
    )
    first = _midnight(
        earliest.astimezone(zone).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0),
        zone,
    )
    days = local_days(first, today, program.timezone)
    have = set(uow.analytics.rolled_bounds(program.id, first, today))
    missing = [d for d in days if d not in have]
    if not missing:
        return 0
    # Held back from here: the writes of purchases and entries, and any other roll-up. What
    # another roll-up stored while this one waited is not rolled up twice.
    uow.analytics.lock_sources()
    have = set(uow.analytics.rolled_bounds(program.id, first, today))
    missing = [d for d in missing if d not in have]
    if not missing:
        return 0
    numbers = uow.analytics.range_sales(program.id, missing)
    flows = uow.analytics.range_flows(program.id, missing)
    uow.analytics.store_days(
        program.id,
        [
            DayFigures(day, *figures, moved)
            for day, figures, moved in zip(missing, numbers, flows, strict=True)
        ],
    )
    return len(missing)
