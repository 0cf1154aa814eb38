"""Row-level security on PostgreSQL: the database itself keeps a program-scoped transaction out
of every other program's rows, even for a statement with no ``program_id`` filter at all.

Two programs are filled through the API; then raw SQL runs in units of work scoped to one of them.
The test suite connects as a superuser, which RLS never restricts: these tests pass only because
a scoped transaction switches to the ``patron_tenant`` role (see ``adapters/db/engine.py``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient

from patron.adapters.db import migrate
from patron.adapters.db.engine import SCOPE_SETTING, TENANT_ROLE, make_engine
from patron.adapters.db.tables import metadata
from patron.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from patron.api.app import create_app
from patron.bootstrap import Container, build
from patron.config import Settings
from patron.services.transactions import run_in_transaction, run_read
from tests.conftest import PG_URL, _truncate
from tests.factories import (
    COFFEE,
    RECEIPT,
    MutableClock,
    auth,
    create_program,
    enrol,
    platform_key,
    program_key,
)
from tests.support_example import EXAMPLE_CONFIG

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not PG_URL, reason="PATRON_TEST_POSTGRES_URL not set"),
]

SCOPED_TABLES = sorted(t.name for t in metadata.sorted_tables if "program_id" in t.c)
# Tables the scenario below is sure to fill for each program: a check on them cannot pass
# vacuously.
FILLED = (
    "api_keys",
    "audit_log",
    "balances",
    "ledger_entries",
    "ledger_lots",
    "ledger_postings",
    "members",
    "outbox",
    "program_configs",
    "purchase_awards",
    "purchases",
    "redemptions",
    "rewards",
)


@pytest.fixture
def db_url(postgres_database: str) -> str:
    """PostgreSQL only (this module's subject does not exist on SQLite)."""
    _truncate(postgres_database)
    return postgres_database


def fill(client: TestClient, platform: str, slug: str) -> dict[str, str]:
    """A program with a member who bought something and redeemed a reward."""
    program = create_program(client, platform, slug=slug, config=EXAMPLE_CONFIG)
    admin = program_key(client, platform, program=slug, role="admin")
    member = enrol(client, admin, program=slug, email=f"ada@{slug}.example")["id"]
    base = f"/v1/programs/{slug}"
    bought = client.post(
        f"{base}/purchases",
        json={**RECEIPT, "external_id": f"R-{slug}", "member": {"id": member}},
        headers=auth(admin),
    )
    assert bought.status_code == 201, bought.text
    adjusted = client.post(
        f"{base}/members/{member}/adjustments",
        json={"wallet": "points", "amount": 500, "reason": "test"},
        headers=auth(admin),
    )
    assert adjusted.status_code == 201, adjusted.text
    reward = COFFEE
    assert client.post(f"{base}/rewards", json=reward, headers=auth(admin)).status_code == 201
    redeemed = client.post(
        f"{base}/members/{member}/redemptions", json={"reward": "coffee"}, headers=auth(admin)
    )
    assert redeemed.status_code == 201, redeemed.text
    return {"id": program["id"], "member": member}


@pytest.fixture
def tenants(client: TestClient, container: Container) -> tuple[dict[str, str], dict[str, str]]:
    platform = platform_key(container)
    return fill(client, platform, "alpha"), fill(client, platform, "beta")


def program_ids(conn: sa.Connection, table: str) -> set[str]:
    column = "id" if table == "programs" else "program_id"
    return set(conn.execute(sa.text(f'SELECT DISTINCT {column} FROM "{table}"')).scalars())


def scoped(container: Container, program_id: str, *, write: bool = False) -> SqlUnitOfWork:
    return container.uow.scoped(program_id)(write=write)


def test_every_program_scoped_table_has_row_level_security(container: Container) -> None:
    """A table added to the tables package with a program_id column must come with its policies."""
    with container.engine.connect() as conn:
        flags = {
            row.relname: (row.relrowsecurity, row.relforcerowsecurity)
            for row in conn.execute(
                sa.text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
                    " WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
                )
            )
        }
        policies = {
            (row.tablename, row.policyname, row.permissive, tuple(row.roles))
            for row in conn.execute(
                sa.text(
                    "SELECT tablename, policyname, permissive, roles FROM pg_policies"
                    " WHERE schemaname = current_schema()"
                )
            )
        }
    for table in [*SCOPED_TABLES, "programs"]:
        assert flags[table] == (True, True), f"{table} lacks (forced) row-level security"
        assert {p[1:] for p in policies if p[0] == table} == {
            ("patron_scope", "PERMISSIVE", ("public",))
        }, table


