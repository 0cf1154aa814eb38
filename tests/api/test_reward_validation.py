"""Bad reward bodies are refused with 422, a path per wrong field, and nothing written (SPEC §5):
unknown wallets and tiers, costs that are not positive amounts of their wallet, windows that end
before they start, and kinds whose value does not fit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import COFFEE, auth, create_program, program_key

REWARDS = "/v1/programs/shop/rewards"


def refused(
    client: TestClient, container: Container, method: str, url: str, key: str, body: Any
) -> set[str]:
    """Send a body that must be refused; the paths of its errors."""
    before = table_counts(container)
    response = client.request(method, url, json=body, headers=auth(key))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert table_counts(container) == before
    return {error["path"] for error in response.json()["errors"]}


@pytest.mark.parametrize(
    ("changes", "paths"),
    [
        ({"cost": {"wallet": "stars", "amount": 100}}, {"cost.wallet"}),
        ({"cost": {"wallet": "points", "amount": -100}}, {"cost.amount"}),
        ({"cost": {"wallet": "points", "amount": 0}}, {"cost.amount"}),
        ({"cost": {"wallet": "points", "amount": 1.5}}, {"cost.amount"}),
        ({"cost": {"wallet": "points", "amount": "100"}}, {"cost.amount"}),
        ({"cost": {"wallet": "credit", "amount": "-5.00"}}, {"cost.amount"}),
        ({"cost": {"wallet": "credit", "amount": "5.001"}}, {"cost.amount"}),
        ({"cost": {"wallet": "points"}}, {"cost.amount"}),
        (
            {
                "available_from": "2026-05-01T00:00:00Z",
                "available_until": "2026-04-01T00:00:00Z",
            },
            {"available_until"},
        ),
        (
            {
                "available_from": "2026-05-01T00:00:00Z",
                "available_until": "2026-05-01T00:00:00Z",
            },
            {"available_until"},
        ),
        ({"available_from": "2026-05-01T00:00:00"}, {"available_from"}),  # no offset
        ({"tiers": ["gold"]}, {"tiers"}),
        ({"tiers": []}, {"tiers"}),
        ({"kind": "discount"}, {"kind"}),
        ({"kind": "amount_off", "value": None}, {"value"}),
        ({"kind": "amount_off", "value": "ten"}, {"value"}),
        ({"kind": "amount_off", "value": "-2.00"}, {"value"}),
        ({"kind": "percent_off", "value": 150}, {"value"}),
        ({"kind": "percent_off", "value": 0}, {"value"}),
        ({"kind": "credit", "value": "NaN"}, {"value"}),
        ({"kind": "free_item", "value": None}, {"value"}),
        ({"voucher_valid_days": 0}, {"voucher_valid_days"}),
        ({"stock": -1}, {"stock"}),
        ({"per_member_limit": 0}, {"per_member_limit"}),
        ({"code": "no spaces"}, {"code"}),
        ({"colour": "red"}, {"colour"}),
        # several wrong fields at once: each is named
        (
            {
                "tiers": ["gold"],
                "available_from": "2026-05-01T00:00:00Z",
                "available_until": "2026-04-01T00:00:00Z",
            },
            {"tiers", "available_until"},
        ),
    ],
)
def test_a_bad_reward_is_refused_and_nothing_is_written(
    client: TestClient,
    container: Container,
    shop: dict[str, str],
    changes: dict[str, Any],
    paths: set[str],
) -> None:
    body = {**COFFEE, **changes}
    assert refused(client, container, "POST", REWARDS, shop["admin"], body) == paths
    listed = client.get(REWARDS, headers=auth(shop["read"])).json()["items"]
    assert listed == []


def test_a_credit_reward_needs_a_money_wallet(
    client: TestClient, container: Container, platform: str
) -> None:
    create_program(client, platform, slug="plain", config={"wallets": {"points": {}}})
    admin = program_key(client, platform, program="plain")
    body = {**COFFEE, "kind": "credit", "value": "5.00"}
    assert refused(client, container, "POST", "/v1/programs/plain/rewards", admin, body) == {"kind"}


@pytest.mark.parametrize(
    ("changes", "paths"),
    [
        ({"cost_amount": -1}, {"cost_amount"}),
        ({"cost_amount": "2.5"}, {"cost_amount"}),
        ({"available_until": "2026-04-01T00:00:00Z"}, {"available_until"}),  # before its start
        ({"tiers": ["gold"]}, {"tiers"}),
        ({"value": 101}, {"value"}),  # a percent_off reward
        ({"stock": -3}, {"stock"}),
        ({"kind": "perk"}, {"kind"}),  # the kind is not editable
    ],
)
def test_a_bad_change_is_refused_and_the_reward_is_unchanged(
    client: TestClient,
    container: Container,
    shop: dict[str, str],
    changes: dict[str, Any],
    paths: set[str],
) -> None:
    reward = {
        **COFFEE,
        "code": "pct",
        "kind": "percent_off",
        "value": "10",
        "available_from": "2026-05-01T00:00:00Z",
    }
    made = client.post(REWARDS, json=reward, headers=auth(shop["admin"]))
    assert made.status_code == 201, made.text
    url = f"{REWARDS}/pct"
    assert refused(client, container, "PATCH", url, shop["admin"], changes) == paths
    listed = client.get(REWARDS, headers=auth(shop["read"])).json()["items"]
    assert listed == [made.json()]
