"""``patron staff create`` and the demo's console sign-in link, run for real: the printed links
open the set-password page of the web app (what ``patron serve`` runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from patron.bootstrap import Container
from patron.cli import main as cli_main
from patron.cli.main import app
from patron.services import demo
from patron.web import create_app
from tests.console.conftest import PASSWORD, form_token
from tests.factories import create_program, platform_key


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATRON_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli_main.out, "width", 200)
    return CliRunner()


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def _path(link: str) -> str:
    assert link.startswith("http://127.0.0.1:8000/console/set-password/"), link
    return link.removeprefix("http://127.0.0.1:8000")


def test_staff_create_prints_a_link_that_works(
    runner: CliRunner, web: TestClient, container: Container
) -> None:
    create_program(web, platform_key(container), slug="shop")
    made = runner.invoke(
        app,
        ["staff", "create", "--email", "ada@example.com", "--role", "manager", "--program", "shop"],
    )
    assert made.exit_code == 0, made.output
    link = made.stdout.strip().splitlines()[-1]
    page = web.get(_path(link))
    assert page.status_code == 200
    assert "ada@example.com" in page.text
    done = web.post(
        _path(link),
        data={"password": PASSWORD, "confirm": PASSWORD, "token": form_token(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert web.get("/console/programs/shop/audit").status_code == 200  # a manager may read it


def test_staff_create_refuses_a_bad_role_or_a_missing_program(
    runner: CliRunner, container: Container, web: TestClient
) -> None:
    create_program(web, platform_key(container), slug="shop")
    bad_role = runner.invoke(
        app, ["staff", "create", "--email", "a@example.com", "--role", "boss", "--program", "shop"]
    )
    assert bad_role.exit_code == 2  # invalid input
    assert "owner, manager, marketer, support, viewer" in bad_role.output
    assert "/console/set-password/" not in bad_role.stdout
    missing = runner.invoke(
        app,
        ["staff", "create", "--email", "a@example.com", "--role", "viewer", "--program", "nope"],
    )
    assert missing.exit_code == 4  # not found
    assert "no program 'nope'" in missing.output
    assert "/console/set-password/" not in missing.stdout
    every = runner.invoke(app, ["staff", "create", "--email", "a@example.com", "--role", "viewer"])
    assert every.exit_code == 2
    assert "only an owner may hold every program" in every.output


def test_the_demo_announces_a_console_sign_in_link_that_works(
    runner: CliRunner, web: TestClient
) -> None:
    first = runner.invoke(app, ["demo", "--members", "10", "--days", "5"])
    assert first.exit_code == 0, first.output
    assert "Console:      http://127.0.0.1:8000/console/" in first.stdout
    [line] = [x for x in first.stdout.splitlines() if "Sign in:" in x]
    link = line.split()[2]
    assert demo.DEMO_OWNER in line
    page = web.get(_path(link))
    assert page.status_code == 200
    done = web.post(
        _path(link),
        data={"password": PASSWORD, "confirm": PASSWORD, "token": form_token(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    home = web.get("/console/", follow_redirects=False)
    assert home.headers["location"] == "/console/programs/demo/"
    assert web.get("/console/programs/demo/staff").status_code == 200  # the demo owner's screen
    again = runner.invoke(app, ["demo", "--members", "10", "--days", "5"])  # a restart
    [line2] = [x for x in again.stdout.splitlines() if "Sign in:" in x]
    assert line2.split()[2] != link  # a fresh link each start
    assert web.get(_path(line2.split()[2])).status_code == 200
    assert web.get(_path(link)).status_code == 410  # the first was used


def test_home_points_to_the_console(web: TestClient) -> None:
    landing = web.get("/", headers={"Accept": "text/html"})
    assert 'href="/console/"' in landing.text
    assert (
        web.get("/console/", follow_redirects=False)
        .headers["location"]
        .startswith("/console/login")
    )
