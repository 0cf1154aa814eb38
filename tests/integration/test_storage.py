"""Storage: the migrations build exactly the schema the code expects, on both databases;
constraints back the invariants; races on keys and identifiers have exactly one winner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient

from patron.adapters.db import migrate
from patron.adapters.db.tables import metadata
from patron.bootstrap import Container
from tests.conftest import table_counts
from tests.factories import auth, create_program, platform_key, program_key


def test_migrations_match_the_tables(container: Container, db_url: str) -> None:
    with container.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    assert migrate.current_revision(container.engine) == migrate.head_revision(db_url)


def test_upgrade_is_idempotent(container: Container, db_url: str) -> None:
    """Upgrading a database already at head changes neither its schema nor its rows."""
    platform_key(container)
    before = table_counts(container)
    assert before["api_keys"] == 1
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)
    assert migrate.current_revision(container.engine) == migrate.head_revision(db_url)
    with container.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
    assert table_counts(container) == before


def test_the_latest_migration_reverses(container: Container, db_url: str) -> None:
    command.downgrade(migrate.alembic_config(db_url), "-1")
    migrate.upgrade(db_url)
    with container.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def _insert_key(container: Container, *, role: str, program_id: str | None) -> None:
    with container.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO api_keys (id, program_id, name, role, prefix, key_digest, created_at)"
                " VALUES (:id, :program, 'n', :role, :id, 'd', CURRENT_TIMESTAMP)"
            ),
            {"id": f"k-{role}-{program_id is not None}", "program": program_id, "role": role},
        )


@pytest.mark.parametrize(
    ("role", "with_program"),
    [("platform", True), ("admin", False)],
    ids=["a platform key with a program", "a program key without one"],
)
def test_database_refuses_a_key_whose_role_and_program_disagree(
    client: TestClient, container: Container, role: str, with_program: bool
) -> None:
    program = create_program(client, platform_key(container), slug="shop")["id"]
    # the same row with role and program in agreement is stored
    _insert_key(container, role=role, program_id=None if with_program else program)
    with pytest.raises(sa.exc.IntegrityError, match="platform_keys_have_no_program"):
        _insert_key(container, role=role, program_id=program if with_program else None)


def race(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def pos(client: TestClient, container: Container) -> str:
    platform = platform_key(container)
    create_program(client, platform, slug="shop")
    return program_key(client, platform, program="shop", role="pos")


def test_simultaneous_duplicates_apply_once(
    client: TestClient, pos: str, container: Container
) -> None:
    headers = {**auth(pos), "Idempotency-Key": "same-moment"}
    responses = race(
        8,
        lambda _: client.post(
            "/v1/programs/shop/members", json={"email": "a@example.com"}, headers=headers
        ),
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 7
    assert table_counts(container)["members"] == 1


def test_racing_enrolments_of_one_email_have_one_winner(
    client: TestClient, pos: str, container: Container
) -> None:
    responses = race(
        8,
        lambda i: client.post(
            "/v1/programs/shop/members",
            json={"email": "same@example.com", "external_id": f"E{i}"},
            headers=auth(pos),
        ),
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses]
    assert table_counts(container)["members"] == 1


def test_racing_config_updates_get_distinct_versions(
    client: TestClient, container: Container
) -> None:
    platform = platform_key(container)
    create_program(client, platform, slug="shop")
    responses = race(
        6,
        lambda _: client.put(
            "/v1/programs/shop/config", json={"wallets": {"points": {}}}, headers=auth(platform)
        ),
    )
    assert sorted(r.json()["version"] for r in responses) == [2, 3, 4, 5, 6, 7]
