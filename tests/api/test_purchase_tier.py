"""The tier of a purchase: the one in force at its ``occurred_at`` applies (preview agrees), and
the PurchaseResult shows the member's tier after it, as the Member shape does.

The example configuration: insider 0, vib from 350 spent (x1.25), rouge from 1000 (x1.5),
calendar year; weekend x2 on ``base``. The clock starts on Saturday 2026-03-07 10:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.factories import MutableClock, auth, enrol
from tests.ledger_support import audit

TWO_YEARS_BACK = "2024-03-07T10:00:00Z"  # a Thursday: no weekend multiplier


@pytest.fixture
def member(client: TestClient, shop: dict[str, str]) -> str:
    return str(enrol(client, shop["pos"], program="shop", enrolled_at="2024-01-01T00:00:00Z")["id"])


def body(member: str | None, external_id: str, amount: str, at: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "external_id": external_id,
        "occurred_at": at,
        "lines": [{"sku": "X", "category": "misc", "quantity": 1, "unit_price": amount}],
    }
    if member is not None:
        found["member"] = {"id": member}
    return found


def post(client: TestClient, key: str, path: str, sent: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/programs/shop/purchases{path}", json=sent, headers=auth(key))
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def base(result: dict[str, Any]) -> tuple[int, list[str]]:
    """The ``base`` award and the multipliers that made it."""
    award = next(a for a in result["awards"] if a["rule_id"] == "base")
    return award["amount"], [m["source"] for m in award["explanation"]["multipliers"]]


def member_tier(client: TestClient, key: str, member: str) -> Any:
    return client.get(f"/v1/programs/shop/members/{member}", headers=auth(key)).json()["tier"]


def test_a_backdated_purchase_earns_with_the_tier_in_force_at_its_date(
    client: TestClient,
    shop: dict[str, str],
    member: str,
    clock: MutableClock,
    container: Container,
) -> None:
    lifted = post(client, shop["pos"], "", body(member, "P-1", "400.00", clock.now().isoformat()))
    assert lifted["tier"]["code"] == "vib"
    old = body(member, "P-OLD", "100.00", TWO_YEARS_BACK)
    preview = post(client, shop["pos"], "/preview", old)
    recorded = post(client, shop["pos"], "", old)
    assert base(preview) == base(recorded) == (100, [])  # not x1.25: insider back then
    clock.at = monday = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    today = post(client, shop["pos"], "", body(member, "P-2", "100.00", monday.isoformat()))
    assert base(today) == (125, ["tier:vib"])
    assert audit(container) == []


def test_each_moment_gets_the_tier_the_history_shows_then(
    client: TestClient,
    shop: dict[str, str],
    member: str,
    clock: MutableClock,
    container: Container,
) -> None:
    saturday = clock.now()
    post(client, shop["pos"], "", body(member, "P-1", "400.00", saturday.isoformat()))  # vib
    clock.at = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # Tuesday: staff lift them to rouge
    granted = client.post(
        f"/v1/programs/shop/members/{member}/tier",
        json={"code": "rouge", "until": "2026-12-31T00:00:00Z", "reason": "store opening"},
        headers=auth(shop["admin"]),
    )
    assert granted.status_code == 200, granted.text
    clock.at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    cases = {
        "2026-03-02T10:00:00Z": (100, []),  # Monday before the upgrade: insider
        "2026-03-09T10:00:00Z": (125, ["tier:vib"]),  # Monday between the two changes
        "2026-03-10T11:00:00Z": (150, ["tier:rouge"]),  # after the override
    }
    for n, (at, expected) in enumerate(cases.items()):
        sent = body(member, f"P-{n + 10}", "100.00", at)
        assert base(post(client, shop["pos"], "/preview", sent)) == expected, at
        assert base(post(client, shop["pos"], "", sent)) == expected, at
    assert audit(container) == []


def test_the_result_shows_the_members_tier_after_the_purchase(
    client: TestClient, shop: dict[str, str], member: str, clock: MutableClock
) -> None:
    sent = body(member, "P-1", "400.00", clock.now().isoformat())
    preview = post(client, shop["pos"], "/preview", sent)
    assert preview["tier"] == member_tier(client, shop["read"], member)  # as it stands
    assert preview["tier"]["code"] == "insider"
    recorded = post(client, shop["pos"], "", sent)
    after = member_tier(client, shop["read"], member)
    assert after["code"] == "vib"
    assert recorded["tier"] == after
    assert set(after) == {"code", "name", "since", "until"}
    assert (after["name"], after["since"]) == ("VIB", "2026-03-07T10:00:00Z")
    replayed = client.post("/v1/programs/shop/purchases", json=sent, headers=auth(shop["pos"]))
    assert replayed.status_code == 200
    assert replayed.json()["tier"] == after
    shown = client.get("/v1/programs/shop/purchases/P-1", headers=auth(shop["read"])).json()
    assert shown["tier"] == after


def test_an_anonymous_purchase_has_no_tier(client: TestClient, shop: dict[str, str]) -> None:
    sent = body(None, "P-1", "40.00", "2026-03-07T09:00:00Z")
    assert post(client, shop["pos"], "", sent)["tier"] is None
