"""Every transaction of a program-scoped request runs in that program's tenant scope.

The engine reports each transaction it begins and the program its connection is scoped to (the
``patron_program`` option that, on PostgreSQL, switches the transaction to the ``patron_tenant``
role under row-level security; see tests/integration/test_row_level_security.py for what the
database then refuses). A request on ``/v1/programs/{program}/...`` may run exactly one unscoped
transaction, before the program is known: authenticating the key and resolving the program.
A route that opened ``who.container.uow`` instead of ``who.uow`` would show up here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Connection

import patron.api
from patron.adapters.db.engine import PROGRAM_OPTION
from patron.bootstrap import Container
from tests.factories import COFFEE, RECEIPT, auth, create_program, enrol, program_key
from tests.support_example import EXAMPLE_CONFIG


@pytest.fixture
def begins(container: Container) -> Iterator[list[str | None]]:
    """The scope of every transaction begun on the engine, in order."""
    seen: list[str | None] = []

    def on_begin(conn: Connection) -> None:
        seen.append(conn.get_execution_options().get(PROGRAM_OPTION))

    event.listen(container.engine, "begin", on_begin)
    yield seen
    event.remove(container.engine, "begin", on_begin)


def requests(member: str) -> list[tuple[str, str, Any]]:
    """(method, path under the program, body): a sweep over the program routes."""
    m = f"members/{member}"
    return [
        ("GET", "", None),
        ("GET", "config", None),
        ("POST", "members", {"email": "bob@example.com"}),
        ("GET", "members", None),
        ("GET", m, None),
        ("PATCH", m, {"first_name": "Ada"}),
        ("POST", "purchases/preview", {**RECEIPT, "member": {"id": member}}),
        ("POST", "purchases", {**RECEIPT, "member": {"id": member}}),
        ("GET", "purchases/R-1001", None),
        ("POST", f"{m}/adjustments", {"wallet": "points", "amount": 500, "reason": "test"}),
        ("GET", f"{m}/activity", None),
        ("GET", f"{m}/tier", None),
        ("GET", f"{m}/referrals", None),
        (
            "POST",
            "rewards",
            COFFEE,
        ),
        ("GET", "rewards", None),
        ("POST", f"{m}/redemptions", {"reward": "coffee"}),
        ("POST", "segments", {"code": "all", "name": "All", "filter": {}}),
        ("GET", "segments/all/members", None),
        (
            "POST",
            "grants",
            {
                "external_id": "G-1",
                "wallet": "points",
                "amount": 5,
                "reason": "r",
                "segment": "all",
            },
        ),
        ("GET", "grants/G-1", None),
        (
            "POST",
            "campaigns",
            {
                "code": "shoe-week",
                "name": "Double points on shoes",
                "start": "2026-03-01T00:00:00Z",
                "end": "2026-03-08T00:00:00Z",
                "rules": [
                    {"id": "x2", "kind": "multiplier", "factor": "2", "applies_to": ["shoes"]}
                ],
            },
        ),
        ("GET", "campaigns/shoe-week", None),
        ("GET", "webhooks", None),
        ("GET", "audit-log", None),
        ("GET", "analytics/summary", None),
        ("GET", "analytics/series", None),
        ("POST", "api-keys", {"name": "till", "role": "pos"}),
    ]


@pytest.mark.parametrize("who", ["admin", "platform"])
def test_every_program_route_runs_scoped(
    client: TestClient, platform: str, begins: list[str | None], who: str
) -> None:
    program = create_program(client, platform, slug="shop", config=EXAMPLE_CONFIG)
    admin = program_key(client, platform, program="shop", role="admin")
    key = admin if who == "admin" else platform
    member = enrol(client, admin, program="shop", email="ada@example.com")["id"]
    for method, path, body in requests(member):
        begins.clear()
        url = f"/v1/programs/shop/{path}".rstrip("/")
        response = client.request(method, url, json=body, headers=auth(key))
        assert response.status_code < 300, (method, path, response.text)
        assert begins[:1] == [None], (method, path, begins)
        if path == "":  # the program itself: resolving it was the whole work
            assert len(begins) == 1, begins
        else:
            assert set(begins[1:]) == {program["id"]}, (method, path, begins)


def test_platform_routes_and_authentication_stay_unscoped(
    client: TestClient, platform: str, begins: list[str | None]
) -> None:
    created = client.post(
        "/v1/programs",
        json={"slug": "shop", "name": "Shop", "currency": "EUR", "timezone": "Europe/Paris"},
        headers=auth(platform),
    )
    assert created.status_code == 201, created.text
    assert begins
    assert set(begins) == {None}


def test_a_scope_cannot_be_moved_to_another_program(container: Container) -> None:
    scoped = container.uow.scoped("p-1")
    assert scoped.program_id == "p-1"
    assert scoped.scoped("p-1").program_id == "p-1"
    assert container.uow.program_id is None
    with pytest.raises(ValueError, match="another program"):
        scoped.scoped("p-2")


def test_no_route_reaches_past_the_callers_scope() -> None:
    """Routes take units of work from ``who.uow`` only (deps.py itself authenticates and
    resolves the program unscoped), so a new route cannot quietly run unscoped."""
    pattern = re.compile(r"\b(container|box)\.uow\b")  # the unscoped factory of the Container
    api = Path(patron.api.__file__).parent
    offenders = [
        f"{path.relative_to(api)}:{number}: {line.strip()}"
        for path in sorted(api.rglob("*.py"))
        if path.name != "deps.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
