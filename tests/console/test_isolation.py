"""The isolation walker over console URLs: one program's staff never reach another program.

Every program-scoped console route (``/console/programs/{program}/...``), GET and POST, is
requested by an owner of program A with B's slug and B's objects in the path: each answers 404,
as the API does, and nothing of B is written. An owner of every program reaches both.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.services.transactions import run_read
from tests.conftest import table_counts
from tests.console.conftest import form_token, make_staff, sign_in
from tests.console.page_matrix import FORMS, PAGES
from tests.console.test_page_roles import _fill, console_routes
from tests.factories import buy, create_program, enrol, program_key

PREFIX = "/console/programs/{program}"


def _staff_id(container: Container, email: str) -> str:
    found = run_read(container.uow, lambda uow: uow.staff.credentials(email))
    assert found is not None
    return str(found.user.id)


@pytest.fixture
def two(web: TestClient, container: Container, shop: dict[str, str]) -> dict[str, Any]:
    """Programs A (``shop``) and B (``other``), each with a member and a staff user."""
    create_program(web, shop["platform"], slug="other")
    other = program_key(web, shop["platform"], program="other", role="admin")
    found: dict[str, dict[str, str]] = {}
    for slug, key in (("shop", shop["admin"]), ("other", other)):
        member = enrol(web, key, program=slug, external_id=f"{slug}-1", email=f"x@{slug}.example")
        buy(web, key, program=slug, member=member["id"], external_id=f"{slug}-P1")
        email = f"colleague@{slug}.example"
        make_staff(container, email=email, role="support", program=slug)
        found[slug] = {
            "program": slug,
            "event": "points.earned",
            "channel": "email",
            "member": member["id"],
            "staff_id": _staff_id(container, email),
        }
    return found


def _signed_in(web: TestClient, email: str) -> TestClient:
    client = TestClient(web.app, base_url="http://testserver")
    client.__enter__()
    assert sign_in(client, email).status_code == 303
    return client


def test_a_programs_staff_get_404_on_every_route_of_another(
    web: TestClient, container: Container, two: dict[str, Any]
) -> None:
    make_staff(container, email="boss@shop.example", role="owner", program="shop")
    client = _signed_in(web, "boss@shop.example")
    try:
        routes = sorted(r for r in console_routes(web.app) if r[1].startswith(PREFIX))
        assert routes, "no program-scoped console routes found"
        before = table_counts(container)
        wrong = []
        for method, template in routes:
            path = _fill(template, two["other"])
            path = _fill(path, {"token": "x"})  # any other parameter: B is refused first
            if method == "GET":
                got = client.get(path, follow_redirects=False).status_code
            else:
                token = form_token(client.get("/console/account").text)
                body = {**FORMS.get((method, template), {}), "token": token}
                got = client.post(path, data=body, follow_redirects=False).status_code
            if got != 404:
                wrong.append(f"{method} {template}: {got}")
        assert not wrong, "another program's console routes answered:\n" + "\n".join(wrong)
        assert table_counts(container) == before, "a request to another program wrote rows"
        # the same staff user does reach its own program
        assert client.get(_fill(PREFIX + "/audit", two["shop"])).status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_an_owner_of_every_program_reaches_both(
    web: TestClient, container: Container, two: dict[str, Any]
) -> None:
    make_staff(container, email="root@staff.example", role="owner", program=None)
    client = _signed_in(web, "root@staff.example")
    try:
        pages = [
            template
            for (method, template), roles in PAGES.items()
            if method == "GET" and roles["owner"] == 200
        ]
        for slug in ("shop", "other"):
            for template in pages:
                path = _fill(template, two[slug])
                assert "{" not in path, f"no value for {template}"
                got = client.get(path, follow_redirects=False)
                assert got.status_code == 200, f"{slug}: {template}: {got.status_code}"
        assert client.get("/console/", follow_redirects=False).status_code == 200  # two programs
    finally:
        client.__exit__(None, None, None)
