"""Referrals: completion on the first qualifying purchase, refusals, and refund take-back."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.factories import auth, buy, enrol, points
from tests.ledger_support import audit

# the example configuration: qualifying_min_spend 25.00, referrer 500, referee 250,
# at most 10 completed referrals per referrer per year; every member gets 50 at signup


def referrals(client: TestClient, key: str, member: str) -> list[dict[str, Any]]:
    url = f"/v1/programs/shop/members/{member}/referrals"
    return list(client.get(url, headers=auth(key)).json()["items"])


def test_the_first_qualifying_purchase_rewards_both_friends(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    ada = enrol(client, shop["pos"], program="shop", email="ada@example.com")
    bob = enrol(
        client,
        shop["pos"],
        program="shop",
        email="bob@example.com",
        referred_by=ada["referral_code"].lower(),
    )
    assert referrals(client, shop["read"], ada["id"])[0]["status"] == "pending"
    buy(client, shop["pos"], program="shop", member=bob["id"], external_id="P-1", amount="10.00")
    assert referrals(client, shop["read"], ada["id"])[0]["status"] == "pending"
    before_ada, before_bob = (
        points(client, shop["read"], program="shop", member=ada["id"]),
        points(client, shop["read"], program="shop", member=bob["id"]),
    )
    buy(client, shop["pos"], program="shop", member=bob["id"], external_id="P-2", amount="30.00")
    done = referrals(client, shop["read"], ada["id"])[0]
    assert (done["status"], done["referee_id"], done["purchase"]) == ("completed", bob["id"], "P-2")
    assert points(client, shop["read"], program="shop", member=ada["id"]) == before_ada + 500
    # plus the purchase's own
    assert points(client, shop["read"], program="shop", member=bob["id"]) > before_bob + 250
    assert audit(container) == []


def test_a_self_referral_is_refused_with_its_reason(
    client: TestClient, shop: dict[str, str]
) -> None:
    ada = enrol(client, shop["pos"], program="shop", email="ada@gmail.com")
    enrol(
        client,
        shop["pos"],
        program="shop",
        email="a.d.a+second@gmail.com",
        referred_by=ada["referral_code"],
    )
    refused = referrals(client, shop["read"], ada["id"])[0]
    assert (refused["status"], refused["reason"]) == ("refused", "self_referral")


def test_the_cap_per_referrer(client: TestClient, shop: dict[str, str]) -> None:
    config = client.get("/v1/programs/shop/config", headers=auth(shop["admin"])).json()["config"]
    config["referrals"]["max_per_referrer"] = {"count": 1, "period": "year"}
    client.put("/v1/programs/shop/config", json=config, headers=auth(shop["admin"]))
    ada = enrol(client, shop["pos"], program="shop")
    friends = [
        enrol(client, shop["pos"], program="shop", referred_by=ada["referral_code"])
        for _ in range(2)
    ]
    for i, friend in enumerate(friends):
        buy(
            client,
            shop["pos"],
            program="shop",
            member=friend["id"],
            external_id=f"P-{i}",
            amount="30.00",
        )
    assert [(r["status"], r["reason"]) for r in referrals(client, shop["read"], ada["id"])] == [
        ("completed", None),
        ("refused", "referrer_cap_reached"),
    ]


def test_a_refund_in_the_return_window_takes_the_awards_back(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    config = client.get("/v1/programs/shop/config", headers=auth(shop["admin"])).json()["config"]
    config["wallets"]["points"]["pending_days"] = 30
    client.put("/v1/programs/shop/config", json=config, headers=auth(shop["admin"]))
    ada = enrol(client, shop["pos"], program="shop")
    bob = enrol(client, shop["pos"], program="shop", referred_by=ada["referral_code"])
    buy(client, shop["pos"], program="shop", member=bob["id"], external_id="P-1", amount="30.00")
    assert points(client, shop["read"], program="shop", member=ada["id"]) == 50 + 500
    refund = client.post(
        "/v1/programs/shop/purchases/P-1/refunds",
        json={"external_id": "F-1", "amount": "10.00"},
        headers=auth(shop["pos"]),
    )
    assert refund.status_code == 201
    assert referrals(client, shop["read"], ada["id"])[0]["status"] == "reversed"
    assert points(client, shop["read"], program="shop", member=ada["id"]) == 50
    assert audit(container) == []
