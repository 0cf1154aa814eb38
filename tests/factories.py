"""Typed factories for tests: keyword-only, building state through the real use cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.domain.programs import Program
from patron.domain.rules import Line, Purchase
from patron.services import api_keys, purchases
from patron.services.transactions import run_in_transaction
from tests.ledger_support import in_ledger


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


def enrol(
    client: TestClient,
    key: str,
    *,
    program: str,
    idempotency_key: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Enrol a member with ``fields`` (the Member body) and return the Member shape."""
    headers = auth(key)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    response = client.post(f"/v1/programs/{program}/members", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def buy(
    client: TestClient,
    key: str,
    *,
    program: str,
    external_id: str,
    member: str | dict[str, str] | None = None,
    amount: str = "10.00",
    at: datetime | str = "2026-03-05T10:00:00Z",
    sku: str = "X",
    category: str | None = "misc",
    idempotency_key: str | None = None,
    status: int = 201,
) -> dict[str, Any]:
    """Record a one-line purchase of ``amount`` for ``member`` (an id, or a member reference
    such as ``{"email": ...}``; None: anonymous) and return the answer, checking its status
    (on a Thursday by default: no weekend multiplier)."""
    line: dict[str, Any] = {"sku": sku, "quantity": 1, "unit_price": amount}
    if category is not None:
        line["category"] = category
    body: dict[str, Any] = {
        "external_id": external_id,
        "occurred_at": at.isoformat() if isinstance(at, datetime) else at,
        "lines": [line],
    }
    if member is not None:
        body["member"] = {"id": member} if isinstance(member, str) else member
    headers = auth(key)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    response = client.post(f"/v1/programs/{program}/purchases", json=body, headers=headers)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


def awards(purchase: dict[str, Any]) -> dict[str, int]:
    """A purchase result's awards by rule id."""
    return {a["rule_id"]: a["amount"] for a in purchase["awards"]}


def points(client: TestClient, key: str, *, program: str, member: str) -> int:
    """The member's available points."""
    response = client.get(f"/v1/programs/{program}/members/{member}", headers=auth(key))
    assert response.status_code == 200, response.text
    return int(response.json()["balances"]["points"]["available"])


def record_purchase(
    container: Container,
    program: Program,
    *,
    member: str,
    external_id: str,
    amount: str,
    at: datetime,
    category: str = "misc",
) -> None:
    """Record a one-line purchase for ``member`` through the use case (no API in between)."""
    bought = Purchase(external_id, at, (Line("A", 1, Decimal(amount), Decimal(0), category),))
    line = {"sku": "A", "quantity": 1, "unit_price": amount, "category": category}
    in_ledger(
        container,
        program,
        lambda c: purchases.record(
            c,
            bought,
            purchases.MemberRef("id", member),
            fingerprint=external_id,
            document={"lines": [line]},
        ),
    )


def tier(client: TestClient, key: str, *, program: str, member: str) -> dict[str, Any]:
    """The member's tier progress (``GET .../members/{member}/tier``)."""
    response = client.get(f"/v1/programs/{program}/members/{member}/tier", headers=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def change_config(client: TestClient, key: str, *, program: str, **sections: Any) -> None:
    """Replace top-level sections of the program's configuration (``PUT .../config``)."""
    url = f"/v1/programs/{program}/config"
    config = client.get(url, headers=auth(key)).json()["config"]
    config.update(sections)
    response = client.put(url, json=config, headers=auth(key))
    assert response.status_code == 200, response.text


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