def test_the_tenant_role_may_use_every_table_and_serial(container: Container) -> None:
    """A table the role cannot use would make every scoped request touching it fail."""
    with container.engine.connect() as conn:
        for table in metadata.sorted_tables:
            allowed = conn.execute(
                sa.text("SELECT has_table_privilege(:role, :t, 'SELECT,INSERT,UPDATE,DELETE')"),
                {"role": TENANT_ROLE, "t": table.name},
            ).scalar_one()
            assert allowed, f"{TENANT_ROLE} may not use {table.name}"
            for column in table.primary_key.columns:
                sequence = conn.execute(
                    sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                    {"t": table.name, "c": column.name},
                ).scalar_one()
                if sequence is not None:
                    assert conn.execute(
                        sa.text("SELECT has_sequence_privilege(:role, :s, 'USAGE')"),
                        {"role": TENANT_ROLE, "s": sequence},
                    ).scalar_one(), sequence


def test_a_scoped_transaction_sees_no_other_program_rows(
    container: Container, tenants: tuple[dict[str, str], dict[str, str]]
) -> None:
    alpha, beta = tenants
    with container.uow(write=False) as uow:
        for table in FILLED:
            assert program_ids(uow.connection, table) >= {alpha["id"], beta["id"]}, table
    with scoped(container, beta["id"]) as uow:
        for table in [*SCOPED_TABLES, "programs"]:
            assert program_ids(uow.connection, table) <= {beta["id"]}, table
        for table in FILLED:
            assert program_ids(uow.connection, table) == {beta["id"]}, table
        # Filtering for the other program explicitly finds nothing either, and neither do locks.
        conn = uow.connection
        lookup = sa.text("SELECT count(*) FROM members WHERE id = :m")
        assert conn.execute(lookup, {"m": alpha["member"]}).scalar_one() == 0
        assert conn.execute(lookup, {"m": beta["member"]}).scalar_one() == 1
        locked = conn.execute(
            sa.text("SELECT member_id FROM balances WHERE program_id = :p FOR UPDATE"),
            {"p": alpha["id"]},
        ).all()
        assert locked == []
        # The repositories, asked for the other program, come back empty-handed too.
        assert uow.members.get(alpha["id"], alpha["member"]) is None
        assert uow.members.get(beta["id"], beta["member"]) is not None


def test_a_scoped_transaction_cannot_change_other_program_rows(
    container: Container, tenants: tuple[dict[str, str], dict[str, str]]
) -> None:
    alpha, beta = tenants
    with scoped(container, beta["id"], write=True) as uow:
        conn = uow.connection
        renamed = conn.execute(sa.text("UPDATE members SET first_name = 'Mallory'"))
        assert renamed.rowcount == 1  # beta's own member only
        deleted = conn.execute(
            sa.text("DELETE FROM purchase_awards WHERE program_id = :p"), {"p": alpha["id"]}
        )
        assert deleted.rowcount == 0
        uow.commit()
    with container.uow(write=False) as uow:
        names = uow.connection.execute(sa.text("SELECT program_id, first_name FROM members")).all()
        assert {(p, n) for p, n in names if n == "Mallory"} == {(beta["id"], "Mallory")}
        assert program_ids(uow.connection, "purchase_awards") >= {alpha["id"]}

    refused = [
        # moving beta's row into alpha
        "UPDATE members SET program_id = :a WHERE id = :bm",
        # inserting a row that belongs to alpha
        "INSERT INTO segments (id, program_id, code, name, filter, created_at)"
        " VALUES ('s-1', :a, 'vip', 'VIP', '{}', now())",
        # an upsert whose conflicting row is alpha's: the UPDATE half may not touch it
        "INSERT INTO balances (member_id, wallet, program_id, available, pending, deficit,"
        " lifetime_earned, version) VALUES (:am, 'points', :b, 0, 0, 0, 0, 1)"
        " ON CONFLICT (member_id, wallet) DO UPDATE SET available = 0",
    ]
    params = {"a": alpha["id"], "b": beta["id"], "am": alpha["member"], "bm": beta["member"]}
    for statement in refused:
        with (
            scoped(container, beta["id"], write=True) as uow,
            pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
        ):
            uow.connection.execute(sa.text(statement), params)
    with container.uow(write=False) as uow:
        conn = uow.connection
        assert conn.execute(sa.text("SELECT count(*) FROM segments")).scalar_one() == 0
        assert (
            conn.execute(
                sa.text("SELECT program_id FROM members WHERE id = :bm"), params
            ).scalar_one()
            == beta["id"]
        )
        assert (
            conn.execute(
                sa.text(
                    "SELECT available FROM balances WHERE member_id = :am AND wallet = 'points'"
                ),
                params,
            ).scalar_one()
            > 0
        )


