"""The member page's "Send portal link" action: a one-time link emailed through the messages
pipeline (``portal.sign_in``), audited with the staff user as actor."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.console.conftest import form_token
from tests.factories import auth, enrol


def test_support_sends_a_portal_link(as_role: Any, web: TestClient, shop: dict[str, str]) -> None:
    member = enrol(web, shop["admin"], program="shop", email="ada@example.com")
    client = as_role("support")
    page = client.get(f"/console/programs/shop/members/{member['id']}")
    assert "Send portal link" in page.text
    sent = client.post(
        f"/console/programs/shop/members/{member['id']}/portal-link",
        data={"token": form_token(page.text)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "sign-in link is on its way" in client.get(sent.headers["location"]).text
    log = web.get(
        f"/v1/programs/shop/members/{member['id']}/messages", headers=auth(shop["admin"])
    ).json()
    items = log["items"] if isinstance(log, dict) else log
    emails = [m for m in items if m["event"] == "portal.sign_in" and m["channel"] == "email"]
    assert len(emails) == 1
    assert emails[0]["to"] == "ada@example.com"


def test_viewers_may_not(as_role: Any, web: TestClient, shop: dict[str, str]) -> None:
    member = enrol(web, shop["admin"], program="shop", email="ada@example.com")
    client = as_role("viewer")
    page = client.get(f"/console/programs/shop/members/{member['id']}")
    assert "Send portal link" not in page.text
    refused = client.post(
        f"/console/programs/shop/members/{member['id']}/portal-link",
        data={"token": form_token(page.text)},
    )
    assert refused.status_code == 403
