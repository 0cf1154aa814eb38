"""The CLI: database upgrade and platform keys, against a real database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from patron.bootstrap import build
from patron.cli.main import app
from patron.config import Settings
from patron.services import api_keys
from patron.services.transactions import run_read


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    return CliRunner()


def test_db_upgrade(runner: CliRunner) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "revision" in result.output


def test_keys_create_platform_prints_a_working_key_last(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--platform", "--name", "ops"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    container = build(Settings(database_url=db_url, auto_upgrade=False))
    try:
        key = run_read(container.uow, lambda uow: api_keys.authenticate(uow, secret))
    finally:
        container.close()
    assert key.role == "platform"
    assert key.name == "ops"
    assert key.program_id is None


def test_keys_create_for_an_unknown_program_fails_cleanly(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "create", "--program", "nope", "--name", "x"])
    assert result.exit_code == 4
    assert "program_not_found" in result.output


def test_keys_create_needs_a_scope(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "create", "--name", "x"])
    assert result.exit_code == 2
