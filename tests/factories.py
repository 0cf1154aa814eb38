"""Typed factories for tests: keyword-only, building state through the real use cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.services import api_keys
from patron.services.transactions import run_in_transaction


class MutableClock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def platform_key(container: Container, *, name: str = "tests") -> str:
    issued = run_in_transaction(
        container.uow,
        lambda uow: api_keys.issue_key(
            uow, container.clock, CLI, program=None, name=name, role="platform"
        ),
    )
    return issued.secret


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_program(
    client: TestClient,
    key: str,
    *,
    slug: str = "shop",
    config: dict[str, Any] | None = None,
    currency: str = "EUR",
    timezone: str = "Europe/Paris",
    country: str | None = "FR",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "name": slug.title(),
        "currency": currency,
        "timezone": timezone,
        "country": country,
    }
    if config is not None:
        body["config"] = config
    response = client.post("/v1/programs", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def program_key(client: TestClient, key: str, *, program: str, role: str = "admin") -> str:
    response = client.post(
        f"/v1/programs/{program}/api-keys",
        json={"name": f"{role} key", "role": role},
        headers=auth(key),
    )
    assert response.status_code == 201, response.text
    secret: str = response.json()["key"]
    return secret


def enrol(client: TestClient, key: str, *, program: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"/v1/programs/{program}/members", json=fields, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


RECEIPT: dict[str, Any] = {
    "external_id": "R-1001",
    "occurred_at": "2026-03-07T10:00:00Z",
    "channel": "store",
    "store_id": "S1",
    "lines": [
        {
            "sku": "LIP-01",
            "name": "Lipstick",
            "category": "makeup",
            "quantity": 2,
            "unit_price": "12.00",
            "discount": "0.00",
        }
    ],
    "tax": "2.10",
    "shipping": "0.00",
    "payments": [{"method": "card", "card_type": "cobrand", "amount": "26.10"}],
}
"""API.md's example purchase (without a member): one line, 26.10 paid by co-branded card."""

COFFEE: dict[str, Any] = {
    "code": "coffee",
    "name": "Free coffee",
    "cost": {"wallet": "points", "amount": 100},
    "kind": "free_item",
    "value": "COFFEE",
    "voucher_valid_days": 30,
}
"""A free-item reward for 100 points, its voucher valid 30 days."""
