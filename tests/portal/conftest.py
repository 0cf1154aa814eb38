"""Member portal test fixtures: the web app (API + console + portal) on every backend, a program
with a reward and a member with points, and ``portal_client`` signed in through an SSO link
minted by the API (the way a merchant's site sends its shopper)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.web import create_app
from tests.factories import COFFEE, auth, create_program, enrol, platform_key, program_key
from tests.support_example import EXAMPLE_CONFIG

TOKEN = re.compile(r'name="token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


@pytest.fixture
def web(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as test_client:
        yield test_client


def make_program(web: TestClient, key: str, slug: str, **config: Any) -> dict[str, str]:
    program = create_program(web, key, slug=slug, config={**EXAMPLE_CONFIG, **config})
    admin = program_key(web, key, program=slug, role="admin")
    pos = program_key(web, key, program=slug, role="pos")
    made = web.post(f"/v1/programs/{slug}/rewards", json=COFFEE, headers=auth(admin))
    assert made.status_code == 201, made.text
    return {"id": program["id"], "slug": slug, "admin": admin, "pos": pos}


@pytest.fixture
def shop(web: TestClient, container: Container) -> dict[str, str]:
    """A program with the example configuration, admin and pos keys, and the coffee reward."""
    return make_program(web, platform_key(container), "shop")


def make_member(
    web: TestClient, program: dict[str, str], *, points: int = 500, **fields: Any
) -> dict[str, Any]:
    fields.setdefault("first_name", "Ada")
    member = enrol(web, program["admin"], program=program["slug"], **fields)
    if points:
        done = web.post(
            f"/v1/programs/{program['slug']}/members/{member['id']}/adjustments",
            json={"wallet": "points", "amount": points, "reason": "welcome gift"},
            headers=auth(program["admin"]),
        )
        assert done.status_code == 201, done.text
    return member


@pytest.fixture
def member(web: TestClient, shop: dict[str, str]) -> dict[str, Any]:
    return make_member(web, shop, email="ada@example.com", external_id="ada")


def mint(web: TestClient, program: dict[str, str], member_id: str, **body: Any) -> dict[str, Any]:
    made = web.post(
        f"/v1/programs/{program['slug']}/members/{member_id}/portal-link",
        json=body,
        headers=auth(program["pos"]),
    )
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def signed_in(web: TestClient, program: dict[str, str], member_id: str) -> TestClient:
    """A new client of the same app, signed in to ``member_id``'s portal by an SSO link."""
    client = TestClient(web.app, base_url="http://testserver")
    link = mint(web, program, member_id)
    opened = client.get(path_of(link["url"]), follow_redirects=False)
    assert opened.status_code == 303, opened.text
    return client


@pytest.fixture
def portal_client(web: TestClient, shop: dict[str, str], member: dict[str, Any]) -> TestClient:
    return signed_in(web, shop, member["id"])
