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

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from patron.domain.config import Tiers
from patron.domain.expiry import add_months
from patron.domain.programs import Program
from patron.services.ports import StoredPurchase, UnitOfWork


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
    bought = net_purchases(uow, member_id, since, until)
    if tiers.metric == "purchases":
        return Decimal(sum(1 for p in bought if p.standing))
    minor = sum(p.eligible_left for p in bought)
    return Decimal(minor).scaleb(-program.currency_exponent)


@dataclass(frozen=True, slots=True)
class NetPurchase:
    """A purchase with what its refunds left of its eligible amount (minor units)."""

    purchase: StoredPurchase
    eligible_left: int

    @property
    def standing(self) -> bool:
        """Not fully refunded."""
        return self.purchase.eligible_amount == 0 or self.eligible_left > 0


def net_purchases(
    uow: UnitOfWork, member_id: str, since: datetime | None, until: datetime | None
) -> list[NetPurchase]:
    """The member's purchases in ``[since, until)``, net of all their refunds."""
    return [
        NetPurchase(
            purchase,
            purchase.eligible_amount
            - sum(r.result["eligible_refunded"] for r in uow.purchases.refunds_of(purchase.id)),
        )
        for purchase in uow.purchases.of_member(member_id, since, until)
    ]
