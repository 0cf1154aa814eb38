"""Refunds through the API: proportional, cumulative, idempotent, never beyond the purchase."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import auth
from tests.ledger_support import audit

SIGNUP = 50

RECEIPT: dict[str, Any] = {
    "external_id": "R-1",
    "occurred_at": "2026-03-05T10:00:00Z",  # a Thursday: no weekend multiplier
    "channel": "store",
    "lines": [
        {"sku": "LIP-01", "category": "makeup", "quantity": 2, "unit_price": "12.00"},
        {"sku": "SHOE-1", "category": "shoes", "quantity": 1, "unit_price": "40.00"},
    ],
}


@pytest.fixture
def bought(client: TestClient, shop: dict[str, str]) -> dict[str, Any]:
    member = client.post("/v1/programs/shop/members", json={}, headers=auth(shop["pos"])).json()
    body = {**RECEIPT, "member": {"id": member["id"]}}
    response = client.post("/v1/programs/shop/purchases", json=body, headers=auth(shop["pos"]))
    assert response.status_code == 201, response.text
    return response.json()


def refund(client: TestClient, key: str, **body: Any) -> Any:
    return client.post("/v1/programs/shop/purchases/R-1/refunds", json=body, headers=auth(key))


def points(result: dict[str, Any]) -> int:
    return int(result["balances"]["points"]["available"])


def test_the_purchase_awards_what_the_refunds_below_take_back(bought: dict[str, Any]) -> None:
    # base 64 (1/1.00 on 64.00), visit 10, shoes 2 x 40 = 80, lipstick 2 x 50 = 100,
    # welcome 100; cash-back 2% of 64.00 = 1.28
    assert {a["rule_id"]: a["amount"] for a in bought["awards"]} == {
        "base": 64,
        "visit": 10,
        "shoes": 80,
        "lipstick": 100,
        "welcome": 100,
        "cashback": "1.28",
    }
    assert bought["earned"]["points"] == 354


def test_partial_refunds_are_proportional_and_a_full_one_leaves_zero(
    client: TestClient, shop: dict[str, str], bought: dict[str, Any], container: Container
) -> None:
    one_lipstick = refund(
        client, shop["pos"], external_id="F-1", lines=[{"sku": "LIP-01", "quantity": 1}]
    )
    assert one_lipstick.status_code == 201, one_lipstick.text
    # base keeps 64 x 52/64 = 52 (-12); lipstick keeps one unit (-50); cash-back 1.04 (-0.24)
    assert one_lipstick.json()["clawed_back"] == {"points": 62, "credit": "0.24"}
    assert points(one_lipstick.json()) == SIGNUP + 354 - 62
    shoes = refund(client, shop["pos"], external_id="F-2", lines=[{"sku": "SHOE-1", "quantity": 1}])
    # base keeps 12 (-40); shoes 0 (-80); visit stays (12.00 >= 5.00 min_spend)
    assert shoes.json()["clawed_back"] == {"points": 120, "credit": "0.80"}
    rest = refund(client, shop["pos"], external_id="F-3")
    # everything left: base 12, visit 10, lipstick 50, welcome 100, cash-back 0.24
    assert rest.json()["clawed_back"] == {"points": 172, "credit": "0.24"}
    assert points(rest.json()) == SIGNUP
    assert rest.json()["balances"]["credit"]["available"] == "0.00"
    assert audit(container) == []
    got = client.get("/v1/programs/shop/purchases/R-1", headers=auth(shop["read"])).json()
    assert [r["external_id"] for r in got["refunds"]] == ["F-1", "F-2", "F-3"]


def test_fixed_awards_go_once_the_rest_falls_below_min_spend(
    client: TestClient, shop: dict[str, str], bought: dict[str, Any]
) -> None:
    big = refund(client, shop["pos"], external_id="F-1", amount="60.00")
    # 4.00 remains: visit (min_spend 5.00) is taken back whole; welcome (no min) stays
    clawed = big.json()["clawed_back"]["points"]
    assert clawed == (64 - 4) + 10 + (80 - 5) + 0
    # lipstick keeps its units (an amount refund returns no units)


def test_the_same_refund_twice_changes_nothing(
    client: TestClient, shop: dict[str, str], bought: dict[str, Any], container: Container
) -> None:
    first = refund(client, shop["pos"], external_id="F-1", amount="10.00")
    after = table_counts(container)
    again = refund(client, shop["pos"], external_id="F-1", amount="10.00")
    assert again.status_code == 200
    assert again.json()["clawed_back"] == first.json()["clawed_back"]
    assert table_counts(container) == after
    changed = refund(client, shop["pos"], external_id="F-1", amount="11.00")
    assert changed.status_code == 409
    assert table_counts(container) == after


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"external_id": "F", "amount": "64.01"}, 422, "validation_error"),
        (
            {"external_id": "F", "lines": [{"sku": "LIP-01", "quantity": 3}]},
            422,
            "validation_error",
        ),
        ({"external_id": "F", "lines": [{"sku": "NOPE", "quantity": 1}]}, 422, "validation_error"),
        ({"external_id": "F", "amount": "0"}, 422, "validation_error"),
        ({"external_id": "F", "amount": "1.001"}, 422, "validation_error"),
        (
            {"external_id": "F", "amount": "1", "lines": [{"sku": "LIP-01", "quantity": 1}]},
            422,
            "validation_error",
        ),
    ],
)
def test_refunding_more_than_was_bought_is_refused(
    client: TestClient,
    shop: dict[str, str],
    bought: dict[str, Any],
    container: Container,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = table_counts(container)
    response = refund(client, shop["pos"], **body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert table_counts(container) == before


def test_an_unknown_purchase_cannot_be_refunded(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    before = table_counts(container)
    response = client.post(
        "/v1/programs/shop/purchases/NOPE/refunds",
        json={"external_id": "F"},
        headers=auth(shop["pos"]),
    )
    assert response.status_code == 404
    assert response.json()["code"] == "purchase_not_found"
    assert table_counts(container) == before


def test_a_refund_after_spending_makes_the_balance_negative(
    client: TestClient, shop: dict[str, str], bought: dict[str, Any], container: Container
) -> None:
    member = bought["member_id"]
    spent = client.post(
        f"/v1/programs/shop/members/{member}/adjustments",
        json={"wallet": "points", "amount": -(SIGNUP + 354), "reason": "spent it all"},
        headers=auth(shop["admin"]),
    )
    assert spent.status_code == 201
    full = refund(client, shop["pos"], external_id="F-1")
    assert points(full.json()) == -354
    assert audit(container) == []
