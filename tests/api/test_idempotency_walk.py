"""Every ``POST`` route honours ``Idempotency-Key`` the same way (API.md, "Conventions"), walked
from the OpenAPI document with the samples of ``tests/api/route_samples.py``:

- the same key with the same request answers the original status and body with
  ``Idempotent-Replayed: true``, and writes nothing (no row anywhere, no audit record);
- the same key with another request (another body; another object for routes without one) is
  409 ``idempotency_conflict`` and writes nothing.

Checks and previews (which write nothing) are walked too: their answer is kept under the key.
A ``POST`` route without a sample fails the walk; one whose samples are always the same request
needs a line in ``OTHER``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from tests.api.route_samples import SAMPLES, Call, P, World, build_world, fresh, routes
from tests.conftest import table_counts
from tests.factories import auth

NOWHERE = "01900000-0000-7000-8000-000000000000"

OTHER: dict[tuple[str, str], Callable[[World, Call], Call]] = {
    ("POST", P + "/message-templates/{event}/{channel}/preview"): lambda w, c: Call(
        c.path, {"body": "Hi {{ first_name }}"}
    ),
    ("POST", P + "/members/{member}/messages/{message}/resend"): lambda w, c: Call(
        {"member": c.path["member"], "message": NOWHERE}
    ),
    ("POST", P + "/config/validate"): lambda w, c: Call(body={"wallets": {}}),
    ("POST", P + "/members/{member}/adjustments"): lambda w, c: Call(
        c.path, {"wallet": "points", "amount": 8, "reason": "goodwill"}
    ),
    ("POST", P + "/members/{member}/tier"): lambda w, c: Call(
        c.path, {"code": "vib", "reason": "ambassador"}
    ),
    ("POST", P + "/members/{member}/erase"): lambda w, c: Call({"member": NOWHERE}),
    ("POST", P + "/members/{member}/portal-link"): lambda w, c: Call(
        c.path, {"return_url": "https://shop.example/account"}
    ),
    ("POST", P + "/members/{member}/redemptions"): lambda w, c: Call(
        c.path, {"reward": fresh("other-gift")}
    ),
    ("POST", P + "/purchases/{external_id}/claim"): lambda w, c: Call(c.path, {"member": NOWHERE}),
    ("POST", P + "/redemptions/{redemption_id}/cancel"): lambda w, c: Call(
        {"redemption_id": NOWHERE}
    ),
    ("POST", P + "/vouchers/{code}/use"): lambda w, c: Call(
        c.path, {"purchase_external_id": fresh("order")}
    ),
    ("POST", P + "/webhooks/{endpoint}/rotate-secret"): lambda w, c: Call(
        c.path, {"overlap_hours": 2}
    ),
    ("POST", P + "/webhooks/{endpoint}/deliveries/{delivery}/retry"): lambda w, c: Call(
        {**c.path, "delivery": NOWHERE}
    ),
}
"""Another request to a route whose samples are always the same one. Under a used key it is
refused before it is looked at, so it need not be valid on its own."""


@pytest.fixture
def world(client: TestClient, container: Container, platform: str) -> World:
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)
    return build_world(client, container, platform, "shop", "s")


def _other(route: tuple[str, str], world: World, call: Call) -> Call:
    if route in OTHER:
        return OTHER[route](world, call)
    second = SAMPLES[route](world, world)
    assert second.body is not None, f"add another request for {route} to OTHER"
    assert second.body != call.body, f"add another request for {route} to OTHER"
    return Call(call.path, second.body, call.query)


def _send(client: TestClient, key: str, route: tuple[str, str], world: World, call: Call,
          idempotency_key: str) -> Any:  # fmt: skip
    method, template = route
    return client.request(
        method,
        world.url(template, call),
        json=call.body,
        params=call.query,
        headers={**auth(key), "Idempotency-Key": idempotency_key},
    )


def test_every_post_route_replays_and_refuses_the_same_way(
    client: TestClient, container: Container, world: World, platform: str
) -> None:
    posts = [r for r in routes(container) if r[0] == "POST"]
    assert len(posts) >= 22
    for number, route in enumerate(posts):
        assert route in SAMPLES, f"add a sample to tests/api/route_samples.py for {route}"
        key = platform if route == ("POST", "/v1/programs") else world.admin
        call = SAMPLES[route](world, world)
        used = f"walk-{number}"
        first = _send(client, key, route, world, call, used)
        assert first.status_code < 300, (route, first.text)
        assert "idempotent-replayed" not in first.headers, route
        other = _other(route, world, call)
        assert (other.path, other.body) != (call.path, call.body), route
        before = table_counts(container)

        again = _send(client, key, route, world, call, used)
        assert (again.status_code, again.json()) == (first.status_code, first.json()), route
        assert again.headers.get("idempotent-replayed") == "true", route
        assert table_counts(container) == before, (route, "the replay wrote something")

        refused = _send(client, key, route, world, other, used)
        assert refused.status_code == 409, (route, refused.text)
        assert refused.json()["code"] == "idempotency_conflict", route
        assert table_counts(container) == before, (route, "the conflict wrote something")


def test_a_grant_under_a_key_is_applied_once(
    client: TestClient, container: Container, world: World
) -> None:
    """Before keys were honoured on grants, the same key with another external_id started a
    second grant and credited the member twice."""
    url = "/v1/programs/shop/grants"
    member_url = f"/v1/programs/shop/members/{world.member}"
    headers = {**world.auth, "Idempotency-Key": "grant-once"}
    body = {"wallet": "points", "amount": 40, "reason": "sorry", "members": [world.member]}
    balance = client.get(member_url, headers=world.auth).json()["balances"]["points"]["available"]

    first = client.post(url, json={**body, "external_id": "G-once"}, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(url, json={**body, "external_id": "G-once"}, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = client.post(url, json={**body, "external_id": "G-twice"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"

    after = client.get(member_url, headers=world.auth).json()["balances"]["points"]["available"]
    assert after == balance + 40
    assert client.get(url + "/G-twice", headers=world.auth).status_code == 404
