"""The role matrix, written from the intended policy, checked on every route of the OpenAPI
document; and no input sets what its role or route may not (balances, tier, status, program,
role).

The policy (FIELD.md, docs/api.md "Roles"): ``admin`` does everything in its program and
``platform`` everything anywhere; ``pos`` enrols and looks up members, posts purchases, refunds
and events, redeems and uses vouchers, and may not adjust, grant tiers, export personal data,
manage the catalogue, the configuration or webhooks, or read the audit trail or analytics;
``partner`` posts (refunds, claims) purchases and looks up; ``read`` reads and never writes (a
preview or a configuration check writes nothing).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from tests.api.route_samples import PUBLIC, SAMPLES, P, World, build_world, request, routes
from tests.factories import auth, program_key

ROLES = ("admin", "pos", "partner", "read", "platform")
EVERYONE = frozenset(ROLES)
ADMIN = frozenset({"admin", "platform"})
TILL = ADMIN | {"pos"}
SELLERS = TILL | {"partner"}
CONFIG_READERS = ADMIN | {"pos", "read"}

MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/v1/programs"): frozenset({"platform"}),
    ("GET", "/v1/programs"): frozenset({"platform"}),
    ("GET", P): EVERYONE,
    ("GET", P + "/config"): CONFIG_READERS,
    ("PUT", P + "/config"): ADMIN,
    ("POST", P + "/config/validate"): CONFIG_READERS,
    ("POST", P + "/api-keys"): ADMIN,
    ("GET", P + "/api-keys"): ADMIN,
    ("DELETE", P + "/api-keys/{key_id}"): ADMIN,
    ("POST", P + "/members"): TILL,
    ("GET", P + "/members"): EVERYONE,
    ("GET", P + "/members/{member}"): EVERYONE,
    ("PATCH", P + "/members/{member}"): TILL,  # profile fields; `status` is admin's alone
    ("GET", P + "/members/{member}/activity"): EVERYONE,
    ("POST", P + "/members/{member}/adjustments"): ADMIN,
    ("POST", P + "/members/{member}/transfers"): ADMIN,
    ("GET", P + "/members/{member}/tier"): EVERYONE,
    ("POST", P + "/members/{member}/tier"): ADMIN,
    ("GET", P + "/members/{member}/referrals"): EVERYONE,
    ("GET", P + "/members/{member}/export"): ADMIN,
    ("POST", P + "/members/{member}/erase"): ADMIN,
    ("POST", P + "/members/{member}/portal-link"): TILL,
    ("POST", P + "/members/{member}/redemptions"): TILL,
    ("POST", P + "/purchases"): SELLERS,
    ("POST", P + "/purchases/preview"): EVERYONE,
    ("GET", P + "/purchases/{external_id}"): EVERYONE,
    ("POST", P + "/purchases/{external_id}/refunds"): SELLERS,
    ("POST", P + "/purchases/{external_id}/claim"): SELLERS,
    ("POST", P + "/events"): TILL,
    ("POST", P + "/rewards"): ADMIN,
    ("GET", P + "/rewards"): EVERYONE,
    ("PATCH", P + "/rewards/{code}"): ADMIN,
    ("POST", P + "/redemptions/{redemption_id}/cancel"): TILL,
    ("GET", P + "/vouchers/{code}"): EVERYONE,
    ("POST", P + "/vouchers/{code}/use"): TILL,
    ("POST", P + "/segments"): ADMIN,
    ("GET", P + "/segments/{code}/members"): ADMIN | {"read"},
    ("POST", P + "/grants"): ADMIN,
    ("GET", P + "/grants/{external_id}"): EVERYONE,
    ("POST", P + "/campaigns"): ADMIN,
    ("PATCH", P + "/campaigns/{code}"): ADMIN,
    ("GET", P + "/campaigns/{code}"): EVERYONE,
    ("POST", P + "/webhooks"): ADMIN,
    ("GET", P + "/webhooks"): ADMIN,
    ("GET", P + "/webhooks/{endpoint}"): ADMIN,
    ("PATCH", P + "/webhooks/{endpoint}"): ADMIN,
    ("POST", P + "/webhooks/{endpoint}/rotate-secret"): ADMIN,
    ("GET", P + "/webhooks/{endpoint}/deliveries"): ADMIN,
    ("POST", P + "/webhooks/{endpoint}/deliveries/{delivery}/retry"): ADMIN,
    ("GET", P + "/analytics/summary"): ADMIN | {"read"},
    ("GET", P + "/analytics/series"): ADMIN | {"read"},
    ("GET", P + "/audit-log"): ADMIN,
    ("GET", P + "/message-templates"): ADMIN | {"read"},
    ("PUT", P + "/message-templates/{event}/{channel}"): ADMIN,
    ("POST", P + "/message-templates/{event}/{channel}/preview"): ADMIN | {"read"},
    ("POST", P + "/message-templates/{event}/{channel}/test"): ADMIN,
    ("GET", P + "/members/{member}/messages"): ADMIN | {"read"},
    ("POST", P + "/members/{member}/messages/{message}/resend"): ADMIN,
    ("GET", P + "/members/{member}/card.svg"): EVERYONE,
    ("GET", P + "/members/{member}/card.pkpass"): EVERYONE,
    ("GET", P + "/members/{member}/card/google"): EVERYONE,
    ("GET", P + "/wallet"): ADMIN,
    ("PUT", P + "/wallet"): ADMIN,
}

SMUGGLED: dict[str, Any] = {
    "balance": 1000,
    "balances": {"points": {"available": 1000}},
    "available": 1000,
    "lifetime_earned": 1000,
    "tier": "rouge",
    "tier_code": "rouge",
    "status": "active",
    "program_id": "01900000-0000-7000-8000-000000000000",
    "program": "other",
    "role": "admin",
    "member_id": "01900000-0000-7000-8000-000000000000",
    "id": "01900000-0000-7000-8000-000000000000",
    "granted": 1000,
    "created_at": "2026-01-01T00:00:00Z",
}
"""Fields a client might send to set what it may not."""


@pytest.fixture
def world(client: TestClient, container: Container, platform: str) -> World:
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=5)
    return build_world(client, container, platform, "shop", "s")


@pytest.fixture
def keys(client: TestClient, platform: str, world: World) -> dict[str, str]:
    made = {role: program_key(client, platform, program="shop", role=role) for role in ROLES[:4]}
    return {**made, "platform": platform}


def test_every_route_has_a_row(container: Container) -> None:
    missing = [r for r in routes(container) if r not in MATRIX and r not in PUBLIC]
    assert not missing, f"add the roles of {missing} to MATRIX"


def test_every_role_is_allowed_or_refused_as_the_policy_says(
    client: TestClient, container: Container, world: World, keys: dict[str, str]
) -> None:
    checked = 0
    for route in routes(container):
        if route in PUBLIC:
            continue
        for role in ROLES:
            answer = request(client, keys[role], route, world, SAMPLES[route](world, world))
            if role in MATRIX[route]:
                assert answer.status_code < 400, (route, role, answer.text)
            else:
                assert answer.status_code == 403, (route, role, answer.text)
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert answer.json()["code"] == "forbidden"
            checked += 1
    assert checked >= 5 * 40


def test_public_routes_need_no_key(client: TestClient) -> None:
    for method, path in PUBLIC:
        assert client.request(method, path).status_code == 200


def _body_schema(document: dict[str, Any], route: tuple[str, str]) -> dict[str, Any] | None:
    method, path = route
    content = document["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return _resolve(document, schema) if schema else None


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    for option in schema.get("anyOf", []):  # an optional body: the object, or null
        if "$ref" in option:
            schema = option
    if "$ref" in schema:
        found: dict[str, Any] = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
        return found
    return schema


FREE_FORM = {("PUT", P + "/config"), ("POST", P + "/config/validate")}
"""Bodies that are whole configuration documents: checked by the configuration's own parser,
which refuses unknown keys with their paths (see test_smuggled_fields_are_refused)."""


def test_every_request_body_forbids_unknown_fields(container: Container) -> None:
    from patron.api.app import create_app

    document = create_app(container).openapi()
    with_bodies = nested_objects = 0
    for route in routes(container):
        schema = _body_schema(document, route)
        if schema is None or route in FREE_FORM:
            continue
        with_bodies += 1
        assert schema.get("additionalProperties") is False, route
        for where, nested in _objects(document, schema, "body"):
            assert nested.get("additionalProperties") is False, (route, where)
            nested_objects += where != "body"
    assert with_bodies >= 20
    assert nested_objects >= 12  # members, lines, payments, costs, consents, audiences


def _objects(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
) -> list[tuple[str, dict[str, Any]]]:
    """Every object schema with declared properties inside ``schema`` (members, lines, payments,
    costs, consents, audiences...); free-form documents (attributes, filters, rules) have none."""
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        if name in seen:
            return []
        return _objects(document, document["components"]["schemas"][name], where, seen | {name})
    found: list[tuple[str, dict[str, Any]]] = []
    if "properties" in schema:
        found.append((where, schema))
        for name, prop in schema["properties"].items():
            found += _objects(document, prop, f"{where}.{name}", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _objects(document, option, where, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _objects(document, schema[key], f"{where}[]", seen)
    for pattern in schema.get("patternProperties", {}).values():
        found += _objects(document, pattern, f"{where}[]", seen)
    return found


def test_smuggled_fields_are_refused_with_their_name(
    client: TestClient, container: Container, world: World, platform: str
) -> None:
    """Every write whose body is an object refuses every field it does not declare, before
    anything runs: 422 ``validation_error`` naming the field."""
    from patron.api.app import create_app

    document = create_app(container).openapi()
    refused = 0
    for route in routes(container):
        if route not in SAMPLES or route in FREE_FORM:
            continue
        call = SAMPLES[route](world, world)
        if not isinstance(call.body, dict):
            continue
        schema = _body_schema(document, route) or {}
        declared = set(schema.get("properties", {}))
        for name, value in SMUGGLED.items():
            if name in declared:
                continue  # a field the route takes: its role check is tested below
            call.body = {**call.body, name: value}
            key = platform if route == ("POST", "/v1/programs") else world.admin
            answer = request(client, key, route, world, call)
            assert answer.status_code == 422, (route, name, answer.text)
            problem = answer.json()
            assert problem["code"] == "validation_error", (route, name)
            assert name in {e["path"] for e in problem["errors"]}, (route, name, problem)
            call.body = {k: v for k, v in call.body.items() if k != name}
            refused += 1
    assert refused >= 20 * len(SMUGGLED) // 2


def test_only_an_admin_changes_a_members_status(
    client: TestClient, world: World, keys: dict[str, str]
) -> None:
    url = f"/v1/programs/shop/members/{world.member}"
    for role in ("pos",):
        for status in ("frozen", "closed", "active"):
            answer = client.patch(url, json={"status": status}, headers=auth(keys[role]))
            assert answer.status_code == 403, (role, status)
            assert answer.json()["code"] == "forbidden"
        mixed = client.patch(
            url, json={"first_name": "Eve", "status": "frozen"}, headers=auth(keys[role])
        )
        assert mixed.status_code == 403  # the whole request, not just the status
    for role in ("partner", "read"):
        assert (
            client.patch(url, json={"first_name": "Eve"}, headers=auth(keys[role])).status_code
            == 403
        )
    member = client.get(url, headers=world.auth).json()
    assert member["status"] == "active"
    assert member["first_name"] == "S"
    erased = client.patch(url, json={"status": "erased"}, headers=world.auth)
    assert erased.status_code == 422
    assert "status" in {e["path"] for e in erased.json()["errors"]}
    frozen = client.patch(url, json={"status": "frozen"}, headers=auth(keys["admin"]))
    assert frozen.status_code == 200
    assert frozen.json()["status"] == "frozen"


def test_a_key_cannot_be_given_a_role_above_its_program(client: TestClient, world: World) -> None:
    for role in ("platform", "owner", "superuser"):
        answer = client.post(
            "/v1/programs/shop/api-keys", json={"name": "k", "role": role}, headers=world.auth
        )
        assert answer.status_code == 422
        assert "role" in {e["path"] for e in answer.json()["errors"]}


def test_a_configuration_cannot_smuggle_fields(client: TestClient, world: World) -> None:
    from tests.support_example import EXAMPLE_CONFIG

    for name, value in SMUGGLED.items():
        for body in (
            {**EXAMPLE_CONFIG, name: value},
            {
                **EXAMPLE_CONFIG,
                "wallets": {"points": {**EXAMPLE_CONFIG["wallets"]["points"], name: value}},
            },
        ):
            answer = client.put("/v1/programs/shop/config", json=body, headers=world.auth)
            assert answer.status_code == 422, (name, answer.text)
            assert any(name in e["path"] for e in answer.json()["errors"]), (name, answer.json())
    assert client.get("/v1/programs/shop/config", headers=world.auth).json()["version"] == 2


@pytest.mark.parametrize("role", ["admin", "pos", "partner", "read"])
def test_only_admin_and_read_keys_page_through_every_member(
    client: TestClient, shop: dict[str, str], role: str
) -> None:
    """A till or a partner finds a customer by identifier; listing every profile is a bulk
    read of personal data (FIELD.md: a POS key cannot export personal data)."""
    created = client.post(
        "/v1/programs/shop/members", json={"email": "ada@example.com"}, headers=auth(shop["admin"])
    )
    assert created.status_code == 201, created.text
    segment = client.post(
        "/v1/programs/shop/segments",
        json={"code": "all", "name": "All", "filter": {}},
        headers=auth(shop["admin"]),
    )
    assert segment.status_code == 201, segment.text
    bulk = ["/v1/programs/shop/members", "/v1/programs/shop/members?tier=bronze"]
    bulk.append("/v1/programs/shop/segments/all/members")
    for url in bulk:
        answer = client.get(url, headers=auth(shop[role]))
        if role in ("admin", "read"):
            assert answer.status_code == 200, (url, answer.text)
        else:
            assert answer.status_code == 403, (url, answer.text)
            assert answer.json()["code"] == "forbidden"
    found = client.get("/v1/programs/shop/members?email=ada@example.com", headers=auth(shop[role]))
    assert found.status_code == 200, found.text
    assert [m["email"] for m in found.json()["items"]] == ["ada@example.com"]
