"""A frozen member, route by route: every debit the member would make is 422 ``member_frozen``
and changes nothing; credits (purchases, events, positive adjustments, grants, cancelled
redemptions), the refund's clawback (taken by the refund, not spent by the member, see
docs/ledger.md "Member status") and reads go on. Unfreezing lets debits through again."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import auth, enrol
from tests.ledger_support import audit

SHOP = "/v1/programs/shop"


def post(client: TestClient, key: str, path: str, body: Any = None) -> Any:
    return client.post(f"{SHOP}{path}", json=body if body is not None else {}, headers=auth(key))


def points(client: TestClient, key: str, member: str) -> int:
    found = client.get(f"{SHOP}/members/{member}", headers=auth(key)).json()
    return int(found["balances"]["points"]["available"])


@pytest.fixture
def frozen(client: TestClient, shop: dict[str, str]) -> dict[str, str]:
    """A member with points, store credit, a purchase and an issued voucher, then frozen."""
    admin, pos = shop["admin"], shop["pos"]
    member = enrol(client, pos, program="shop")["id"]
    for wallet, amount in (("points", 1000), ("credit", "20.00")):
        body = {"wallet": wallet, "amount": amount, "reason": "opening"}
        assert post(client, admin, f"/members/{member}/adjustments", body).status_code == 201
    for code, kind, value in (("coffee", "free_item", "COFFEE"), ("fiver", "credit", "5.00")):
        reward = {
            "code": code,
            "name": code.title(),
            "cost": {"wallet": "points", "amount": 100},
            "kind": kind,
            "value": value,
        }
        assert post(client, admin, "/rewards", reward).status_code == 201
    bought = post(
        client,
        pos,
        "/purchases",
        {
            "external_id": "R-1",
            "member": {"id": member},
            "lines": [{"sku": "A", "quantity": 1, "unit_price": "40.00"}],
        },
    )
    assert bought.status_code == 201, bought.text
    issued = post(client, pos, f"/members/{member}/redemptions", {"reward": "coffee"})
    assert issued.status_code == 201
    patched = client.patch(
        f"{SHOP}/members/{member}", json={"status": "frozen"}, headers=auth(admin)
    )
    assert patched.json()["status"] == "frozen"
    return {
        "member": member,
        "redemption": issued.json()["id"],
        "voucher": issued.json()["voucher"]["code"],
    }


DEBITS = [
    pytest.param("/members/{member}/redemptions", {"reward": "coffee"}, id="redeem-voucher-reward"),
    pytest.param("/members/{member}/redemptions", {"reward": "fiver"}, id="redeem-credit-reward"),
    pytest.param(
        "/members/{member}/redemptions", {"wallet": "credit", "amount": "1.00"}, id="spend-credit"
    ),
    pytest.param(
        "/members/{member}/redemptions", {"wallet": "points", "amount": 10}, id="spend-points"
    ),
    pytest.param(
        "/members/{member}/adjustments",
        {"wallet": "points", "amount": -10, "reason": "r"},
        id="negative-adjustment",
    ),
    pytest.param(
        "/members/{member}/adjustments",
        {"wallet": "credit", "amount": "-1.00", "reason": "r"},
        id="negative-money-adjustment",
    ),
]


@pytest.mark.parametrize(("path", "body"), DEBITS)
def test_every_debit_of_a_frozen_member_is_refused_and_changes_nothing(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    frozen: dict[str, str],
    path: str,
    body: dict[str, Any],
) -> None:
    before = table_counts(container)
    response = post(client, shop["admin"], path.format(member=frozen["member"]), body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "member_frozen"
    assert table_counts(container) == before


def test_a_frozen_member_cannot_transfer_out_but_can_receive(
    client: TestClient, shop: dict[str, str], container: Container, frozen: dict[str, str]
) -> None:
    other = enrol(client, shop["pos"], program="shop")["id"]
    post(
        client,
        shop["admin"],
        f"/members/{other}/adjustments",
        {"wallet": "points", "amount": 50, "reason": "r"},
    )

    def move(sender: str, recipient: str) -> Any:
        body = {"to": recipient, "wallet": "points", "amount": 10}
        return post(client, shop["admin"], f"/members/{sender}/transfers", body)

    before = table_counts(container)
    refused = move(frozen["member"], other)
    assert (refused.status_code, refused.json()["code"]) == (422, "member_frozen")
    assert table_counts(container) == before
    held = points(client, shop["admin"], frozen["member"])
    assert move(other, frozen["member"]).status_code == 201
    assert points(client, shop["admin"], frozen["member"]) == held + 10


def test_credits_clawbacks_and_reads_go_on_for_a_frozen_member(
    client: TestClient, shop: dict[str, str], container: Container, frozen: dict[str, str]
) -> None:
    admin, pos, read = shop["admin"], shop["pos"], shop["read"]
    member = frozen["member"]
    start = points(client, admin, member)

    bought = post(
        client,
        pos,
        "/purchases",
        {
            "external_id": "R-2",
            "member": {"id": member},
            "lines": [{"sku": "A", "quantity": 1, "unit_price": "10.00"}],
        },
    )
    assert bought.status_code == 201, bought.text
    earned = bought.json()["earned"]["points"]
    assert earned > 0
    event = post(
        client,
        pos,
        "/events",
        {"external_id": "E-1", "member": member, "type": "review_posted"},
    )
    assert event.status_code == 201, event.text
    credit = post(
        client,
        admin,
        f"/members/{member}/adjustments",
        {"wallet": "points", "amount": 7, "reason": "goodwill"},
    )
    assert credit.status_code == 201
    granted = post(
        client,
        admin,
        "/grants",
        {"external_id": "G-1", "wallet": "points", "amount": 3, "reason": "r", "members": [member]},
    )
    assert granted.status_code == 201, granted.text
    cancelled = post(client, pos, f"/redemptions/{frozen['redemption']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert points(client, admin, member) == start + earned + 25 + 7 + 3 + 100

    refunded = post(client, pos, "/purchases/R-1/refunds", {"external_id": "F-1"})
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["clawed_back"]["points"] > 0

    for path in (
        f"/members/{member}",
        f"/members/{member}/activity",
        f"/members/{member}/tier",
        f"/rewards?member={member}",
        f"/vouchers/{frozen['voucher']}",
        "/purchases/R-1",
    ):
        assert client.get(f"{SHOP}{path}", headers=auth(read)).status_code == 200, path
    assert audit(container) == []


def test_unfreezing_lets_debits_through_again(
    client: TestClient, shop: dict[str, str], frozen: dict[str, str]
) -> None:
    member = frozen["member"]
    body = {"reward": "coffee"}
    assert post(client, shop["pos"], f"/members/{member}/redemptions", body).status_code == 422
    client.patch(f"{SHOP}/members/{member}", json={"status": "active"}, headers=auth(shop["admin"]))
    assert post(client, shop["pos"], f"/members/{member}/redemptions", body).status_code == 201
