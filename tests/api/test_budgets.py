"""Budgets count every award of their rules: on purchases and on activity events, a campaign's
rules together, and two rules of one campaign on one purchase cannot both spend its last points.
Campaign ``event`` rules award inside the window, to the audience, within the budget; a
cancelled campaign awards nothing even with budget left."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.factories import auth, create_program, enrol, program_key
from tests.ledger_support import audit

BEFORE_THE_WINDOW = "2026-03-01T00:00:00Z"  # members enrol then, so events in it are theirs
IN_THE_WINDOW = "2026-03-05T10:00:00Z"  # the clock stands at 2026-03-07T10:00:00Z


def event(
    client: TestClient, key: str, member: str, external_id: str, **body: Any
) -> dict[str, Any]:
    body = {"external_id": external_id, "member": member, "type": "review_posted", **body}
    response = client.post("/v1/programs/shop/events", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def awards(result: dict[str, Any]) -> dict[str, int]:
    return {a["rule_id"]: a["amount"] for a in result["awards"]}


def buy(client: TestClient, key: str, member: str, external_id: str) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "member": {"id": member},
        "occurred_at": IN_THE_WINDOW,
        "lines": [{"sku": "A", "quantity": 1, "unit_price": "10.00"}],
    }
    response = client.post("/v1/programs/shop/purchases", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def program(client: TestClient, platform: str, *rules: dict[str, Any]) -> str:
    config = {
        "wallets": {"points": {}},
        "rules": [{"id": "base", "kind": "spend", "points": 1, "per": "1.00"}, *rules],
    }
    create_program(client, platform, slug="shop", config=config)
    return program_key(client, platform, program="shop", role="admin")


def campaign(client: TestClient, key: str, **body: Any) -> Any:
    base: dict[str, Any] = {
        "code": "spring",
        "name": "Spring",
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-03-06T00:00:00Z",
    }
    response = client.post("/v1/programs/shop/campaigns", json={**base, **body}, headers=auth(key))
    assert response.status_code == 201, response.text
    return response.json()


def results(client: TestClient, key: str) -> dict[str, int]:
    got = client.get("/v1/programs/shop/campaigns/spring", headers=auth(key)).json()
    return dict(got["results"])


def test_an_event_rule_budget_caps_what_its_events_award(
    client: TestClient, platform: str, container: Container
) -> None:
    review = {"id": "review", "kind": "event", "event": "review_posted", "points": 25}
    key = program(client, platform, {**review, "limits": {"budget": 30}})
    members = [enrol(client, key, program="shop")["id"] for _ in range(3)]
    got = [event(client, key, m, f"REV-{i}") for i, m in enumerate(members)]
    assert [awards(r).get("review") for r in got] == [25, 5, None]
    assert got[2]["skipped"] == [{"rule_id": "review", "reason": "budget spent"}]
    assert [r["balances"]["points"]["available"] for r in got] == [25, 5, 0]
    assert audit(container) == []


def test_a_campaign_budget_counts_its_purchase_and_event_awards_together(
    client: TestClient, platform: str, container: Container
) -> None:
    key = program(client, platform)
    rules = [
        {"id": "hello", "kind": "bonus", "points": 30},
        {"id": "review", "kind": "event", "event": "review_posted", "points": 25},
    ]
    campaign(client, key, rules=rules, budget=40)
    member = enrol(client, key, program="shop", enrolled_at=BEFORE_THE_WINDOW)["id"]
    assert awards(buy(client, key, member, "P-1"))["c.spring.hello"] == 30
    assert awards(event(client, key, member, "REV-1", occurred_at=IN_THE_WINDOW)) == {
        "c.spring.review": 10
    }
    assert awards(event(client, key, member, "REV-2", occurred_at=IN_THE_WINDOW)) == {}
    assert "c.spring.hello" not in awards(buy(client, key, member, "P-2"))
    assert results(client, key) == {"points_awarded": 40, "members_reached": 1}
    assert audit(container) == []


def test_two_rules_of_a_campaign_on_one_purchase_share_its_budget(
    client: TestClient, platform: str, container: Container
) -> None:
    key = program(client, platform)
    rules = [
        {"id": "hello", "kind": "bonus", "points": 30},
        {"id": "again", "kind": "bonus", "points": 30},
    ]
    campaign(client, key, rules=rules, budget=40)
    member = enrol(client, key, program="shop", enrolled_at=BEFORE_THE_WINDOW)["id"]
    got = awards(buy(client, key, member, "P-1"))
    assert (got["c.spring.hello"], got["c.spring.again"]) == (30, 10)
    assert results(client, key)["points_awarded"] == 40
    assert audit(container) == []


def test_a_campaign_event_rule_awards_in_its_window_to_its_audience(
    client: TestClient, platform: str, container: Container
) -> None:
    key = program(client, platform)
    client.post(
        "/v1/programs/shop/segments",
        json={"code": "oslo", "name": "Oslo", "filter": {"attributes": {"city": "Oslo"}}},
        headers=auth(key),
    )
    review = {"id": "review", "kind": "event", "event": "review_posted", "points": 40}
    campaign(client, key, rules=[review], audience={"segments": ["oslo"]})
    local, visitor = (
        enrol(client, key, program="shop", enrolled_at=BEFORE_THE_WINDOW, attributes={"city": c})[
            "id"
        ]
        for c in ("Oslo", "Rome")
    )
    inside = event(client, key, local, "REV-1", occurred_at=IN_THE_WINDOW)
    assert awards(inside) == {"c.spring.review": 40}
    assert inside["balances"]["points"]["available"] == 40
    assert awards(event(client, key, visitor, "REV-2", occurred_at=IN_THE_WINDOW)) == {}
    assert awards(event(client, key, local, "REV-3")) == {}  # now: after the window's end
    assert results(client, key) == {"points_awarded": 40, "members_reached": 1}
    activity = client.get(f"/v1/programs/shop/members/{local}/activity", headers=auth(key))
    assert [e["explanation"][0]["rule_id"] for e in activity.json()["items"]] == ["c.spring.review"]
    assert audit(container) == []


def test_a_campaign_event_rule_keeps_its_per_member_limit(
    client: TestClient, platform: str, container: Container
) -> None:
    key = program(client, platform)
    review = {
        "id": "review",
        "kind": "event",
        "event": "review_posted",
        "points": 40,
        "limits": {"per_member": {"count": 1, "period": "lifetime"}},
    }
    campaign(client, key, rules=[review])
    member = enrol(client, key, program="shop", enrolled_at=BEFORE_THE_WINDOW)["id"]
    first = event(client, key, member, "REV-1", occurred_at=IN_THE_WINDOW)
    second = event(client, key, member, "REV-2", occurred_at=IN_THE_WINDOW)
    assert (awards(first), awards(second)) == ({"c.spring.review": 40}, {})
    assert second["skipped"] == [
        {"rule_id": "c.spring.review", "reason": "limit of 1 per lifetime reached"}
    ]
    assert audit(container) == []


def test_a_cancelled_campaign_with_budget_left_awards_nothing(
    client: TestClient, platform: str, container: Container
) -> None:
    key = program(client, platform)
    rules = [
        {"id": "hello", "kind": "bonus", "points": 30},
        {"id": "review", "kind": "event", "event": "review_posted", "points": 25},
    ]
    campaign(client, key, rules=rules, budget=1000)
    member = enrol(client, key, program="shop", enrolled_at=BEFORE_THE_WINDOW)["id"]
    assert awards(buy(client, key, member, "P-1"))["c.spring.hello"] == 30
    cancelled = client.patch(
        "/v1/programs/shop/campaigns/spring", json={"status": "cancelled"}, headers=auth(key)
    )
    assert cancelled.status_code == 200, cancelled.text
    assert awards(buy(client, key, member, "P-2")) == {"base": 10}
    assert awards(event(client, key, member, "REV-1", occurred_at=IN_THE_WINDOW)) == {}
    assert results(client, key) == {"points_awarded": 30, "members_reached": 1}
    assert audit(container) == []
