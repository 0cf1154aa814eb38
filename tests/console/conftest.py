"""Console test fixtures: the web app (API + console) on every backend, staff users of each role,
and a signed-in test client per role.

``sign_in`` goes through the real pages (the sign-in form, its token and cookie); ``staff``
makes the account through the same service as ``patron staff create`` and uses its link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.domain.audit import CLI
from patron.services import programs, staff
from patron.services.transactions import run_in_transaction
from patron.web import create_app
from tests.factories import auth, create_program, platform_key, program_key
from tests.support_example import EXAMPLE_CONFIG

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def shop(web: TestClient, container: Container) -> dict[str, str]:
    """A program with the example configuration and an admin key."""
    key = platform_key(container)
    program = create_program(web, key, slug="shop", config=EXAMPLE_CONFIG)
    admin = program_key(web, key, program="shop", role="admin")
    return {"id": program["id"], "slug": "shop", "admin": admin, "platform": key}


def make_staff(
    container: Container,
    *,
    email: str,
    role: str,
    program: str | None,
    password: str | None = PASSWORD,
    **limits: Any,
) -> str:
    """Create a staff user and (unless ``password`` is None) set its password; the link token."""

    def action(uow: Any) -> staff.Created:
        found = programs.get_program(uow, program) if program else None
        return staff.create(
            uow, container.clock, CLI, email=email, role=role, program=found, **limits
        )

    made = run_in_transaction(container.uow, action)
    if password is not None:
        from patron.services import staff_sessions

        run_in_transaction(
            container.uow,
            lambda uow: staff_sessions.set_password(
                uow,
                container.clock,
                token=made.link_token,
                password=password,
                confirm=password,
                policy=staff_sessions.Policy(),
            ),
        )
    return made.link_token


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={
            "email": email,
            "password": password,
            "token": form_token(page.text),
            "next": "/console/",
        },
        follow_redirects=False,
    )


@pytest.fixture
def as_role(web: TestClient, container: Container, shop: dict[str, str]) -> Any:
    """``as_role("support")``: a client of the same app signed in as a new staff user of
    that role in ``shop``."""
    clients: list[TestClient] = []

    def make(role: str, **limits: Any) -> TestClient:
        email = f"{role}{len(clients)}@staff.example"
        make_staff(container, email=email, role=role, program="shop", **limits)
        client = TestClient(web.app, base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        assert sign_in(client, email).status_code == 303
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def member_for_pages(web: TestClient, container: Container, shop: dict[str, str]) -> dict[str, str]:
    """Path values of the page matrix: a member with a purchase, the messages they made (no
    transport: skipped, with their text, so they can be resent), and a template's pair."""
    from tests.api.message_support import run_messages
    from tests.factories import buy, enrol

    member = enrol(
        web,
        shop["admin"],
        program="shop",
        external_id="matrix-1",
        email="matrix@example.com",
        consents={"email": True},
    )
    buy(web, shop["admin"], program="shop", member=member["id"], external_id="M-1", amount="40.00")
    run_messages(container)
    log = web.get(
        f"/v1/programs/shop/members/{member['id']}/messages", headers=auth(shop["admin"])
    ).json()["items"]
    message = next(m["id"] for m in log if m["body"])
    return {
        "member": member["id"],
        "message": message,
        "event": "points.earned",
        "channel": "email",
    }


@pytest.fixture
def staff_for_pages(container: Container, shop: dict[str, str]) -> dict[str, str]:
    """Path values of the page matrix: another staff user of the program (a support agent)."""
    make_staff(container, email="colleague@staff.example", role="support", program="shop")

    def find(uow: Any) -> str:
        found = uow.staff.credentials("colleague@staff.example")
        return str(found.user.id)

    return {"staff_id": run_in_transaction(container.uow, find)}
