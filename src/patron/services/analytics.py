"""The analytics summary (SPEC §8): the program's health over a window, in one read.

Every figure's definition is in ``docs/analytics.md``; the code follows it line by line. Money
figures are in the program currency; point figures in points. Windows are ``[from, to)``.

The dashboard's further figures (expiry forecast, tier migration, top rules and rewards, order
values by kind of buyer) are in ``analytics_insight``; the figures over time buckets in
``analytics_series``. Both are read here or re-exported, so ``analytics`` is the one entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from patron.domain.config import ProgramConfig
from patron.domain.programs import Program
from patron.domain.timestamps import rfc3339
from patron.services import analytics_rollups as rollups
from patron.services import analytics_spans
from patron.services.analytics_insight import (
    average_order_values,
    expiry_forecast,
    tier_migration,
    top_rewards,
    top_rules,
)
from patron.services.analytics_series import BUCKETS, bucket_for, buckets, series
from patron.services.ports import LedgerFlows, Movements, SalesFigures, UnitOfWork

__all__ = ["BUCKETS", "bucket_for", "buckets", "series", "summary"]

ACTIVE_DAYS = 90


def _ratio(part: float | int, whole: float | int, places: int = 4) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def _flows(moved: Movements, held: dict[str, tuple[int, int]], wallet: str) -> LedgerFlows:
    """A wallet's flows by the definitions of docs/analytics.md, from its movements by type."""
    up = {kind: credit for (kind, code), (credit, _) in moved.items() if code == wallet}
    down = {kind: -debit for (kind, code), (_, debit) in moved.items() if code == wallet}
    return LedgerFlows(
        issued=up.get("earn", 0) + up.get("referral", 0) + up.get("adjust", 0),
        redeemed=down.get("redeem", 0) - up.get("redemption_cancel", 0),
        expired=down.get("expire", 0),
        clawed_back=down.get("refund", 0),
        adjusted_down=down.get("adjust", 0),
        outstanding=held.get(wallet, (0, 0))[0],
        pending=held.get(wallet, (0, 0))[1],
    )


def _sales(uow: UnitOfWork, program: Program, start: datetime, end: datetime) -> SalesFigures:
    """The sums of days from the roll-ups, the per-member figures from a buyer span (or one raw
    pass)."""
    summed = rollups.sales(uow, program, start, end)
    buyers = analytics_spans.buyer_figures(
        uow, program, start, end, end - timedelta(days=ACTIVE_DAYS)
    )
    return SalesFigures(
        member_sales=summed.member_sales,
        anonymous_sales=summed.anonymous_sales,
        orders=summed.member_orders + summed.anonymous_orders,
        anonymous_orders=summed.anonymous_orders,
        buyers=buyers.buyers,
        repeat_buyers=buyers.repeat_buyers,
        member_orders=buyers.member_orders,
        cycle_days_total=buyers.cycle_days_total,
        cycle_members=buyers.repeat_buyers,
        lifetime_member_sales=summed.lifetime_member_sales,
        active_members=buyers.active_members,
    )


def summary(
    uow: UnitOfWork, program: Program, config: ProgramConfig, start: datetime, end: datetime
) -> dict[str, Any]:
    exponent = program.currency_exponent
    cent = Decimal(1).scaleb(-exponent)

    def money(minor: int | Decimal) -> str:
        return str((Decimal(minor).scaleb(-exponent)).quantize(cent, ROUND_HALF_UP))

    counts = uow.analytics.members(program.id, start, end)
    sales = _sales(uow, program, start, end)
    wallets: dict[str, Any] = {}
    liability = Decimal(0)
    moved = rollups.movements(uow, program, start, end)
    held = uow.analytics.held(program.id)
    for code, wallet in config.wallets.items():
        flows = _flows(moved, held, code)
        unit = wallet.value_per_unit
        owed = Decimal(flows.outstanding + flows.pending)
        value = owed.scaleb(-exponent) if wallet.is_money else owed * unit
        liability += value
        show = money if wallet.is_money else int
        wallets[code] = {
            "issued": show(flows.issued),
            "redeemed": show(flows.redeemed),
            "expired": show(flows.expired),
            "clawed_back": show(flows.clawed_back),
            "adjusted_down": show(flows.adjusted_down),
            "outstanding": show(flows.outstanding),
            "pending": show(flows.pending),
            "unit_value": str(unit),
            "liability": str(value.quantize(cent, ROUND_HALF_UP)),
            "redemption_rate": _ratio(flows.redeemed, flows.issued),
            "breakage": _ratio(flows.expired, flows.redeemed + flows.expired),
        }
    total_sales = sales.member_sales + sales.anonymous_sales
    return {
        "from": rfc3339(start),
        "to": rfc3339(end),
        "currency": program.currency,
        "members": {
            "total": counts.total,
            "new": counts.new,
            f"active_{ACTIVE_DAYS}_days": sales.active_members,
            "tiers": counts.tiers,
        },
        "wallets": wallets,
        "points": wallets.get("points"),
        "liability": str(liability.quantize(cent, ROUND_HALF_UP)),
        "sales": {
            "total": money(total_sales),
            "members": money(sales.member_sales),
            "anonymous": money(sales.anonymous_sales),
            "member_share": _ratio(sales.member_sales, total_sales),
            "orders": sales.orders,
            "average_order_value": money(Decimal(total_sales) / sales.orders)
            if sales.orders
            else None,
        },
        "behaviour": {
            "buyers": sales.buyers,
            "purchase_frequency": _ratio(sales.member_orders, sales.buyers, 2),
            "repeat_purchase_rate": _ratio(sales.repeat_buyers, sales.buyers),
            "average_purchase_cycle_days": _ratio(sales.cycle_days_total, sales.cycle_members, 1),
            "historical_clv": money(Decimal(sales.lifetime_member_sales) / counts.total)
            if counts.total
            else None,
        },
        "expiry_forecast": expiry_forecast(uow, program, config, end),
        "tier_migration": tier_migration(uow, program, config, start, end),
        "top_rules": top_rules(uow, program, config, start, end),
        "top_rewards": top_rewards(uow, program, config, start, end),
        "average_order_value": average_order_values(uow, program, start, end, sales),
    }
