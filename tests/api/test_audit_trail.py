"""The audit trail: every write of every feature, with its actor, action, target, before and
after; filterable by target, action and time; replays add nothing; CLI imports and scheduled
jobs record what they did (one record per batch or per run, not per row)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from patron.cli import transfer
from patron.services import jobs
from tests.api.route_samples import (
    NOT_WRITES,
    SAMPLES,
    P,
    World,
    build_world,
    purchase_body,
    request,
    reward_body,
    routes,
)
from tests.factories import MutableClock, auth

TARGETS: dict[tuple[str, str], tuple[str, str]] = {
    ("POST", "/v1/programs"): ("program", "response:id"),
    ("PUT", P + "/config"): ("program", "program"),
    ("POST", P + "/api-keys"): ("api_key", "response:id"),
    ("DELETE", P + "/api-keys/{key_id}"): ("api_key", "path:key_id"),
    ("POST", P + "/members"): ("member", "response:id"),
    ("PATCH", P + "/members/{member}"): ("member", "path:member"),
    ("POST", P + "/members/{member}/adjustments"): ("member", "path:member"),
    ("POST", P + "/members/{member}/transfers"): ("member", "path:member"),
    ("POST", P + "/members/{member}/tier"): ("member", "path:member"),
    ("POST", P + "/members/{member}/erase"): ("member", "path:member"),
    ("POST", P + "/members/{member}/portal-link"): ("member", "path:member"),
    ("POST", P + "/members/{member}/redemptions"): ("member", "path:member"),
    ("POST", P + "/purchases"): ("purchase", "response:external_id"),
    ("POST", P + "/purchases/{external_id}/refunds"): ("purchase", "path:external_id"),
    ("POST", P + "/purchases/{external_id}/claim"): ("purchase", "path:external_id"),
    ("POST", P + "/events"): ("event", "response:external_id"),
    ("POST", P + "/rewards"): ("reward", "response:code"),
    ("PATCH", P + "/rewards/{code}"): ("reward", "path:code"),
    ("POST", P + "/redemptions/{redemption_id}/cancel"): ("redemption", "path:redemption_id"),
    ("POST", P + "/vouchers/{code}/use"): ("voucher", "path:code"),
    ("POST", P + "/segments"): ("segment", "response:code"),
    ("POST", P + "/grants"): ("grant", "response:external_id"),
    ("POST", P + "/campaigns"): ("campaign", "response:code"),
    ("PATCH", P + "/campaigns/{code}"): ("campaign", "path:code"),
    ("POST", P + "/webhooks"): ("webhook", "response:id"),
    ("PATCH", P + "/webhooks/{endpoint}"): ("webhook", "path:endpoint"),
    ("POST", P + "/webhooks/{endpoint}/rotate-secret"): ("webhook", "path:endpoint"),
    ("POST", P + "/webhooks/{endpoint}/deliveries/{delivery}/retry"): (
        "delivery",
        "path:delivery",
    ),
    ("PUT", P + "/message-templates/{event}/{channel}"): ("message_template", "template"),
    ("POST", P + "/message-templates/{event}/{channel}/test"): ("message_template", "template"),
    ("POST", P + "/members/{member}/messages/{message}/resend"): ("member", "path:member"),
    ("PUT", P + "/wallet"): ("program", "program"),
}
"""What each write targets: an object of its path, the object it created, or the program."""


def write_routes(container: Container) -> list[tuple[str, str]]:
    return [
        r
        for r in routes(container)
        if r[0] in ("POST", "PUT", "PATCH", "DELETE") and r not in NOT_WRITES
    ]


@pytest.fixture
def world(client: TestClient, container: Container, platform: str) -> World:
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)
    return build_world(client, container, platform, "shop", "s")


def trail(client: TestClient, key: str, program: str, **query: str) -> list[dict[str, Any]]:
    answer = client.get(
        f"/v1/programs/{program}/audit-log", params={"limit": "500", **query}, headers=auth(key)
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_every_write_route_has_a_target(container: Container) -> None:
    missing = [r for r in write_routes(container) if r not in TARGETS]
    assert not missing, f"add the audit target of {missing} to TARGETS"


def test_every_successful_write_is_recorded_once_with_its_actor_and_target(
    client: TestClient, container: Container, world: World, platform: str, clock: MutableClock
) -> None:
    writer = client.post(
        "/v1/programs/shop/api-keys", json={"name": "writer", "role": "admin"}, headers=world.auth
    ).json()
    for route in write_routes(container):
        call = SAMPLES[route](world, world)
        clock.advance(seconds=1)
        since = clock.now().isoformat()
        root = route == ("POST", "/v1/programs")
        key = platform if root else writer["key"]
        answer = request(client, key, route, world, call)
        assert answer.status_code < 300, (route, answer.text)
        kind, source = TARGETS[route]
        if source == "program":
            target = world.id
        elif source == "template":
            target = f"{call.path['event']}/{call.path['channel']}"
        elif source.startswith("path:"):
            target = call.path[source.removeprefix("path:")]
        else:
            target = str(answer.json()[source.removeprefix("response:")])
        program = target if root else "shop"
        records = trail(client, platform, program, since=since)
        mine = records if root else [r for r in records if r["actor"]["id"] == writer["id"]]
        assert mine, (route, "no audit record")
        assert all(r["target"] == {"type": kind, "id": target} for r in mine), (route, mine)
        assert len({r["action"] for r in mine}) == len(mine), (route, "recorded twice", mine)
        assert all(r["after"] is not None for r in mine), route
        if not root:
            assert {r["actor"]["kind"] for r in mine} == {"api_key"}
        assert "whsec_" not in str(mine)  # no signing secret in the trail
        assert writer["key"] not in str(mine)


def test_updates_record_what_changed(client: TestClient, world: World) -> None:
    url = f"/v1/programs/shop/rewards/{world.reward}"
    client.patch(url, json={"name": "Big gift", "stock": 5}, headers=world.auth)
    (record,) = trail(client, world.admin, "shop", action="reward.updated")
    assert record["before"] == {"name": "Gift", "stock": None}
    assert record["after"] == {"name": "Big gift", "stock": 5}
    client.patch(
        f"/v1/programs/shop/campaigns/{world.campaign}",
        json={"status": "cancelled"},
        headers=world.auth,
    )
    (record,) = trail(client, world.admin, "shop", action="campaign.updated")
    assert record["before"] == {"status": "active"}
    assert record["after"] == {"status": "cancelled"}
    adjusted = trail(client, world.admin, "shop", action="member.adjusted")
    assert adjusted[0]["target"] == {"type": "member", "id": world.member}
    assert adjusted[0]["after"]["amount"] == 5000
    assert adjusted[0]["after"]["reason"] == "opening"


def test_replays_add_no_record(client: TestClient, world: World) -> None:
    def count() -> int:
        return len(trail(client, world.admin, "shop"))

    once = client.post(
        "/v1/programs/shop/members",
        json={"email": "idem@example.com"},
        headers={**world.auth, "Idempotency-Key": "k-1"},
    )
    assert once.status_code == 201
    before = count()
    again = client.post(
        "/v1/programs/shop/members",
        json={"email": "idem@example.com"},
        headers={**world.auth, "Idempotency-Key": "k-1"},
    )
    assert again.headers["idempotent-replayed"] == "true"
    assert count() == before

    body = purchase_body(world, "R-replay")
    assert (
        client.post("/v1/programs/shop/purchases", json=body, headers=world.auth).status_code == 201
    )
    event = {"external_id": "E-replay", "member": world.member, "type": "review_posted"}
    assert (
        client.post("/v1/programs/shop/events", json=event, headers=world.auth).status_code == 201
    )
    refund = {"external_id": "R-replay-1"}
    url = "/v1/programs/shop/purchases/R-replay/refunds"
    assert client.post(url, json=refund, headers=world.auth).status_code == 201
    grant = {"external_id": world.grant, "wallet": "points", "amount": 5, "reason": "sorry"}
    grant["members"] = [world.member]  # type: ignore[assignment]
    before = count()
    assert (
        client.post("/v1/programs/shop/purchases", json=body, headers=world.auth).status_code == 200
    )
    assert (
        client.post("/v1/programs/shop/events", json=event, headers=world.auth).status_code == 200
    )
    assert client.post(url, json=refund, headers=world.auth).status_code == 200
    assert (
        client.post("/v1/programs/shop/grants", json=grant, headers=world.auth).status_code == 200
    )
    assert count() == before


def test_the_trail_filters_by_target_action_and_time(
    client: TestClient, world: World, clock: MutableClock
) -> None:
    start = clock.now()
    clock.advance(hours=1)
    middle = clock.now()
    url = f"/v1/programs/shop/members/{world.member}"
    client.patch(url, json={"first_name": "Ada"}, headers=world.auth)
    clock.advance(hours=1)
    end = clock.now()
    client.patch(url, json={"first_name": "Eve"}, headers=world.auth)

    of_member = trail(client, world.admin, "shop", target_type="member", target_id=world.member)
    assert {r["action"] for r in of_member} >= {
        "member.enrolled",
        "member.updated",
        "member.adjusted",
        "member.redeemed",
        "member.tier_granted",
    }
    assert all(r["target"]["id"] == world.member for r in of_member)
    updates = trail(client, world.admin, "shop", target_id=world.member, action="member.updated")
    assert [r["after"]["first_name"] for r in updates] == ["Eve", "Ada"]  # newest first
    window = trail(client, world.admin, "shop", since=middle.isoformat(), until=end.isoformat())
    assert [r["after"].get("first_name") for r in window] == ["Ada"]  # `until` is exclusive
    early = trail(client, world.admin, "shop", until=middle.isoformat())
    assert early
    assert all(r["at"] <= start.isoformat().replace("+00:00", "Z") for r in early)
    assert trail(client, world.admin, "shop", since=(end + timedelta(seconds=1)).isoformat()) == []
    assert trail(client, world.admin, "shop", target_type="reward", target_id=world.member) == []


def test_scheduled_jobs_record_one_run_per_program_with_counts(
    client: TestClient, container: Container, world: World, clock: MutableClock
) -> None:
    client.post(
        "/v1/programs/shop/rewards",
        json={**reward_body("short"), "voucher_valid_days": 1},
        headers=world.auth,
    )
    for _ in range(3):
        client.post(
            f"/v1/programs/shop/members/{world.member}/redemptions",
            json={"reward": "short"},
            headers=world.auth,
        )
    clock.advance(days=2)
    jobs.run_due(container.uow, clock.now(), program="shop")
    (run,) = trail(client, world.admin, "shop", action="jobs.ran")
    assert run["actor"]["kind"] == "system"
    assert run["target"] == {"type": "program", "id": world.id}
    assert run["after"]["vouchers"] == 3
    assert run["at"] == clock.now().isoformat().replace("+00:00", "Z")
    jobs.run_due(container.uow, clock.now(), program="shop")  # nothing left to do
    assert len(trail(client, world.admin, "shop", action="jobs.ran")) == 1
    clock.advance(days=1)
    jobs.run_due(container.uow, clock.now())  # a day later, every program: still nothing
    assert len(trail(client, world.admin, "shop", action="jobs.ran")) == 1


def test_an_import_records_each_committed_batch(
    client: TestClient, container: Container, world: World
) -> None:
    lines = [f'{{"external_id": "IMP-{n}", "email": "imp{n}@example.com"}}\n' for n in range(5)]
    lines.append('{"external_id": "IMP-bad", "email": "not an email"}\n')

    def run() -> transfer.Outcome:
        return transfer.run_import(
            container.uow, container.clock, "shop", "members", "jsonl", lines, batch=3
        )

    first = run()
    assert (first.imported, first.rejected) == (5, 1)
    batches = trail(client, world.admin, "shop", action="import.members")
    assert sum(r["after"]["imported"] for r in batches) == 5
    assert {r["actor"]["kind"] for r in batches} == {"cli"}
    assert all(r["target"] == {"type": "program", "id": world.id} for r in batches)
    enrolled = trail(client, world.admin, "shop", action="member.enrolled")
    assert len([r for r in enrolled if r["actor"]["kind"] == "cli"]) == 5
    again = run()  # everything is already there: nothing written, nothing recorded
    assert again.existing == 5
    assert len(trail(client, world.admin, "shop", action="import.members")) == len(batches)
