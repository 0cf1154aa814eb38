"""A database that was never migrated, or is behind the latest migration, is not ready: health
says so (503 naming what is missing), every CLI command that needs the schema says "run `patron
db upgrade`" in one line and exits non-zero, and the job loop logs one clear line instead of a
traceback on every tick. On an empty PostgreSQL database and an empty SQLite file (auto-upgrade
off)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from patron.adapters.db import migrate
from patron.api.app import create_app
from patron.bootstrap import Container, build
from patron.cli.main import EXIT_NOT_READY, app
from patron.cli.worker import JobLoop
from patron.config import Settings
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    assert PG_URL
    name = f"patron_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def box(empty_url: str) -> Iterator[Container]:
    container = build(Settings(database_url=empty_url, auto_upgrade=False, pool_size=2))
    yield container
    container.close()


def _previous(revision: str) -> str:
    down = migrate._scripts().get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


HEAD = migrate._scripts().get_current_head() or ""


def test_health_is_not_ready_until_the_schema_is_current(box: Container, empty_url: str) -> None:
    with TestClient(create_app(box)) as client:
        answer = client.get("/healthz")
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["code"] == "schema_not_migrated"
        assert "patron db upgrade" in problem["detail"]
        assert problem["current_revision"] is None
        assert problem["head_revision"] == HEAD
        assert problem["missing_migrations"][-1] == HEAD

        behind = _previous(HEAD)
        migrate.upgrade(empty_url, behind)
        problem = client.get("/healthz").json()
        assert (problem["status"], problem["code"]) == (503, "schema_not_migrated")
        assert problem["current_revision"] == behind
        assert problem["missing_migrations"] == [HEAD]
        assert f"at revision {behind}, Patron needs {HEAD}" in problem["detail"]

        migrate.upgrade(empty_url)
        ready = client.get("/healthz")
        assert ready.status_code == 200
        assert ready.json()["schema_revision"] == HEAD


COMMANDS = [
    ["keys", "create", "--platform", "--name", "ops"],
    ["audit"],
    ["jobs", "run"],
    ["report", "--program", "shop"],
    ["export", "members", "--program", "shop"],
    ["worker"],
    ["serve", "--port", "1"],
    ["demo", "--members", "10"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_cli_commands_say_run_db_upgrade_in_one_line(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", empty_url)
    monkeypatch.setenv("PATRON_AUTO_UPGRADE", "false")
    result = CliRunner().invoke(app, command)
    assert result.exit_code == EXIT_NOT_READY, result.output
    assert result.stderr.strip().splitlines() == [
        "error: the database has no Patron schema yet: run `patron db upgrade`"
    ]
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_database_behind_is_refused_and_upgrade_makes_it_work(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", empty_url)
    monkeypatch.setenv("PATRON_AUTO_UPGRADE", "false")
    migrate.upgrade(empty_url, _previous(HEAD))
    runner = CliRunner()
    refused = runner.invoke(app, ["audit"])
    assert refused.exit_code == EXIT_NOT_READY
    [line] = refused.stderr.strip().splitlines()
    assert "(1 migration(s) missing): run `patron db upgrade`" in line

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    audited = runner.invoke(app, ["audit"])
    assert audited.exit_code == 0, audited.output
    assert "clean" in audited.stdout


def test_an_unreachable_database_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", "postgresql://patron@127.0.0.1:1/patron")
    result = CliRunner().invoke(app, ["audit"])
    assert result.exit_code == EXIT_NOT_READY
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the database:")


def test_help_needs_no_database(monkeypatch: pytest.MonkeyPatch, empty_url: str) -> None:
    monkeypatch.setenv("PATRON_DATABASE_URL", empty_url)
    monkeypatch.setenv("PATRON_AUTO_UPGRADE", "false")
    result = CliRunner().invoke(app, ["db", "--help"])
    assert result.exit_code == 0
    assert "upgrade" in result.stdout


def test_the_job_loop_logs_one_line_and_no_traceback(
    box: Container, empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    loop = JobLoop(box, 60)
    with caplog.at_level(logging.INFO, logger="patron.jobs"):
        for _ in range(3):
            assert loop.tick() is None
            assert loop.deliver() == 0
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "scheduled jobs paused: the database has no Patron schema yet: run `patron db upgrade`",
        )
    ]
    assert all(r.exc_info is None for r in caplog.records)

    caplog.clear()
    migrate.upgrade(empty_url)
    with caplog.at_level(logging.INFO, logger="patron.jobs"):
        assert loop.tick() is not None
    assert "scheduled jobs resumed" in caplog.records[0].getMessage()
