"""Every console route by every role: the status SPEC §9's table gives (page_matrix.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.console.conftest import form_token
from tests.console.page_matrix import ACCOUNT, ANONYMOUS, FORMS, PAGES, ROLES


def _flat(routes: list[Any]) -> list[Any]:
    """Routes, with those of included routers (which FastAPI may keep wrapped) unwrapped."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _flat(inner.routes) if inner is not None else [route]
    return found


def console_routes(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in _flat(app.routes):
        if isinstance(route, APIRoute) and route.path.startswith("/console"):
            for method in route.methods - {"HEAD"}:
                found.add((method, route.path))
    return found


def test_every_console_route_has_a_row(web: TestClient) -> None:
    known = set(PAGES) | set(ACCOUNT) | ANONYMOUS
    missing = sorted(console_routes(web.app) - known)
    assert not missing, f"console routes without a row in page_matrix.py: {missing}"
    stale = sorted(known - console_routes(web.app))
    assert not stale, f"rows for routes that do not exist: {stale}"


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says(
    role: str,
    as_role: Any,
    shop: dict[str, str],
    member_for_pages: dict[str, str],
    staff_for_pages: dict[str, str],
) -> None:
    client = as_role(role)
    values = {"program": shop["slug"], **member_for_pages, **staff_for_pages}
    wrong = []
    for (method, template), expected in sorted({**ACCOUNT, **PAGES}.items()):
        path = _fill(template, values)
        if method == "GET":
            got = client.get(path, follow_redirects=False).status_code
        else:
            token = form_token(client.get("/console/account").text)
            body = {**FORMS.get((method, template), {}), "token": token}
            got = client.post(path, data=body, follow_redirects=False).status_code
        if got != expected[role]:
            wrong.append(f"{method} {template}: {got}, expected {expected[role]}")
    assert not wrong, "\n".join(wrong)
