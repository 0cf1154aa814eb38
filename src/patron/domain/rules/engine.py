"""The earning engine: ``(configuration, member state before, purchase) -> awards with a trace``.

Pure and deterministic (SPEC §3). Per purchase:

1. each active rule whose filters hold computes its exact (Decimal) award on its own eligible
   amount: the amounts of the lines its category/SKU filters keep (plus tax and shipping when the
   configuration includes them and the rule has no line filter);
2. the award is multiplied by every applicable multiplier: multiplier rules whose filters hold
   and that target it (``applies_to``, by default every spend, visit, item and bonus rule), and
   the tier multiplier of the tier held *before* the purchase (spend, visit, item and bonus only;
   never cashback, events or referrals). Multipliers stack by multiplication. A multiplier with
   line filters scales only the matching lines' share of a spend or item award, and a fixed
   award only when the purchase has such a line;
3. the result is rounded once per rule with the program's rounding mode (cash-back always down to
   the currency's minor unit), limits are applied (``per_member`` count per period in the program
   time zone, ``budget`` caps the total points: what was paid out before, plus what this very
   evaluation's earlier awards took from the same budget), and zero awards are dropped.

Each ``Award`` carries its explanation; rules that did not award say why in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from patron.domain.config import ProgramConfig
from patron.domain.config.expression import compile_expression
from patron.domain.config.rules import (
    TIER_MULTIPLIED_KINDS,
    BonusRule,
    CashbackRule,
    EventRule,
    ItemRule,
    MultiplierRule,
    RuleBase,
    SpendRule,
    VisitRule,
)
from patron.domain.config.values import WEEKDAYS
from patron.domain.rules.purchase import Event, Line, MemberState, Purchase

AwardingRule = SpendRule | VisitRule | ItemRule | BonusRule | CashbackRule

ROUNDING = {
    "floor": ROUND_FLOOR,
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "ceil": ROUND_CEILING,
}


@dataclass(frozen=True, slots=True)
class Factor:
    source: str  # a multiplier rule id, or "tier:<code>"
    factor: Decimal
    lines: tuple[str, ...] = ()  # SKUs it was limited to, if any


@dataclass(frozen=True, slots=True)
class Award:
    rule_id: str
    kind: str
    wallet: str
    amount: int  # points, or minor units of the currency for a money wallet
    exact: Decimal
    eligible: Decimal
    factors: tuple[Factor, ...] = ()
    money: bool = False
    capped: bool = False
    exponent: int = 0  # digits of the currency's minor unit, for money awards

    def explanation(self) -> dict[str, Any]:
        amount: int | str = self.amount
        if self.money:
            amount = f"{Decimal(self.amount).scaleb(-self.exponent):.{self.exponent}f}"
        return {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "amount": amount,
            # Fixed-point: an exact 20 computed as 2E+1 reads "20", never "2E+1".
            "eligible": format(self.eligible, "f"),
            "exact": format(self.exact, "f"),
            "multipliers": [
                {
                    "source": f.source,
                    "factor": format(f.factor, "f"),
                    **({"lines": list(f.lines)} if f.lines else {}),
                }
                for f in self.factors
            ],
            **({"capped_by_budget": True} if self.capped else {}),
        }


@dataclass(frozen=True, slots=True)
class Skip:
    rule_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    eligible_amount: Decimal
    awards: tuple[Award, ...]
    skipped: tuple[Skip, ...]

    def earned(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for award in self.awards:
            totals[award.wallet] = totals.get(award.wallet, 0) + award.amount
        return totals


def period_key(period: str, local: datetime) -> str:
    """The calendar period of a local moment: a day, ISO week, month, year, or all time."""
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{local.year}-{local.month:02d}"
    if period == "year":
        return str(local.year)
    return "lifetime"


@dataclass(frozen=True, slots=True)
class _Input:
    config: ProgramConfig
    state: MemberState
    purchase: Purchase | None
    local: datetime
    zone: tzinfo
    exponent: int
    data: dict[str, Any]
    member: dict[str, Any]


def evaluate_purchase(
    config: ProgramConfig,
    state: MemberState,
    purchase: Purchase,
    *,
    timezone: str,
    exponent: int,
) -> Evaluation:
    """The awards of ``purchase`` for a member in ``state`` (before the purchase)."""
    zone = ZoneInfo(timezone)
    given = _Input(
        config,
        state,
        purchase,
        purchase.occurred_at.astimezone(zone),
        zone,
        exponent,
        purchase.as_data(),
        state.as_data(),
    )
    rules = [r for r in config.rules if not isinstance(r, EventRule)]
    multipliers = [r for r in rules if isinstance(r, MultiplierRule)]
    awards: list[Award] = []
    skipped: list[Skip] = []
    spent: dict[str, int] = {}
    live_multipliers = []
    for m in multipliers:
        reason = _why_not(m, given)
        if reason:
            skipped.append(Skip(m.id, reason))
        else:
            live_multipliers.append(m)
    for rule in rules:
        if isinstance(rule, MultiplierRule):
            continue
        reason = _why_not(rule, given)
        if reason:
            skipped.append(Skip(rule.id, reason))
            continue
        award = _purchase_award(rule, given, live_multipliers)
        limited, limit_reason = _limit(rule, award, given, spent)
        if limit_reason or limited is None:
            skipped.append(Skip(rule.id, limit_reason or "nothing to award"))
        else:
            awards.append(limited)
    eligible = purchase.subtotal + _extras(config, purchase)
    return Evaluation(eligible, tuple(awards), tuple(skipped))


def evaluate_event(
    config: ProgramConfig, state: MemberState, event: Event, *, timezone: str
) -> Evaluation:
    """The awards of an activity event: its ``event`` rules, never multiplied."""
    zone = ZoneInfo(timezone)
    data = {
        "type": event.type,
        "external_id": event.external_id,
        "attributes": dict(event.attributes),
    }
    given = _Input(
        config, state, None, event.occurred_at.astimezone(zone), zone, 0, data, state.as_data()
    )
    awards: list[Award] = []
    skipped: list[Skip] = []
    spent: dict[str, int] = {}
    for rule in config.rules:
        if not isinstance(rule, EventRule) or rule.event != event.type:
            continue
        reason = _why_not(rule, given)
        award: Award | None = None
        if not reason:
            exact = Decimal(rule.points)
            award, reason = _limit(
                rule,
                Award(rule.id, rule.kind, rule.wallet, rule.points, exact, Decimal(0)),
                given,
                spent,
            )
        if reason or award is None:
            skipped.append(Skip(rule.id, reason or "nothing to award"))
        else:
            awards.append(award)
    return Evaluation(Decimal(0), tuple(awards), tuple(skipped))


def _extras(config: ProgramConfig, purchase: Purchase) -> Decimal:
    tax = purchase.tax if config.earning.include_tax else Decimal(0)
    return tax + (purchase.shipping if config.earning.include_shipping else Decimal(0))


def has_line_filter(rule: RuleBase) -> bool:
    return any(
        v is not None
        for v in (rule.categories, rule.exclude_categories, rule.skus, rule.exclude_skus)
    )


def lines_of(rule: RuleBase, lines: Sequence[Line]) -> list[Line]:
    return [
        line
        for line in lines
        if (rule.categories is None or line.category in rule.categories)
        and (rule.exclude_categories is None or line.category not in rule.exclude_categories)
        and (rule.skus is None or line.sku in rule.skus)
        and (rule.exclude_skus is None or line.sku not in rule.exclude_skus)
    ]


def _eligible(rule: RuleBase, given: _Input) -> Decimal:
    purchase = given.purchase
    assert purchase is not None
    amount = sum((line.amount for line in lines_of(rule, purchase.lines)), Decimal(0))
    return amount if has_line_filter(rule) else amount + _extras(given.config, purchase)


def _why_not(rule: RuleBase, given: _Input) -> str | None:
    """Why ``rule`` does not apply, or None when every filter holds."""
    if not rule.active:
        return "inactive"
    if rule.tiers is not None and given.state.tier_code not in rule.tiers:
        return "tier"
    if rule.days_of_week is not None and WEEKDAYS[given.local.weekday()] not in rule.days_of_week:
        return "day of week"
    if not _in_window(rule.start, rule.end, given):
        return "outside the rule's window"
    if rule.segments is not None and not given.state.segments & set(rule.segments):
        return "segment"
    purchase = given.purchase
    if purchase is not None:
        reason = _purchase_filters(rule, given, purchase)
        if reason:
            return reason
    if rule.when is not None:
        facts = given.data if purchase is not None else {"event": given.data}
        if not compile_expression(rule.when).holds(facts, given.member):
            return "when"
    return None


def _purchase_filters(rule: RuleBase, given: _Input, purchase: Purchase) -> str | None:
    if rule.channels is not None and purchase.channel not in rule.channels:
        return "channel"
    if rule.stores is not None and purchase.store_id not in rule.stores:
        return "store"
    if rule.payment_card_types is not None and not any(
        p.card_type in rule.payment_card_types for p in purchase.payments
    ):
        return "payment card type"
    if (
        rule.first_purchase is not None
        and (given.state.purchases_before == 0) != rule.first_purchase
    ):
        return "first purchase"
    if has_line_filter(rule) and not lines_of(rule, purchase.lines):
        return "no eligible lines"
    if rule.min_spend is not None and _eligible(rule, given) < rule.min_spend:
        return "below min_spend"
    return None


def _in_window(start: date | datetime | None, end: date | datetime | None, given: _Input) -> bool:
    def position(bound: date | datetime) -> tuple[Any, Any]:
        if isinstance(bound, datetime):
            if bound.tzinfo is None:
                return given.local.replace(tzinfo=None), bound
            return given.local, bound
        return given.local.date(), bound

    if start is not None:
        here, bound = position(start)
        if here < bound:
            return False
    if end is not None:
        here, bound = position(end)
        if here > bound or (isinstance(end, datetime) and here == bound):
            return False
    return True


def _purchase_award(rule: AwardingRule, given: _Input, multipliers: list[MultiplierRule]) -> Award:
    purchase = given.purchase
    assert purchase is not None
    lines = lines_of(rule, purchase.lines)
    targeting = [m for m in multipliers if _targets(m, rule)]
    factors = [
        Factor(
            m.id,
            m.factor,
            tuple(line.sku for line in lines_of(m, purchase.lines)) if has_line_filter(m) else (),
        )
        for m in targeting
    ]
    tier_factor = _tier_factor(rule, given)
    if tier_factor is not None:
        factors.append(tier_factor)
    overall = _product(f.factor for f in factors if not f.lines)
    eligible = _eligible(rule, given)
    if isinstance(rule, SpendRule | ItemRule):
        weighted = Decimal(0)
        for line in lines:
            scoped = _product(f.factor for f in factors if f.lines and line.sku in f.lines)
            weighted += (line.amount if isinstance(rule, SpendRule) else line.quantity) * scoped
        if isinstance(rule, SpendRule) and not has_line_filter(rule):
            weighted += _extras(given.config, purchase)
        base = (
            weighted * rule.points / rule.per
            if isinstance(rule, SpendRule)
            else weighted * rule.points
        )
        exact = base * overall
    elif isinstance(rule, CashbackRule):
        exact = eligible * rule.percent / 100 * _product(f.factor for f in factors)
    else:
        exact = Decimal(rule.points) * _product(f.factor for f in factors)
    money = isinstance(rule, CashbackRule)
    if money:
        amount = int(exact.scaleb(given.exponent).to_integral_value(ROUND_DOWN))
    else:
        amount = int(exact.to_integral_value(ROUNDING[given.config.earning.rounding]))
    wallet = str(rule.wallet)
    exponent = given.exponent if money else 0
    factors_used = tuple(factors)
    return Award(
        rule.id,
        str(rule.kind),
        wallet,
        amount,
        exact,
        eligible,
        factors_used,
        money,
        exponent=exponent,
    )


def _targets(multiplier: MultiplierRule, rule: AwardingRule) -> bool:
    kind = str(rule.kind)
    if multiplier.applies_to is not None:
        return rule.id in multiplier.applies_to
    return kind in TIER_MULTIPLIED_KINDS


def _tier_factor(rule: AwardingRule, given: _Input) -> Factor | None:
    tiers = given.config.tiers
    code = given.state.tier_code
    if tiers is None or code is None or str(rule.kind) not in TIER_MULTIPLIED_KINDS:
        return None
    level = tiers.level(code)
    if level is None or level.benefits.multiplier == 1:
        return None
    return Factor(f"tier:{code}", level.benefits.multiplier)


def _product(values: Any) -> Decimal:
    result = Decimal(1)
    for value in values:
        result *= value
    return result


def _limit(
    rule: RuleBase, award: Award, given: _Input, spent: dict[str, int]
) -> tuple[Award | None, str | None]:
    """The award within the rule's limits (or why none). ``spent``: what this evaluation has
    awarded so far from each budget, added to here."""
    if award.amount <= 0:
        return None, "nothing to award"
    limits = rule.limits
    if limits is None:
        return award, None
    if limits.per_member is not None:
        key = (rule.id, period_key(limits.per_member.period, given.local))
        if given.state.rule_counts.get(key, 0) >= limits.per_member.count:
            return (
                None,
                f"limit of {limits.per_member.count} per {limits.per_member.period} reached",
            )
    if limits.budget is not None:
        budget = given.state.budget_of(rule.id)
        left = limits.budget - given.state.budget_used.get(budget, 0) - spent.get(budget, 0)
        if left <= 0:
            return None, "budget spent"
        spent[budget] = spent.get(budget, 0) + min(award.amount, left)
        if award.amount > left:
            return Award(
                award.rule_id,
                award.kind,
                award.wallet,
                left,
                award.exact,
                award.eligible,
                award.factors,
                award.money,
                capped=True,
                exponent=award.exponent,
            ), None
    return award, None
