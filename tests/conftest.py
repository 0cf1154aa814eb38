"""Shared fixtures: every database test runs on SQLite and, when PATRON_TEST_POSTGRES_URL is set,
on PostgreSQL too (a scratch database created for the session, migrated by Alembic).

Isolation: SQLite tests get a fresh copy of a migrated template file; PostgreSQL tests truncate
every table first. Tests build state through the API or the services, never by writing rows.
Under ``pytest -n`` each worker has its own session, so its own template and scratch database.

Redis-backed tests take the ``redis_url`` fixture (PATRON_TEST_REDIS_URL): skipped on a machine
without Redis, but failed in CI (``CI`` set), where Redis must be there.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from patron.adapters.db import migrate
from patron.adapters.db.tables import metadata
from patron.api.app import create_app
from patron.bootstrap import Container, build
from patron.config import Settings
from patron.services import staff_sessions
from tests.factories import MutableClock

# Staff passwords in tests are hashed with argon2id at its lowest cost: the product's
# parameters (argon2-cffi's defaults, 64 MiB and three passes, about 0.1-0.3 s a hash on two
# shared cores) would cost most of a console test, which hashes once to set a password and
# once more to sign in. The code paths are the same; only the work factor differs.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
_CHEAP_DUMMY = CHEAP_HASHER.hash("a password nobody has")


@pytest.fixture(autouse=True)
def _cheap_staff_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_sessions, "HASHER", CHEAP_HASHER)
    monkeypatch.setattr(staff_sessions, "_DUMMY", _CHEAP_DUMMY)


PG_URL = os.environ.get("PATRON_TEST_POSTGRES_URL")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=pytest.mark.skipif(not PG_URL, reason="PATRON_TEST_POSTGRES_URL not set"),
    ),
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "patron.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    assert PG_URL
    name = f"patron_test_{uuid.uuid4().hex[:10]}"
    admin = PG_URL.replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # Commits need not wait for the disk in a scratch database: the tests' commits are
        # many and small, and no test crashes the server itself.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = admin.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "patron.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate(url)
    return url


def _truncate(url: str) -> None:
    """Empty every table between tests. DELETE, not TRUNCATE: TRUNCATE gives each of the ~60
    tables and their indexes new files (0.27 s a test), DELETE of a few rows takes 0.02 s. The
    ledger's append-only triggers and the foreign keys are off for this transaction only
    (``session_replication_role``; the tests connect as a superuser), and the sequences restart
    as TRUNCATE's ``RESTART IDENTITY`` did."""
    tables = "; ".join(f'DELETE FROM "{table.name}"' for table in reversed(metadata.sorted_tables))
    with psycopg.connect(url, autocommit=True) as conn:
        sequences = [
            row[0]
            for row in conn.execute(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                "FROM pg_sequences"
            )
        ]
        restart = "".join(f"; ALTER SEQUENCE {name} RESTART" for name in sequences)
        with conn.transaction():
            conn.execute(f"SET LOCAL session_replication_role = replica; {tables}{restart}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("PATRON_TEST_REDIS_URL")
    if not url:
        problem = "PATRON_TEST_REDIS_URL is not set"
    elif importlib.util.find_spec("redis") is None:
        problem = "the redis client package is not installed"
    else:
        problem = _redis_problem(url)
    if problem is None:
        assert url
        return url
    if os.environ.get("CI"):
        pytest.fail(
            f"{problem}: in CI the Redis-backed tests must run (.ci/run starts Redis on "
            "127.0.0.1:6379 and sets PATRON_TEST_REDIS_URL)",
            pytrace=False,
        )
    pytest.skip(problem)


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {url} does not answer ({error})"
    return None


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime(2026, 3, 7, 10, 0, tzinfo=UTC))


@pytest.fixture
def container(db_url: str, clock: MutableClock) -> Iterator[Container]:
    box = build(Settings(database_url=db_url, auto_upgrade=False, pool_size=5), clock=clock)
    yield box
    box.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        yield test_client


def table_counts(container: Container) -> dict[str, int]:
    """Rows per table: a rejected request must leave these unchanged."""
    with container.engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
