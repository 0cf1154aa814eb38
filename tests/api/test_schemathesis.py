"""The whole OpenAPI document, fuzzed by Schemathesis: every operation, with data the schema
allows and data it does not, answers without a 5xx, with a status code the document declares,
in a declared media type, and with a body that matches the declared schema.

The program has data (members with points, a purchase, a reward and a redemption, a segment, a
grant, a campaign, a webhook endpoint with a delivery), and half of the generated requests
aim their path parameters at those real objects, so the fuzzing reaches past 404 into the use
cases. Bounded: a few derandomized examples per operation and no shrinking phase, so the test
takes seconds and fails the same way every time. tests/api/test_fuzz.py digs deeper into the
member and configuration bodies.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from patron.adapters.webhooks import HttpWebhookSender
from patron.bootstrap import Container
from patron.services import jobs
from tests.factories import COFFEE, auth, enrol

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _created(answer: Any) -> dict[str, Any]:
    assert answer.status_code in (200, 201, 202), answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture
def seeded(client: TestClient, shop: dict[str, str], container: Container) -> dict[str, str]:
    """Real objects of every kind in the program, by the name of the path parameter."""
    container.webhooks = HttpWebhookSender(allow_private=True, timeout=1)
    admin = auth(shop["admin"])
    base = "/v1/programs/shop"
    ada = enrol(client, shop["pos"], program="shop", external_id="C-1", email="ada@example.com")
    enrol(client, shop["pos"], program="shop", external_id="C-2", attributes={"city": "Oslo"})
    _created(
        client.post(
            f"{base}/members/{ada['id']}/adjustments",
            json={"wallet": "points", "amount": 500, "reason": "seed"},
            headers=admin,
        )
    )
    _created(
        client.post(
            f"{base}/purchases",
            json={
                "external_id": "P-1",
                "member": {"id": ada["id"]},
                "occurred_at": "2026-03-05T10:00:00Z",
                "lines": [{"sku": "S-1", "category": "shoes", "quantity": 1, "unit_price": "40"}],
            },
            headers=admin,
        )
    )
    _created(
        client.post(
            f"{base}/rewards",
            json=COFFEE,
            headers=admin,
        )
    )
    redemption = _created(
        client.post(
            f"{base}/members/{ada['id']}/redemptions", json={"reward": "coffee"}, headers=admin
        )
    )
    _created(
        client.post(
            f"{base}/segments",
            json={"code": "oslo", "name": "Oslo", "filter": {"attributes": {"city": "Oslo"}}},
            headers=admin,
        )
    )
    _created(
        client.post(
            f"{base}/grants",
            json={
                "external_id": "G-1",
                "wallet": "points",
                "amount": 10,
                "reason": "seed",
                "members": [ada["id"]],
            },
            headers=admin,
        )
    )
    _created(
        client.post(
            f"{base}/campaigns",
            json={
                "code": "shoe-week",
                "name": "Shoe week",
                "start": "2026-03-01T00:00:00Z",
                "end": "2026-03-08T00:00:00Z",
                "rules": [
                    {"id": "x2", "kind": "multiplier", "factor": "2", "applies_to": ["shoes"]}
                ],
            },
            headers=admin,
        )
    )
    endpoint = _created(
        client.post(
            f"{base}/webhooks",
            json={"url": "http://127.0.0.1:9/hooks", "events": ["member.enrolled"]},
            headers=admin,
        )
    )
    jobs.run_webhooks(container.uow, container.webhooks, container.clock.now())  # a failed try
    deliveries = client.get(f"{base}/webhooks/{endpoint['id']}/deliveries", headers=admin)
    return {
        "admin": shop["admin"],
        "program": "shop",
        "member": ada["id"],
        "external_id": "P-1",
        "redemption_id": redemption["id"],
        "endpoint": endpoint["id"],
        "delivery": deliveries.json()["items"][0]["id"],
        # `{code}` names a reward, a voucher, a segment or a campaign, depending on the path.
        "code:rewards": "coffee",
        "code:vouchers": redemption["voucher"]["code"],
        "code:segments": "oslo",
        "code:campaigns": "shoe-week",
        "external_id:grants": "G-1",
    }


def _real(seeded: dict[str, str], path: str, name: str) -> str | None:
    resource = path.split("/")[4] if path.count("/") >= 4 else ""
    return seeded.get(f"{name}:{resource}", seeded.get(name))


def _aimed(case: Any, aim: bool, seeded: dict[str, str]) -> None:
    parameters = case.path_parameters or {}
    if "program" in parameters:
        parameters["program"] = seeded["program"]  # another program is a 404, tested elsewhere
    if aim:
        for name in parameters:
            real = _real(seeded, case.path, name)
            if real is not None:
                parameters[name] = real


bounded = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_every_operation_answers_as_its_schema_says(
    client: TestClient, seeded: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @bounded
            @given(case=operation.as_strategy(mode), aim=st.booleans())
            def call(case: Any, aim: bool) -> None:
                _aimed(case, aim, seeded)
                # The generated credentials are random: always send the admin key instead.
                case.headers = {**(case.headers or {}), **auth(seeded["admin"])}
                case.call_and_validate(checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # no input to break (GET /healthz)
            except (Exception, BaseExceptionGroup) as failure:  # every operation, all reported
                # A flaky failure (failed, then passed when replayed) carries the first
                # failure inside: report it whole, or the cause is lost.
                inner = getattr(failure, "exceptions", ())
                detail = "".join(f"\n  caused by: {e!r}" for e in inner)
                failures.append(f"{operation.label} ({mode.value}): {failure}{detail}")
    assert operations >= 45
    assert not failures, "\n\n".join(failures)
