"""Ports of the analytics figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MemberCounts:
    total: int
    new: int
    active: int
    tiers: dict[str, int]


@dataclass(frozen=True, slots=True)
class LedgerFlows:
    """Units that moved in a window, and the balances now (minor units for money wallets)."""

    issued: int
    redeemed: int  # net of cancelled redemptions
    expired: int
    clawed_back: int
    adjusted_down: int
    outstanding: int
    pending: int


@dataclass(frozen=True, slots=True)
class SalesFigures:
    """Purchases in a window, net of refunds (minor units)."""

    member_sales: int
    anonymous_sales: int
    orders: int  # not fully refunded
    buyers: int  # members with at least one such purchase
    repeat_buyers: int  # members with two or more
    member_orders: int
    cycle_days_total: float  # sum over repeat buyers of their mean days between purchases
    cycle_members: int
    lifetime_member_sales: int  # every member purchase before the window's end


class AnalyticsRepository(Protocol):
    def members(
        self, program_id: str, start: datetime, end: datetime, active_since: datetime
    ) -> MemberCounts: ...
    def flows(
        self, program_id: str, wallets: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, LedgerFlows]: ...
    def sales(self, program_id: str, start: datetime, end: datetime) -> SalesFigures: ...
