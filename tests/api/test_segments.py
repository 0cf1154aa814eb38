"""Segments: dynamic member filters, listed and used by rule filters."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import auth


def enrol(client: TestClient, key: str, **body: Any) -> str:
    return str(client.post("/v1/programs/shop/members", json=body, headers=auth(key)).json()["id"])


def buy(client: TestClient, key: str, member: str, external_id: str, amount: str) -> Any:
    body = {
        "external_id": external_id,
        "member": {"id": member},
        "occurred_at": "2026-03-05T10:00:00Z",
        "lines": [{"sku": "X", "quantity": 1, "unit_price": amount}],
    }
    return client.post("/v1/programs/shop/purchases", json=body, headers=auth(key)).json()


def segment(client: TestClient, key: str, code: str, rule: dict[str, Any]) -> Any:
    body = {"code": code, "name": code.title(), "filter": rule}
    return client.post("/v1/programs/shop/segments", json=body, headers=auth(key))


def test_members_of_a_segment(client: TestClient, shop: dict[str, str]) -> None:
    big = enrol(client, shop["pos"], birth_date="1990-05-04", attributes={"city": "Oslo"})
    small = enrol(client, shop["pos"], attributes={"city": "Oslo"})
    never = enrol(client, shop["pos"])
    buy(client, shop["pos"], big, "P-1", "120.00")
    buy(client, shop["pos"], small, "P-2", "10.00")
    assert segment(client, shop["admin"], "spenders", {"min_spend": "100"}).status_code == 201
    assert (
        segment(client, shop["admin"], "oslo", {"attributes": {"city": "Oslo"}}).status_code == 201
    )
    assert segment(client, shop["admin"], "may", {"birthday_month": 5}).status_code == 201
    assert (
        segment(client, shop["admin"], "idle", {"min_days_since_last_purchase": 30}).status_code
        == 201
    )

    def members(code: str) -> set[str]:
        url = f"/v1/programs/shop/segments/{code}/members"
        return {m["id"] for m in client.get(url, headers=auth(shop["read"])).json()["items"]}

    assert members("spenders") == {big}
    assert members("oslo") == {big, small}
    assert members("may") == {big}
    assert members("idle") == {never}  # Big and Small bought two days ago


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"min_spend": "-1"}, "filter.min_spend"),
        ({"birthday_month": 13}, "filter.birthday_month"),
        ({"tiers": ["gold"]}, "filter.tiers"),
        ({"colour": "red"}, "filter.colour"),
    ],
)
def test_bad_filters_are_refused(
    client: TestClient, shop: dict[str, str], rule: dict[str, Any], path: str
) -> None:
    response = segment(client, shop["admin"], "bad", rule)
    assert response.status_code == 422
    assert path in {e["path"] for e in response.json()["errors"]}


def test_rules_filtered_by_segment_apply_to_its_members_only(
    client: TestClient, shop: dict[str, str]
) -> None:
    segment(client, shop["admin"], "oslo", {"attributes": {"city": "Oslo"}})
    config = client.get("/v1/programs/shop/config", headers=auth(shop["admin"])).json()["config"]
    config["rules"].append(
        {"id": "oslo-bonus", "kind": "bonus", "points": 77, "segments": ["oslo"]}
    )
    assert (
        client.put("/v1/programs/shop/config", json=config, headers=auth(shop["admin"])).status_code
        == 200
    )
    local = enrol(client, shop["pos"], attributes={"city": "Oslo"})
    visitor = enrol(client, shop["pos"], attributes={"city": "Rome"})
    assert "oslo-bonus" in {
        a["rule_id"] for a in buy(client, shop["pos"], local, "P-1", "9.00")["awards"]
    }
    assert "oslo-bonus" not in {
        a["rule_id"] for a in buy(client, shop["pos"], visitor, "P-2", "9.00")["awards"]
    }
