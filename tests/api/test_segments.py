"""Segments: dynamic member filters, listed and used by rule filters."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import auth, buy, enrol


def segment(client: TestClient, key: str, code: str, rule: dict[str, Any]) -> Any:
    body = {"code": code, "name": code.title(), "filter": rule}
    return client.post("/v1/programs/shop/segments", json=body, headers=auth(key))


def test_members_of_a_segment(client: TestClient, shop: dict[str, str]) -> None:
    big = enrol(
        client, shop["pos"], program="shop", birth_date="1990-05-04", attributes={"city": "Oslo"}
    )["id"]
    small = enrol(client, shop["pos"], program="shop", attributes={"city": "Oslo"})["id"]
    never = enrol(client, shop["pos"], program="shop")["id"]
    buy(client, shop["pos"], program="shop", member=big, external_id="P-1", amount="120.00")
    buy(client, shop["pos"], program="shop", member=small, external_id="P-2", amount="10.00")
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
    local = enrol(client, shop["pos"], program="shop", attributes={"city": "Oslo"})["id"]
    visitor = enrol(client, shop["pos"], program="shop", attributes={"city": "Rome"})["id"]
    assert "oslo-bonus" in {
        a["rule_id"]
        for a in buy(
            client, shop["pos"], program="shop", member=local, external_id="P-1", amount="9.00"
        )["awards"]
    }
    assert "oslo-bonus" not in {
        a["rule_id"]
        for a in buy(
            client, shop["pos"], program="shop", member=visitor, external_id="P-2", amount="9.00"
        )["awards"]
    }