def test_the_transaction_runners_take_a_scope(
    container: Container, tenants: tuple[dict[str, str], dict[str, str]]
) -> None:
    alpha, beta = tenants

    def members(uow: Any) -> set[str]:
        return program_ids(uow.connection, "members")

    assert run_read(container.uow, members) == {alpha["id"], beta["id"]}
    assert run_read(container.uow, members, program_id=alpha["id"]) == {alpha["id"]}
    assert run_in_transaction(container.uow, members, program_id=beta["id"]) == {beta["id"]}
    with pytest.raises(ValueError, match="another program"):
        run_read(container.uow.scoped(alpha["id"]), members, program_id=beta["id"])


def test_the_tenant_role_without_a_scope_sees_nothing(
    container: Container, tenants: tuple[dict[str, str], dict[str, str]]
) -> None:
    """Fail closed: the role with no program set matches no row at all."""
    with container.engine.connect() as conn, conn.begin():
        conn.execute(sa.text(f"SET LOCAL ROLE {TENANT_ROLE}"))
        for table in [*SCOPED_TABLES, "programs"]:
            assert program_ids(conn, table) == set(), table


def test_unscoped_work_still_sees_every_program(
    container: Container, tenants: tuple[dict[str, str], dict[str, str]]
) -> None:
    alpha, beta = tenants
    with container.uow(write=False) as uow:
        assert program_ids(uow.connection, "members") == {alpha["id"], beta["id"]}
        assert program_ids(uow.connection, "programs") == {alpha["id"], beta["id"]}


@pytest.fixture
def one_connection(db_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    """Units of work over a pool of one connection: each checkout, one after the other, reuses
    it (the tests check the backend's pid to be sure)."""
    engine = make_engine(db_url, pool_size=1)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


def session_state(uow: SqlUnitOfWork) -> tuple[int, str, str | None]:
    row = uow.connection.execute(
        sa.text(f"SELECT pg_backend_pid(), current_user, current_setting('{SCOPE_SETTING}', true)")
    ).one()
    return row[0], row[1], row[2]


def test_a_pooled_connection_does_not_keep_the_scope(
    one_connection: SqlUnitOfWorkFactory, tenants: tuple[dict[str, str], dict[str, str]]
) -> None:
    alpha, beta = tenants
    with one_connection(write=False) as uow:
        pid, user, _ = session_state(uow)
    assert user != TENANT_ROLE

    def unscoped_after() -> None:
        with one_connection(write=False) as uow:
            assert session_state(uow)[:2] == (pid, user)  # the same connection, its own user
            assert session_state(uow)[2] in (None, "")
            assert program_ids(uow.connection, "members") == {alpha["id"], beta["id"]}

    # after a committed write
    with one_connection.scoped(beta["id"])(write=True) as uow:
        assert session_state(uow) == (pid, TENANT_ROLE, beta["id"])
        uow.commit()
        # a transaction the scoped connection begins after its commit is scoped too
        assert session_state(uow) == (pid, TENANT_ROLE, beta["id"])
    unscoped_after()
    # after a read (rolled back)
    with one_connection.scoped(alpha["id"])(write=False) as uow:
        assert session_state(uow) == (pid, TENANT_ROLE, alpha["id"])
    unscoped_after()
    # after a failed statement
    with (
        pytest.raises(sa.exc.ProgrammingError),
        one_connection.scoped(alpha["id"])(write=True) as uow,
    ):
        uow.connection.execute(sa.text("SELECT * FROM no_such_table"))
    unscoped_after()
    # and a scope for another program starts clean
    with one_connection.scoped(beta["id"])(write=False) as uow:
        assert program_ids(uow.connection, "members") == {beta["id"]}


def test_scoped_work_in_parallel_stays_in_its_program(
    container: Container, tenants: tuple[dict[str, str], dict[str, str]]
) -> None:
    """Connections handed back and forth between programs' threads never mix scopes."""
    alpha, beta = tenants
    seen: list[tuple[str, set[str]]] = []
    lock = threading.Lock()

    def work(program_id: str) -> None:
        for _ in range(20):
            with scoped(container, program_id) as uow:
                found = program_ids(uow.connection, "ledger_entries")
            with lock:
                seen.append((program_id, found))

    threads = [threading.Thread(target=work, args=(p["id"],)) for p in (alpha, beta) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 80
    assert all(found == {program} for program, found in seen)


def test_downgrade_and_upgrade_again(db_url: str, container: Container) -> None:
    """The migration reverses cleanly and re-applies over a role that already exists."""
    # To the revision before row-level security (0016), whichever revisions came after it.
    command.downgrade(migrate.alembic_config(db_url), "0015")
    with container.engine.connect() as conn:
        assert not conn.execute(
            sa.text("SELECT relrowsecurity FROM pg_class WHERE relname = 'members'")
        ).scalar_one()
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": TENANT_ROLE}
            ).scalar_one()
            == 1
        )
    migrate.upgrade(db_url)
    with container.engine.connect() as conn:
        assert conn.execute(
            sa.text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'members'")
        ).scalar_one()


