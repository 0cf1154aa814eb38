"""When points expire (SPEC §5), computed in the program's time zone.

- ``after_earn``: a lot expires ``months`` after its ``occurred_at``; with ``round`` it lasts to
  the end of that month, quarter or year instead. A lot "lasts to the end of March" means it is
  spendable all of 31 March, local time, and expires at 1 April 00:00 local.
- ``inactivity``: lots carry no date; the whole wallet expires once ``months`` have passed since
  the member's last earn or redemption (``inactivity_deadline``).
- ``none``: nothing expires.

Adding months clamps the day (31 January + 1 month = 28/29 February).

What has expired is gone at once, whether or not the expiry job has written it down yet
(``lapsed``: the lots a movement must not take; ``outlook``: what a balance shows). The job only
writes down what these say; see docs/ledger.md, "Expiry".
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from patron.domain.config.wallets import AfterEarn, Inactivity, Wallet
from patron.domain.ledger import Balance, Lot


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
    """``months`` before ``now``, in the program's time zone: roughly the last activity of a
    wallet whose deadline is ``now``. Only roughly, because adding months clamps the day (31
    January and 28 February both have their deadline on 28 March): use ``idle_bounds`` to find
    wallets, ``inactivity_deadline`` to decide."""
    policy = wallet.expiry
    if not isinstance(policy, Inactivity):
        return None
    zone = ZoneInfo(timezone)
    local = add_months(now.astimezone(zone).replace(tzinfo=None), -policy.months)
    return local.replace(tzinfo=zone).astimezone(UTC)


_CLAMP_SLACK = timedelta(days=5)
"""How much later than ``inactivity_cutoff`` the last activity of a wallet due by then can be:
the clamped day (up to 3 days), one day of wall-clock time, and a change of daylight saving."""


def idle_bounds(
    wallet: Wallet, start: datetime | None, end: datetime, timezone: str
) -> tuple[datetime | None, datetime] | None:
    """Bounds of the last activity of every wallet whose inactivity deadline falls in
    ``[start, end)`` (``start`` None: at or before ``end``): wide enough to find them all in
    a scan, to be narrowed by ``inactivity_deadline``. None for another policy."""
    last = inactivity_cutoff(wallet, end, timezone)
    if last is None:
        return None
    first = inactivity_cutoff(wallet, start, timezone) if start is not None else None
    return (first - _CLAMP_SLACK if first else None), last + _CLAMP_SLACK


def lapsed_by_inactivity(
    wallet: Wallet | None, balance: Balance, at: datetime, timezone: str
) -> datetime | None:
    """The inactivity deadline of the wallet when it has passed by ``at``, else None."""
    if wallet is None or balance.last_activity_at is None:
        return None
    deadline = inactivity_deadline(wallet, balance.last_activity_at, timezone)
    return deadline if deadline is not None and deadline <= at else None


def lapsed(
    wallet: Wallet | None, balance: Balance, lots: Sequence[Lot], now: datetime, timezone: str
) -> tuple[list[Lot], datetime | None]:
    """The open ``lots`` that have expired by ``now`` (every one once the wallet's inactivity
    deadline has passed; else those whose date has come), and the moment their expiry is dated
    at: the deadline, or the latest date among them, as the expiry job dates its entries."""
    deadline = lapsed_by_inactivity(wallet, balance, now, timezone)
    if deadline is not None:
        return [lot for lot in lots if lot.remaining > 0], deadline
    gone = [
        lot
        for lot in lots
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= now
    ]
    return gone, max((lot.expires_at for lot in gone if lot.expires_at), default=None)


@dataclass(frozen=True, slots=True)
class Outlook:
    """A wallet as the member sees it at a moment: what is left after everything that has
    expired by then, and what expires next (amount, when), soonest first."""

    available: int
    pending: int
    expiring: list[tuple[int, datetime]]


def outlook(
    wallet: Wallet | None,
    balance: Balance,
    dated: Iterable[tuple[datetime, bool, int]],
    now: datetime,
    timezone: str,
) -> Outlook:
    """``balance`` less what has expired by ``now``. ``dated``: the remaining amounts of the
    wallet's open lots with an expiry date, as (expires at, pending, amount), in any order; an
    inactivity wallet has none and expires whole at its deadline."""
    available, pending = balance.available, balance.pending
    if wallet is not None and isinstance(wallet.expiry, Inactivity):
        deadline = (
            inactivity_deadline(wallet, balance.last_activity_at, timezone)
            if balance.last_activity_at is not None
            else None
        )
        left = max(available, 0) + pending
        if deadline is None or not left:
            return Outlook(available, pending, [])
        if deadline <= now:  # every lot has gone; a deficit is still owed
            return Outlook(min(available, 0), 0, [])
        return Outlook(available, pending, [(left, deadline)])
    upcoming: dict[datetime, int] = {}
    for expires_at, is_pending, amount in dated:
        if expires_at > now:
            upcoming[expires_at] = upcoming.get(expires_at, 0) + amount
        elif is_pending:
            pending -= amount
        else:
            available -= amount
    return Outlook(available, pending, [(upcoming[at], at) for at in sorted(upcoming)])
