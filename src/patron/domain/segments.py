"""Segments: saved, dynamic member filters (SPEC §2), evaluated on a member's current facts.

A filter holds when every condition it names holds: ``tiers`` (codes), ``min_balance`` /
``max_balance`` (available points), ``min_days_since_last_purchase`` /
``max_days_since_last_purchase`` (a member who never bought matches only a minimum),
``min_purchases`` / ``max_purchases``, ``min_spend`` / ``max_spend`` (eligible spend net of
refunds, all time), ``birthday_month`` (1-12) and ``attributes`` (exact values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from patron.domain.config.values import Amount, Code


class SegmentFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: Annotated[list[Code], Field(min_length=1, max_length=50)] | None = None
    min_balance: StrictInt | None = None
    max_balance: StrictInt | None = None
    min_days_since_last_purchase: Annotated[StrictInt, Field(ge=0)] | None = None
    max_days_since_last_purchase: Annotated[StrictInt, Field(ge=0)] | None = None
    min_purchases: Annotated[StrictInt, Field(ge=0)] | None = None
    max_purchases: Annotated[StrictInt, Field(ge=0)] | None = None
    min_spend: Amount | None = None
    max_spend: Amount | None = None
    birthday_month: Annotated[StrictInt, Field(ge=1, le=12)] | None = None
    attributes: Annotated[dict[str, Any], Field(max_length=100)] | None = None


@dataclass(frozen=True, slots=True)
class MemberFacts:
    tier_code: str | None
    balance: int
    last_purchase_at: datetime | None
    purchases: int
    spend: Decimal
    birth_month: int | None
    attributes: Mapping[str, Any]


def matches(f: SegmentFilter, facts: MemberFacts, now: datetime) -> bool:
    if f.tiers is not None and facts.tier_code not in f.tiers:
        return False
    if f.min_balance is not None and facts.balance < f.min_balance:
        return False
    if f.max_balance is not None and facts.balance > f.max_balance:
        return False
    days = None if facts.last_purchase_at is None else (now - facts.last_purchase_at).days
    if f.max_days_since_last_purchase is not None and (
        days is None or days > f.max_days_since_last_purchase
    ):
        return False
    least = f.min_days_since_last_purchase
    if least is not None and days is not None and days < least:
        return False
    if f.min_purchases is not None and facts.purchases < f.min_purchases:
        return False
    if f.max_purchases is not None and facts.purchases > f.max_purchases:
        return False
    if f.min_spend is not None and facts.spend < f.min_spend:
        return False
    if f.max_spend is not None and facts.spend > f.max_spend:
        return False
    if f.birthday_month is not None and facts.birth_month != f.birthday_month:
        return False
    return all(facts.attributes.get(k) == v for k, v in (f.attributes or {}).items())
