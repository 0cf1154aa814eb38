"""Earning rules as they appear in the configuration document (SPEC §3).

Each rule has a ``kind`` that selects its shape; every rule may carry the same filters and
limits. This module only says what a well-formed rule is; evaluating rules against a purchase is
the rules engine's job. Cross-references (``applies_to``, ``wallet``, ``tiers``) are checked by
``patron.domain.config.document`` because they need the whole document.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, field_validator

from patron.domain.config.expression import check_expression
from patron.domain.config.values import (
    EVENT_TYPE_PATTERN,
    RULE_ID_PATTERN,
    Amount,
    Code,
    Label,
    Limit,
    Moment,
    Names,
    Points,
    PositiveAmount,
    Section,
    Weekday,
)

PURCHASE_ONLY_FILTERS = (
    "channels",
    "stores",
    "categories",
    "exclude_categories",
    "skus",
    "exclude_skus",
    "min_spend",
    "payment_card_types",
    "first_purchase",
)
"""Filters that only make sense on a purchase; an ``event`` rule may not carry them."""

TIER_MULTIPLIED_KINDS = frozenset({"spend", "visit", "item", "bonus"})
"""Kinds whose awards the tier multiplier and, by default, multiplier rules scale."""


class Limits(Section):
    per_member: Limit | None = None
    budget: Annotated[StrictInt, Field(ge=1)] | None = None
    """Total points the rule may ever award across all members."""


def _distinct_days(days: list[Weekday]) -> list[Weekday]:
    if len(set(days)) != len(days):
        raise ValueError("each day may be listed once")
    return days


Expression = Annotated[str, Field(strict=True, min_length=1, max_length=2000)]


class RuleBase(Section):
    id: Annotated[str, Field(strict=True, pattern=RULE_ID_PATTERN)]
    name: Label | None = None
    description: Annotated[str, Field(strict=True, max_length=2000)] | None = None
    active: StrictBool = True
    # filters: every one that is present must hold
    channels: Names | None = None
    stores: Names | None = None
    categories: Names | None = None
    exclude_categories: Names | None = None
    skus: Names | None = None
    exclude_skus: Names | None = None
    tiers: Names | None = None
    min_spend: Amount | None = None
    days_of_week: (
        Annotated[list[Weekday], Field(min_length=1), AfterValidator(_distinct_days)] | None
    ) = None
    start: Moment | None = None
    end: Moment | None = None
    payment_card_types: Names | None = None
    first_purchase: StrictBool | None = None
    segments: Names | None = None
    when: Expression | None = None
    limits: Limits | None = None

    @field_validator("when")
    @classmethod
    def _safe_expression(cls, source: str | None) -> str | None:
        problem = None if source is None else check_expression(source)
        if problem:
            raise ValueError(problem)
        return source


class PointsRule(RuleBase):
    wallet: Code = "points"
    """The points wallet the rule credits."""


class SpendRule(PointsRule):
    """``points`` per ``per`` of eligible amount."""

    kind: Literal["spend"]
    points: Points
    per: PositiveAmount


class VisitRule(PointsRule):
    """Fixed ``points`` once per purchase."""

    kind: Literal["visit"]
    points: Points


class ItemRule(PointsRule):
    """``points`` per unit of the listed ``skus``."""

    kind: Literal["item"]
    skus: Names
    points: Points


class BonusRule(PointsRule):
    """Fixed ``points`` when the filters hold."""

    kind: Literal["bonus"]
    points: Points


class MultiplierRule(RuleBase):
    """Multiplies the awards of ``applies_to`` (default: the spend, visit, item, bonus rules)."""

    kind: Literal["multiplier"]
    factor: Annotated[PositiveAmount, Field(le=100)]
    applies_to: Names | None = None


class CashbackRule(RuleBase):
    """``percent`` of the eligible amount into a money wallet, rounded down to the minor unit."""

    kind: Literal["cashback"]
    wallet: Code
    percent: Annotated[PositiveAmount, Field(le=100)]


class EventRule(PointsRule):
    """Fixed ``points`` for an activity event of type ``event``."""

    kind: Literal["event"]
    event: Annotated[str, Field(strict=True, pattern=EVENT_TYPE_PATTERN)]
    points: Points


Rule = Annotated[
    SpendRule | VisitRule | ItemRule | BonusRule | MultiplierRule | CashbackRule | EventRule,
    Field(discriminator="kind"),
]
RULE_KINDS = ("spend", "visit", "item", "bonus", "multiplier", "cashback", "event")
