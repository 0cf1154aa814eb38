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


@dataclass(frozen=True, slots=True)
class Bucket:
    """One time bucket of a series: ``[start, end)``, in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RuleAwards:
    rule_id: str
    issued: int
    awards: int


@dataclass(frozen=True, slots=True)
class RewardRedemptions:
    code: str | None  # None: a redemption of no catalogue reward (or a deleted one)
    name: str | None
    wallet: str
    redemptions: int
    spent: int


@dataclass(frozen=True, slots=True)
class OrderValues:
    """Net sales (minor units) and orders of a window's purchases, by kind of buyer."""

    redeemers: tuple[int, int]
    non_redeemers: tuple[int, int]
    non_members: tuple[int, int]


@dataclass(frozen=True, slots=True)
class BucketFigures:
    """Per bucket, in bucket order: the ledger movements by (type, wallet) as (credits,
    debits), new members and active members."""

    movements: list[dict[tuple[str, str], tuple[int, int]]]
    new_members: list[int]
    active_members: list[int]


class InsightRepository(Protocol):
    """The dashboard's figures beyond the summary's flows (adapters/db/analytics_insight.py)."""

    def expiring(
        self, program_id: str, start: datetime, horizons: Sequence[datetime]
    ) -> dict[str, list[int]]: ...
    def idle_balances(
        self, program_id: str, wallet: str, bounds: Sequence[datetime]
    ) -> list[int]: ...
    def tier_changes(
        self, program_id: str, start: datetime, end: datetime
    ) -> list[tuple[str | None, str, int]]: ...
    def top_rules(
        self, program_id: str, wallet: str, start: datetime, end: datetime, limit: int
    ) -> list[RuleAwards]: ...
    def top_rewards(
        self, program_id: str, start: datetime, end: datetime, limit: int
    ) -> list[RewardRedemptions]: ...
    def order_values(self, program_id: str, start: datetime, end: datetime) -> OrderValues: ...
    def buckets(self, program_id: str, buckets: Sequence[Bucket]) -> BucketFigures: ...
    def owed(self, program_id: str, since: datetime) -> dict[str, tuple[int, int]]: ...


class AnalyticsRepository(InsightRepository, Protocol):
    def members(
        self, program_id: str, start: datetime, end: datetime, active_since: datetime
    ) -> MemberCounts: ...
    def flows(
        self, program_id: str, wallets: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, LedgerFlows]: ...
    def sales(self, program_id: str, start: datetime, end: datetime) -> SalesFigures: ...
