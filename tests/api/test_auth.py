"""Authentication, tenancy and roles: 401, 404 across programs, 403 for roles."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.factories import auth, create_program, enrol, program_key


def test_missing_or_bad_keys_are_401(client: TestClient, shop: dict[str, str]) -> None:
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Bearer pat_aaaaaaaaaaaa_" + "b" * 52},
        auth(shop["admin"][:-1] + ("a" if shop["admin"][-1] != "a" else "b")),
    ):
        response = client.get("/v1/programs/shop", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"


def test_keys_are_stored_only_as_digests(container: Container, shop: dict[str, str]) -> None:
    import sqlalchemy as sa

    with container.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT prefix, key_digest FROM api_keys")).all()
    stored = " ".join(f"{prefix} {digest}" for prefix, digest in rows)
    for role in ("admin", "pos", "partner", "read"):
        secret = shop[role]
        assert secret not in stored
        assert secret.rsplit("_", 1)[0] in stored  # the visible prefix


def test_another_programs_key_sees_nothing(
    client: TestClient, platform: str, shop: dict[str, str]
) -> None:
    member = enrol(client, shop["admin"], program="shop", email="a@example.com")
    create_program(client, platform, slug="rival")
    rival = program_key(client, platform, program="rival", role="admin")
    for method, url, body in (
        ("GET", "/v1/programs/shop", None),
        ("GET", f"/v1/programs/{shop['id']}", None),
        ("GET", "/v1/programs/shop/config", None),
        ("PUT", "/v1/programs/shop/config", {"wallets": {"points": {}}}),
        ("POST", "/v1/programs/shop/config/validate", {"wallets": {"points": {}}}),
        ("POST", "/v1/programs/shop/api-keys", {"name": "x", "role": "admin"}),
        ("GET", "/v1/programs/shop/members", None),
        ("GET", f"/v1/programs/shop/members/{member['id']}", None),
        ("PATCH", f"/v1/programs/shop/members/{member['id']}", {"first_name": "Eve"}),
        ("POST", "/v1/programs/shop/members", {"email": "b@example.com"}),
        ("GET", "/v1/programs/shop/audit-log", None),
        ("GET", f"/v1/programs/rival/members/{member['id']}", None),
    ):
        response = client.request(method, url, json=body, headers=auth(rival))
        assert response.status_code == 404, (method, url, response.text)
    unknown = client.get("/v1/programs/nope", headers=auth(rival))
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == client.get("/v1/programs/shop", headers=auth(rival)).json()[
        "detail"
    ].replace("shop", "nope")


ROLE_CASES = [
    # (method, path, body, roles allowed)
    ("GET", "/v1/programs/shop", None, {"admin", "pos", "partner", "read"}),
    ("GET", "/v1/programs/shop/config", None, {"admin", "pos", "read"}),
    ("PUT", "/v1/programs/shop/config", {"wallets": {"points": {}}}, {"admin"}),
    ("POST", "/v1/programs/shop/api-keys", {"name": "k", "role": "read"}, {"admin"}),
    ("POST", "/v1/programs/shop/members", {}, {"admin", "pos"}),
    ("GET", "/v1/programs/shop/members", None, {"admin", "read"}),
    (
        "GET",
        "/v1/programs/shop/members?email=a@example.com",
        None,
        {"admin", "pos", "partner", "read"},
    ),
    ("GET", "/v1/programs/shop/audit-log", None, {"admin"}),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROLE_CASES)
def test_role_matrix(
    client: TestClient,
    shop: dict[str, str],
    method: str,
    path: str,
    body: dict[str, object] | None,
    allowed: set[str],
) -> None:
    for role in ("admin", "pos", "partner", "read"):
        response = client.request(method, path, json=body, headers=auth(shop[role]))
        if role in allowed:
            assert response.status_code < 400, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["code"] == "forbidden"


def test_program_keys_cannot_create_programs(client: TestClient, shop: dict[str, str]) -> None:
    response = client.post(
        "/v1/programs",
        json={"slug": "x", "name": "X", "currency": "EUR", "timezone": "UTC"},
        headers=auth(shop["admin"]),
    )
    assert response.status_code == 403


def test_api_key_roles_are_validated(client: TestClient, shop: dict[str, str]) -> None:
    for role in ("platform", "owner", ""):
        response = client.post(
            "/v1/programs/shop/api-keys",
            json={"name": "k", "role": role},
            headers=auth(shop["admin"]),
        )
        assert response.status_code == 422, role


def test_a_new_key_works_and_is_shown_once(client: TestClient, shop: dict[str, str]) -> None:
    created = client.post(
        "/v1/programs/shop/api-keys",
        json={"name": "till 4", "role": "pos"},
        headers=auth(shop["admin"]),
    )
    body = created.json()
    assert body["role"] == "pos"
    assert body["key"].startswith(body["prefix"] + "_")
    assert client.get("/v1/programs/shop", headers=auth(body["key"])).status_code == 200
    log = client.get(
        "/v1/programs/shop/audit-log",
        params={"action": "api_key.created"},
        headers=auth(shop["admin"]),
    ).json()["items"]
    assert body["key"] not in str(log)
    assert log[0]["after"] == {"name": "till 4", "role": "pos", "prefix": body["prefix"]}
