"""Campaigns: their rules apply inside the window, to the audience, within the budget."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.factories import auth, awards, buy, enrol
from tests.ledger_support import audit

THURSDAY = "2026-03-05T10:00:00Z"


def shoes(
    client: TestClient, key: str, member: str, external_id: str, at: str = THURSDAY
) -> dict[str, int]:
    """A 40.00 pair of shoes; the awards by rule."""
    bought = buy(
        client,
        key,
        program="shop",
        member=member,
        external_id=external_id,
        amount="40.00",
        sku="S",
        category="shoes",
        at=at,
    )
    return awards(bought)


def campaign(client: TestClient, key: str, **body: Any) -> Any:
    base: dict[str, Any] = {
        "code": "shoe-week",
        "name": "Double points on shoes",
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-03-08T00:00:00Z",
        "rules": [{"id": "x2", "kind": "multiplier", "factor": "2", "applies_to": ["shoes"]}],
    }
    return client.post("/v1/programs/shop/campaigns", json={**base, **body}, headers=auth(key))


def test_a_campaign_applies_inside_its_window_only(
    client: TestClient, shop: dict[str, str]
) -> None:
    assert campaign(client, shop["admin"], end="2026-03-05T00:00:00Z").status_code == 201
    member = enrol(client, shop["pos"], program="shop")["id"]
    inside = shoes(client, shop["pos"], member, "P-1", "2026-03-04T10:00:00Z")
    assert inside["shoes"] == 160  # 2 per 1.00 on 40.00, doubled
    after = shoes(client, shop["pos"], member, "P-2", THURSDAY)
    assert after["shoes"] == 80


def test_a_campaign_reaches_its_audience_only(client: TestClient, shop: dict[str, str]) -> None:
    client.post(
        "/v1/programs/shop/segments",
        json={"code": "oslo", "name": "Oslo", "filter": {"attributes": {"city": "Oslo"}}},
        headers=auth(shop["admin"]),
    )
    bonus = [{"id": "hello", "kind": "bonus", "points": 30}]
    assert (
        campaign(client, shop["admin"], rules=bonus, audience={"segments": ["oslo"]}).status_code
        == 201
    )
    local = enrol(client, shop["pos"], program="shop", attributes={"city": "Oslo"})["id"]
    visitor = enrol(client, shop["pos"], program="shop", attributes={"city": "Rome"})["id"]
    assert shoes(client, shop["pos"], local, "P-1")["c.shoe-week.hello"] == 30
    assert "c.shoe-week.hello" not in shoes(client, shop["pos"], visitor, "P-2")
    got = client.get("/v1/programs/shop/campaigns/shoe-week", headers=auth(shop["read"])).json()
    assert got["results"] == {"points_awarded": 30, "members_reached": 1}


def test_a_cancelled_campaign_awards_nothing_and_a_budget_caps_it(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    bonus = [{"id": "hello", "kind": "bonus", "points": 30}]
    campaign(client, shop["admin"], rules=bonus, budget=40)
    members = [enrol(client, shop["pos"], program="shop")["id"] for _ in range(3)]
    got = [
        shoes(client, shop["pos"], m, f"P-{i}").get("c.shoe-week.hello")
        for i, m in enumerate(members)
    ]
    assert got == [30, 10, None]
    client.patch(
        "/v1/programs/shop/campaigns/shoe-week",
        json={"status": "cancelled"},
        headers=auth(shop["admin"]),
    )
    assert "c.shoe-week.hello" not in shoes(client, shop["pos"], members[0], "P-9")
    # a refund of a campaign purchase takes the campaign's award back like any other
    client.post(
        "/v1/programs/shop/purchases/P-0/refunds",
        json={"external_id": "F-0"},
        headers=auth(shop["pos"]),
    )
    assert audit(container) == []


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"end": "2026-02-01T00:00:00Z"}, "end"),
        (
            {"rules": [{"id": "x", "kind": "multiplier", "factor": "2", "applies_to": ["nope"]}]},
            "rules[0].applies_to",
        ),
        ({"rules": [{"id": "x", "kind": "spnd"}]}, "rules[0].kind"),
        ({"audience": {"tiers": ["gold"]}}, "audience.tiers"),
    ],
)
def test_bad_campaigns_are_refused_with_paths(
    client: TestClient, shop: dict[str, str], changes: dict[str, Any], path: str
) -> None:
    response = campaign(client, shop["admin"], **changes)
    assert response.status_code == 422, response.text
    assert path in {e["path"] for e in response.json()["errors"]}
