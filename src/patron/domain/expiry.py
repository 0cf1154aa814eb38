"""When points expire (SPEC §5), computed in the program's time zone.

- ``after_earn``: a lot expires ``months`` after its ``occurred_at``; with ``round`` it lasts to
  the end of that month, quarter or year instead. A lot "lasts to the end of March" means it is
  spendable all of 31 March, local time, and expires at 1 April 00:00 local.
- ``inactivity``: lots carry no date; the whole wallet expires once ``months`` have passed since
  the member's last earn or redemption (``inactivity_deadline``).
- ``none``: nothing expires.

Adding months clamps the day (31 January + 1 month = 28/29 February).
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from patron.domain.config.wallets import AfterEarn, Inactivity, Wallet


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _start_of_next(moment: datetime, every_months: int) -> datetime:
    """Local midnight starting the period after the ``every_months``-long period holding it."""
    first_month_of_period = (moment.month - 1) // every_months * every_months + 1
    start = moment.replace(
        month=first_month_of_period, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return add_months(start, every_months)


_ROUNDING = {"end_of_month": 1, "end_of_quarter": 3, "end_of_year": 12}


def lot_expiry(wallet: Wallet, occurred_at: datetime, timezone: str) -> datetime | None:
    """When a lot earned at ``occurred_at`` expires, in UTC; None when it does not by date."""
    policy = wallet.expiry
    if not isinstance(policy, AfterEarn):
        return None
    zone = ZoneInfo(timezone)
    local = add_months(occurred_at.astimezone(zone).replace(tzinfo=None), policy.months)
    if policy.round is not None:
        local = _start_of_next(local, _ROUNDING[policy.round])
    return local.replace(tzinfo=zone).astimezone(UTC)


def inactivity_deadline(
    wallet: Wallet, last_activity_at: datetime, timezone: str
) -> datetime | None:
    """When a wallet with the ``inactivity`` policy expires if nothing else happens."""
    policy = wallet.expiry
    if not isinstance(policy, Inactivity):
        return None
    zone = ZoneInfo(timezone)
    local = add_months(last_activity_at.astimezone(zone).replace(tzinfo=None), policy.months)
    return local.replace(tzinfo=zone).astimezone(UTC)


def inactivity_cutoff(wallet: Wallet, now: datetime, timezone: str) -> datetime | None:
    """Members whose last activity is at or before this moment have expired by ``now``."""
    policy = wallet.expiry
    if not isinstance(policy, Inactivity):
        return None
    zone = ZoneInfo(timezone)
    local = add_months(now.astimezone(zone).replace(tzinfo=None), -policy.months)
    return local.replace(tzinfo=zone).astimezone(UTC)
