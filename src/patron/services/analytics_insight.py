"""The dashboard's figures beyond the summary's flows (SPEC §9, Dashboard): expiry forecast, tier
migration, top earning rules, top rewards, and the average order value by kind of buyer.

Each is one aggregate query (``adapters/db/analytics_insight.py``); the definitions are in
docs/analytics.md, "Dashboard figures". Amounts are shown as the summary shows them: points as
integers, money as decimal strings of the program currency.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from patron.domain.config import ProgramConfig
from patron.domain.config.wallets import AfterEarn, Inactivity, Wallet
from patron.domain.expiry import inactivity_cutoff, inactivity_deadline
from patron.domain.programs import Program
from patron.services.ports import SalesFigures, UnitOfWork

FORECAST_DAYS = (30, 60, 90)
TOP = 10
_SLACK = timedelta(days=5)  # see domain/expiry._CLAMP_SLACK: clamped days, DST, a day


def money_text(minor: int | Decimal, exponent: int) -> str:
    cent = Decimal(1).scaleb(-exponent)
    return str(Decimal(minor).scaleb(-exponent).quantize(cent, ROUND_HALF_UP))


def shown(wallet: Wallet, exponent: int) -> Callable[[int], int | str]:
    """How a wallet's amounts are shown: points as integers, money as decimal strings."""
    if wallet.is_money:
        return lambda units: money_text(units, exponent)
    return int


def worth(wallet: Wallet, units: int, exponent: int) -> Decimal:
    """What ``units`` of the wallet cost the program, in money (unquantized)."""
    if wallet.is_money:
        return Decimal(units).scaleb(-exponent)
    return Decimal(units) * wallet.value_per_unit


def _first_idle_at(wallet: Wallet, deadline: datetime, timezone: str) -> datetime:
    """The earliest last activity whose inactivity deadline is at or after ``deadline``.

    The deadline grows with the last activity (adding months clamps the day but never goes
    back), so the wallets due in ``[a, b)`` are those last active in ``[first(a), first(b))``:
    found by bisection around ``inactivity_cutoff``, to the microsecond."""
    cutoff = inactivity_cutoff(wallet, deadline, timezone)
    assert cutoff is not None
    low, high = cutoff - _SLACK, cutoff + _SLACK  # deadline(low) < deadline <= deadline(high)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        found = inactivity_deadline(wallet, middle, timezone)
        assert found is not None
        if found >= deadline:
            high = middle
        else:
            low = middle
    return high


def expiry_forecast(
    uow: UnitOfWork, program: Program, config: ProgramConfig, end: datetime
) -> dict[str, Any]:
    horizons = [end + timedelta(days=days) for days in FORECAST_DAYS]
    dated = uow.analytics.expiring(program.id, end, horizons)
    exponent = program.currency_exponent
    forecast: dict[str, Any] = {}
    for code, wallet in config.wallets.items():
        if isinstance(wallet.expiry, AfterEarn):
            amounts = dated.get(code, [0] * len(horizons))
        elif isinstance(wallet.expiry, Inactivity):
            bounds = [_first_idle_at(wallet, at, program.timezone) for at in (end, *horizons)]
            amounts = uow.analytics.idle_balances(program.id, code, bounds)
        else:
            continue
        show = shown(wallet, exponent)
        forecast[code] = {
            f"next_{days}_days": {
                "amount": show(units),
                "value": money_text(worth(wallet, units, exponent).scaleb(exponent), exponent),
            }
            for days, units in zip(FORECAST_DAYS, amounts, strict=True)
        }
    return forecast


def tier_migration(
    uow: UnitOfWork, program: Program, config: ProgramConfig, start: datetime, end: datetime
) -> dict[str, Any]:
    ladder = [level.code for level in config.tiers.levels] if config.tiers else []

    def direction(before: str | None, after: str) -> str:
        if before is None:
            return "entry"
        if before not in ladder or after not in ladder:
            return "unknown"
        step = ladder.index(after) - ladder.index(before)
        return "up" if step > 0 else "down" if step < 0 else "same"

    counted = sorted(
        uow.analytics.tier_changes(program.id, start, end),
        key=lambda c: (-c[2], c[0] or "", c[1]),
    )
    changes = [
        {"from": before, "to": after, "direction": direction(before, after), "changes": n}
        for before, after, n in counted
    ]
    return {
        "up": sum(c["changes"] for c in changes if c["direction"] == "up"),
        "down": sum(c["changes"] for c in changes if c["direction"] == "down"),
        "changes": changes,
    }


def top_rules(
    uow: UnitOfWork, program: Program, config: ProgramConfig, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    names = {rule.id: rule.name for rule in config.rules}
    return [
        {"rule_id": r.rule_id, "name": names.get(r.rule_id), "issued": r.issued, "awards": r.awards}
        for r in uow.analytics.top_rules(program.id, "points", start, end, TOP)
    ]


def top_rewards(
    uow: UnitOfWork, program: Program, config: ProgramConfig, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    rows = []
    for r in uow.analytics.top_rewards(program.id, start, end, TOP):
        wallet = config.wallets.get(r.wallet)
        spent: int | str = shown(wallet, program.currency_exponent)(r.spent) if wallet else r.spent
        rows.append(
            {
                "code": r.code,
                "name": r.name,
                "wallet": r.wallet,
                "redemptions": r.redemptions,
                "spent": spent,
            }
        )
    return rows


def average_order_values(
    uow: UnitOfWork, program: Program, start: datetime, end: datetime, sales: SalesFigures
) -> dict[str, Any]:
    """Redeemers, non-redeemers and non-members: the window's member and anonymous totals are
    the summary's sales figures; only the redeemers' purchases are read again (non-redeemers
    are the members' totals less theirs)."""
    redeemers = uow.analytics.redeemer_sales(program.id, start, end)
    non_redeemers = (
        sales.member_sales - redeemers[0],
        sales.orders - sales.anonymous_orders - redeemers[1],
    )
    exponent = program.currency_exponent

    def group(sales: int, orders: int) -> dict[str, Any]:
        return {
            "sales": money_text(sales, exponent),
            "orders": orders,
            "average_order_value": money_text(Decimal(sales) / orders, exponent)
            if orders
            else None,
        }

    return {
        "redeemers": group(*redeemers),
        "non_redeemers": group(*non_redeemers),
        "non_members": group(sales.anonymous_sales, sales.anonymous_orders),
    }
