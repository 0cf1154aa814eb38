"""The earning engine, rule by rule and filter by filter (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain.config import parse_config
from patron.domain.rules import (
    Award,
    Event,
    Factor,
    Line,
    MemberState,
    Payment,
    Purchase,
    evaluate_event,
    evaluate_purchase,
    period_key,
)
from tests.support_example import EXAMPLE_CONFIG

SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
MEMBER = MemberState(member_id="m", purchases_before=3)


def purchase(
    *lines: Line, at: datetime = TUESDAY, card: str | None = None, **fields: Any
) -> Purchase:
    payments = (Payment("card", Decimal(0), card),) if card else ()
    return Purchase(
        external_id="R-1", occurred_at=at, lines=tuple(lines), payments=payments, **fields
    )


def line(sku: str, price: str, qty: int = 1, category: str = "misc", discount: str = "0") -> Line:
    return Line(sku, qty, Decimal(price), Decimal(discount), category)


def awards(
    rules: list[dict[str, Any]],
    bought: Purchase,
    state: MemberState = MEMBER,
    *,
    timezone: str = "UTC",
    **sections: Any,
) -> dict[str, int]:
    document = {"wallets": {"points": {}, "credit": {"kind": "money"}}, "rules": rules, **sections}
    result = evaluate_purchase(parse_config(document), state, bought, timezone=timezone, exponent=2)
    return {award.rule_id: award.amount for award in result.awards}


SPEND = {"id": "base", "kind": "spend", "points": 1, "per": "1.00"}


@pytest.mark.parametrize(
    ("rule", "bought", "expected"),
    [
        (SPEND, purchase(line("A", "12.50", 2)), 25),
        ({**SPEND, "points": 3, "per": "2"}, purchase(line("A", "9.99")), 14),  # 14.985 floored
        ({"id": "v", "kind": "visit", "points": 10}, purchase(line("A", "1")), 10),
        (
            {"id": "v", "kind": "visit", "points": 10, "min_spend": "5"},
            purchase(line("A", "4.99")),
            None,
        ),
        (
            {"id": "i", "kind": "item", "skus": ["LIP"], "points": 50},
            purchase(line("LIP", "5", 3), line("B", "9")),
            150,
        ),
        (
            {"id": "b", "kind": "bonus", "points": 100, "first_purchase": True},
            purchase(line("A", "1")),
            None,
        ),
        (
            {"id": "c", "kind": "cashback", "wallet": "credit", "percent": "2"},
            purchase(line("A", "26.10")),
            52,
        ),
        (
            {**SPEND, "categories": ["shoes"]},
            purchase(line("A", "10", category="shoes"), line("B", "5")),
            10,
        ),
        (
            {**SPEND, "exclude_categories": ["gift"]},
            purchase(line("A", "10", category="gift"), line("B", "5")),
            5,
        ),
        ({**SPEND, "skus": ["B"]}, purchase(line("A", "10"), line("B", "5")), 5),
        ({**SPEND, "exclude_skus": ["B"]}, purchase(line("A", "10"), line("B", "5")), 10),
        ({**SPEND, "channels": ["online"]}, purchase(line("A", "10"), channel="store"), None),
        ({**SPEND, "channels": ["online"]}, purchase(line("A", "10"), channel="online"), 10),
        ({**SPEND, "stores": ["S1"]}, purchase(line("A", "10"), store_id="S2"), None),
        (
            {**SPEND, "payment_card_types": ["cobrand"]},
            purchase(line("A", "10"), card="cobrand"),
            10,
        ),
        (
            {**SPEND, "payment_card_types": ["cobrand"]},
            purchase(line("A", "10"), card="visa"),
            None,
        ),
        ({**SPEND, "days_of_week": ["sat", "sun"]}, purchase(line("A", "10"), at=SATURDAY), 10),
        ({**SPEND, "days_of_week": ["sat", "sun"]}, purchase(line("A", "10"), at=TUESDAY), None),
        ({**SPEND, "start": "2026-03-08"}, purchase(line("A", "10"), at=SATURDAY), None),
        ({**SPEND, "end": "2026-03-07"}, purchase(line("A", "10"), at=SATURDAY), 10),
        (
            {**SPEND, "end": "2026-03-07T10:00:00+00:00"},
            purchase(line("A", "10"), at=SATURDAY),
            None,
        ),
        ({**SPEND, "segments": ["vip"]}, purchase(line("A", "10")), None),
        (
            {**SPEND, "when": "purchase.channel == 'app'"},
            purchase(line("A", "10"), channel="app"),
            10,
        ),
        ({**SPEND, "when": "member.attributes['city'] == 'Oslo'"}, purchase(line("A", "10")), None),
        ({**SPEND, "active": False}, purchase(line("A", "10")), None),
        (SPEND, purchase(line("A", "10", discount="4")), 6),
    ],
)
def test_each_rule_kind_and_filter(
    rule: dict[str, Any], bought: Purchase, expected: int | None
) -> None:
    got = awards([rule], bought).get(rule["id"])
    assert got == expected


def test_first_purchase_bonus_for_a_newcomer() -> None:
    rule = {"id": "b", "kind": "bonus", "points": 100, "first_purchase": True}
    newcomer = MemberState(member_id="m", purchases_before=0)
    assert awards([rule], purchase(line("A", "1")), newcomer) == {"b": 100}


def test_segments_and_tiers_use_the_state_before_the_purchase() -> None:
    tiers = EXAMPLE_CONFIG["tiers"]
    rule = {**SPEND, "tiers": ["vib"], "segments": ["vip"]}
    vip = MemberState(member_id="m", tier_code="vib", segments=frozenset({"vip"}))
    assert awards([rule], purchase(line("A", "10")), vip, tiers=tiers) == {"base": 12}  # x1.25
    insider = MemberState(member_id="m", tier_code="insider", segments=frozenset({"vip"}))
    assert awards([rule], purchase(line("A", "10")), insider, tiers=tiers) == {}


def test_multipliers_stack_by_multiplication_and_round_once_per_rule() -> None:
    rules = [
        SPEND,
        {"id": "visit", "kind": "visit", "points": 10},
        {"id": "cash", "kind": "cashback", "wallet": "credit", "percent": "2"},
        {
            "id": "weekend",
            "kind": "multiplier",
            "factor": "2",
            "applies_to": ["base"],
            "days_of_week": ["sat"],
        },
        {"id": "cobrand", "kind": "multiplier", "factor": "1.5", "payment_card_types": ["cobrand"]},
    ]
    vib = MemberState(member_id="m", tier_code="vib", purchases_before=1)
    bought = purchase(line("A", "10.99"), at=SATURDAY, card="cobrand")
    got = awards(rules, bought, vib, tiers=EXAMPLE_CONFIG["tiers"])
    # base: 10.99 x 2 x 1.5 x 1.25 = 41.2125 -> 41; visit: 10 x 1.5 x 1.25 = 18.75 -> 18;
    # cash-back is never multiplied by default, nor by the tier: 2% of 10.99 = 0.2198 -> 0.21
    assert got == {"base": 41, "visit": 18, "cash": 21}


def test_a_multiplier_limited_to_lines_scales_only_their_share() -> None:
    rules = [SPEND, {"id": "shoes", "kind": "multiplier", "factor": "3", "categories": ["shoes"]}]
    bought = purchase(line("S", "10", category="shoes"), line("B", "5"))
    assert awards(rules, bought) == {"base": 35}


def test_rounding_modes() -> None:
    rule = {**SPEND, "per": "2"}
    bought = purchase(line("A", "5"))  # 2.5 points
    expected = {"floor": 2, "ceil": 3, "half_up": 3, "half_even": 2}
    for mode, points in expected.items():
        got = awards([rule], bought, earning={"rounding": mode})
        assert got == {"base": points}, mode


def test_tax_and_shipping_count_only_when_configured() -> None:
    bought = purchase(line("A", "10"), tax=Decimal("2"), shipping=Decimal("3"))
    assert awards([SPEND], bought) == {"base": 10}
    both = {"include_tax": True, "include_shipping": True}
    assert awards([SPEND], bought, earning=both) == {"base": 15}
    shoes = {**SPEND, "categories": ["misc"]}
    assert awards([shoes], bought, earning=both) == {"base": 10}  # line filters: lines only


def test_days_are_read_in_the_program_time_zone() -> None:
    # 03:00 UTC on Monday 9 March is still Sunday evening in New York
    monday_utc = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    rule = {**SPEND, "days_of_week": ["sun"]}
    bought = purchase(line("A", "10"), at=monday_utc)
    assert awards([rule], bought, timezone="America/New_York") == {"base": 10}
    assert awards([rule], bought, timezone="UTC") == {}


def test_limits_per_member_and_budget() -> None:
    limited = {**SPEND, "limits": {"per_member": {"count": 2, "period": "week"}}}
    week = period_key("week", TUESDAY)
    used = MemberState(member_id="m", rule_counts={("base", week): 2})
    assert awards([limited], purchase(line("A", "10")), used) == {}
    budgeted = {**SPEND, "limits": {"budget": 100}}
    nearly = MemberState(member_id="m", budget_used={"base": 95})
    assert awards([budgeted], purchase(line("A", "10")), nearly) == {"base": 5}
    spent = MemberState(member_id="m", budget_used={"base": 100})
    assert awards([budgeted], purchase(line("A", "10")), spent) == {}


def test_the_example_configuration_explains_every_award() -> None:
    config = parse_config(EXAMPLE_CONFIG)
    bought = Purchase(
        external_id="R-1001",
        occurred_at=SATURDAY,
        lines=(Line("LIP-01", 2, Decimal("12.00"), Decimal(0), "makeup", "Lipstick"),),
        channel="store",
        store_id="S1",
        tax=Decimal("2.10"),
        payments=(Payment("card", Decimal("26.10"), "cobrand"),),
    )
    result = evaluate_purchase(
        config, MemberState(member_id="m"), bought, timezone="Europe/Paris", exponent=2
    )
    got = {a.rule_id: a.amount for a in result.awards}
    # base 24 x weekend 2 x cobrand 2 = 96; visit 10 x 2 = 20; lipstick 2 x 50 x 2 = 200;
    # welcome 100 x 2 = 200 (first purchase); cash-back 2% of 24.00 = 0.48
    assert got == {"base": 96, "visit": 20, "lipstick": 200, "welcome": 200, "cashback": 48}
    assert result.earned() == {"points": 516, "credit": 48}
    base = next(a for a in result.awards if a.rule_id == "base").explanation()
    assert [m["source"] for m in base["multipliers"]] == ["weekend", "cobrand"]
    assert {s.rule_id: s.reason for s in result.skipped}["shoes"] == "no eligible lines"


def test_events_award_their_rules_with_limits() -> None:
    config = parse_config(EXAMPLE_CONFIG)
    review = Event("E-1", "review_posted", SATURDAY)
    first = evaluate_event(config, MemberState(member_id="m"), review, timezone="UTC")
    assert [(a.rule_id, a.amount) for a in first.awards] == [("review", 25)]
    month = period_key("month", SATURDAY)
    full = MemberState(member_id="m", rule_counts={("review", month): 2})
    assert evaluate_event(config, full, review, timezone="UTC").awards == ()
    unknown = Event("E-2", "unknown_type", SATURDAY)
    assert evaluate_event(config, MemberState(member_id="m"), unknown, timezone="UTC").awards == ()


prices = st.decimals(min_value=0, max_value=Decimal("9999.99"), places=2)


@given(
    amounts=st.lists(st.tuples(prices, st.integers(1, 20)), min_size=1, max_size=5),
    factor=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(5), places=2),
    saturday=st.booleans(),
)
def test_awards_are_never_negative_and_evaluation_is_deterministic(
    amounts: list[tuple[Decimal, int]], factor: Decimal, saturday: bool
) -> None:
    config = parse_config(
        {
            **EXAMPLE_CONFIG,
            "rules": [
                *EXAMPLE_CONFIG["rules"][:4],
                {"id": "x", "kind": "multiplier", "factor": str(factor), "days_of_week": ["sat"]},
                EXAMPLE_CONFIG["rules"][7],
            ],
        }
    )
    bought = purchase(
        *(
            Line(f"S{i}", qty, price, Decimal(0), "makeup")
            for i, (price, qty) in enumerate(amounts)
        ),
        at=SATURDAY if saturday else TUESDAY,
    )
    first = evaluate_purchase(config, MEMBER, bought, timezone="Europe/Paris", exponent=2)
    again = evaluate_purchase(config, MEMBER, bought, timezone="Europe/Paris", exponent=2)
    assert first == again
    assert all(award.amount > 0 for award in first.awards)
    assert first.eligible_amount == sum(p * q for p, q in amounts)


def test_explanations_write_decimals_in_fixed_point() -> None:
    award = Award(
        rule_id="base",
        kind="per_amount",
        wallet="points",
        amount=20,
        exact=Decimal("2E+1"),
        eligible=Decimal("1E+2"),
        factors=(Factor("tier", Decimal("2E+0")),),
    )
    explained = award.explanation()
    assert (explained["exact"], explained["eligible"]) == ("20", "100")
    assert explained["multipliers"][0]["factor"] == "2"
