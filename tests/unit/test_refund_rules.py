"""Refund arithmetic: never more than awarded, a full refund returns exactly to zero."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain.config import parse_config
from patron.domain.errors import ValidationFailed
from patron.domain.rules import Line, MemberState, Purchase, evaluate_purchase
from patron.domain.rules import refunds as rules
from tests.support_example import EXAMPLE_CONFIG

CONFIG = parse_config(EXAMPLE_CONFIG)
NEWCOMER = MemberState(member_id="m")
THURSDAY = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)

lines = st.lists(
    st.tuples(
        st.sampled_from(["LIP-01", "SHOE-1", "BAG-2", "GIFT"]),
        st.sampled_from(["makeup", "shoes", "bags"]),
        st.integers(1, 5),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(200), places=2),
    ),
    min_size=1,
    max_size=4,
)
refund_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("lines"),
            st.sampled_from(["LIP-01", "SHOE-1", "BAG-2", "GIFT"]),
            st.integers(1, 3),
        ),
        st.tuples(st.just("amount"), st.just(""), st.integers(1, 90)),  # percent of what remains
    ),
    max_size=4,
)


def bought(spec: list[tuple[str, str, int, Decimal]]) -> Purchase:
    return Purchase(
        "R-1",
        THURSDAY,
        tuple(Line(sku, qty, price, Decimal(0), category) for sku, category, qty, price in spec),
    )


@given(spec=lines, steps=refund_steps)
def test_refunds_never_claw_back_more_than_awarded_and_a_full_one_leaves_zero(
    spec: list[tuple[str, str, int, Decimal]], steps: list[tuple[str, str, int]]
) -> None:
    purchase = bought(spec)
    evaluation = evaluate_purchase(CONFIG, NEWCOMER, purchase, timezone="UTC", exponent=2)
    awards = [rules.AwardKept(a.rule_id, a.kind, a.wallet, a.amount) for a in evaluation.awards]
    awarded = {a.rule_id: a.awarded for a in awards}
    left = rules.initial(purchase)
    kept = rules.kept_awards(CONFIG, purchase, awards, left)
    assert kept == awarded
    clawed = dict.fromkeys(awarded, 0)
    for kind, sku, n in steps:
        if kind == "lines":
            request = rules.RefundRequest(lines=((sku, n),))
        else:
            remaining = sum((item.amount for item in left), Decimal(0))
            amount = (remaining * n / 100).quantize(Decimal("0.01"))
            if amount <= 0:
                continue
            request = rules.RefundRequest(amount=amount)
        try:
            left = rules.apply(left, request)
        except ValidationFailed:
            continue  # more than remains: refused, nothing changes
        now = rules.kept_awards(CONFIG, purchase, awards, left)
        for rule_id in awarded:
            assert now[rule_id] >= 0
            clawed[rule_id] += kept[rule_id] - now[rule_id]
        kept = now
    assert all(0 <= clawed[r] <= awarded[r] for r in awarded)
    left = rules.apply(left, rules.RefundRequest())
    final = rules.kept_awards(CONFIG, purchase, awards, left)
    assert all(amount == 0 for amount in final.values())


def test_a_refund_beyond_what_remains_is_refused() -> None:
    purchase = bought([("LIP-01", "makeup", 2, Decimal("12.00"))])
    left = rules.apply(rules.initial(purchase), rules.RefundRequest(lines=(("LIP-01", 1),)))
    with pytest.raises(ValidationFailed):
        rules.apply(left, rules.RefundRequest(lines=(("LIP-01", 2),)))
    with pytest.raises(ValidationFailed):
        rules.apply(left, rules.RefundRequest(amount=Decimal("12.01")))
