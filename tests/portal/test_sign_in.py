"""Portal sign-in: SSO links from the API, email links, sessions and their end (SPEC §10)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from patron.adapters.db.tables import metadata
from patron.bootstrap import Container
from patron.services import jobs, messages, portal
from tests.api.message_support import run_messages
from tests.factories import MutableClock, auth
from tests.portal.conftest import form_token, make_member, mint, path_of, signed_in


def test_an_sso_link_signs_in_once(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], clock: MutableClock
) -> None:
    link = mint(web, shop, member["id"])
    assert link["url"].startswith("http://")
    assert "/portal/shop/sign-in/" in link["url"]
    expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert (expires - clock.now().astimezone(UTC)).total_seconds() == 15 * 60
    client = TestClient(web.app, base_url="http://testserver")
    opened = client.get(path_of(link["url"]), follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/portal/shop/"
    cookie = opened.headers["set-cookie"]
    assert "patron_portal=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/portal/shop" in cookie
    assert "Secure" not in cookie  # http public URL
    home = client.get("/portal/shop/")
    assert home.status_code == 200
    assert "Balance" in home.text
    assert "Tier" in home.text
    assert "550" in home.text  # 500 + the example's 50 sign-up points
    again = TestClient(web.app, base_url="http://testserver").get(path_of(link["url"]))
    assert again.status_code == 410
    assert "already used" in again.text
    assert 'name="email"' in again.text  # a way to ask for a new one


def test_an_expired_link_is_refused(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], clock: MutableClock
) -> None:
    link = mint(web, shop, member["id"])
    clock.advance(minutes=16)
    client = TestClient(web.app, base_url="http://testserver")
    refused = client.get(path_of(link["url"]), follow_redirects=False)
    assert refused.status_code == 410
    assert "expired" in refused.text
    assert client.get("/portal/shop/", follow_redirects=False).status_code == 303


def test_a_forged_link_and_no_session(web: TestClient, shop: dict[str, str]) -> None:
    client = TestClient(web.app, base_url="http://testserver")
    assert client.get("/portal/shop/sign-in/nonsense").status_code == 410
    away = client.get("/portal/shop/rewards", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/portal/shop/login"


def test_secure_cookie_on_https(container: Container, shop: dict[str, str], member: Any) -> None:
    from patron.web import create_app

    object.__setattr__(container.settings, "secure_cookies", True)
    with TestClient(create_app(container), base_url="https://testserver") as web:
        link = mint(web, shop, member["id"])
        opened = web.get(path_of(link["url"]), follow_redirects=False)
        assert "Secure" in opened.headers["set-cookie"]


def test_return_url_must_be_https(
    web: TestClient, shop: dict[str, str], member: dict[str, Any]
) -> None:
    bad = web.post(
        f"/v1/programs/shop/members/{member['id']}/portal-link",
        json={"return_url": "javascript:alert(1)"},
        headers=auth(shop["pos"]),
    )
    assert bad.status_code == 422
    link = mint(web, shop, member["id"], return_url="https://shop.example/account")
    client = TestClient(web.app, base_url="http://testserver")
    client.get(path_of(link["url"]))
    assert 'href="https://shop.example/account"' in client.get("/portal/shop/").text


def test_admin_keys_mint_too(web: TestClient, shop: dict[str, str], member: Any) -> None:
    made = web.post(
        f"/v1/programs/shop/members/{member['id']}/portal-link",
        json={},
        headers=auth(shop["admin"]),
    )
    assert made.status_code == 201


def test_sign_out_ends_the_session(portal_client: TestClient) -> None:
    home = portal_client.get("/portal/shop/")
    out = portal_client.post(
        "/portal/shop/logout", data={"token": form_token(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert portal_client.get("/portal/shop/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("how", ["frozen", "closed", "erased"])
def test_freeze_closure_and_erasure_end_the_session(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], how: str
) -> None:
    client = signed_in(web, shop, member["id"])
    unused = mint(web, shop, member["id"])
    assert client.get("/portal/shop/").status_code == 200
    if how == "erased":
        done = web.post(
            f"/v1/programs/shop/members/{member['id']}/erase", headers=auth(shop["admin"])
        )
    else:
        done = web.patch(
            f"/v1/programs/shop/members/{member['id']}",
            json={"status": how},
            headers=auth(shop["admin"]),
        )
    assert done.status_code == 200, done.text
    assert client.get("/portal/shop/", follow_redirects=False).status_code == 303
    if how == "frozen":
        web.patch(
            f"/v1/programs/shop/members/{member['id']}",
            json={"status": "active"},
            headers=auth(shop["admin"]),
        )
        # revoked for good: unfreezing does not bring the session or the link back
        assert client.get("/portal/shop/", follow_redirects=False).status_code == 303
        fresh = TestClient(web.app, base_url="http://testserver")
        assert fresh.get(path_of(unused["url"])).status_code == 410
    else:
        refused = web.post(
            f"/v1/programs/shop/members/{member['id']}/portal-link",
            json={},
            headers=auth(shop["pos"]),
        )
        assert refused.status_code == 422


def messages_of(web: TestClient, shop: dict[str, str], member_id: str) -> list[dict[str, Any]]:
    found = web.get(f"/v1/programs/shop/members/{member_id}/messages", headers=auth(shop["admin"]))
    assert found.status_code == 200, found.text
    body = found.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


def ask(client: TestClient, email: str, slug: str = "shop") -> Any:
    page = client.get(f"/portal/{slug}/login")
    return client.post(
        f"/portal/{slug}/login", data={"email": email, "token": form_token(page.text)}
    )


def rows(container: Container) -> dict[str, int]:
    with container.engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def sign_ins(web: TestClient, shop: dict[str, str], member_id: str) -> list[dict[str, Any]]:
    log = messages_of(web, shop, member_id)
    return [m for m in log if m["event"] == "portal.sign_in" and m["channel"] == "email"]


def test_email_sign_in_never_reveals_enrolment(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], container: Container
) -> None:
    """An enrolled and an unknown address get the same answer (status, headers, body, the page
    it leads to) from the same work: one sign-in request written, nothing read back, no link,
    no message, no audit record. The worker then emails the member alone."""
    container.limiter.reset()
    answers, pages, writes = {}, {}, {}
    for email in ("ADA@example.com", "nobody@example.com"):
        client = TestClient(web.app, base_url="http://testserver")
        token = form_token(client.get("/portal/shop/login").text)
        before = rows(container)
        answer = client.post(
            "/portal/shop/login", data={"email": email, "token": token}, follow_redirects=False
        )
        after = rows(container)
        writes[email] = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        answers[email] = (
            answer.status_code,
            sorted((k, v.replace(email, "X")) for k, v in answer.headers.multi_items()),
            answer.content,
        )
        pages[email] = client.get(answer.headers["location"]).text.replace(email, "X")
    known, unknown = answers.values()
    assert known[0] == 303
    assert known == unknown
    assert pages["ADA@example.com"] == pages["nobody@example.com"]
    assert writes == {
        "ADA@example.com": {"portal_sign_in_requests": 1},
        "nobody@example.com": {"portal_sign_in_requests": 1},
    }
    assert sign_ins(web, shop, member["id"]) == []
    assert run_messages(container) >= 1
    sent = sign_ins(web, shop, member["id"])
    assert len(sent) == 1
    assert sent[0]["to"] == "ada@example.com"
    left = rows(container)
    assert left["portal_sign_in_requests"] == 0
    assert left["portal_links"] == 1  # none for the unknown address
    run_messages(container)
    assert len(sign_ins(web, shop, member["id"])) == 1  # each request is answered once


def test_a_failed_worker_run_loses_no_sign_in_request(
    web: TestClient,
    shop: dict[str, str],
    member: dict[str, Any],
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container.limiter.reset()
    ask(TestClient(web.app, base_url="http://testserver"), "ada@example.com")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the worker dies while queueing the email")

    with monkeypatch.context() as patched:
        patched.setattr(messages, "queue_direct", broken)
        with pytest.raises(RuntimeError):
            run_messages(container)
    after = rows(container)
    assert after["portal_sign_in_requests"] == 1  # still there for the next run
    assert after["portal_links"] == 0  # the link minted before the failure was rolled back
    run_messages(container)
    assert len(sign_ins(web, shop, member["id"])) == 1
    assert rows(container)["portal_sign_in_requests"] == 0


def test_erasure_deletes_a_waiting_sign_in_request(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], container: Container
) -> None:
    container.limiter.reset()
    client = TestClient(web.app, base_url="http://testserver")
    ask(client, "ADA@example.com")
    ask(client, "nobody@example.com")
    assert rows(container)["portal_sign_in_requests"] == 2
    erased = web.post(
        f"/v1/programs/shop/members/{member['id']}/erase", headers=auth(shop["admin"])
    )
    assert erased.status_code == 200, erased.text
    assert rows(container)["portal_sign_in_requests"] == 1  # the other address's stays
    run_messages(container)
    assert sign_ins(web, shop, member["id"]) == []
    assert rows(container)["portal_links"] == 0


def test_requests_are_answered_in_batches(
    web: TestClient,
    shop: dict[str, str],
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container.limiter.reset()
    monkeypatch.setattr(portal, "REQUEST_BATCH", 2)
    people = [make_member(web, shop, email=f"p{n}@example.com", points=0) for n in range(3)]
    client = TestClient(web.app, base_url="http://testserver")
    for n in range(3):
        ask(client, f"p{n}@example.com")
    ask(client, "stranger@example.com")
    assert rows(container)["portal_sign_in_requests"] == 4
    report = jobs.run_due(container.uow, container.clock.now(), outlets=container.outlets())
    assert report.done["shop"]["sign_in"] == 3
    assert [len(sign_ins(web, shop, p["id"])) for p in people] == [1, 1, 1]
    assert rows(container)["portal_sign_in_requests"] == 0


def test_the_emailed_link_signs_in_after_a_click(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], container: Container
) -> None:
    client = TestClient(web.app, base_url="http://testserver")
    ask(client, "ada@example.com")
    run_messages(container)
    body = _sign_in_body(container, member["id"])
    url = next(w for w in body.split() if "/portal/shop/sign-in/" in w)
    path = path_of(url.strip(".,<>\"'"))
    shown = client.get(path)  # a mail scanner's fetch does not spend it
    assert shown.status_code == 200
    assert client.get(path).status_code == 200
    done = client.post(path, data={"token": form_token(shown.text)}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/portal/shop/").status_code == 200


def _sign_in_body(container: Container, member_id: str) -> str:
    from patron.adapters.db import tables as t

    with container.engine.connect() as conn:
        row = conn.execute(
            sa.select(t.messages.c.body).where(
                t.messages.c.member_id == member_id,
                t.messages.c.event == "portal.sign_in",
                t.messages.c.channel == "email",
            )
        ).first()
    assert row is not None
    assert row[0]
    return str(row[0])


def test_email_requests_are_rate_limited(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], container: Container
) -> None:
    container.limiter.reset()
    client = TestClient(web.app, base_url="http://testserver")
    answers = [ask(client, "ada@example.com").status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200]
    assert answers[3] == 429
    assert rows(container)["portal_sign_in_requests"] == 3
    run_messages(container)
    assert len(sign_ins(web, shop, member["id"])) == 3
    container.limiter.reset()


def test_login_needs_its_form_token(web: TestClient, shop: dict[str, str]) -> None:
    client = TestClient(web.app, base_url="http://testserver")
    refused = client.post("/portal/shop/login", data={"email": "ada@example.com"})
    assert refused.status_code == 403


def test_unknown_program_is_404(web: TestClient, shop: dict[str, str]) -> None:
    assert web.get("/portal/nowhere/login").status_code == 404
    assert web.get("/portal/nowhere/").status_code == 404


def test_another_program_session_is_not_accepted(
    web: TestClient, shop: dict[str, str], member: dict[str, Any], container: Container
) -> None:
    from tests.factories import platform_key
    from tests.portal.conftest import make_program

    other = make_program(web, platform_key(container, name="other"), "other")
    client = signed_in(web, shop, member["id"])
    # the cookie's path keeps it to /portal/shop; even sent by hand it opens nothing elsewhere
    token = next(c.value for c in client.cookies.jar if c.name == "patron_portal")
    stranger = TestClient(web.app, base_url="http://testserver")
    stranger.cookies.set("patron_portal", token, path="/portal/other")
    assert stranger.get("/portal/other/", follow_redirects=False).status_code == 303
    assert make_member(web, other, email="x@example.com")


OPEN = {
    ("GET", "/portal/{program}/login"): 200,
    ("POST", "/portal/{program}/login"): 403,  # no form token
    ("GET", "/portal/{program}/login/sent"): 200,
    ("GET", "/portal/{program}/sign-in/{token}"): 410,
    ("POST", "/portal/{program}/sign-in/{token}"): 403,
    ("GET", "/portal/{program}/goodbye"): 200,
    ("GET", "/portal/{program}/launcher.json"): 200,  # public branding for the launcher
    ("GET", "/portal/{program}/theme.css"): 200,
}


def test_every_other_portal_route_needs_a_session(web: TestClient, shop: dict[str, str]) -> None:
    from fastapi.routing import APIRoute

    from tests.console.test_page_roles import _flat

    client = TestClient(web.app, base_url="http://testserver")
    walked = 0
    for route in _flat(web.app.routes):
        if not (isinstance(route, APIRoute) and route.path.startswith("/portal/")):
            continue
        for method in route.methods - {"HEAD"}:
            path = (
                route.path.replace("{program}", "shop")
                .replace("{token}", "x")
                .replace("{code}", "coffee")
                .replace("{redemption}", "x")
            )
            answer = client.request(method, path, follow_redirects=False)
            expected = OPEN.get((method, route.path), 303)
            assert answer.status_code == expected, (method, route.path, answer.status_code)
            if expected == 303:
                assert answer.headers["location"] == "/portal/shop/login"
            walked += 1
    assert walked >= len(OPEN) + 8
