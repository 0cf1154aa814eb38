"""Every error is problem+json with a stable code; nothing produces a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.schemas import storable
from tests.conftest import table_counts
from tests.factories import auth


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


def test_unknown_route_and_method(client: TestClient, shop: dict[str, str]) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(
        client.delete("/v1/programs/shop", headers=auth(shop["admin"])), 405, "method_not_allowed"
    )


def test_malformed_json(client: TestClient, shop: dict[str, str]) -> None:
    response = client.post(
        "/v1/programs/shop/members",
        content=b'{"email": ',
        headers={**auth(shop["admin"]), "content-type": "application/json"},
    )
    assert_problem(response, 400, "malformed_json")


def test_wrong_types_and_unknown_fields(client: TestClient, shop: dict[str, str]) -> None:
    response = client.post(
        "/v1/programs/shop/members", json={"email": 5, "nickname": "x"}, headers=auth(shop["admin"])
    )
    body = assert_problem(response, 422, "validation_error")
    paths = {error["path"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert paths == {"email", "nickname"}


def test_body_that_is_not_an_object(client: TestClient, shop: dict[str, str]) -> None:
    for payload in ([1, 2], "text", 3):
        response = client.put("/v1/programs/shop/config", json=payload, headers=auth(shop["admin"]))
        assert_problem(response, 422, "validation_error")


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_document_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/programs/{program}/members" in spec["paths"]
    assert client.get("/docs").status_code == 200


TEXT, NUMBER = ("invalid_text", storable.REASON), ("invalid_number", storable.TOO_BIG)


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "refusal"),
    [
        ("post", "/members", b'{"attributes": {"city": "Os\\u0000lo"}}', "attributes.city", TEXT),
        ("post", "/members", b'{"first_name": "Ad\\udc00a"}', "first_name", TEXT),
        ("post", "/members", b'{"attributes": {"\\u0000": 1}}', "attributes", TEXT),
        ("post", "/purchases/P%00/refunds", b'{"external_id": "R-1"}', "external_id", TEXT),
        ("get", "/members?email=a%00b@example.com", None, "email", TEXT),
        (
            "post",
            "/members",
            b'{"attributes": {"n": 1180591620717411303424}}',
            "attributes.n",
            NUMBER,
        ),
        (
            "post",
            "/events",
            b'{"external_id": "E", "type": "t", "member": "m", '
            b'"attributes": {"n": [-9223372036854775809]}}',
            "attributes.n[0]",
            NUMBER,
        ),
    ],
)
def test_values_patron_cannot_store_are_refused_with_422(
    client: TestClient,
    shop: dict[str, str],
    container: Container,
    method: str,
    path: str,
    body: bytes | None,
    field: str,
    refusal: tuple[str, str],
) -> None:
    """Found by Schemathesis: NUL characters and unpaired surrogates reached PostgreSQL (a
    500 there, stored on SQLite), integers beyond 64 bits failed to serialise (a 500 on both).
    They are refused at the boundary on both backends."""
    before = table_counts(container)
    answer = client.request(
        method,
        f"/v1/programs/shop{path}",
        content=body,
        headers={**auth(shop["admin"]), "content-type": "application/json"},
    )
    problem = assert_problem(answer, 422, "validation_error")
    kind, message = refusal
    assert problem["errors"] == [{"path": field, "message": message, "type": kind}]
    assert table_counts(container) == before
