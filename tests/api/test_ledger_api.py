"""Balances in the Member, activity and adjustments through the API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import MutableClock, auth, enrol

SIGNUP = 50  # the example configuration's "signup" event rule pays every new member


def adjust(client: TestClient, key: str, member: str, **body: Any) -> Any:
    return client.post(
        f"/v1/programs/shop/members/{member}/adjustments", json=body, headers=auth(key)
    )


def test_an_adjustment_is_an_entry_and_shows_in_the_balance(
    client: TestClient, shop: dict[str, str]
) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    created = adjust(client, shop["admin"], member, wallet="points", amount=120, reason="goodwill")
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["type"] == "adjust"
    assert entry["amount"] == 120
    assert entry["status"] == "posted"
    assert entry["reason"] == "goodwill"
    assert entry["actor"].startswith("api_key:")
    got = client.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["read"])).json()
    points = got["balances"]["points"]
    assert (points["available"], points["pending"]) == (SIGNUP + 120, 0)
    # the example configuration: 12 months after earning, to the end of that month (Paris)
    assert points["expiring"] == [{"amount": SIGNUP + 120, "expires_at": "2027-03-31T22:00:00Z"}]


def test_money_wallets_speak_decimal_strings(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    created = adjust(client, shop["admin"], member, wallet="credit", amount="1.25", reason="r")
    assert created.status_code == 201, created.text
    assert created.json()["amount"] == "1.25"
    debited = adjust(client, shop["admin"], member, wallet="credit", amount=-0.5, reason="r")
    assert debited.json()["amount"] == "-0.50"
    got = client.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["admin"])).json()
    assert got["balances"]["credit"]["available"] == "0.75"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"wallet": "points", "amount": 10}, "reason"),
        ({"wallet": "points", "amount": 10, "reason": "  "}, "reason"),
        ({"wallet": "points", "amount": 0, "reason": "r"}, "amount"),
        ({"wallet": "points", "amount": 1.5, "reason": "r"}, "amount"),
        ({"wallet": "points", "amount": "ten", "reason": "r"}, "amount"),
        ({"wallet": "credit", "amount": "1.234", "reason": "r"}, "amount"),
        ({"wallet": "miles", "amount": 10, "reason": "r"}, "wallet"),
        ({"wallet": "points", "amount": 10, "reason": "r", "extra": 1}, "extra"),
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    body: dict[str, Any],
    path: str,
) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    before = table_counts(container)
    response = adjust(client, shop["admin"], member, **body)
    assert response.status_code == 422, response.text
    assert path in {error["path"] for error in response.json()["errors"]}
    assert table_counts(container) == before


def test_a_debit_beyond_the_balance_or_of_a_frozen_member_changes_nothing(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    adjust(client, shop["admin"], member, wallet="points", amount=50, reason="r")
    before = table_counts(container)
    too_much = adjust(
        client, shop["admin"], member, wallet="points", amount=-(SIGNUP + 51), reason="r"
    )
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "insufficient_balance"
    assert table_counts(container) == before
    client.patch(
        f"/v1/programs/shop/members/{member}",
        json={"status": "frozen"},
        headers=auth(shop["admin"]),
    )
    before = table_counts(container)
    frozen = adjust(client, shop["admin"], member, wallet="points", amount=-10, reason="r")
    assert frozen.status_code == 422
    assert frozen.json()["code"] == "member_frozen"
    assert table_counts(container) == before
    credit = adjust(client, shop["admin"], member, wallet="points", amount=10, reason="r")
    assert credit.status_code == 201  # a frozen member can still be credited


@pytest.mark.parametrize("role", ["pos", "partner", "read"])
def test_only_admins_adjust(client: TestClient, shop: dict[str, str], role: str) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    response = adjust(client, shop[role], member, wallet="points", amount=5, reason="r")
    assert response.status_code == 403


def test_an_adjustment_replays_with_its_idempotency_key(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    url = f"/v1/programs/shop/members/{member}/adjustments"
    headers = {**auth(shop["admin"]), "Idempotency-Key": "adj-1"}
    body = {"wallet": "points", "amount": 10, "reason": "r"}
    first = client.post(url, json=body, headers=headers)
    after = table_counts(container)
    again = client.post(url, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert table_counts(container) == after
    other = client.post(url, json={**body, "amount": 11}, headers=headers)
    assert other.status_code == 409
    assert table_counts(container) == after


def test_activity_lists_entries_newest_first_in_pages(
    client: TestClient, shop: dict[str, str], clock: MutableClock
) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    for amount in (10, 20, -5):
        clock.advance(minutes=1)
        adjust(client, shop["admin"], member, wallet="points", amount=amount, reason="r")
    url = f"/v1/programs/shop/members/{member}/activity"
    seen = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=auth(shop["read"])).json()
        seen += [entry["amount"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [-5, 20, 10, SIGNUP]


def test_another_programs_member_is_not_found(
    client: TestClient, shop: dict[str, str], platform: str
) -> None:
    member = enrol(client, shop["admin"], program="shop")["id"]
    other = client.post(
        "/v1/programs",
        json={"slug": "other", "name": "Other", "currency": "EUR", "timezone": "UTC"},
        headers=auth(platform),
    )
    assert other.status_code == 201
    key = client.post(
        "/v1/programs/other/api-keys", json={"name": "a", "role": "admin"}, headers=auth(platform)
    ).json()["key"]
    assert (
        client.get(f"/v1/programs/other/members/{member}/activity", headers=auth(key)).status_code
        == 404
    )
    body = {"wallet": "points", "amount": 5, "reason": "r"}
    response = client.post(
        f"/v1/programs/other/members/{member}/adjustments", json=body, headers=auth(key)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
    # the other program's key on this program's path learns nothing either
    response = adjust(client, key, member, **body)
    assert response.status_code == 404
    assert response.json()["code"] == "program_not_found"
