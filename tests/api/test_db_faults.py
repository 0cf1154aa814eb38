"""The database session of a request dies in the middle of an earn (PostgreSQL only: a
session there can be terminated from outside with ``pg_terminate_backend``).

The test holds a lock on the member's balance row from another connection, so the purchase
request blocks inside its transaction, right where it earns; it finds that request's backend
in ``pg_stat_activity``, terminates it and releases the lock. A lost connection is a
retryable failure: the transaction runner runs the use case again, and when the session is
terminated at every attempt the client gets a clean 503 ``storage_busy`` with Retry-After,
never a 500. Sent again with the same ``Idempotency-Key`` and business key, the purchase is
applied exactly once, and the books equal those of a twin program that was never interrupted.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from patron.api.app import create_app
from patron.bootstrap import Container
from patron.services.ports import RetryableError
from patron.services.transactions import MAX_ATTEMPTS
from tests.factories import auth, enrol, program_key
from tests.fault_support import snapshot
from tests.ledger_support import audit
from tests.support_example import EXAMPLE_CONFIG

PURCHASE = {
    "external_id": "P-1",
    "member": {"external_id": "C-1"},
    "occurred_at": "2026-03-05T10:00:00Z",
    "lines": [{"sku": "S-1", "category": "shoes", "quantity": 1, "unit_price": "40.00"}],
}


def waiting_backend(db_url: str, deadline: float, gone: set[int]) -> int | None:
    """The pid of a session waiting for a lock (the blocked request), once there is one; a
    terminated session (in ``gone``) may linger a moment and is not it."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
                "AND NOT pid = ANY(%s)",
                (list(gone),),
            ).fetchone()
            if row is not None:
                return int(row[0])
            time.sleep(0.01)
    return None


def terminate(db_url: str, pid: int) -> bool:
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("terminations", ["once", "every attempt"])
def test_a_terminated_session_mid_earn_is_retried_or_answered_503_and_applied_once(
    db_url: str, client: TestClient, container: Container, platform: str, terminations: str
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("a SQLite connection cannot be terminated from outside")
    keys = {}
    for slug in ("shop", "twin"):
        made = client.post(
            "/v1/programs",
            json={"slug": slug, "name": slug, "currency": "EUR", "timezone": "Europe/Paris",
                  "config": EXAMPLE_CONFIG},
            headers=auth(platform),
        )  # fmt: skip
        assert made.status_code == 201, made.text
        keys[slug] = program_key(client, platform, program=slug, role="pos")
    ada = enrol(client, keys["shop"], program="shop", external_id="C-1")
    enrol(client, keys["twin"], program="twin", external_id="C-1")
    twin = client.post("/v1/programs/twin/purchases", json=PURCHASE, headers=auth(keys["twin"]))
    assert twin.status_code == 201

    headers = {**auth(keys["shop"]), "Idempotency-Key": "till-7-receipt-1"}
    answers: list[Any] = []
    locker = psycopg.connect(db_url)
    locker.execute(
        "SELECT 1 FROM balances WHERE member_id = %s AND wallet = 'points' FOR UPDATE",
        (ada["id"],),
    )  # held until released below: the purchase blocks where it earns
    request = threading.Thread(
        target=lambda: answers.append(
            client.post("/v1/programs/shop/purchases", json=PURCHASE, headers=headers)
        )
    )
    request.start()
    terminated: set[int] = set()
    try:
        limit = 1 if terminations == "once" else MAX_ATTEMPTS
        deadline = time.monotonic() + 60
        while len(terminated) < limit:
            pid = waiting_backend(db_url, deadline, terminated)
            assert pid is not None, "the purchase never blocked on the balance row"
            assert terminate(db_url, pid)
            terminated.add(pid)
    finally:
        locker.rollback()
        locker.close()
        request.join(60)
    assert not request.is_alive()
    [first] = answers

    if terminations == "once":  # the runner's retry went through
        assert first.status_code == 201, first.text
        assert first.json()["earned"] == twin.json()["earned"]
    else:  # every attempt lost its connection: a clean, retryable refusal
        assert first.status_code == 503, first.text
        assert first.headers["content-type"] == "application/problem+json"
        assert first.headers["retry-after"]
        assert first.json()["code"] == "storage_busy"

    again = client.post("/v1/programs/shop/purchases", json=PURCHASE, headers=headers)
    assert again.status_code == 201, again.text
    assert (again.headers.get("Idempotent-Replayed") == "true") is (terminations == "once")
    assert again.json()["earned"] == twin.json()["earned"]
    resent = client.post("/v1/programs/shop/purchases", json=PURCHASE, headers=auth(keys["shop"]))
    assert resent.status_code == 200  # the business key, without the idempotency key: a replay

    never = datetime.max.replace(tzinfo=UTC)
    shop_id, twin_id = (
        client.get(f"/v1/programs/{slug}", headers=auth(keys[slug])).json()["id"]
        for slug in ("shop", "twin")
    )
    got, want = (
        snapshot(container.engine, shop_id, never),
        snapshot(container.engine, twin_id, never),
    )
    for part in want:
        assert got[part] == want[part], part
    assert len(got["purchases"]) == 1
    assert audit(container) == []


def test_a_terminated_session_mid_read_is_retried_not_a_500(
    db_url: str, client: TestClient, shop: dict[str, str]
) -> None:
    """Reads lose their connection too (a failover, an administrator): they are run again."""
    if db_url.startswith("sqlite"):
        pytest.skip("a SQLite connection cannot be terminated from outside")
    ada = enrol(client, shop["pos"], program="shop", external_id="C-1")
    answers: list[Any] = []
    locker = psycopg.connect(db_url)
    locker.execute("LOCK TABLE members IN ACCESS EXCLUSIVE MODE")  # every read of it waits
    request = threading.Thread(
        target=lambda: answers.append(
            client.get(f"/v1/programs/shop/members/{ada['id']}", headers=auth(shop["read"]))
        )
    )
    request.start()
    try:
        pid = waiting_backend(db_url, time.monotonic() + 60, set())
        assert pid is not None, "the read never blocked"
        assert terminate(db_url, pid)
    finally:
        locker.rollback()
        locker.close()
        request.join(60)
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert answer.json()["external_id"] == "C-1"


def test_a_transient_storage_failure_outside_the_runner_is_a_503(container: Container) -> None:
    """The last line: a RetryableError that escapes every runner still answers 503."""
    app = create_app(container)

    @app.get("/lost-connection")
    def lost() -> None:
        raise RetryableError("server closed the connection unexpectedly")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/lost-connection")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["code"] == "storage_busy"
