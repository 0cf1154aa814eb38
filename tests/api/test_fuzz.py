"""Arbitrary input never produces a 500: every answer is a success or a problem."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import auth
from tests.support_example import EXAMPLE_CONFIG

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
MEMBER_FIELDS = [
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "birth_date",
    "attributes",
    "consents",
    "referred_by",
    "enrolled_at",
    "status",
]
fuzz = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_answered(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@fuzz
@given(body=st.dictionaries(st.sampled_from(MEMBER_FIELDS), json_values, max_size=6))
def test_member_writes_never_fail_with_500(
    client: TestClient, shop: dict[str, str], body: dict[str, Any]
) -> None:
    created = client.post("/v1/programs/shop/members", json=body, headers=auth(shop["admin"]))
    assert_answered(created)
    member = client.post("/v1/programs/shop/members", json={}, headers=auth(shop["admin"])).json()
    patched = client.patch(
        f"/v1/programs/shop/members/{member['id']}", json=body, headers=auth(shop["admin"])
    )
    assert_answered(patched)


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(document, dict):
        return [p for k, v in document.items() for p in _paths(v, (*prefix, k))] + [prefix]
    if isinstance(document, list):
        return [p for i, v in enumerate(document) for p in _paths(v, (*prefix, i))] + [prefix]
    return [prefix]


CONFIG_PATHS = [p for p in _paths(EXAMPLE_CONFIG) if p]


@fuzz
@given(
    changes=st.lists(st.tuples(st.sampled_from(CONFIG_PATHS), json_values), min_size=1, max_size=3)
)
def test_config_writes_never_fail_with_500(
    client: TestClient, shop: dict[str, str], changes: list[tuple[tuple[Any, ...], Any]]
) -> None:
    document: Any = copy.deepcopy(EXAMPLE_CONFIG)
    for path, value in changes:
        target = document
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced a parent of this path
    put = client.put("/v1/programs/shop/config", json=document, headers=auth(shop["admin"]))
    assert_answered(put)
    check = client.post(
        "/v1/programs/shop/config/validate", json=document, headers=auth(shop["admin"])
    )
    if check.status_code == 422:  # a value no storage keeps (schemas/storable.py): refused for both
        assert {e["type"] for e in check.json()["errors"]} <= {"invalid_text", "invalid_number"}
        assert put.status_code == 422
        assert put.json()["errors"] == check.json()["errors"]
        return
    assert check.status_code == 200
    assert check.json()["valid"] is (put.status_code == 200)
