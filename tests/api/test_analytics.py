"""The analytics summary: each figure checked against a small program whose history we know."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import MutableClock, auth, buy, enrol

WINDOW = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-08T00:00:00Z"}


def summary(client: TestClient, key: str, **query: str) -> Any:
    answer = client.get(
        "/v1/programs/shop/analytics/summary", params=query or WINDOW, headers=auth(key)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_summary_of_a_known_week(
    client: TestClient, shop: dict[str, str], clock: MutableClock
) -> None:
    ada = enrol(client, shop["pos"], program="shop", email="ada@example.com")["id"]
    bo = enrol(client, shop["pos"], program="shop", email="bo@example.com")["id"]
    pos = shop["pos"]
    book = partial(buy, client, pos, program="shop", sku="B-1", category="books")
    awards = [
        book(external_id="P-1", at="2026-03-02T10:00:00Z", amount="100.00", member=ada),
        book(external_id="P-2", at="2026-03-04T10:00:00Z", amount="50.00", member=ada),
        book(external_id="P-3", at="2026-03-05T10:00:00Z", amount="30.00", member=bo),
        book(external_id="P-4", at="2026-03-05T12:00:00Z", amount="20.00"),  # anonymous
        book(external_id="P-0", at="2026-02-20T10:00:00Z", amount="10.00", member=bo),  # before
    ]
    # P-3 is refunded in full: no longer an order, and its points are clawed back.
    refund = client.post(
        "/v1/programs/shop/purchases/P-3/refunds", json={"external_id": "R-1"}, headers=auth(pos)
    )
    assert refund.status_code == 201, refund.text

    figures = summary(client, shop["read"])
    assert figures["members"]["total"] == 2
    assert figures["members"]["new"] == 2
    assert figures["members"]["active_90_days"] == 2
    assert figures["members"]["tiers"] == {"insider": 2}  # 150.00 is short of VIB's 350

    sales = figures["sales"]
    assert sales["members"] == "150.00"  # P-1 + P-2 (P-3 refunded)
    assert sales["anonymous"] == "20.00"
    assert sales["total"] == "170.00"
    assert sales["orders"] == 3
    assert sales["average_order_value"] == str((Decimal("170") / 3).quantize(Decimal("0.01")))
    assert sales["member_share"] == "0.8824"

    behaviour = figures["behaviour"]
    assert behaviour["buyers"] == 1  # only Ada has a standing purchase in the window
    assert behaviour["repeat_purchase_rate"] == "1.0000"
    assert behaviour["average_purchase_cycle_days"] == "2.0"
    assert behaviour["purchase_frequency"] == "2.00"
    assert behaviour["historical_clv"] == "80.00"  # (150 + 10) / 2 members

    points = figures["wallets"]["points"]
    earned_in_window = sum(
        a["amount"] for result in awards[:3] for a in result["awards"] if a["wallet"] == "points"
    )
    assert points["issued"] == earned_in_window + 2 * 50  # and the two signup bonuses
    p3_points = sum(a["amount"] for a in awards[2]["awards"] if a["wallet"] == "points")
    assert points["clawed_back"] == p3_points
    balances = [
        client.get(f"/v1/programs/shop/members/{m}", headers=auth(pos)).json()["balances"]
        for m in (ada, bo)
    ]
    outstanding = sum(b["points"]["available"] for b in balances)
    assert points["outstanding"] == outstanding
    assert points["liability"] == str((Decimal(outstanding) / 100).quantize(Decimal("0.01")))
    assert points["redemption_rate"] == "0.0000"
    assert points["breakage"] is None  # nothing redeemed or expired yet
    credit = figures["wallets"]["credit"]
    assert Decimal(figures["liability"]) == Decimal(points["liability"]) + Decimal(
        credit["liability"]
    )


def test_redemptions_and_expiry_make_the_rates(
    client: TestClient, shop: dict[str, str], clock: MutableClock
) -> None:
    ada = enrol(client, shop["pos"], program="shop", email="ada@example.com")["id"]
    buy(
        client,
        shop["pos"],
        program="shop",
        external_id="P-1",
        at="2026-03-02T10:00:00Z",
        amount="400.00",
        member=ada,
        sku="B-1",
        category="books",
    )
    reward = {
        "code": "gift",
        "name": "Gift",
        "cost": {"wallet": "points", "amount": 300},
        "kind": "free_item",
        "value": "GIFT",
    }
    made = client.post("/v1/programs/shop/rewards", json=reward, headers=auth(shop["admin"]))
    assert made.status_code == 201, made.text
    redeemed = client.post(
        f"/v1/programs/shop/members/{ada}/redemptions",
        json={"reward": "gift"},
        headers=auth(shop["pos"]),
    )
    assert redeemed.status_code == 201, redeemed.text
    points = summary(client, shop["admin"])["wallets"]["points"]
    assert points["redeemed"] == 300
    assert points["redemption_rate"] == str(
        (Decimal(300) / points["issued"]).quantize(Decimal("0.0001"))
    )
    assert points["breakage"] == "0.0000"


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"from": "2026-03-08T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
        ({"from": "2026-03-01T00:00:00"}, "from"),
    ],
)
def test_bad_windows_are_refused(
    client: TestClient, shop: dict[str, str], query: dict[str, str], path: str
) -> None:
    answer = client.get(
        "/v1/programs/shop/analytics/summary", params=query, headers=auth(shop["admin"])
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == path


def test_roles(client: TestClient, shop: dict[str, str]) -> None:
    for role, status in (("admin", 200), ("read", 200), ("pos", 403), ("partner", 403)):
        answer = client.get("/v1/programs/shop/analytics/summary", headers=auth(shop[role]))
        assert answer.status_code == status, role
