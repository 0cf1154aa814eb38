"""Bulk grants: each member credited once, however often the grant is sent or resumed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.services import ledger, programs
from patron.services.ledger import Context
from patron.services.transactions import run_in_transaction
from tests.factories import auth, enrol, points
from tests.ledger_support import audit

SIGNUP = 50


def test_a_grant_to_a_list_resumed_after_a_crash_credits_nobody_twice(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    members = [enrol(client, shop["pos"], program="shop")["id"] for _ in range(3)]
    # a first attempt "crashed" after crediting the first member with the grant's key
    run_in_transaction(
        container.uow,
        lambda uow: ledger.earn(
            Context(uow, container.clock, CLI, programs.get_program(uow, "shop")),
            members[0],
            wallet="points",
            amount=100,
            entry_type="adjust",
            key="grant:G-1:" + members[0],
            hold=False,
            source="program:adjustments",
        ),
    )
    body = {
        "external_id": "G-1",
        "wallet": "points",
        "amount": 100,
        "reason": "sorry!",
        "members": members,
    }
    first = client.post("/v1/programs/shop/grants", json=body, headers=auth(shop["admin"]))
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["members"], first.json()["granted"]) == (
        "completed",
        3,
        2,
    )
    again = client.post("/v1/programs/shop/grants", json=body, headers=auth(shop["admin"]))
    assert again.status_code == 200
    assert again.json()["granted"] == 2
    assert [points(client, shop["read"], program="shop", member=m) for m in members] == [
        SIGNUP + 100
    ] * 3
    changed = client.post(
        "/v1/programs/shop/grants", json={**body, "amount": 5}, headers=auth(shop["admin"])
    )
    assert changed.status_code == 409
    assert audit(container) == []


def test_a_grant_to_a_segment_and_its_progress(client: TestClient, shop: dict[str, str]) -> None:
    oslo = [
        enrol(client, shop["pos"], program="shop", attributes={"city": "Oslo"})["id"]
        for _ in range(2)
    ]
    rome = enrol(client, shop["pos"], program="shop", attributes={"city": "Rome"})["id"]
    client.post(
        "/v1/programs/shop/segments",
        json={"code": "oslo", "name": "Oslo", "filter": {"attributes": {"city": "Oslo"}}},
        headers=auth(shop["admin"]),
    )
    body = {
        "external_id": "G-2",
        "wallet": "credit",
        "amount": "2.50",
        "reason": "city day",
        "segment": "oslo",
    }
    done = client.post("/v1/programs/shop/grants", json=body, headers=auth(shop["admin"]))
    assert done.status_code == 201, done.text
    assert done.json()["amount"] == "2.50"
    status = client.get("/v1/programs/shop/grants/G-2", headers=auth(shop["read"])).json()
    assert (status["status"], status["granted"]) == ("completed", 2)
    for member in oslo:
        got = client.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["read"])).json()
        assert got["balances"]["credit"]["available"] == "2.50"
    assert points(client, shop["read"], program="shop", member=rome) == SIGNUP


def test_bad_grants_change_nothing(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(client, shop["pos"], program="shop")["id"]
    base = {"external_id": "G-3", "wallet": "points", "amount": 10, "reason": "r"}
    cases = [
        ({**base}, 422),  # neither members nor segment
        ({**base, "members": [member], "segment": "x"}, 422),
        ({**base, "members": ["nobody"]}, 404),
        ({**base, "members": [member], "wallet": "miles"}, 422),
        ({**base, "members": [member], "amount": 1.5}, 422),
        ({**base, "segment": "missing"}, 404),
    ]
    for body, status in cases:
        response = client.post("/v1/programs/shop/grants", json=body, headers=auth(shop["admin"]))
        assert response.status_code == status, (body, response.text)
    assert (
        client.post(
            "/v1/programs/shop/grants",
            json={**base, "members": [member]},
            headers=auth(shop["pos"]),
        ).status_code
        == 403
    )
