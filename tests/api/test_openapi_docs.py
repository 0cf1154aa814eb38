"""The OpenAPI document reads well: summaries, API.md's examples (valid, and accepted by the API),
and money limits in keywords every JSON Schema tool understands (and enforced)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from patron.api import openapi_docs as docs
from patron.api.app import create_app
from patron.bootstrap import Container
from tests.factories import auth, enrol, platform_key

P = "/v1/programs/{program}"

# Every request body API.md shows an example of.
WITH_EXAMPLES = [
    "POST /v1/programs",
    f"PUT {P}/config",
    f"POST {P}/config/validate",
    f"POST {P}/api-keys",
    f"POST {P}/members",
    f"PATCH {P}/members/{{member}}",
    f"POST {P}/members/{{member}}/adjustments",
    f"POST {P}/purchases",
    f"POST {P}/purchases/preview",
    f"POST {P}/purchases/{{external_id}}/refunds",
    f"POST {P}/purchases/{{external_id}}/claim",
    f"POST {P}/events",
    f"POST {P}/members/{{member}}/tier",
    f"POST {P}/rewards",
    f"POST {P}/members/{{member}}/redemptions",
    f"POST {P}/vouchers/{{code}}/use",
    f"POST {P}/segments",
    f"POST {P}/campaigns",
    f"PATCH {P}/campaigns/{{code}}",
    f"POST {P}/grants",
    f"POST {P}/webhooks",
]


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


@pytest.fixture
def document(container: Container) -> dict[str, Any]:
    doc: dict[str, Any] = create_app(container).openapi()
    return doc


def test_every_operation_has_a_summary_of_several_words(document: dict[str, Any]) -> None:
    for key, operation in operations(document):
        summary = operation.get("summary", "")
        generated = operation["operationId"].split("_v1_")[0].split("_healthz")[0]
        assert len(summary.split()) >= 3, (key, summary)
        assert summary.lower() != generated.replace("_", " "), (key, summary)


def test_summaries_are_distinct(document: dict[str, Any]) -> None:
    summaries = [op["summary"] for _, op in operations(document)]
    assert len(summaries) == len(set(summaries))


def test_request_bodies_carry_the_examples_of_api_md(document: dict[str, Any]) -> None:
    ops = dict(operations(document))
    for key in WITH_EXAMPLES:
        content = ops[key]["requestBody"]["content"]["application/json"]
        assert content.get("examples"), key
    assert (
        ops["POST /v1/programs/{program}/purchases"]["requestBody"]["content"]["application/json"][
            "examples"
        ]["example"]["value"]["lines"][0]["sku"]
        == "LIP-01"
    )


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for key, operation in operations(document):
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not content or "examples" not in content:
            continue
        root = {"components": document["components"], "allOf": [content["schema"]]}
        validator = jsonschema_rs.Draft202012Validator(root)
        for name, example in content["examples"].items():
            errors = [e.message for e in validator.iter_errors(example["value"])]
            assert errors == [], (key, name, errors)
            checked += 1
    assert checked >= len(WITH_EXAMPLES)


def _example(document: dict[str, Any], key: str, name: str = "example") -> Any:
    ops = dict(operations(document))
    return ops[key]["requestBody"]["content"]["application/json"]["examples"][name]["value"]


def test_the_examples_work_against_the_api(
    client: TestClient, container: Container, document: dict[str, Any]
) -> None:
    platform = platform_key(container)
    made = client.post(
        "/v1/programs", json=_example(document, "POST /v1/programs"), headers=auth(platform)
    )
    assert made.status_code == 201, made.text
    program = "/v1/programs/beauty"
    admin = auth(platform)

    def post(key: str, name: str = "example", status: int = 201, **path: str) -> Any:
        url = key.split(" ", 1)[1].replace("{program}", "beauty").format(**path)
        method = key.split(" ", 1)[0]
        answer = client.request(method, url, json=_example(document, key, name), headers=admin)
        assert answer.status_code == status, (key, name, answer.text)
        return answer.json()

    assert post(f"POST {P}/config/validate", status=200)["valid"] is True
    post(f"PUT {P}/config", status=200)
    post(f"POST {P}/api-keys")
    member = post(f"POST {P}/members")
    for name in ("profile", "consent", "freeze"):
        post(f"PATCH {P}/members/{{member}}", name, status=200, member=member["id"])
    client.patch(f"{program}/members/{member['id']}", json={"status": "active"}, headers=admin)
    post(f"POST {P}/members/{{member}}/adjustments", "points", member=member["id"])
    post(f"POST {P}/purchases/preview", status=200)
    post(f"POST {P}/purchases")
    post(f"POST {P}/purchases/{{external_id}}/refunds", "lines", external_id="R-1001")
    post(f"POST {P}/events")
    post(f"POST {P}/members/{{member}}/tier", "override", status=200, member=member["id"])
    post(f"POST {P}/rewards")
    post(f"POST {P}/segments")
    post(f"POST {P}/campaigns")
    post(f"PATCH {P}/campaigns/{{code}}", status=200, code="spring-double")
    post(f"POST {P}/grants", "segment")


def _nonstandard_bounds(node: Any, where: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        if "anyOf" in node or "type" in node:
            for word in ("ge", "gt", "le", "lt"):
                if word in node:
                    yield f"{where}.{word}"
        for key, value in node.items():
            yield from _nonstandard_bounds(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nonstandard_bounds(value, f"{where}[{index}]")


def test_money_limits_are_in_standard_keywords(document: dict[str, Any]) -> None:
    assert list(_nonstandard_bounds(document)) == []
    schemas = document["components"]["schemas"]
    price = schemas["LineIn"]["properties"]["unit_price"]
    number = next(b for b in price["anyOf"] if b["type"] == "number")
    text = next(b for b in price["anyOf"] if b["type"] == "string")
    assert (number["minimum"], number["exclusiveMaximum"]) == (0, 10**12)
    pattern = re.compile(text["pattern"])
    assert all(pattern.match(v) for v in ("19.99", "0", "999999999999.99"))
    assert not any(pattern.match(v) for v in ("1000000000000", "-1", "1e5", "NaN", "1,5"))
    adjustment = schemas["AdjustmentIn"]["properties"]["amount"]
    integer = next(b for b in adjustment["anyOf"] if b["type"] == "integer")
    assert (integer["minimum"], integer["maximum"]) == (-(10**15), 10**15)
    assert docs.MAX_MONEY == 10**12


@pytest.mark.parametrize(
    ("line", "status", "path"),
    [
        ({"quantity": 1, "unit_price": "999999999999.99"}, 200, None),
        ({"quantity": 1, "unit_price": "1000000000000"}, 422, "lines[0].unit_price"),
        ({"quantity": 1, "unit_price": 1e300}, 422, "lines[0].unit_price"),
        ({"quantity": 1, "unit_price": "1e5"}, 422, "lines[0].unit_price"),
        ({"quantity": 2, "unit_price": "999999999999.00"}, 422, "lines"),
    ],
)
def test_money_beyond_the_limit_is_refused_not_a_500(
    client: TestClient, shop: dict[str, str], line: dict[str, Any], status: int, path: str | None
) -> None:
    member = enrol(client, shop["pos"], program="shop")
    body = {"external_id": "BIG", "member": {"id": member["id"]}, "lines": [{"sku": "X", **line}]}
    answer = client.post(
        "/v1/programs/shop/purchases/preview", json=body, headers=auth(shop["pos"])
    )
    assert answer.status_code == status, answer.text
    if path is not None:
        assert [e["path"] for e in answer.json()["errors"]] == [path]


@pytest.mark.parametrize("amount", ["1000000000000000000", "1e30"])
def test_a_reward_costing_more_than_the_ledger_moves_is_refused(
    client: TestClient, shop: dict[str, str], amount: str
) -> None:
    reward = {
        "code": "yacht",
        "name": "A yacht",
        "cost": {"wallet": "credit", "amount": amount},
        "kind": "free_item",
        "value": "YACHT",
    }
    answer = client.post("/v1/programs/shop/rewards", json=reward, headers=auth(shop["admin"]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["path"] == "cost.amount"


@pytest.mark.parametrize("field", ["stock", "per_member_limit"])
def test_reward_counts_beyond_their_column_are_refused_not_a_500(
    client: TestClient, shop: dict[str, str], field: str
) -> None:
    admin = auth(shop["admin"])
    reward = {
        "code": "mug",
        "name": "A mug",
        "cost": {"wallet": "points", "amount": 100},
        "kind": "free_item",
        "value": "MUG",
    }
    made = client.post("/v1/programs/shop/rewards", json={**reward, field: 2**40}, headers=admin)
    assert made.status_code == 422, made.text
    assert made.json()["errors"][0]["path"] == field
    assert client.post("/v1/programs/shop/rewards", json=reward, headers=admin).status_code == 201
    patched = client.patch("/v1/programs/shop/rewards/mug", json={field: 2**40}, headers=admin)
    assert patched.status_code == 422, patched.text
