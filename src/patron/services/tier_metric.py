"""The tier qualification metric of a member in a window (SPEC §4), net of refunds.

- ``spend``: the eligible amount of the member's purchases in the window, before rule category
  filters, minus what their refunds took off (``eligible_refunded``), whenever the refund came;
- ``points_earned``: points earned in the window (earns and referrals) net of refund clawbacks;
- ``purchases``: purchases in the window that are not fully refunded.

Windows are read in the program's time zone: ``calendar_year`` is the year holding ``now``,
``rolling_12_months`` the twelve months up to ``now``, ``lifetime`` everything. Status tiers
themselves (upgrades, grace, overrides) build on this.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from patron.domain.config import Tiers
from patron.domain.expiry import add_months
from patron.domain.programs import Program
from patron.services.ports import UnitOfWork


def window(tiers: Tiers, now: datetime, timezone: str) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the qualification window holding ``now``."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if tiers.period == "calendar_year":
        start = datetime(local.year, 1, 1, tzinfo=zone)
        return start, datetime(local.year + 1, 1, 1, tzinfo=zone)
    if tiers.period == "rolling_12_months":
        return add_months(local, -12), None
    return None, None


def previous_window(tiers: Tiers, now: datetime, timezone: str) -> tuple[datetime, datetime] | None:
    """The calendar year before the one holding ``now`` (None for other periods)."""
    if tiers.period != "calendar_year":
        return None
    zone = ZoneInfo(timezone)
    year = now.astimezone(zone).year
    return datetime(year - 1, 1, 1, tzinfo=zone), datetime(year, 1, 1, tzinfo=zone)


def metric(
    uow: UnitOfWork, program: Program, tiers: Tiers, member_id: str, now: datetime
) -> Decimal:
    """The member's metric in the window holding ``now`` (spend in the program currency)."""
    since, until = window(tiers, now, program.timezone)
    return metric_between(uow, program, tiers, member_id, since, until)


def metric_between(
    uow: UnitOfWork,
    program: Program,
    tiers: Tiers,
    member_id: str,
    since: datetime | None,
    until: datetime | None,
) -> Decimal:
    """The member's metric for ``since <= occurred_at < until``."""
    if tiers.metric == "points_earned":
        earned = uow.ledger.total(member_id, "points", ("earn", "referral", "refund"), since, until)
        return Decimal(earned)
    totals = uow.purchases.totals(member_id, since, until)
    if tiers.metric == "purchases":
        return Decimal(totals.standing)
    return Decimal(totals.eligible).scaleb(-program.currency_exponent)
