"""Ports of purchases, events and refunds, as stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredPurchase:
    id: str
    program_id: str
    external_id: str
    member_id: str | None
    occurred_at: datetime
    channel: str | None
    store_id: str | None
    eligible_amount: int
    fingerprint: str
    config_version: int
    document: dict[str, Any]
    result: dict[str, Any]
    recorded_at: datetime
    amount: int = 0  # the subtotal, minor units
    refunded: int = 0  # of ``amount``, given back by refunds
    eligible_left: int = 0  # of ``eligible_amount``, after refunds


@dataclass(frozen=True, slots=True)
class PurchaseTotals:
    """A member's purchases in a window, net of refunds."""

    eligible: int  # minor units left after refunds
    standing: int  # purchases not fully refunded
    last_at: datetime | None  # the latest of those


@dataclass(frozen=True, slots=True)
class StoredAward:
    purchase_id: str
    rule_id: str
    program_id: str
    member_id: str
    kind: str
    wallet: str
    amount: int
    occurred_at: datetime
    entry_id: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: str
    program_id: str
    external_id: str
    member_id: str
    type: str
    occurred_at: datetime
    fingerprint: str
    result: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StoredEventAward:
    event_id: str
    rule_id: str
    program_id: str
    member_id: str
    wallet: str
    amount: int
    occurred_at: datetime
    entry_id: str


@dataclass(frozen=True, slots=True)
class StoredRefund:
    id: str
    program_id: str
    purchase_id: str
    external_id: str
    fingerprint: str
    document: dict[str, Any]
    result: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


class PurchaseRepository(Protocol):
    def get(self, program_id: str, external_id: str) -> StoredPurchase | None: ...
    def add(self, purchase: StoredPurchase) -> None: ...
    def add_awards(self, awards: Sequence[StoredAward]) -> None: ...
    def attach(
        self, purchase_id: str, member_id: str, config_version: int, result: dict[str, Any]
    ) -> None: ...
    def count_for_member(self, member_id: str) -> int: ...
    def award_moments(
        self, member_id: str, rule_ids: Sequence[str]
    ) -> list[tuple[str, datetime]]: ...
    def budget_used(self, program_id: str, rule_ids: Sequence[str]) -> dict[str, int]: ...
    def totals(
        self, member_id: str, since: datetime | None, until: datetime | None
    ) -> PurchaseTotals:
        """The member's purchases with ``since <= occurred_at < until``, net of refunds."""
        ...

    def refunded(self, purchase_id: str, *, eligible: int, amount: int) -> None:
        """Take a refund off the purchase's running totals."""
        ...

    def get_event(self, program_id: str, external_id: str) -> StoredEvent | None: ...
    def add_event(self, event: StoredEvent, awards: Sequence[StoredEventAward]) -> None: ...
    def get_refund(self, program_id: str, external_id: str) -> StoredRefund | None: ...
    def refunds_of(self, purchase_id: str) -> list[StoredRefund]: ...
    def add_refund(self, refund: StoredRefund) -> None: ...
