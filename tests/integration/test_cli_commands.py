"""The CLI commands that build or run things, run for real: ``db upgrade`` on an empty
database, ``worker`` until it has done a due job and is stopped, ``demo`` on a small size."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from patron.adapters.db import migrate
from patron.adapters.db.engine import make_engine
from patron.adapters.db.tables import metadata
from patron.bootstrap import Container
from patron.cli.main import app
from patron.services import ledger
from tests.conftest import PG_URL
from tests.factories import MutableClock
from tests.ledger_support import audit, balance, in_ledger, new_member, new_program
from tests.support_example import EXAMPLE_CONFIG

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nothing was ever written to: a new SQLite file, an empty PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    if not PG_URL:
        pytest.skip("PATRON_TEST_POSTGRES_URL not set")
    name = f"patron_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_db_upgrade_builds_the_schema_on_an_empty_database(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", empty_url)
    engine = make_engine(empty_url)
    try:
        assert migrate.current_revision(engine) is None
        result = CliRunner().invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        head = migrate.head_revision(empty_url)
        assert head is not None
        assert f"database at revision {head}" in result.output
        assert migrate.current_revision(engine) == head
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert set(sa.inspect(conn).get_table_names()) >= set(metadata.tables)
    finally:
        engine.dispose()


def run_patron(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from patron.cli.main import main; main()", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_worker_runs_a_due_job_and_stops_cleanly_on_sigterm(
    db_url: str, container: Container, clock: MutableClock
) -> None:
    config = copy.deepcopy(EXAMPLE_CONFIG)
    config["wallets"]["points"]["pending_days"] = 14
    program = new_program(container, slug="club", config=config)
    member = new_member(container, program)
    # Earned 20 days before the real clock the worker reads: due for release now.
    clock.at = datetime.now(UTC) - timedelta(days=20)
    in_ledger(container, program, lambda c: ledger.earn(c, member, wallet="points", amount=80))
    assert balance(container, program, member).pending == 80

    worker = run_patron(
        "worker",
        "--interval",
        "0.2",
        env={"PATRON_DATABASE_URL": db_url, "PATRON_AUTO_UPGRADE": "false"},
    )
    try:
        deadline = time.monotonic() + 60
        while balance(container, program, member).available != 80:
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker did not release the points"
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        out, errors = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, errors
    assert "patron worker: stopped" in out
    assert "Traceback" not in errors
    assert audit(container) == []


def test_demo_creates_a_small_demo_program_whose_books_are_clean(
    db_url: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--members", "10", "--days", "20"])
    assert result.exit_code == 0, result.output
    assert "demo program 'demo' (created" in result.output
    assert "Admin key:" in result.output
    with container.engine.connect() as conn:
        members = conn.exec_driver_sql("SELECT count(*) FROM members").scalar_one()
        purchases = conn.exec_driver_sql("SELECT count(*) FROM purchases").scalar_one()
    assert members == 10
    assert purchases > 0
    again = runner.invoke(app, ["demo", "--members", "10", "--days", "20"])
    assert again.exit_code == 0, again.output
    assert "already there" in again.output
    checked = runner.invoke(app, ["audit", "--program", "demo"])
    assert checked.exit_code == 0, checked.output
    assert "clean" in checked.output
