"""Idempotency-Key on POST: replay, conflict, and failures that leave the key free."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import auth


def test_same_key_same_body_replays_the_original(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    headers = {**auth(shop["pos"]), "Idempotency-Key": "enrol-1"}
    first = client.post(
        "/v1/programs/shop/members", json={"email": "a@example.com"}, headers=headers
    )
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    after_first = table_counts(container)
    again = client.post(
        "/v1/programs/shop/members", json={"email": "a@example.com"}, headers=headers
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert table_counts(container) == after_first


def test_same_key_different_body_is_a_conflict(
    client: TestClient, shop: dict[str, str], container: Container
) -> None:
    headers = {**auth(shop["pos"]), "Idempotency-Key": "enrol-1"}
    client.post("/v1/programs/shop/members", json={"email": "a@example.com"}, headers=headers)
    before = table_counts(container)
    other = client.post(
        "/v1/programs/shop/members", json={"email": "b@example.com"}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert table_counts(container) == before


def test_keys_belong_to_their_api_key(client: TestClient, shop: dict[str, str]) -> None:
    body = {"external_id": "X-1"}
    first = client.post(
        "/v1/programs/shop/members",
        json=body,
        headers={**auth(shop["pos"]), "Idempotency-Key": "k"},
    )
    assert first.status_code == 201
    # The same key string from another credential is another request: here a taken identifier.
    second = client.post(
        "/v1/programs/shop/members",
        json=body,
        headers={**auth(shop["admin"]), "Idempotency-Key": "k"},
    )
    assert second.status_code == 409
    assert second.json()["code"] == "identifier_taken"


def test_a_failed_request_does_not_burn_its_key(client: TestClient, shop: dict[str, str]) -> None:
    headers = {**auth(shop["pos"]), "Idempotency-Key": "retry-me"}
    client.post(
        "/v1/programs/shop/members", json={"email": "taken@example.com"}, headers=auth(shop["pos"])
    )
    failed = client.post(
        "/v1/programs/shop/members",
        json={"email": "taken@example.com", "first_name": "B"},
        headers=headers,
    )
    assert failed.status_code == 409
    fixed = client.post(
        "/v1/programs/shop/members",
        json={"email": "taken@example.com", "first_name": "B"},
        headers=headers,
    )
    assert fixed.status_code == 409  # still taken: the request was evaluated again, not replayed
    assert "idempotent-replayed" not in fixed.headers


def test_put_and_patch_accept_keys_too(client: TestClient, shop: dict[str, str]) -> None:
    headers = {**auth(shop["admin"]), "Idempotency-Key": "cfg-1"}
    doc = {"wallets": {"points": {}}}
    first = client.put("/v1/programs/shop/config", json=doc, headers=headers)
    second = client.put("/v1/programs/shop/config", json=doc, headers=headers)
    assert first.json()["version"] == second.json()["version"] == 2
    assert second.headers["idempotent-replayed"] == "true"


def test_bad_idempotency_keys_are_refused(client: TestClient, shop: dict[str, str]) -> None:
    response = client.post(
        "/v1/programs/shop/members",
        json={},
        headers={**auth(shop["pos"]), "Idempotency-Key": "x" * 300},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"
