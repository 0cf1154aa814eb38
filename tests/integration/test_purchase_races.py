"""Purchases under concurrency: one business key posts once; a budget is never overspent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.rules import Line, Purchase
from patron.services import purchases
from tests.integration.test_ledger_races import at_once
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program

AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def receipt(external_id: str, amount: str) -> Purchase:
    return Purchase(external_id, AT, (Line("A", 1, Decimal(amount)),))


def awarded(container: Container, rule_id: str) -> int:
    c = t.purchase_awards.c
    with container.engine.connect() as conn:
        stmt = sa.select(sa.func.coalesce(sa.func.sum(c.amount), 0)).where(c.rule_id == rule_id)
        return int(conn.execute(stmt).scalar_one())


BASE = {
    "wallets": {"points": {}},
    "rules": [{"id": "base", "kind": "spend", "points": 1, "per": "1"}],
}


def test_one_receipt_from_ten_threads_is_recorded_once(container: Container) -> None:
    program = new_program(container, slug="race", config=BASE)
    member = new_member(container, program)
    ref = purchases.MemberRef("id", member)
    results = at_once(
        10,
        lambda _: in_ledger(
            container,
            program,
            lambda c: purchases.record(
                c, receipt("R-1", "20.00"), ref, fingerprint="same", document={"x": 1}
            ),
        ),
    )
    assert all(isinstance(r, purchases.Recorded) for r in results), results
    assert sum(not r.replayed for r in results) == 1
    assert balance(container, program, member).available == 20
    assert audit(container, program) == []


def test_a_budget_is_never_overspent_by_simultaneous_purchases(container: Container) -> None:
    config = {
        "wallets": {"points": {}},
        "rules": [
            {"id": "promo", "kind": "spend", "points": 1, "per": "1", "limits": {"budget": 100}}
        ],
    }
    program = new_program(container, slug="budget", config=config)
    members = [new_member(container, program) for _ in range(8)]
    results = at_once(
        8,
        lambda i: in_ledger(
            container,
            program,
            lambda c: purchases.record(
                c,
                receipt(f"R-{i}", "30.00"),
                purchases.MemberRef("id", members[i]),
                fingerprint=str(i),
                document={"i": i},
            ),
        ),
    )
    assert all(isinstance(r, purchases.Recorded) for r in results), results
    assert awarded(container, "promo") == 100
    assert sum(balance(container, program, m).available for m in members) == 100
    assert audit(container, program) == []
