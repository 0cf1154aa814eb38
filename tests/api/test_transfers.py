"""Member-to-member transfers through the API (API.md Part 2; SPEC §5; docs/ledger.md).

``POST .../members/{member}/transfers {to, wallet, amount, reason?}`` moves points or store
credit to another member of the same program; the receiver's lots keep their earn and expiry
dates. Admin keys only; a frozen sender, a negative balance, the member itself, a receiver of
another program and bad amounts are refused with a clear problem and change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services.transactions import run_read
from tests.conftest import table_counts
from tests.factories import MutableClock, auth, create_program, enrol, program_key
from tests.ledger_support import audit

SHOP = "/v1/programs/shop"
SIGNUP = 50  # the example configuration's "signup" event rule pays every new member


def transfer(client: TestClient, key: str, member: str, **body: Any) -> Any:
    return client.post(f"{SHOP}/members/{member}/transfers", json=body, headers=auth(key))


def adjust(client: TestClient, key: str, member: str, wallet: str, amount: int | str) -> None:
    done = client.post(
        f"{SHOP}/members/{member}/adjustments",
        json={"wallet": wallet, "amount": amount, "reason": "opening"},
        headers=auth(key),
    )
    assert done.status_code == 201, done.text


def wallet(client: TestClient, key: str, member: str, code: str = "points") -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"{SHOP}/members/{member}", headers=auth(key)).json()
    return dict(found["balances"][code])


@pytest.fixture
def pair(client: TestClient, shop: dict[str, str]) -> tuple[str, str]:
    """Ada with 200 + 50 points and 10.00 of credit; Grace with her 50 signup points."""
    ada = enrol(client, shop["pos"], program="shop")["id"]
    grace = enrol(client, shop["pos"], program="shop")["id"]
    adjust(client, shop["admin"], ada, "points", 200)
    adjust(client, shop["admin"], ada, "credit", "10.00")
    return ada, grace


def test_a_transfer_moves_points_with_their_dates(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    clock: MutableClock,
    pair: tuple[str, str],
) -> None:
    ada, grace = pair
    sent_dates = wallet(client, shop["read"], ada)["expiring"]
    clock.advance(days=40)  # the receiver's lots keep Ada's dates, not today's
    done = transfer(client, shop["admin"], ada, to=grace, wallet="points", amount=120, reason="r")
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["entry"]["type"] == "transfer"
    assert body["entry"]["amount"] == -120
    assert body["entry"]["reference"] == grace
    assert body["entry"]["reason"] == "r"
    assert body["balances"]["points"]["available"] == SIGNUP + 200 - 120
    got = wallet(client, shop["read"], grace)
    assert got["available"] == SIGNUP + 120
    assert sorted(e["expires_at"] for e in got["expiring"]) == sorted(
        e["expires_at"] for e in sent_dates
    )
    received = client.get(f"{SHOP}/members/{grace}/activity", headers=auth(shop["read"])).json()
    assert received["items"][0]["type"] == "transfer"
    assert received["items"][0]["amount"] == 120
    assert received["items"][0]["reference"] == ada

    def earned_at(uow: Any) -> set[Any]:
        return {lot.earned_at for lot in uow.ledger.open_lots(grace, "points")}

    # Ada's lots were earned before the clock moved: so are Grace's copies of them.
    assert max(run_read(container.uow, earned_at)) < clock.now()
    money = transfer(client, shop["admin"], ada, to=grace, wallet="credit", amount="2.50")
    assert money.status_code == 201, money.text
    assert money.json()["entry"]["amount"] == "-2.50"
    assert money.json()["balances"]["credit"]["available"] == "7.50"
    assert wallet(client, shop["read"], grace, "credit")["available"] == "2.50"
    assert audit(container) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"wallet": "points", "amount": 10_000}, 422, "insufficient_balance"),
        ({"wallet": "points", "amount": 0}, 422, "validation_error"),
        ({"wallet": "points", "amount": -5}, 422, "validation_error"),
        ({"wallet": "points", "amount": 1.5}, 422, "validation_error"),
        ({"wallet": "credit", "amount": "0.001"}, 422, "validation_error"),
        ({"wallet": "miles", "amount": 5}, 422, "validation_error"),
        ({"wallet": "points", "amount": 5, "to": "nobody"}, 404, "member_not_found"),
        ({"wallet": "points", "amount": 5, "to": None}, 422, "validation_error"),
        ({"wallet": "points", "amount": 5, "balance": 1000}, 422, "validation_error"),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    pair: tuple[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    ada, grace = pair
    before = table_counts(container)
    refused = transfer(client, shop["admin"], ada, **{"to": grace, **body})
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == code
    assert table_counts(container) == before


def test_no_transfer_to_oneself(
    client: TestClient, shop: dict[str, str], container: Container, pair: tuple[str, str]
) -> None:
    ada, _ = pair
    before = table_counts(container)
    refused = transfer(client, shop["admin"], ada, to=ada, wallet="points", amount=5)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "validation_error"
    assert "themselves" in refused.text
    assert table_counts(container) == before


def test_a_frozen_or_negative_sender_is_refused_a_frozen_receiver_is_not(
    client: TestClient, shop: dict[str, str], container: Container, pair: tuple[str, str]
) -> None:
    ada, grace = pair
    admin = shop["admin"]
    frozen = client.patch(f"{SHOP}/members/{ada}", json={"status": "frozen"}, headers=auth(admin))
    assert frozen.json()["status"] == "frozen"
    before = table_counts(container)
    refused = transfer(client, admin, ada, to=grace, wallet="points", amount=5)
    assert (refused.status_code, refused.json()["code"]) == (422, "member_frozen")
    assert table_counts(container) == before
    received = transfer(client, admin, grace, to=ada, wallet="points", amount=5)
    assert received.status_code == 201, received.text  # a frozen member may be credited
    # Grace spends all she has, then her purchase is refunded: the clawback leaves her negative.
    bought = client.post(
        f"{SHOP}/purchases",
        json={
            "external_id": "R-1",
            "member": {"id": grace},
            "lines": [{"sku": "A", "quantity": 1, "unit_price": "40.00"}],
        },
        headers=auth(shop["pos"]),
    )
    assert bought.status_code == 201, bought.text
    left = wallet(client, admin, grace)["available"]
    spent = client.post(
        f"{SHOP}/members/{grace}/redemptions",
        json={"wallet": "points", "amount": left},
        headers=auth(shop["pos"]),
    )
    assert spent.status_code == 201, spent.text
    refunded = client.post(
        f"{SHOP}/purchases/R-1/refunds", json={"external_id": "F-1"}, headers=auth(shop["pos"])
    )
    assert refunded.status_code == 201, refunded.text
    assert wallet(client, admin, grace)["available"] < 0
    adjust(client, admin, grace, "credit", "5.00")  # something she holds, in another wallet
    before = table_counts(container)
    negative = transfer(client, admin, grace, to=ada, wallet="points", amount=1)
    assert (negative.status_code, negative.json()["code"]) == (422, "insufficient_balance")
    assert "negative" in negative.json()["detail"]
    assert table_counts(container) == before
    assert audit(container) == []


def test_the_receiver_must_be_of_the_same_program(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    platform: str,
    pair: tuple[str, str],
) -> None:
    ada, _ = pair
    create_program(client, platform, slug="other")
    stranger = enrol(client, program_key(client, platform, program="other"), program="other")
    before = table_counts(container)
    refused = transfer(client, shop["admin"], ada, to=stranger["id"], wallet="points", amount=5)
    assert refused.status_code == 404, refused.text
    assert refused.json()["code"] == "member_not_found"
    assert table_counts(container) == before


@pytest.mark.parametrize("role", ["pos", "partner", "read"])
def test_only_admins_transfer(
    client: TestClient, shop: dict[str, str], pair: tuple[str, str], role: str
) -> None:
    ada, grace = pair
    refused = transfer(client, shop[role], ada, to=grace, wallet="points", amount=5)
    assert refused.status_code == 403


def test_a_transfer_replays_with_its_idempotency_key(
    client: TestClient, shop: dict[str, str], container: Container, pair: tuple[str, str]
) -> None:
    ada, grace = pair
    url = f"{SHOP}/members/{ada}/transfers"
    headers = {**auth(shop["admin"]), "Idempotency-Key": "move-1"}
    body = {"to": grace, "wallet": "points", "amount": 30}
    first = client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    after = table_counts(container)
    again = client.post(url, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert table_counts(container) == after
    other = client.post(url, json={**body, "amount": 31}, headers=headers)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")
    assert table_counts(container) == after
    assert wallet(client, shop["read"], grace)["available"] == SIGNUP + 30
    assert audit(container) == []
