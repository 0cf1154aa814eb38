"""Budgets shared by several rules, event budgets, and the tier in force at a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from patron.domain.config import parse_config
from patron.domain.dates import Floor, check_business_date
from patron.domain.errors import ValidationFailed
from patron.domain.rules import (
    Event,
    Line,
    MemberState,
    Purchase,
    evaluate_event,
    evaluate_purchase,
)
from patron.services.earning import code_at
from patron.services.ports import TierChange

AT = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
HELLO = {"id": "hello", "kind": "bonus", "points": 30, "limits": {"budget": 40}}
AGAIN = {**HELLO, "id": "again"}


def bought(state: MemberState) -> dict[str, int]:
    config = parse_config({"wallets": {"points": {}}, "rules": [HELLO, AGAIN]})
    purchase = Purchase("R-1", AT, (Line("A", 1, Decimal("1.00")),))
    result = evaluate_purchase(config, state, purchase, timezone="UTC", exponent=2)
    return {a.rule_id: a.amount for a in result.awards}


def test_rules_of_one_budget_take_from_it_in_turn() -> None:
    pools = {"hello": "spring", "again": "spring"}
    assert bought(MemberState("m", budget_pools=pools)) == {"hello": 30, "again": 10}
    used = MemberState("m", budget_pools=pools, budget_used={"spring": 35})
    assert bought(used) == {"hello": 5}
    # rules with budgets of their own each have their own
    assert bought(MemberState("m", budget_used={"hello": 35})) == {"hello": 5, "again": 30}


def test_an_event_rule_budget_caps_the_event() -> None:
    review = {"id": "review", "kind": "event", "event": "review_posted", "points": 25}
    config = parse_config(
        {"wallets": {"points": {}}, "rules": [{**review, "limits": {"budget": 30}}]}
    )
    event = Event("E-1", "review_posted", AT)

    def got(used: int) -> dict[str, int]:
        state = MemberState("m", budget_used={"review": used})
        result = evaluate_event(config, state, event, timezone="UTC")
        return {a.rule_id: a.amount for a in result.awards}

    assert [got(0), got(25), got(30)] == [{"review": 25}, {"review": 5}, {}]


def change(at: datetime, before: str | None, after: str) -> TierChange:
    return TierChange(
        id="id", program_id="p", member_id="m", at=at, from_code=before, to_code=after, cause="x"
    )


def test_the_tier_in_force_is_read_from_the_history() -> None:
    lifted, overridden = AT, AT + timedelta(days=3)
    history = [change(lifted, "insider", "vib"), change(overridden, "vib", "rouge")]
    assert code_at(history, AT - timedelta(days=1), current="rouge", base="insider") == "insider"
    assert code_at(history, lifted, current="rouge", base="insider") == "vib"
    assert code_at(history, AT + timedelta(days=1), current="rouge", base="insider") == "vib"
    assert code_at(history, overridden, current="rouge", base="insider") == "rouge"
    # first held above the base level: before it, the base level
    first = [change(lifted, None, "vib")]
    assert code_at(first, AT - timedelta(days=1), current="vib", base="insider") == "insider"
    assert code_at([], AT, current="insider", base="insider") == "insider"


@pytest.mark.parametrize(
    ("at", "kind"),
    [
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), "too_early"),
        (AT + timedelta(minutes=5, seconds=1), "future"),
        (AT - timedelta(days=2), "before_enrolment"),
    ],
)
def test_business_dates_out_of_bounds(at: datetime, kind: str) -> None:
    floor = Floor(AT - timedelta(days=1), "is before the member enrolled", "before_enrolment")
    with pytest.raises(ValidationFailed) as refused:
        check_business_date(at, path="occurred_at", now=AT, floor=floor)
    assert [(e.path, e.type) for e in refused.value.errors] == [("occurred_at", kind)]


def test_business_dates_within_bounds() -> None:
    for at in (datetime(2000, 1, 1, tzinfo=UTC), AT + timedelta(minutes=5)):
        check_business_date(at, path="occurred_at", now=AT)
    with pytest.raises(ValidationFailed):
        check_business_date(
            AT + timedelta(seconds=1), path="enrolled_at", now=AT, ahead=timedelta(0)
        )
