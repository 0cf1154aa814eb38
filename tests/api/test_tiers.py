"""Tier scenarios across year ends, with the clock driven explicitly (SPEC §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.services import programs, tiers
from patron.services.ledger import Context
from patron.services.transactions import run_in_transaction
from tests.factories import MutableClock, auth, awards, buy, enrol, tier
from tests.ledger_support import audit

# the example configuration: spend, calendar year, end_of_next_period, Europe/Paris;
# insider 0, vib 350 (x1.25), rouge 1000 (x1.5)


@pytest.fixture
def member(client: TestClient, shop: dict[str, str]) -> str:
    return str(enrol(client, shop["pos"], program="shop")["id"])


def spend(
    client: TestClient, key: str, member: str, external_id: str, amount: str, at: datetime
) -> dict[str, Any]:
    return buy(
        client, key, program="shop", member=member, external_id=external_id, amount=amount, at=at
    )


def run_job(container: Container) -> None:
    def job(uow: Any) -> None:
        ctx = Context(uow, container.clock, CLI, programs.get_program(uow, "shop"))
        after = None
        while found := tiers.expire_due(ctx, container.clock.now(), after=after):
            after = found[-1]

    run_in_transaction(container.uow, job)


def test_upgrade_is_immediate_and_the_tier_before_a_purchase_applies(
    client: TestClient,
    shop: dict[str, str],
    member: str,
    container: Container,
    clock: MutableClock,
) -> None:
    thursday = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # no weekend multiplier
    first = spend(client, shop["pos"], member, "P-1", "400.00", thursday)
    assert awards(first)["base"] == 400  # not yet VIB
    state = tier(client, shop["read"], program="shop", member=member)
    assert state["current"]["code"] == "vib"
    # kept to the end of 2027 in Paris: midnight on 1 January 2028 there
    assert state["current"]["until"] == "2027-12-31T23:00:00Z"
    assert state["next"]["code"] == "rouge"
    assert state["progress"] == "400.00"
    assert state["remaining"] == "600.00"
    assert [h["to"] for h in state["history"]] == ["vib"]
    # The next purchase, after the upgrade was recorded (a Monday: no weekend multiplier).
    clock.at = monday = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    second = spend(client, shop["pos"], member, "P-2", "100.00", monday)
    assert awards(second)["base"] == 125  # x1.25
    shape = client.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["read"])).json()
    assert shape["tier"]["code"] == "vib"
    with container.engine.connect() as conn:
        facts = conn.execute(
            sa.select(t.outbox.c.type, t.outbox.c.payload).where(t.outbox.c.type == "tier.changed")
        ).all()
    assert [(f.type, f.payload["to"], f.payload["cause"]) for f in facts] == [
        ("tier.changed", "vib", "purchase")
    ]


def test_grace_to_the_end_of_the_next_year_then_downgrade(
    client: TestClient, shop: dict[str, str], member: str, clock: MutableClock, container: Container
) -> None:
    spend(client, shop["pos"], member, "P-1", "400.00", clock.now())
    clock.at = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
    run_job(container)
    during = tier(client, shop["read"], program="shop", member=member)
    assert during["current"]["code"] == "vib"
    assert during["current"]["cause"] == "grace"
    assert during["to_keep_current"] == "350.00"  # nothing bought in 2027 yet
    clock.at = datetime(2028, 1, 1, 12, 0, tzinfo=UTC)
    run_job(container)
    after = tier(client, shop["read"], program="shop", member=member)
    assert after["current"]["code"] == "insider"
    assert [h["to"] for h in after["history"]] == ["vib", "insider"]
    run_job(container)  # idempotent
    assert len(tier(client, shop["read"], program="shop", member=member)["history"]) == 2
    assert audit(container) == []


def test_a_refund_takes_back_a_tier_reached_only_through_refunded_spend(
    client: TestClient, shop: dict[str, str], member: str, clock: MutableClock
) -> None:
    spend(client, shop["pos"], member, "P-1", "400.00", clock.now())
    refund = client.post(
        "/v1/programs/shop/purchases/P-1/refunds",
        json={"external_id": "F-1", "amount": "100.00"},
        headers=auth(shop["pos"]),
    )
    assert refund.status_code == 201
    state = tier(client, shop["read"], program="shop", member=member)
    assert state["current"]["code"] == "insider"
    assert state["history"][-1]["cause"] == "refund"


def test_a_refund_never_drops_below_the_tier_held_by_grace(
    client: TestClient, shop: dict[str, str], member: str, clock: MutableClock
) -> None:
    spend(client, shop["pos"], member, "P-1", "400.00", clock.now())  # VIB in 2026
    clock.at = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    spend(client, shop["pos"], member, "P-2", "1000.00", clock.now())  # Rouge in 2027
    assert tier(client, shop["read"], program="shop", member=member)["current"]["code"] == "rouge"
    client.post(
        "/v1/programs/shop/purchases/P-2/refunds",
        json={"external_id": "F-2"},
        headers=auth(shop["pos"]),
    )
    assert tier(client, shop["read"], program="shop", member=member)["current"]["code"] == "vib"


def test_an_override_holds_until_its_date_then_the_earned_tier_returns(
    client: TestClient, shop: dict[str, str], member: str, clock: MutableClock, container: Container
) -> None:
    url = f"/v1/programs/shop/members/{member}/tier"
    body = {"code": "rouge", "until": "2026-04-01T00:00:00Z", "reason": "VIP guest"}
    assert client.post(url, json=body, headers=auth(shop["pos"])).status_code == 403
    granted = client.post(url, json=body, headers=auth(shop["admin"]))
    assert granted.status_code == 200, granted.text
    assert granted.json()["current"]["code"] == "rouge"
    assert granted.json()["current"]["cause"] == "override"
    clock.at = datetime(2026, 4, 2, tzinfo=UTC)
    run_job(container)
    after = tier(client, shop["read"], program="shop", member=member)
    assert after["current"]["code"] == "insider"
    assert [(h["to"], h["cause"]) for h in after["history"]] == [
        ("rouge", "override"),
        ("insider", "job"),
    ]


def test_a_paid_tier_lifts_but_never_lowers_and_lapses(
    client: TestClient, shop: dict[str, str], member: str, clock: MutableClock, container: Container
) -> None:
    url = f"/v1/programs/shop/members/{member}/tier"
    paid = {
        "code": "vib",
        "until": "2026-05-01T00:00:00Z",
        "reason": "Plus subscription",
        "paid": True,
    }
    assert (
        client.post(url, json=paid, headers=auth(shop["admin"])).json()["current"]["code"] == "vib"
    )
    clock.at = datetime(2026, 5, 2, tzinfo=UTC)
    run_job(container)
    assert tier(client, shop["read"], program="shop", member=member)["current"]["code"] == "insider"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"code": "gold", "reason": "x"}, "code"),
        ({"code": "vib", "reason": "x", "until": "2020-01-01T00:00:00Z"}, "until"),
        ({"code": "vib"}, "reason"),
    ],
)
def test_bad_grants_are_refused(
    client: TestClient, shop: dict[str, str], member: str, body: dict[str, Any], path: str
) -> None:
    response = client.post(
        f"/v1/programs/shop/members/{member}/tier", json=body, headers=auth(shop["admin"])
    )
    assert response.status_code == 422
    assert path in {e["path"] for e in response.json()["errors"]}
