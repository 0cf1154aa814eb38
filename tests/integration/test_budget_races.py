"""Budgets under concurrency: simultaneous events, and purchases and events of a campaign
together, never spend more than the budget (the program row is locked before any budget is
read; see services/earning.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.programs import Program
from patron.domain.rules import Event, Line, Purchase
from patron.services import campaigns, events, purchases
from patron.services.ledger import Context
from tests.integration.test_ledger_races import at_once
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program

ENROLLED = datetime(2026, 3, 1, tzinfo=UTC)
AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def awarded(container: Container, prefix: str) -> int:
    total = 0
    with container.engine.connect() as conn:
        for table in (t.purchase_awards, t.event_awards):
            c = table.c
            stmt = sa.select(sa.func.coalesce(sa.func.sum(c.amount), 0)).where(
                c.rule_id.startswith(prefix)
            )
            total += int(conn.execute(stmt).scalar_one())
    return total


def review(ctx: Context, member_id: str, i: int) -> events.Recorded:
    member = purchases.find_member(ctx.uow, ctx.program, purchases.MemberRef("id", member_id))
    event = Event(f"REV-{i}", "review_posted", AT)
    return events.record(ctx, member, event, fingerprint=str(i))


def buy(ctx: Context, member_id: str, i: int) -> purchases.Recorded:
    purchase = Purchase(f"P-{i}", AT, (Line("A", 1, Decimal("1.00")),))
    ref = purchases.MemberRef("id", member_id)
    return purchases.record(ctx, purchase, ref, fingerprint=str(i), document={"i": i})


def members(container: Container, program: Program, count: int) -> list[str]:
    return [new_member(container, program, enrolled_at=ENROLLED) for _ in range(count)]


def test_simultaneous_events_never_overspend_an_event_rule_budget(container: Container) -> None:
    config = {
        "wallets": {"points": {}},
        "rules": [
            {
                "id": "review",
                "kind": "event",
                "event": "review_posted",
                "points": 30,
                "limits": {"budget": 100},
            }
        ],
    }
    program = new_program(container, slug="events", config=config)
    people = members(container, program, 8)
    results = at_once(8, lambda i: in_ledger(container, program, lambda c: review(c, people[i], i)))
    assert all(isinstance(r, events.Recorded) for r in results), results
    assert awarded(container, "review") == 100
    assert sum(balance(container, program, m).available for m in people) == 100
    assert audit(container, program) == []


def test_simultaneous_purchases_and_events_never_overspend_a_campaign_budget(
    container: Container,
) -> None:
    program = new_program(container, slug="campaign", config={"wallets": {"points": {}}})
    fields: dict[str, Any] = {
        "code": "spring",
        "name": "Spring",
        "start": datetime(2026, 3, 1, tzinfo=UTC),
        "end": datetime(2026, 3, 8, tzinfo=UTC),
        "audience": {},
        "rules": [
            {"id": "hello", "kind": "bonus", "points": 30},
            {"id": "review", "kind": "event", "event": "review_posted", "points": 30},
        ],
        "budget": 100,
    }
    in_ledger(container, program, lambda c: campaigns.create(c, fields))
    people = members(container, program, 8)

    def work(i: int) -> Any:
        act = buy if i % 2 else review
        return in_ledger(container, program, lambda c: act(c, people[i], i))

    results = at_once(8, work)
    assert all(isinstance(r, purchases.Recorded | events.Recorded) for r in results), results
    assert awarded(container, "c.spring.") == 100
    assert sum(balance(container, program, m).available for m in people) == 100
    assert audit(container, program) == []
