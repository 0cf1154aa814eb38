"""Stored request fingerprints are keyed digests (docs/security.md, "Request fingerprints"): not
the SHA-256 of the request, so an erased member's email cannot be confirmed by hashing guesses;
and migration 0020 re-keys the unkeyed ones stored before, so requests sent before it replay
after it.

The unkeyed fingerprints of before the migration are made by the real routes with the old
fingerprint (``Unkeyed`` below computes what ``transactions.fingerprint`` computed until then),
not written by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from patron.adapters.db import migrate
from patron.adapters.db import tables as t
from patron.adapters.db.uow import SqlUnitOfWorkFactory
from patron.api.app import create_app
from patron.bootstrap import Container, build
from patron.config import Settings
from patron.domain.fingerprints import DEVELOPMENT_SECRET, Fingerprints, keyed, unkeyed
from tests.factories import MutableClock, auth, create_program, platform_key, program_key
from tests.support_example import EXAMPLE_CONFIG

SECRET = "a-server-secret-of-the-tests-0123456789abcdef"
FINGERPRINTED = (t.idempotency_keys, t.purchases, t.refunds, t.activity_events, t.grants)


class Unkeyed(Fingerprints):
    """The fingerprint of Patron before keyed fingerprints: a bare SHA-256 of the request."""

    def __call__(self, method: str, path: str, body: Any) -> str:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


@pytest.fixture
def keyed_box(db_url: str, clock: MutableClock) -> Iterator[Container]:
    settings = Settings(
        database_url=db_url, auto_upgrade=False, pool_size=5, fingerprint_secret=SECRET
    )
    box = build(settings, clock=clock)
    yield box
    box.close()


def stored(box: Container) -> dict[str, list[str]]:
    with box.engine.connect() as conn:
        return {
            table.name: list(conn.execute(sa.select(table.c.fingerprint)).scalars())
            for table in FINGERPRINTED
        }


PURCHASE: dict[str, Any] = {
    "external_id": "P-1",
    "member": {"email": "ada@example.com"},
    "occurred_at": "2026-03-06T10:00:00Z",
    "lines": [{"sku": "LIP-01", "category": "makeup", "quantity": 2, "unit_price": "12.00"}],
}


def test_a_stored_fingerprint_is_not_a_digest_of_the_body(keyed_box: Container) -> None:
    with TestClient(create_app(keyed_box), raise_server_exceptions=False) as client:
        platform = platform_key(keyed_box)
        create_program(client, platform, slug="shop", config=EXAMPLE_CONFIG)
        admin = program_key(client, platform, program="shop")
        headers = {**auth(admin), "Idempotency-Key": "enrol-ada"}
        member = client.post(
            "/v1/programs/shop/members", json={"email": "ada@example.com"}, headers=headers
        ).json()
        answer = client.post("/v1/programs/shop/purchases", json=PURCHASE, headers=auth(admin))
        assert answer.status_code == 201, answer.text
        with keyed_box.engine.connect() as conn:
            row = conn.execute(sa.select(t.purchases.c.fingerprint, t.purchases.c.document)).one()
        # what the purchase's fingerprint digests: its stored document
        assert row.fingerprint == keyed(SECRET, unkeyed("purchase", "", row.document))
        assert row.fingerprint != unkeyed("purchase", "", row.document)
        assert row.fingerprint.startswith("k1:")

        erased = client.post(f"/v1/programs/shop/members/{member['id']}/erase", headers=auth(admin))
        assert erased.status_code == 200, erased.text
        with keyed_box.engine.connect() as conn:
            document = conn.execute(sa.select(t.purchases.c.document)).scalar_one()
            fingerprint = conn.execute(sa.select(t.purchases.c.fingerprint)).scalar_one()
        assert "ada@example.com" not in str(document)
        # Whoever reads the database and guesses the email can rebuild the body...
        guess = {**document, "member": {"email": "ada@example.com"}}
        # ...but no digest without the server's secret confirms it.
        assert fingerprint not in {
            unkeyed("purchase", "", guess),
            keyed(DEVELOPMENT_SECRET, unkeyed("purchase", "", guess)),
        }
        assert fingerprint == keyed(SECRET, unkeyed("purchase", "", guess))  # the right guess
        for table, values in stored(keyed_box).items():
            assert all(not _unkeyed(v) for v in values), table


def _unkeyed(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def test_requests_sent_before_the_migration_replay_after_it(
    keyed_box: Container, db_url: str
) -> None:
    keyed_factory = keyed_box.uow
    keyed_box.uow = SqlUnitOfWorkFactory(keyed_box.engine, fingerprint=Unkeyed())
    with TestClient(create_app(keyed_box), raise_server_exceptions=False) as client:
        platform = platform_key(keyed_box)
        create_program(client, platform, slug="shop", config=EXAMPLE_CONFIG)
        admin = program_key(client, platform, program="shop")
        requests: list[tuple[str, dict[str, Any], str | None, int]] = [
            ("/members", {"email": "ada@example.com"}, "enrol-ada", 201),
            ("/purchases", PURCHASE, None, 201),
            ("/purchases/P-1/refunds", {"external_id": "F-1", "amount": "5.00"}, None, 201),
            ("/events", {"external_id": "E-1", "member": "", "type": "review_posted"}, None, 201),
            ("/grants", {"external_id": "G-1", "wallet": "points", "amount": 5,
                         "reason": "sorry", "members": []}, "grant-1", 201),
        ]  # fmt: skip
        first: dict[str, Any] = {}
        for path, body, key, status in requests:
            if path == "/events":
                body["member"] = first["/members"]["id"]
            if path == "/grants":
                body["members"] = [first["/members"]["id"]]
            answer = _post(client, admin, path, body, key)
            assert answer.status_code == status, (path, answer.text)
            first[path] = answer.json()
    old = stored(keyed_box)
    assert all(_unkeyed(v) for v in old["purchases"] + old["refunds"] + old["grants"])
    assert all(_unkeyed(v) for v in old["idempotency_keys"])

    keyed_box.uow = keyed_factory
    with TestClient(create_app(keyed_box), raise_server_exceptions=False) as client:
        # Unmigrated, the keyed server takes the old fingerprint for another request.
        assert _post(client, admin, "/purchases", PURCHASE, None).status_code == 409

        config = migrate.alembic_config(db_url)
        before = ScriptDirectory.from_config(config).get_revision("0020").down_revision
        assert isinstance(before, str)
        command.downgrade(config, before)
        migrate.upgrade(db_url, fingerprint_secret=SECRET)

        now = stored(keyed_box)
        for table in ("purchases", "refunds", "grants", "idempotency_keys"):
            # As sets: the migration rewrites the rows, and an unordered read may then list
            # them in another order (PostgreSQL).
            assert sorted(now[table]) == sorted(keyed(SECRET, v) for v in old[table]), table
        for path, body, key, status in requests:
            again = _post(client, admin, path, body, key)
            replayed = key is not None
            assert again.status_code == (status if replayed else 200), (path, again.text)
            if replayed:
                assert again.json() == first[path], path
            else:  # a business key's replay answers the original result with today's balances
                assert _without_balances(again.json()) == _without_balances(first[path]), path
            assert again.headers.get("idempotent-replayed") == ("true" if replayed else None)
        other = _post(client, admin, "/members", {"email": "eve@example.com"}, "enrol-ada")
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency_conflict"

    # Running the migration again keys nothing twice.
    command.downgrade(config, before)
    migrate.upgrade(db_url, fingerprint_secret=SECRET)
    assert stored(keyed_box) == now


def _post(client: TestClient, key: str, path: str, body: Any, idempotency_key: str | None) -> Any:
    headers = auth(key) | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    return client.post(f"/v1/programs/shop{path}", json=body, headers=headers)


def _without_balances(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "balances"}
