"""Every entry of a member's tier history says why: its cause, and the reason given with a staff
override or a paid tier, or the standing that explains an automatic change. The audit record of
an override carries its reason too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.services import programs, tiers
from patron.services.ledger import Context
from patron.services.transactions import run_in_transaction
from tests.factories import MutableClock, auth, enrol
from tests.ledger_support import audit

# the example configuration: spend, calendar year, end_of_next_period, Europe/Paris;
# insider 0, vib 350 (x1.25), rouge 1000 (x1.5)


def history(client: TestClient, key: str, member: str) -> list[dict[str, Any]]:
    answer = client.get(f"/v1/programs/shop/members/{member}/tier", headers=auth(key))
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["history"]
    return found


def run_tier_job(container: Container) -> None:
    def job(uow: Any) -> None:
        ctx = Context(uow, container.clock, CLI, programs.get_program(uow, "shop"))
        after = None
        while found := tiers.expire_due(ctx, container.clock.now(), after=after):
            after = found[-1]

    run_in_transaction(container.uow, job)


def test_an_override_keeps_its_reason_in_the_history_the_audit_and_the_webhook(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    member = enrol(client, shop["pos"], program="shop")["id"]
    url = f"/v1/programs/shop/members/{member}/tier"
    body = {"code": "rouge", "until": "2026-04-01T00:00:00Z", "reason": "Press ambassador"}
    granted = client.post(url, json=body, headers=auth(shop["admin"]))
    assert granted.status_code == 200, granted.text
    (entry,) = granted.json()["history"]
    assert (entry["to"], entry["cause"], entry["reason"]) == ("rouge", "override", body["reason"])

    log = client.get(
        "/v1/programs/shop/audit-log",
        params={"target_type": "member", "target_id": member, "action": "member.tier_granted"},
        headers=auth(shop["admin"]),
    ).json()["items"]
    (record,) = log
    assert record["after"]["reason"] == "Press ambassador"
    assert record["after"]["code"] == "rouge"
    assert record["after"]["until"].startswith("2026-04-01T00:00:00")

    with container.engine.connect() as conn:
        payloads = conn.execute(
            sa.select(t.outbox.c.payload).where(t.outbox.c.type == "tier.changed")
        ).scalars()
        assert [p["reason"] for p in payloads] == ["Press ambassador"]

    clock.at = datetime(2026, 4, 2, tzinfo=UTC)
    run_tier_job(container)
    lapsed = history(client, shop["read"], member)[-1]
    assert (lapsed["to"], lapsed["cause"]) == ("insider", "job")
    assert lapsed["reason"] == "override ended; spend 0.00 this calendar year, below VIB (350.00)"
    assert audit(container) == []


def test_automatic_changes_explain_themselves(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    member = enrol(client, shop["pos"], program="shop")["id"]
    purchase = {
        "external_id": "P-1",
        "member": {"id": member},
        "occurred_at": "2026-03-05T10:00:00Z",
        "lines": [{"sku": "X", "category": "misc", "quantity": 1, "unit_price": "400.00"}],
    }
    answer = client.post("/v1/programs/shop/purchases", json=purchase, headers=auth(shop["pos"]))
    assert answer.status_code == 201, answer.text
    paid = {"code": "rouge", "until": "2026-06-01T00:00:00Z", "reason": "Plus", "paid": True}
    url = f"/v1/programs/shop/members/{member}/tier"
    assert client.post(url, json=paid, headers=auth(shop["admin"])).status_code == 200
    clock.at = datetime(2026, 6, 2, tzinfo=UTC)
    run_tier_job(container)
    clock.at = datetime(2028, 1, 1, 12, 0, tzinfo=UTC)
    run_tier_job(container)

    assert [(h["to"], h["cause"], h["reason"]) for h in history(client, shop["read"], member)] == [
        ("vib", "purchase", "spend 400.00 this calendar year reaches VIB (350.00)"),
        ("rouge", "paid", "Plus"),
        ("vib", "job", "paid ended; spend 400.00 this calendar year reaches VIB (350.00)"),
        ("insider", "job", "spend 0.00 this calendar year, below VIB (350.00)"),
    ]
    assert audit(container) == []