@pytest.fixture
def own_database() -> Iterator[tuple[str, str]]:
    """A scratch database owned by a fresh non-superuser login role (CREATEROLE, as ADR 0005 asks
    of a migration user that must grant itself ``patron_tenant``)."""
    assert PG_URL
    suffix = uuid.uuid4().hex[:10]
    user, name = f"patron_owner_{suffix}", f"patron_rls_{suffix}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{user}" LOGIN CREATEROLE')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{user}"')
    base = PG_URL.rsplit("/", 1)[0].replace("postgres@", f"{user}@", 1)
    yield user, f"{base}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{user}"')


def test_a_non_superuser_owner_migrates_and_is_walled_in(
    own_database: tuple[str, str], clock: MutableClock
) -> None:
    """The deployment the ADR describes: the tables' owner is an ordinary role, so forced RLS
    applies to all its work. The API works; unscoped work still sees every program, scoped work
    only its own."""
    user, url = own_database
    migrate.upgrade(url)
    box = build(Settings(database_url=url, auto_upgrade=False, pool_size=2), clock=clock)
    try:
        with TestClient(create_app(box), raise_server_exceptions=False) as client:
            platform = platform_key(box)
            alpha, beta = fill(client, platform, "alpha"), fill(client, platform, "beta")
        with box.uow(write=False) as uow:
            assert uow.connection.execute(sa.text("SELECT current_user")).scalar_one() == user
            for table in FILLED:
                assert program_ids(uow.connection, table) >= {alpha["id"], beta["id"]}, table
        with scoped(box, beta["id"]) as uow:
            for table in FILLED:
                assert program_ids(uow.connection, table) == {beta["id"]}, table
        with (
            scoped(box, beta["id"], write=True) as uow,
            pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
        ):
            uow.connection.execute(
                sa.text("UPDATE members SET program_id = :a"), {"a": alpha["id"]}
            )
    finally:
        box.close()


def test_a_migration_user_who_may_not_grant_the_role_is_told_what_to_do(
    own_database: tuple[str, str],
) -> None:
    user, url = own_database
    with psycopg.connect(PG_URL or "", autocommit=True) as conn:
        conn.execute(f'ALTER ROLE "{user}" NOCREATEROLE')
    with pytest.raises(sa.exc.DBAPIError, match=f"GRANT {TENANT_ROLE} TO {user}"):
        migrate.upgrade(url)


def test_an_application_user_who_may_not_take_the_role_is_refused_scoped_work(
    own_database: tuple[str, str],
) -> None:
    """Fail closed: without membership, scoped work errors instead of running unwalled."""
    user, url = own_database
    migrate.upgrade(url)
    with psycopg.connect(PG_URL or "", autocommit=True) as conn:
        conn.execute(f'REVOKE {TENANT_ROLE} FROM "{user}"')
    engine = make_engine(url, pool_size=1)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        with factory(write=False) as uow:  # unscoped work needs no membership
            assert program_ids(uow.connection, "programs") == set()
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied to set role"):
            factory.scoped("p-1")(write=False).__enter__()
    finally:
        engine.dispose()
