"""Activity events through the API: awards, per-member limits, replay, enrolment."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import MutableClock, auth, enrol


def event(client: TestClient, key: str, **body: Any) -> Any:
    return client.post("/v1/programs/shop/events", json=body, headers=auth(key))


def test_enrolment_fires_the_enrolled_event(client: TestClient, shop: dict[str, str]) -> None:
    member = enrol(client, shop["pos"], program="shop")
    assert member["balances"]["points"]["available"] == 50
    activity = client.get(
        f"/v1/programs/shop/members/{member['id']}/activity", headers=auth(shop["read"])
    ).json()["items"]
    assert [(e["type"], e["amount"], e["explanation"][0]["rule_id"]) for e in activity] == [
        ("earn", 50, "signup")
    ]


def test_a_review_earns_twice_a_month_at_most(
    client: TestClient, shop: dict[str, str], clock: MutableClock
) -> None:
    member = enrol(client, shop["pos"], program="shop")["id"]
    results = [
        event(client, shop["pos"], external_id=f"REV-{i}", member=member, type="review_posted")
        for i in range(3)
    ]
    assert [r.status_code for r in results] == [201, 201, 201]
    assert [r.json()["awards"] for r in results][:2] == [
        [{"rule_id": "review", "wallet": "points", "amount": 25}]
    ] * 2
    assert results[2].json()["awards"] == []
    assert results[2].json()["skipped"][0]["reason"] == "limit of 2 per month reached"
    assert results[2].json()["balances"]["points"]["available"] == 50 + 50
    clock.advance(days=31)
    april = event(client, shop["pos"], external_id="REV-9", member=member, type="review_posted")
    assert april.json()["awards"][0]["amount"] == 25


def test_an_event_resend_is_harmless_and_a_changed_one_conflicts(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    member = enrol(client, shop["pos"], program="shop")["id"]
    body = {"external_id": "SURVEY-1", "member": member, "type": "survey_completed"}
    first = event(client, shop["pos"], **body)
    assert first.status_code == 201
    after = table_counts(container)
    again = event(client, shop["pos"], **body)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    changed = event(client, shop["pos"], **{**body, "type": "app_download"})
    assert changed.status_code == 409
    assert table_counts(container) == after


def test_bad_events_change_nothing(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    member = enrol(client, shop["pos"], program="shop")["id"]
    before = table_counts(container)
    cases = [
        ({"external_id": "E", "member": member, "type": "Bad Type"}, 422),
        ({"external_id": "E", "member": "nobody", "type": "review_posted"}, 404),
        ({"external_id": "E", "member": {"email": "no@example.com"}, "type": "x"}, 404),
        ({"member": member, "type": "review_posted"}, 422),
    ]
    for body, status in cases:
        assert event(client, shop["pos"], **body).status_code == status, body
    assert table_counts(container) == before
