"""Giving back a direct spend, and voiding an erased member's vouchers (SPEC §5, §8).

A checkout that failed cancels its direct spend of store credit: the credit comes back as new
lots with the original expiry, once, however often or concurrently the cancel is sent. An
erasure voids the member's vouchers still to be used: the lookup shows them cancelled and
``use`` is refused.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db import tables as t
from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.services import programs, rewards
from patron.services.ledger import Context
from patron.services.transactions import run_in_transaction
from tests.conftest import table_counts
from tests.factories import COFFEE, MutableClock, auth, create_program, enrol, program_key
from tests.integration.test_ledger_races import at_once
from tests.ledger_support import audit

STORE = "/v1/programs/store"
CREDIT_EXPIRES = {
    "wallets": {
        "points": {},
        "credit": {"kind": "money", "expiry": {"mode": "after_earn", "months": 6}},
    }
}


def credit(client: TestClient, key: str, member: str) -> dict[str, Any]:
    found = client.get(f"{STORE}/members/{member}", headers=auth(key)).json()
    return dict(found["balances"]["credit"])


def entries(container: Container, member: str, kind: str) -> int:
    e = t.ledger_entries.c
    with container.engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(e.member_id == member, e.type == kind)
        return int(conn.execute(stmt).scalar_one())


def test_a_direct_spend_is_given_back_once_with_its_expiry(
    client: TestClient, container: Container, platform: str, clock: MutableClock
) -> None:
    create_program(client, platform, slug="store", config=CREDIT_EXPIRES)
    admin = program_key(client, platform, program="store")
    pos = program_key(client, platform, program="store", role="pos")
    ada = enrol(client, pos, program="store")["id"]
    for amount in ("10.00", "5.00"):
        body = {"wallet": "credit", "amount": amount, "reason": "gift card"}
        added = client.post(f"{STORE}/members/{ada}/adjustments", json=body, headers=auth(admin))
        assert added.status_code == 201, added.text
        clock.advance(days=30)
    held = credit(client, pos, ada)
    assert [e["amount"] for e in held["expiring"]] == ["10.00", "5.00"]
    spent = client.post(
        f"{STORE}/members/{ada}/redemptions",
        json={"wallet": "credit", "amount": "12.00"},
        headers=auth(pos),
    )
    assert spent.status_code == 201, spent.text
    assert spent.json()["status"] == "completed"
    assert spent.json()["balances"]["credit"]["available"] == "3.00"

    clock.advance(minutes=5)  # the checkout failed
    url = f"{STORE}/redemptions/{spent.json()['id']}/cancel"
    cancelled = client.post(url, headers=auth(pos))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["reward"] is None
    assert cancelled.json()["balances"]["credit"] == held  # same amounts, same expiry dates
    after = table_counts(container)
    again = client.post(url, headers=auth(pos))
    assert again.status_code == 200, again.text
    assert again.json() == cancelled.json()
    assert table_counts(container) == after
    assert credit(client, pos, ada)["available"] == "15.00"
    assert entries(container, ada, "redemption_cancel") == 1
    assert audit(container) == []


def test_concurrent_cancels_of_a_direct_spend_give_it_back_once(
    client: TestClient, container: Container, platform: str
) -> None:
    create_program(client, platform, slug="store", config=CREDIT_EXPIRES)
    admin = program_key(client, platform, program="store")
    ada = enrol(client, admin, program="store")["id"]
    body = {"wallet": "credit", "amount": "20.00", "reason": "gift card"}
    client.post(f"{STORE}/members/{ada}/adjustments", json=body, headers=auth(admin))
    spent = client.post(
        f"{STORE}/members/{ada}/redemptions",
        json={"wallet": "credit", "amount": "8.00"},
        headers=auth(admin),
    ).json()

    def cancel(_: int) -> Any:
        return run_in_transaction(
            container.uow,
            lambda uow: rewards.cancel(
                Context(uow, container.clock, CLI, programs.get_program(uow, "store")),
                spent["id"],
            ),
        )

    results = at_once(8, cancel)
    assert all(isinstance(r, rewards.Cancelled) for r in results), results
    assert sum(not r.replayed for r in results) == 1
    assert credit(client, admin, ada)["available"] == "20.00"
    assert entries(container, ada, "redemption_cancel") == 1
    assert audit(container) == []


def test_a_credit_reward_stays_final(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    """Only a direct spend is given back: a reward that turned points into credit is not."""
    ada = enrol(client, shop["pos"], program="shop")["id"]
    body = {"wallet": "points", "amount": 500, "reason": "r"}
    client.post(
        f"/v1/programs/shop/members/{ada}/adjustments", json=body, headers=auth(shop["admin"])
    )
    fiver = {**COFFEE, "code": "fiver", "name": "5.00", "kind": "credit", "value": "5.00"}
    made = client.post("/v1/programs/shop/rewards", json=fiver, headers=auth(shop["admin"]))
    assert made.status_code == 201, made.text
    done = client.post(
        f"/v1/programs/shop/members/{ada}/redemptions",
        json={"reward": "fiver"},
        headers=auth(shop["pos"]),
    ).json()
    before = table_counts(container)
    refused = client.post(
        f"/v1/programs/shop/redemptions/{done['id']}/cancel", headers=auth(shop["pos"])
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "not_cancellable")
    assert table_counts(container) == before


def test_erasure_voids_the_vouchers_still_to_be_used(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    admin, pos = shop["admin"], shop["pos"]
    ada = enrol(client, pos, program="shop")["id"]
    body = {"wallet": "points", "amount": 500, "reason": "r"}
    client.post(f"/v1/programs/shop/members/{ada}/adjustments", json=body, headers=auth(admin))
    made = client.post(
        "/v1/programs/shop/rewards", json={**COFFEE, "stock": 5}, headers=auth(admin)
    )
    assert made.status_code == 201, made.text
    codes = []
    for _ in range(3):
        done = client.post(
            f"/v1/programs/shop/members/{ada}/redemptions",
            json={"reward": "coffee"},
            headers=auth(pos),
        )
        assert done.status_code == 201, done.text
        codes.append(done.json()["voucher"]["code"])
    used, *unused = codes
    assert (
        client.post(f"/v1/programs/shop/vouchers/{used}/use", json={}, headers=auth(pos)).json()[
            "status"
        ]
        == "used"
    )
    erased = client.post(f"/v1/programs/shop/members/{ada}/erase", headers=auth(admin))
    assert erased.status_code == 200, erased.text

    def lookup(code: str) -> Any:
        return client.get(f"/v1/programs/shop/vouchers/{code}", headers=auth(pos)).json()

    assert lookup(used)["status"] == "used"
    for code in unused:
        assert lookup(code)["status"] == "cancelled"
        refused = client.post(f"/v1/programs/shop/vouchers/{code}/use", json={}, headers=auth(pos))
        assert (refused.status_code, refused.json()["code"]) == (422, "voucher_cancelled")
    catalogue = client.get("/v1/programs/shop/rewards", headers=auth(admin)).json()["items"]
    assert catalogue[0]["stock"] == 5 - 1  # the two units never handed out are back
    assert audit(container) == []
