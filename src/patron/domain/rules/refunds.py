"""Refunds: how much of each award a purchase keeps after its refunds (SPEC §3).

Refunds are cumulative. After each one, every award of the purchase keeps:

- ``spend`` and ``cashback`` (proportional): award * remaining eligible / original eligible,
  rounded with the program's mode (cash-back always down);
- ``item``: the points of the units not refunded;
- ``visit`` and ``bonus`` (fixed): everything, until the remaining eligible amount falls below the
  rule's ``min_spend`` or reaches zero; then nothing.

The clawback of a refund is what was kept before minus what is kept now, so a full refund after
any number of partial ones leaves exactly zero of the purchase's awards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

from patron.domain.config import ProgramConfig
from patron.domain.config.rules import ItemRule, RuleBase
from patron.domain.errors import FieldError, ValidationFailed
from patron.domain.rules.engine import ROUNDING, has_line_filter, lines_of
from patron.domain.rules.purchase import Line, Purchase


@dataclass(frozen=True, slots=True)
class LineLeft:
    line: Line
    quantity: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Either ``lines`` (sku, quantity), or ``amount``; neither means everything that remains."""

    lines: tuple[tuple[str, int], ...] = ()
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AwardKept:
    rule_id: str
    kind: str
    wallet: str
    awarded: int


def initial(purchase: Purchase) -> tuple[LineLeft, ...]:
    return tuple(LineLeft(line, line.quantity, line.amount) for line in purchase.lines)


def apply(left: Sequence[LineLeft], request: RefundRequest) -> tuple[LineLeft, ...]:
    """What remains after ``request``. Raises: ValidationFailed when it refunds too much."""
    state = list(left)
    if request.lines:
        for index, (sku, quantity) in enumerate(request.lines):
            available = sum(item.quantity for item in state if item.line.sku == sku)
            if quantity > available:
                message = f"only {available} unit(s) of {sku!r} remain to refund"
                raise ValidationFailed([FieldError(f"lines[{index}].quantity", message)])
            for i, item in enumerate(state):
                if quantity == 0:
                    break
                if item.line.sku != sku or item.quantity == 0:
                    continue
                taken = min(quantity, item.quantity)
                unit = item.line.amount / item.line.quantity
                amount = item.amount - unit * taken if taken < item.quantity else Decimal(0)
                state[i] = replace(
                    item, quantity=item.quantity - taken, amount=max(amount, Decimal(0))
                )
                quantity -= taken
        return tuple(state)
    total = sum((item.amount for item in state), Decimal(0))
    amount = total if request.amount is None else request.amount
    if amount > total:
        raise ValidationFailed([FieldError("amount", f"only {total} remains to refund")])
    if amount == total:
        return tuple(replace(item, quantity=0, amount=Decimal(0)) for item in state)
    ratio = (total - amount) / total
    return tuple(replace(item, amount=item.amount * ratio) for item in state)


def remaining_eligible(
    rule: RuleBase, purchase: Purchase, left: Sequence[LineLeft], config: ProgramConfig
) -> Decimal:
    kept = {id(item.line): item for item in left}
    lines = lines_of(rule, purchase.lines)
    amount = sum((kept[id(line)].amount for line in lines), Decimal(0))
    if has_line_filter(rule):
        return amount
    extras = (purchase.tax if config.earning.include_tax else Decimal(0)) + (
        purchase.shipping if config.earning.include_shipping else Decimal(0)
    )
    subtotal = purchase.subtotal
    share = sum((item.amount for item in left), Decimal(0)) / subtotal if subtotal else Decimal(0)
    return amount + extras * share


def kept_awards(
    config: ProgramConfig,
    purchase: Purchase,
    awards: Sequence[AwardKept],
    left: Sequence[LineLeft],
) -> dict[str, int]:
    """Rule id → what the purchase keeps of that rule's award with ``left`` remaining."""
    original = initial(purchase)
    mode = ROUNDING[config.earning.rounding]
    kept: dict[str, int] = {}
    for award in awards:
        rule = config.rule(award.rule_id)
        if rule is None:
            kept[award.rule_id] = 0
            continue
        now = remaining_eligible(rule, purchase, left, config)
        if award.kind in ("spend", "cashback"):
            before = remaining_eligible(rule, purchase, original, config)
            exact = Decimal(award.awarded) * now / before if before else Decimal(0)
            rounding = ROUND_DOWN if award.kind == "cashback" else mode
            kept[award.rule_id] = min(award.awarded, int(exact.to_integral_value(rounding)))
        elif award.kind == "item" and isinstance(rule, ItemRule):
            units = {id(item.line): item.quantity for item in left}
            lines = lines_of(rule, purchase.lines)
            total = sum(line.quantity for line in lines)
            still = sum(units[id(line)] for line in lines)
            exact = Decimal(award.awarded) * still / total if total else Decimal(0)
            kept[award.rule_id] = min(award.awarded, int(exact.to_integral_value(mode)))
        else:
            below = rule.min_spend is not None and now < rule.min_spend
            kept[award.rule_id] = 0 if now <= 0 or below else award.awarded
    return kept
