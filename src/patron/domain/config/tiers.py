"""Status tiers and referral settings of a program configuration (SPEC §4 and §6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from patron.domain.config.values import (
    Amount,
    Code,
    Limit,
    Name,
    Names,
    Section,
)


class Benefits(Section):
    multiplier: Annotated[Amount, Field(ge=1, le=10)] = Decimal(1)
    """Scales spend, visit, item and bonus awards of members in this tier."""
    perks: Names | None = None
    rewards: Names | None = None
    """Reward codes this tier gives access to."""


class Level(Section):
    code: Code
    name: Name
    threshold: Amount
    benefits: Benefits = Benefits()


class Tiers(Section):
    """The ladder; its shape (first threshold 0, strictly increasing, distinct codes) is checked
    with the rest of the document so that each error names its level."""

    metric: Literal["spend", "points_earned", "purchases"] = "spend"
    period: Literal["calendar_year", "rolling_12_months", "lifetime"] = "calendar_year"
    downgrade: Literal["end_of_next_period", "end_of_period", "never"] = "end_of_next_period"
    levels: Annotated[list[Level], Field(min_length=1, max_length=50)]

    def level(self, code: str) -> Level | None:
        return next((level for level in self.levels if level.code == code), None)


class ReferralAward(Section):
    points: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)] = 0
    wallet: Code = "points"


class Referrals(Section):
    qualifying_min_spend: Amount = Decimal(0)
    referrer: ReferralAward = ReferralAward()
    referee: ReferralAward = ReferralAward()
    max_per_referrer: Limit | None = None
