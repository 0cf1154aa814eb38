"""``patron keys list`` and ``patron keys revoke`` against a real database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from patron.bootstrap import Container
from patron.cli import main as cli_main
from patron.cli.main import app
from patron.domain.audit import CLI
from patron.domain.errors import Unauthenticated
from patron.services import api_keys, programs
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_in_transaction, run_read
from tests.factories import platform_key


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    # The console was built when the CLI module was first imported, perhaps by another test of
    # this process: give it the width the environment now says.
    monkeypatch.setattr(cli_main.out, "width", 200)
    return CliRunner()


def _program_key(container: Container, name: str) -> api_keys.IssuedKey:
    def make(uow: UnitOfWork) -> api_keys.IssuedKey:
        program = programs.get_program(uow, "shop")
        return api_keys.issue_key(uow, container.clock, CLI, program=program, name=name, role="pos")

    return run_in_transaction(container.uow, make)


@pytest.fixture
def shop(container: Container) -> None:
    run_in_transaction(
        container.uow,
        lambda uow: programs.create_program(
            uow, container.clock, CLI, programs.NewProgram("shop", "Shop", "EUR", "UTC")
        ),
    )


def test_keys_list_shows_every_key_without_secrets(
    runner: CliRunner, container: Container, shop: None
) -> None:
    ops = platform_key(container, name="ops")
    till = _program_key(container, "front till")
    everything = runner.invoke(app, ["keys", "list"])
    assert everything.exit_code == 0, everything.output
    assert till.key.id in everything.stdout
    assert "front till" in everything.stdout
    assert "(platform)" in everything.stdout
    assert till.secret not in everything.stdout
    assert ops not in everything.stdout

    shop_only = runner.invoke(app, ["keys", "list", "--program", "shop"])
    assert shop_only.exit_code == 0, shop_only.output
    assert till.key.prefix in shop_only.stdout
    assert "(platform)" not in shop_only.stdout

    unknown = runner.invoke(app, ["keys", "list", "--program", "nope"])
    assert unknown.exit_code == 4
    assert "program_not_found" in unknown.output


def test_keys_revoke_refuses_the_key_from_then_on(
    runner: CliRunner, container: Container, shop: None
) -> None:
    till = _program_key(container, "front till")
    done = runner.invoke(app, ["keys", "revoke", till.key.id])
    assert done.exit_code == 0, done.output
    assert f"revoked pos key {till.key.prefix}" in done.stdout
    with pytest.raises(Unauthenticated):
        run_read(container.uow, lambda uow: api_keys.authenticate(uow, till.secret))
    again = runner.invoke(app, ["keys", "revoke", till.key.id])
    assert again.exit_code == 0
    assert "already revoked" in again.stdout


def test_keys_revoke_of_an_unknown_id_says_so(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "revoke", "0190-no-such-key"])
    assert result.exit_code == 4
    assert "api_key_not_found" in result.output
    assert "0190-no-such-key" in result.output
