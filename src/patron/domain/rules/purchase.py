"""What the rules engine reads: a purchase, an activity event, and the member's state before it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal(0)
    category: str | None = None
    name: str | None = None

    @property
    def amount(self) -> Decimal:
        """quantity * unit_price - discount."""
        return self.quantity * self.unit_price - self.discount


@dataclass(frozen=True, slots=True)
class Payment:
    method: str
    amount: Decimal
    card_type: str | None = None


@dataclass(frozen=True, slots=True)
class Purchase:
    external_id: str
    occurred_at: datetime
    lines: tuple[Line, ...]
    channel: str | None = None
    store_id: str | None = None
    tax: Decimal = Decimal(0)
    shipping: Decimal = Decimal(0)
    payments: tuple[Payment, ...] = ()

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def as_data(self) -> dict[str, Any]:
        """Plain data for ``when`` expressions."""
        return {
            "external_id": self.external_id,
            "channel": self.channel,
            "store_id": self.store_id,
            "subtotal": self.subtotal,
            "tax": self.tax,
            "shipping": self.shipping,
            "total": self.subtotal + self.tax + self.shipping,
            "lines": [
                {
                    "sku": line.sku,
                    "category": line.category,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "amount": line.amount,
                }
                for line in self.lines
            ],
            "payments": [
                {"method": p.method, "card_type": p.card_type, "amount": p.amount}
                for p in self.payments
            ],
            "skus": [line.sku for line in self.lines],
            "categories": sorted({line.category for line in self.lines if line.category}),
        }


@dataclass(frozen=True, slots=True)
class Event:
    """A non-purchase activity (``enrolled``, ``birthday``, ``review_posted``, ...)."""

    external_id: str
    type: str
    occurred_at: datetime
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MemberState:
    """The member as it was before the purchase or event (an anonymous buyer has no id).

    ``rule_counts`` holds how many times each rule already awarded this member in the period
    (keyed ``(rule_id, period_key)``, see ``period_key``), on purchases and events alike;
    ``budget_used`` the points each budget has paid out program-wide. A rule spends its own
    budget (keyed by its id) unless ``budget_pools`` names a budget it shares with other rules
    (a campaign's rules share the campaign's budget).
    """

    member_id: str | None = None
    tier_code: str | None = None
    purchases_before: int = 0
    segments: frozenset[str] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    rule_counts: Mapping[tuple[str, str], int] = field(default_factory=dict)
    budget_used: Mapping[str, int] = field(default_factory=dict)
    budget_pools: Mapping[str, str] = field(default_factory=dict)

    def budget_of(self, rule_id: str) -> str:
        """The key of the budget ``rule_id`` spends."""
        return self.budget_pools.get(rule_id, rule_id)

    def as_data(self) -> dict[str, Any]:
        return {
            "id": self.member_id,
            "tier": self.tier_code,
            "purchases": self.purchases_before,
            "segments": sorted(self.segments),
            "attributes": dict(self.attributes),
        }
