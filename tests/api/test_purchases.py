"""Purchases through the API: awards, replay, preview, member lookup, bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import RECEIPT, auth


@pytest.fixture
def ada(client: TestClient, shop: dict[str, str]) -> dict[str, Any]:
    body = {"external_id": "C-1", "email": "ada@example.com", "phone": "+33612345678"}
    response = client.post("/v1/programs/shop/members", json=body, headers=auth(shop["pos"]))
    assert response.status_code == 201
    return response.json()


def receipt(member: dict[str, Any] | None, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(RECEIPT)
    if member is not None:
        body["member"] = member
    body.update(changes)
    return body


def post(client: TestClient, key: str, body: dict[str, Any]) -> Any:
    return client.post("/v1/programs/shop/purchases", json=body, headers=auth(key))


def test_the_example_receipt_earns_every_applicable_rule(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any]
) -> None:
    response = post(client, shop["pos"], receipt({"id": ada["id"]}))
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["member_id"] == ada["id"]
    assert result["eligible_amount"] == "24.00"
    # Saturday in Paris, co-brand card, first purchase (see docs/rules.md)
    assert {a["rule_id"]: a["amount"] for a in result["awards"]} == {
        "base": 96,
        "visit": 20,
        "lipstick": 200,
        "welcome": 200,
        "cashback": "0.48",
    }
    assert result["earned"] == {"points": 516, "credit": "0.48"}
    assert result["balances"]["points"]["available"] == 516 + 50  # with the signup points
    assert result["balances"]["credit"]["available"] == "0.48"
    activity = client.get(
        f"/v1/programs/shop/members/{ada['id']}/activity", headers=auth(shop["read"])
    ).json()["items"]
    purchase_entry = next(
        e for e in activity if e["reference"] == "R-1001" and e["wallet"] == "points"
    )
    assert [x["rule_id"] for x in purchase_entry["explanation"]] == [
        "base",
        "visit",
        "lipstick",
        "welcome",
    ]


@pytest.mark.parametrize("field", ["id", "external_id", "email", "phone", "card_number"])
def test_the_member_is_named_by_any_identifier(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any], field: str
) -> None:
    value = {"email": "ADA@example.com", "phone": "06 12 34 56 78"}.get(field, ada[field])
    response = post(client, shop["pos"], receipt({field: value}))
    assert response.status_code == 201, response.text
    assert response.json()["member_id"] == ada["id"]


def test_a_resend_answers_the_original_and_a_changed_body_conflicts(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any], container: Container
) -> None:
    first = post(client, shop["pos"], receipt({"id": ada["id"]}))
    after = table_counts(container)
    again = post(client, shop["pos"], receipt({"id": ada["id"]}))
    assert again.status_code == 200
    assert again.json()["awards"] == first.json()["awards"]
    assert table_counts(container) == after
    changed = post(client, shop["pos"], receipt({"id": ada["id"]}, tax="3.00"))
    assert changed.status_code == 409
    assert changed.json()["code"] == "business_key_conflict"
    assert table_counts(container) == after
    got = client.get("/v1/programs/shop/purchases/R-1001", headers=auth(shop["read"]))
    assert got.status_code == 200
    assert got.json()["awards"] == first.json()["awards"]


def test_the_second_purchase_gets_no_welcome_bonus(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any]
) -> None:
    post(client, shop["pos"], receipt({"id": ada["id"]}))
    second = post(client, shop["pos"], receipt({"id": ada["id"]}, external_id="R-1002"))
    assert "welcome" not in {a["rule_id"] for a in second.json()["awards"]}


def test_preview_answers_the_same_and_writes_nothing(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any], container: Container
) -> None:
    before = table_counts(container)
    preview = client.post(
        "/v1/programs/shop/purchases/preview",
        json=receipt({"id": ada["id"]}),
        headers=auth(shop["read"]),
    )
    assert preview.status_code == 200, preview.text
    assert table_counts(container) == before
    recorded = post(client, shop["pos"], receipt({"id": ada["id"]}))
    assert preview.json()["awards"] == recorded.json()["awards"]


def test_an_anonymous_purchase_is_kept_without_awards(
    client: TestClient, shop: dict[str, str]
) -> None:
    response = post(client, shop["pos"], receipt(None))
    assert response.status_code == 201
    assert response.json()["member_id"] is None
    assert response.json()["awards"] == []


def test_pending_days_hold_the_points(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any]
) -> None:
    config = client.get("/v1/programs/shop/config", headers=auth(shop["admin"])).json()["config"]
    config["wallets"]["points"]["pending_days"] = 30
    assert (
        client.put("/v1/programs/shop/config", json=config, headers=auth(shop["admin"])).status_code
        == 200
    )
    result = post(client, shop["pos"], receipt({"id": ada["id"]})).json()
    points = [a for a in result["awards"] if a["wallet"] == "points"]
    assert {a["status"] for a in points} == {"pending"}
    assert points[0]["available_at"] == "2026-04-06T10:00:00Z"
    assert result["balances"]["points"]["pending"] == 516
    assert result["balances"]["points"]["available"] == 50  # the signup event is not held


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 0, "unit_price": "1"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "A", "quantity": 1, "unit_price": "-1"}]}, "lines[0].unit_price"),
        ({"lines": [{"quantity": 1, "unit_price": "1"}]}, "lines[0].sku"),
        ({"lines": [{"sku": "A", "quantity": 1, "unit_price": "1.234"}]}, "lines[0].unit_price"),
        (
            {"lines": [{"sku": "A", "quantity": 2, "unit_price": "5", "discount": "11"}]},
            "lines[0].discount",
        ),
        ({"tax": "-1"}, "tax"),
        ({"external_id": ""}, "external_id"),
        ({"occurred_at": "2026-03-07T10:00:00"}, "occurred_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_purchases_are_refused_and_change_nothing(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    changes: dict[str, Any],
    path: str,
) -> None:
    before = table_counts(container)
    response = post(client, shop["pos"], receipt(None, **changes))
    assert response.status_code == 422, response.text
    paths = {error["path"] for error in response.json()["errors"]}
    assert any(p == path or p.startswith(path) for p in paths), paths
    assert table_counts(container) == before


def test_a_purchase_names_its_member_once(client: TestClient, shop: dict[str, str]) -> None:
    response = post(client, shop["pos"], receipt({"id": "x", "email": "a@example.com"}))
    assert response.status_code == 422
    assert {e["path"] for e in response.json()["errors"]} == {"member"}


def test_an_unknown_member_is_not_found_and_nothing_is_written(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    before = table_counts(container)
    response = post(client, shop["pos"], receipt({"email": "nobody@example.com"}))
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
    assert table_counts(container) == before
    missing = client.get("/v1/programs/shop/purchases/NOPE", headers=auth(shop["read"]))
    assert missing.json()["code"] == "purchase_not_found"


@pytest.mark.parametrize(("role", "status"), [("pos", 201), ("partner", 201), ("read", 403)])
def test_who_may_record_purchases(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any], role: str, status: int
) -> None:
    assert post(client, shop[role], receipt({"id": ada["id"]})).status_code == status


def test_an_anonymous_purchase_is_claimed_once_within_the_window(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any], clock: Any
) -> None:
    assert post(client, shop["pos"], receipt(None)).status_code == 201
    url = "/v1/programs/shop/purchases/R-1001/claim"
    claimed = client.post(
        url, json={"member": {"email": "ada@example.com"}}, headers=auth(shop["pos"])
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["member_id"] == ada["id"]
    assert claimed.json()["earned"]["points"] > 0
    again = client.post(url, json={"member": ada["id"]}, headers=auth(shop["pos"]))
    assert again.status_code == 200
    other = client.post("/v1/programs/shop/members", json={}, headers=auth(shop["pos"])).json()
    stolen = client.post(url, json={"member": other["id"]}, headers=auth(shop["pos"]))
    assert stolen.status_code == 409
    assert stolen.json()["code"] == "purchase_already_claimed"


def test_a_claim_after_the_window_is_refused(
    client: TestClient, shop: dict[str, str], ada: dict[str, Any], clock: Any, container: Container
) -> None:
    post(client, shop["pos"], receipt(None))
    clock.advance(days=31)  # anonymous_claim_days defaults to 30
    before = table_counts(container)
    late = client.post(
        "/v1/programs/shop/purchases/R-1001/claim",
        json={"member": ada["id"]},
        headers=auth(shop["pos"]),
    )
    assert late.status_code == 422
    assert late.json()["code"] == "claim_refused"
    assert table_counts(container) == before


def test_a_member_of_another_program_is_not_found(
    client: TestClient, shop: dict[str, str], platform: str, container: Container
) -> None:
    other = {"slug": "other", "name": "Other", "currency": "EUR", "timezone": "UTC"}
    assert client.post("/v1/programs", json=other, headers=auth(platform)).status_code == 201
    stranger = client.post("/v1/programs/other/members", json={}, headers=auth(platform)).json()
    before = table_counts(container)
    response = post(client, shop["pos"], receipt({"id": stranger["id"]}))
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
    assert table_counts(container) == before
