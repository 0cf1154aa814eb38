"""Every list a request carries has a cap (docs/api.md, "Limits"): one item over it is 422
``validation_error`` naming the field, and nothing is written; at the cap it is accepted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import auth, enrol

LINE = {"sku": "A", "quantity": 1, "unit_price": "1.00"}
RULE = {"id": "r", "kind": "visit", "points": 1}


def tiers(n: int) -> list[str]:
    return [f"t{i}" for i in range(n)]


def many(n: int) -> dict[str, int]:
    return {f"k{i}": i for i in range(n)}


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(depth - 1):
        node = {"n": node}
    return node


def config_with_rules(n: int) -> dict[str, Any]:
    return {
        "wallets": {"points": {}},
        "rules": [{"id": f"r{i}", "kind": "visit", "points": 1} for i in range(n)],
    }


CASES = [
    # (method, path, body, field in the error)
    (
        "POST",
        "/v1/programs/shop/purchases",
        {"external_id": "R-1", "lines": [LINE] * 1001},
        "lines",
    ),
    (
        "POST",
        "/v1/programs/shop/purchases/preview",
        {
            "external_id": "R-1",
            "lines": [LINE],
            "payments": [{"method": "cash", "amount": "0.01"}] * 51,
        },
        "payments",
    ),
    (
        "POST",
        "/v1/programs/shop/grants",
        {
            "external_id": "G-1",
            "wallet": "points",
            "amount": 1,
            "reason": "r",
            "members": [f"m{i}" for i in range(10_001)],
        },
        "members",
    ),
    (
        "POST",
        "/v1/programs/shop/campaigns",
        {
            "code": "c",
            "name": "C",
            "start": "2026-03-01T00:00:00Z",
            "end": "2026-04-01T00:00:00Z",
            "rules": [RULE] * 51,
        },
        "rules",
    ),
    (
        "POST",
        "/v1/programs/shop/campaigns",
        {
            "code": "c",
            "name": "C",
            "start": "2026-03-01T00:00:00Z",
            "end": "2026-04-01T00:00:00Z",
            "audience": {"tiers": tiers(51)},
            "rules": [RULE],
        },
        "audience.tiers",
    ),
    (
        "POST",
        "/v1/programs/shop/campaigns",
        {
            "code": "c",
            "name": "C",
            "start": "2026-03-01T00:00:00Z",
            "end": "2026-04-01T00:00:00Z",
            "audience": {"segments": tiers(101)},
            "rules": [RULE],
        },
        "audience.segments",
    ),
    (
        "POST",
        "/v1/programs/shop/rewards",
        {
            "code": "gift",
            "name": "Gift",
            "cost": {"wallet": "points", "amount": 1},
            "kind": "perk",
            "tiers": tiers(51),
        },
        "tiers",
    ),
    ("PATCH", "/v1/programs/shop/rewards/gift", {"tiers": tiers(51)}, "tiers"),
    (
        "POST",
        "/v1/programs/shop/webhooks",
        {"url": "https://example.com/hook", "events": ["member.enrolled"] * 51},
        "events",
    ),
    ("POST", "/v1/programs/shop/members", {"attributes": many(101)}, "attributes"),
    ("POST", "/v1/programs/shop/members", {"attributes": {"a": list(range(101))}}, "attributes"),
    ("POST", "/v1/programs/shop/members", {"attributes": nested(6)}, "attributes"),
    (
        "POST",
        "/v1/programs/shop/members",
        {"consents": {f"c{i}": True for i in range(21)}},
        "consents",
    ),
    (
        "POST",
        "/v1/programs/shop/events",
        {"external_id": "E-1", "member": "m", "type": "review_posted", "attributes": many(101)},
        "attributes",
    ),
    ("PUT", "/v1/programs/shop/config", config_with_rules(501), "rules"),
    (
        "POST",
        "/v1/programs/shop/segments",
        {"code": "s", "name": "S", "filter": {"tiers": ["bronze"] * 51}},
        "filter.tiers",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"), CASES, ids=[f"{c[1]}:{c[3]}" for c in CASES]
)
def test_one_item_over_a_list_cap_is_refused(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    method: str,
    path: str,
    body: Any,
    field: str,
) -> None:
    before = table_counts(container)
    response = client.request(method, path, json=body, headers=auth(shop["admin"]))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    paths = [e["path"] for e in problem.get("errors", [])]
    assert any(p == field or p.startswith((f"{field}.", f"{field}[")) for p in paths), paths
    # refused for its size, not for something else wrong with the big list
    assert any("at most" in e["message"] or "deeper" in e["message"] for e in problem["errors"])
    assert table_counts(container) == before


def test_lists_at_their_caps_are_accepted(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(client, shop["pos"], program="shop", attributes=many(100))
    assert len(member["attributes"]) == 100
    assert enrol(client, shop["pos"], program="shop", attributes=nested(5))["attributes"]
    big = client.post(
        "/v1/programs/shop/purchases",
        json={
            "external_id": "R-1000",
            "member": {"id": member["id"]},
            "lines": [LINE] * 1000,
            "payments": [{"method": "cash", "amount": "0.01"}] * 50,
        },
        headers=auth(shop["pos"]),
    )
    assert big.status_code == 201, big.text
    assert big.json()["eligible_amount"] == "1000.00"
    checked = client.post(
        "/v1/programs/shop/config/validate",
        json=config_with_rules(500),
        headers=auth(shop["admin"]),
    )
    assert checked.json() == {"valid": True, "errors": []}


def test_patches_cannot_grow_attributes_past_the_cap(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    member = enrol(client, shop["pos"], program="shop", attributes=many(60))
    url = f"/v1/programs/shop/members/{member['id']}"
    more = {f"extra{i}": i for i in range(41)}  # each patch is small; together 101 entries
    before = table_counts(container)
    grown = client.patch(url, json={"attributes": more}, headers=auth(shop["pos"]))
    assert grown.status_code == 422, grown.text
    assert grown.json()["errors"][0]["path"] == "attributes"
    assert table_counts(container) == before
    unchanged = client.get(url, headers=auth(shop["pos"])).json()["attributes"]
    assert unchanged == many(60)
    del more["extra40"]
    assert (
        client.patch(url, json={"attributes": more}, headers=auth(shop["pos"])).status_code == 200
    )
