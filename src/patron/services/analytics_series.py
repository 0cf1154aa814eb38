"""The analytics figures over time buckets, for the dashboard's charts (SPEC §9).

Buckets are days, weeks (from Monday) or months of the program's time zone: each begins at a
local midnight. The first and the last are cut to the window ``[from, to)``, so the buckets
tile the window exactly and their flows add up to the summary's for the same window.

Per bucket, from three queries whatever the number of buckets (``adapters/db/
analytics_insight.py``): the points issued, redeemed and expired (the summary's definitions,
read from the bucket's ledger entries), the members enrolled, the members with a purchase, and
the liability at the bucket's end. The liability is what the balances hold now, less every entry
dated at or after that end: the ledger's cumulative sum up to the end, without a pass over all
history. For a window ending now it ends at the summary's ``liability`` (which is "now").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, cast, get_args
from zoneinfo import ZoneInfo

from patron.domain.config import ProgramConfig
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.expiry import add_months
from patron.domain.programs import Program
from patron.domain.timestamps import rfc3339
from patron.services import analytics_spans
from patron.services.analytics_insight import shown, worth
from patron.services.analytics_rollups import bucket_movements
from patron.services.ports import Bucket, UnitOfWork

BucketSize = Literal["day", "week", "month"]
BUCKETS: tuple[str, ...] = get_args(BucketSize)
MAX_BUCKETS = 400
"""More would be no chart anyone reads (and SQLite caps a compound SELECT at 500 terms)."""


def bucket_for(start: datetime, end: datetime) -> BucketSize:
    """The bucket size a period is charted in: up to 31 days by day, up to six months (184
    days) by week, longer by month."""
    length = end - start
    if length <= timedelta(days=31):
        return "day"
    if length <= timedelta(days=184):
        return "week"
    return "month"


def _floor(local: datetime, size: BucketSize) -> datetime:
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if size == "week":
        return day - timedelta(days=day.weekday())
    if size == "month":
        return day.replace(day=1)
    return day


def _next(local: datetime, size: BucketSize) -> datetime:
    if size == "day":
        return local + timedelta(days=1)
    if size == "week":
        return local + timedelta(days=7)
    return add_months(local, 1)


def buckets(start: datetime, end: datetime, size: str, timezone: str) -> list[Bucket]:
    """The buckets tiling ``[start, end)``. Raises ValidationFailed for an unknown size or more
    than ``MAX_BUCKETS`` buckets."""
    if size not in BUCKETS:
        raise ValidationFailed([FieldError("bucket", f"one of {', '.join(BUCKETS)}")])
    kind = cast(BucketSize, size)
    zone = ZoneInfo(timezone)
    local = _floor(start.astimezone(zone).replace(tzinfo=None), kind)
    found: list[Bucket] = []
    begin = start
    while begin < end:
        local = _next(local, kind)
        # Local midnight to UTC: ``fold=0`` takes the first of a repeated hour.
        at = min(local.replace(tzinfo=zone).astimezone(UTC), end)
        if at > begin:
            found.append(Bucket(begin, at))
            begin = at
        if len(found) > MAX_BUCKETS:
            raise ValidationFailed(
                [FieldError("bucket", f"more than {MAX_BUCKETS} {size}s: choose a longer bucket")]
            )
    return found


def series(
    uow: UnitOfWork,
    program: Program,
    config: ProgramConfig,
    start: datetime,
    end: datetime,
    bucket: str | None = None,
) -> dict[str, Any]:
    size = bucket or bucket_for(start, end)
    tiles = buckets(start, end, size, program.timezone)
    figures = uow.analytics.buckets(
        program.id, tiles, analytics_spans.bucket_active(uow, program, tiles)
    )
    moves = bucket_movements(uow, program, tiles)
    owed = uow.analytics.owed(program.id, end)
    exponent = program.currency_exponent
    # What each wallet held at the window's end, then stepping back one bucket at a time.
    held = {code: owed.get(code, (0, 0))[0] - owed.get(code, (0, 0))[1] for code in config.wallets}
    ends: list[dict[str, int]] = [{} for _ in tiles]
    for i in reversed(range(len(tiles))):
        ends[i] = dict(held)
        for (_, wallet), (up, down) in moves[i].items():
            if wallet in held:
                held[wallet] -= up + down
    points = config.wallets.get("points")
    rows = []
    for i, tile in enumerate(tiles):
        moved = moves[i]
        credit = {kind: moved[kind, wallet][0] for kind, wallet in moved if wallet == "points"}
        debit = {kind: -moved[kind, wallet][1] for kind, wallet in moved if wallet == "points"}

        liability = sum(
            (worth(wallet, ends[i][code], exponent) for code, wallet in config.wallets.items()),
            Decimal(0),
        )
        show = shown(points, exponent) if points else int
        rows.append(
            {
                "start": rfc3339(tile.start),
                "end": rfc3339(tile.end),
                "points_issued": show(
                    sum(credit.get(kind, 0) for kind in ("earn", "referral", "adjust"))
                ),
                "points_redeemed": show(
                    debit.get("redeem", 0) - credit.get("redemption_cancel", 0)
                ),
                "points_expired": show(debit.get("expire", 0)),
                "points_owed": show(ends[i].get("points", 0)),
                "members_new": figures.new_members[i],
                "members_active": figures.active_members[i],
                "liability": str(liability.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_UP)),
            }
        )
    return {
        "from": rfc3339(start),
        "to": rfc3339(end),
        "bucket": size,
        "timezone": program.timezone,
        "currency": program.currency,
        "buckets": rows,
    }
