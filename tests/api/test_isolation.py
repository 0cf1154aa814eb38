"""Tenant isolation, proven route by route from the OpenAPI document.

Two programs, A and B, each with one object of every kind (``route_samples.build_world``). With
B's admin key, for every route under ``/v1/programs/{program}``:

(a) A's slug or id in the path answers 404, for reads and writes alike;
(b) B's slug with A's object ids or codes in the path answers 404, while the same call with B's
    own objects succeeds (so the 404 is the path's, not a bad body's);
(c) B's list filters never return A's objects;
(d) B's exports and analytics hold nothing of A: they are the same before and after A exists.

A route in the document without a sample fails the walk, so a new route cannot go unchecked.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.adapters.db import exports
from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from patron.cli import transfer
from tests.api.route_samples import (
    CATALOGUE,
    PUBLIC,
    SAMPLES,
    P,
    World,
    build_world,
    campaign_body,
    fresh,
    purchase_body,
    request,
    routes,
)
from tests.factories import auth


@pytest.fixture
def worlds(client: TestClient, container: Container, platform: str) -> tuple[World, World]:
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)
    b = build_world(client, container, platform, "bravo", "b")
    a = build_world(client, container, platform, "alpha", "a")
    return a, b


def program_routes(container: Container) -> list[tuple[str, str]]:
    return [r for r in routes(container) if r[1] == P or r[1].startswith(P + "/")]


def test_every_route_has_a_sample(container: Container) -> None:
    missing = [r for r in routes(container) if r not in SAMPLES and r not in PUBLIC]
    assert not missing, f"add a sample to tests/api/route_samples.py for {missing}"


def _not_found(answer: Any, what: str) -> None:
    assert answer.status_code == 404, (what, answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json"), what
    assert answer.json()["code"].endswith("not_found"), (what, answer.text)


def test_another_programs_key_gets_404_on_every_route(
    client: TestClient, container: Container, worlds: tuple[World, World]
) -> None:
    a, b = worlds
    checked = 0
    for route in program_routes(container):
        assert route in SAMPLES, f"no sample for {route}"
        for ref in (a.slug, a.id):
            call = SAMPLES[route](a, a)
            method, template = route
            answer = client.request(
                method,
                template.format(program=ref, **call.path),
                json=call.body,
                params=call.query,
                headers=auth(b.admin),
            )
            _not_found(answer, f"{route} as {ref}")
            checked += 1
    assert checked >= 2 * 40
    _nothing_written_in(client, a, by=b)


def test_objects_of_another_program_are_not_found_under_its_own_slug(
    client: TestClient, container: Container, worlds: tuple[World, World]
) -> None:
    a, b = worlds
    addressed = [
        r for r in program_routes(container) if "{" in r[1].removeprefix(P) and r not in CATALOGUE
    ]
    assert len(addressed) >= 24
    for route in addressed:
        foreign = SAMPLES[route](a, b)
        _not_found(request(client, b.admin, route, b, foreign), f"{route} with A's objects")
        own = SAMPLES[route](b, b)
        answer = request(client, b.admin, route, b, own)
        assert answer.status_code < 400, (route, "with B's own objects", answer.text)
    _nothing_written_in(client, a, by=b)


def _nothing_written_in(client: TestClient, a: World, *, by: World) -> None:
    """A's audit trail, which records every write, has nothing by B's key."""
    log = client.get(f"/v1/programs/{a.slug}/audit-log?limit=500", headers=a.auth).json()
    assert log["items"], "A's trail is not empty (or this check could not fail)"
    assert all(r["actor"]["id"] != by.admin_id for r in log["items"])


def test_list_filters_never_return_another_programs_objects(
    client: TestClient, worlds: tuple[World, World]
) -> None:
    a, b = worlds

    def items(path: str, **query: str) -> list[dict[str, Any]]:
        answer = client.get(f"/v1/programs/{b.slug}{path}", params=query, headers=b.auth)
        assert answer.status_code == 200, (path, query, answer.text)
        found: list[dict[str, Any]] = answer.json()["items"]
        return found

    for name, value in (
        ("email", a.email),
        ("phone", a.phone),
        ("external_id", a.external_id),
        ("card_number", a.card),
        ("referral_code", a.referral_code),
    ):
        assert items("/members", **{name: value}) == [], name
        own = getattr(b, {"card_number": "card"}.get(name, name))
        assert [m["id"] for m in items("/members", **{name: own})] == [b.member], name
    everyone = items("/members", limit="500")
    assert a.member not in {m["id"] for m in everyone}
    assert b.member in {m["id"] for m in everyone}
    assert a.member not in {m["id"] for m in items("/members", tier="vib")}

    # The catalogue for A's member is A's member not found, not A's rewards.
    answer = client.get(
        f"/v1/programs/{b.slug}/rewards", params={"member": a.member}, headers=b.auth
    )
    assert answer.status_code == 404
    assert {r["code"] for r in items("/rewards")} >= {b.reward}
    assert a.reward not in {r["code"] for r in items("/rewards")}

    # Segments are computed over B's members only, even with the same filter as A's.
    members_of = {m["id"] for m in items(f"/segments/{b.segment}/members", limit="500")}
    assert b.member in members_of
    assert a.member not in members_of

    # API keys: B's list holds B's keys only.
    keys = {k["id"] for k in items("/api-keys", limit="500")}
    assert b.api_key in keys
    assert a.api_key not in keys
    assert a.admin_id not in keys

    # Webhook endpoints and deliveries.
    assert {e["id"] for e in items("/webhooks")} == {b.webhook}
    deliveries = items(f"/webhooks/{b.webhook}/deliveries", limit="500")
    assert deliveries
    assert all(d["id"] != a.delivery for d in deliveries)
    assert all(a.member not in json.dumps(d) for d in deliveries)

    # The audit trail, filtered by A's objects.
    for kind, value in (("member", a.member), ("reward", a.reward), ("webhook", a.webhook)):
        assert items("/audit-log", target_type=kind, target_id=value) == [], kind
    assert items("/audit-log", target_type="member", target_id=b.member)

    # Activity, referrals, the whole audit trail.
    for path in (f"/members/{b.member}/activity", f"/members/{b.member}/referrals", "/audit-log"):
        text = json.dumps(items(path, limit="500"))
        for value in a.objects.values():
            assert value not in text, (path, value)


def _exports(container: Container, program_id: str) -> str:
    out = []
    with container.engine.connect() as conn:
        for reader in (exports.members, exports.purchases, exports.ledger):
            handle = io.StringIO()
            transfer.write_export(reader(conn, program_id), "jsonl", handle)
            out.append(handle.getvalue())
    return "\n".join(out)


def test_exports_and_analytics_of_a_program_hold_nothing_of_another(
    client: TestClient, container: Container, platform: str
) -> None:
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)
    b = build_world(client, container, platform, "bravo", "b")
    summary_url = f"/v1/programs/{b.slug}/analytics/summary"
    window = {"from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"}
    before = client.get(summary_url, params=window, headers=b.auth).json()
    exported = _exports(container, b.id)
    assert before["members"]
    assert b.member in exported

    a = build_world(client, container, platform, "alpha", "a")
    assert client.get(summary_url, params=window, headers=b.auth).json() == before
    assert _exports(container, b.id) == exported
    for value in a.objects.values():
        assert value not in exported
    export_route = ("GET", P + "/members/{member}/export")
    if export_route in routes(container):  # everything held about one member, nothing of A
        answer = request(client, b.admin, export_route, b, SAMPLES[export_route](b, b))
        assert answer.status_code == 200, answer.text
        for value in a.objects.values():
            assert value not in answer.text


def test_bodies_naming_another_programs_objects_find_nothing(
    client: TestClient, worlds: tuple[World, World]
) -> None:
    """Object references in bodies resolve in the request's program only: A's member, reward,
    segment or referral code named in a request to B is not found there, and nothing moves."""
    a, b = worlds
    member_url = f"/v1/programs/{a.slug}/members/{a.member}"
    before = client.get(member_url, headers=a.auth).json()
    activity = client.get(member_url + "/activity", headers=a.auth).json()
    refs = [
        {"id": a.member},
        {"email": a.email},
        {"phone": a.phone},
        {"card_number": a.card},
        {"external_id": a.external_id},
    ]
    claimable = b.fresh_purchase(anonymous=True)
    cases: list[tuple[str, dict[str, Any], set[int]]] = [
        *[("/purchases", {**purchase_body(b), "member": ref}, {404}) for ref in refs],
        *[("/purchases/preview", {**purchase_body(b), "member": ref}, {404}) for ref in refs],
        *[
            ("/events", {"external_id": fresh("E"), "member": ref, "type": "review_posted"}, {404})
            for ref in [a.member, *refs]
        ],
        (f"/purchases/{claimable}/claim", {"member": a.member}, {404}),
        (f"/members/{b.member}/redemptions", {"reward": a.reward}, {404}),
        (
            "/grants",
            {
                "external_id": fresh("G"),
                "wallet": "points",
                "amount": 5,
                "reason": "x",
                "members": [a.member],
            },
            {404},
        ),
        ("/grants", {**grant_to_segment(a.segment)}, {404}),
        (
            "/members",
            {"email": fresh("r") + "@example.com", "referred_by": a.referral_code},
            {422},
        ),
        (
            "/campaigns",
            {**campaign_body(fresh("c")), "audience": {"segments": [a.segment]}},
            {422},
        ),
    ]
    for path, body, statuses in cases:
        answer = client.post(f"/v1/programs/{b.slug}{path}", json=body, headers=b.auth)
        assert answer.status_code in statuses, (path, body, answer.text)
    assert client.get(member_url, headers=a.auth).json() == before
    assert client.get(member_url + "/activity", headers=a.auth).json() == activity
    _nothing_written_in(client, a, by=b)


def grant_to_segment(segment: str) -> dict[str, Any]:
    return {
        "external_id": fresh("G"),
        "wallet": "points",
        "amount": 5,
        "reason": "x",
        "segment": segment,
    }
