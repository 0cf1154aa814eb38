"""A paid tier (membership subscription) lifts the earned tier while it lasts and never lowers it
(SPEC §4); a staff override, by contrast, may."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services import jobs
from tests.factories import MutableClock, auth, buy, enrol, tier
from tests.ledger_support import audit


def grant(client: TestClient, shop: dict[str, str], member: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/programs/shop/members/{member}/tier", json=body, headers=auth(shop["admin"])
    )
    assert response.status_code == 200, response.text
    current: dict[str, Any] = response.json()["current"]
    return current


def member_since_march(client: TestClient, shop: dict[str, str], clock: MutableClock) -> str:
    """A member enrolled on 1 March, before the purchases of 5 March; the clock back on 7 March."""
    clock.at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    member: str = enrol(client, shop["pos"], program="shop")["id"]
    clock.at = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    return member


def held(client: TestClient, shop: dict[str, str], member: str) -> str:
    found = client.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["read"]))
    code: str = found.json()["tier"]["code"]
    return code


def test_a_paid_tier_below_the_earned_one_changes_nothing(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    member = member_since_march(client, shop, clock)
    buy(client, shop["pos"], program="shop", member=member, external_id="P-1", amount="1000.00")
    assert held(client, shop, member) == "rouge"

    paid = {"code": "vib", "until": "2026-05-01T00:00:00Z", "reason": "Plus", "paid": True}
    current = grant(client, shop, member, **paid)
    assert (current["code"], current["cause"]) == ("rouge", "qualified")
    # the earned tier's own end: midnight in Paris on 1 January 2028
    assert current["until"] == "2027-12-31T23:00:00Z"
    assert held(client, shop, member) == "rouge"
    clock.at = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # Monday: no weekend multiplier
    # the next purchase, after the upgrade, still earns with Rouge's multiplier
    # (x1.5), not VIB's
    second = buy(
        client,
        shop["pos"],
        program="shop",
        member=member,
        external_id="P-2",
        amount="100.00",
        at="2026-03-09T10:00:00Z",
    )
    assert {a["rule_id"]: a["amount"] for a in second["awards"]}["base"] == 150

    clock.at = datetime(2026, 5, 2, tzinfo=UTC)  # the paid period lapses: still Rouge
    jobs.run_due(container.uow, clock.at)
    assert held(client, shop, member) == "rouge"
    history = tier(client, shop["read"], program="shop", member=member)["history"]
    assert [(h["to"], h["cause"]) for h in history] == [("rouge", "purchase")]
    assert audit(container) == []


def test_a_paid_tier_above_the_earned_one_lifts_it_until_it_lapses(
    client: TestClient, shop: dict[str, str], clock: MutableClock, container: Container
) -> None:
    member = member_since_march(client, shop, clock)
    buy(client, shop["pos"], program="shop", member=member, external_id="P-1", amount="400.00")
    assert held(client, shop, member) == "vib"
    paid = {"code": "rouge", "until": "2026-05-01T00:00:00Z", "reason": "Plus", "paid": True}
    current = grant(client, shop, member, **paid)
    assert (current["code"], current["cause"], current["until"]) == (
        "rouge",
        "paid",
        "2026-05-01T00:00:00Z",
    )
    clock.at = datetime(2026, 5, 2, tzinfo=UTC)
    jobs.run_due(container.uow, clock.at)
    assert held(client, shop, member) == "vib"  # back to the earned tier, not the base


def test_an_override_may_lower_the_earned_tier(
    client: TestClient, shop: dict[str, str], clock: MutableClock
) -> None:
    member = member_since_march(client, shop, clock)
    buy(client, shop["pos"], program="shop", member=member, external_id="P-1", amount="1000.00")
    body = {"code": "vib", "until": "2026-05-01T00:00:00Z", "reason": "abuse under review"}
    current = grant(client, shop, member, **body)
    assert (current["code"], current["cause"]) == ("vib", "override")
    assert held(client, shop, member) == "vib"
