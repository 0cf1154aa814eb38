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
    anonymous_orders: int  # of those, without a member
    buyers: int  # members with at least one such purchase
    repeat_buyers: int  # members with two or more
    member_orders: int
    cycle_days_total: float  # sum over repeat buyers of their mean days between purchases
    cycle_members: int
    lifetime_member_sales: int  # every member purchase before the window's end
    active_members: int  # members with a purchase (refunded or not) since ``active_since``


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


Movements = dict[tuple[str, str], tuple[int, int]]
"""Ledger movements by (entry type, wallet): (credits, debits), debits negative."""


@dataclass(frozen=True, slots=True)
class BucketFigures:
    """Per bucket, in bucket order: new members and active members."""

    new_members: list[int]
    active_members: list[int]


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One rolled-up day (migration 0028): its bounds, its purchases net of refunds and its
    orders not refunded in full (of members, of non-members), its ledger movements."""

    day: Bucket
    member_sales: int
    member_orders: int
    anonymous_sales: int
    anonymous_orders: int
    flows: Movements


@dataclass(frozen=True, slots=True)
class BuyerFigures:
    """The per-member figures of a window: they are not sums of days."""

    buyers: int  # members with at least one purchase not refunded in full
    repeat_buyers: int  # members with two or more
    member_orders: int
    cycle_days_total: float  # sum over repeat buyers of their mean days between purchases
    active_members: int  # members with a purchase (refunded or not) since ``active_since``


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
    def redeemer_sales(self, program_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        """Net sales (minor units) and orders not fully refunded of the window's purchases by
        members who redeemed in the window."""
        ...

    def buckets(
        self, program_id: str, buckets: Sequence[Bucket], known_active: Sequence[int | None]
    ) -> BucketFigures:
        """New and active members per bucket; the active members of a bucket whose count is
        known already (from a span) are not read again."""
        ...

    def owed(self, program_id: str, since: datetime) -> dict[str, tuple[int, int]]: ...


class RollupRepository(Protocol):
    """The daily roll-ups (adapters/db/analytics_rollups.py)."""

    def rolled_days(
        self, program_id: str, start: datetime, end: datetime, *, flows: bool = True
    ) -> list[DayFigures]:
        """The rolled-up days that begin in ``[start, end)``, each whole (without their flows
        unless ``flows``)."""
        ...

    def range_sales(
        self, program_id: str, ranges: Sequence[Bucket]
    ) -> list[tuple[int, int, int, int]]: ...
    def range_flows(self, program_id: str, ranges: Sequence[Bucket]) -> list[Movements]: ...
    def earliest(self, program_id: str) -> datetime | None:
        """The earliest ``occurred_at`` of the program's purchases and ledger entries."""
        ...

    def rolled_bounds(self, program_id: str, start: datetime, end: datetime) -> list[Bucket]:
        """The bounds of the rolled-up days that begin in ``[start, end)``."""
        ...

    def lock_sources(self) -> None:
        """Hold back writes of purchases and entries until the transaction ends."""
        ...

    def store_days(self, program_id: str, days: Sequence[DayFigures]) -> None: ...


@dataclass(frozen=True, slots=True)
class MemberPurchases:
    """A member's purchases in some range: the orders not refunded in full (their count, first
    and last) and the latest purchase of any kind."""

    member_id: str
    orders: int
    first_at: datetime | None
    last_at: datetime | None
    latest_at: datetime


class SpanRepository(Protocol):
    """The buyer spans (adapters/db/analytics_spans.py)."""

    def ready_span(
        self, program_id: str, start: datetime, end: datetime
    ) -> tuple[Bucket, str] | None:
        """The ready span that starts at ``start`` and ends last at or before ``end``, with
        its token."""
        ...

    def open_span(
        self, program_id: str, span: Bucket, token: str, now: datetime, purpose: str
    ) -> None: ...
    def fill_span(self, program_id: str, span: Bucket, token: str) -> bool:
        """Mark the span ready and compute its buyers; False when it was invalidated (or
        taken over) since it was opened."""
        ...

    def prune_spans(
        self, program_id: str, windows_before: datetime, ended_before: datetime
    ) -> None:
        """Forget the window spans computed before ``windows_before`` and the spans that ended
        before ``ended_before``."""
        ...

    def window_spans(self, program_id: str, since: datetime) -> list[Bucket]:
        """The window spans computed since ``since``, ready or not."""
        ...

    def span_buyer_counts(self, program_id: str, spans: Sequence[Bucket]) -> dict[Bucket, int]:
        """The number of buyers of each of ``spans`` that is ready."""
        ...

    def span_figures(
        self, program_id: str, span: Bucket, token: str, active_since: datetime
    ) -> BuyerFigures | None: ...
    def gap_buyers(
        self, program_id: str, span: Bucket, token: str, gaps: Sequence[Bucket]
    ) -> list[tuple[MemberPurchases, MemberPurchases | None]] | None: ...


class AnalyticsRepository(InsightRepository, RollupRepository, SpanRepository, Protocol):
    def members(self, program_id: str, start: datetime, end: datetime) -> MemberCounts: ...
    def flows(
        self, program_id: str, wallets: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, LedgerFlows]: ...
    def buyers(
        self, program_id: str, start: datetime, end: datetime, active_since: datetime
    ) -> BuyerFigures: ...
    def held(self, program_id: str) -> dict[str, tuple[int, int]]:
        """Per wallet, what the balances hold now: (available, pending)."""
        ...
