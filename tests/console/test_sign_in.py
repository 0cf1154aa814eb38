"""Signing in to the console: passwords, links, sessions, TOTP, rate limits, CSRF, headers."""

from __future__ import annotations

import pyotp
import pytest
from fastapi.testclient import TestClient

from patron.bootstrap import Container
from patron.console import security
from tests.console.conftest import PASSWORD, form_token, make_staff, sign_in
from tests.factories import MutableClock


def test_link_sets_a_password_and_signs_in(
    web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    token = make_staff(
        container, email="Grace@Example.com", role="manager", program="shop", password=None
    )
    page = web.get(f"/console/set-password/{token}")
    assert page.status_code == 200
    assert "grace@example.com" in page.text.lower()
    short = web.post(
        f"/console/set-password/{token}",
        data={"password": "short", "confirm": "short", "token": form_token(page.text)},
    )
    assert short.status_code == 422
    assert "at least 12 characters" in short.text
    done = web.post(
        f"/console/set-password/{token}",
        data={"password": PASSWORD, "confirm": PASSWORD, "token": form_token(short.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    home = web.get("/console/", follow_redirects=False)
    assert home.status_code == 303
    assert home.headers["location"] == "/console/programs/shop/"
    again = web.get(f"/console/set-password/{token}")
    assert again.status_code == 410  # the link works once


def test_wrong_password_and_unknown_email_answer_alike(
    web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    make_staff(container, email="ada@example.com", role="viewer", program="shop")
    wrong = sign_in(web, "ada@example.com", "not the password")
    unknown = sign_in(web, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.text
    assert "Wrong email or password" in unknown.text
    assert security.SESSION_COOKIE not in web.cookies


def test_failed_sign_ins_are_limited_per_account(
    web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    make_staff(container, email="ada@example.com", role="viewer", program="shop")
    for _ in range(5):
        assert sign_in(web, "ada@example.com", "guess").status_code == 401
    refused = sign_in(web, "ada@example.com", PASSWORD)  # even the right password now
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text


def test_pages_need_a_session_and_sign_out_ends_it(
    web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    assert (
        web.get("/console/", follow_redirects=False)
        .headers["location"]
        .startswith("/console/login")
    )
    make_staff(container, email="ada@example.com", role="viewer", program="shop")
    assert sign_in(web, "ada@example.com").status_code == 303
    account = web.get("/console/account")
    assert account.status_code == 200
    stolen = web.cookies[security.SESSION_COOKIE]
    out = web.post(
        "/console/logout", data={"token": form_token(account.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    web.cookies.set(security.SESSION_COOKIE, stolen, path="/console")
    assert web.get("/console/account", follow_redirects=False).status_code == 303  # revoked


def test_a_form_without_its_token_is_refused(
    web: TestClient, container: Container, shop: dict[str, str]
) -> None:
    make_staff(container, email="ada@example.com", role="viewer", program="shop")
    sign_in(web, "ada@example.com")
    assert web.post("/console/account/two-step/off", data={}).status_code == 403
    forged = web.post("/console/account/two-step/off", data={"token": "abc.def"})
    assert forged.status_code == 403


def test_sessions_expire_when_idle(
    web: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:

    make_staff(container, email="ada@example.com", role="viewer", program="shop")
    sign_in(web, "ada@example.com")
    assert web.get("/console/account").status_code == 200
    clock.advance(hours=3)
    assert web.get("/console/account", follow_redirects=False).status_code == 303


def test_totp_second_factor(
    web: TestClient, container: Container, shop: dict[str, str], clock: MutableClock
) -> None:
    make_staff(container, email="ada@example.com", role="viewer", program="shop")
    sign_in(web, "ada@example.com")
    setup = web.get("/console/account/two-step")
    import re

    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', setup.text).group(1)
    code = pyotp.TOTP(secret).at(clock.now())
    on = web.post(
        "/console/account/two-step",
        data={"token": form_token(setup.text), "secret": secret, "code": code},
        follow_redirects=False,
    )
    assert on.status_code == 303
    other = TestClient(web.app, base_url="http://testserver")
    with other:
        assert (
            sign_in(other, "ada@example.com").headers["location"].startswith("/console/login/code")
        )
        assert (
            other.get("/console/account", follow_redirects=False).headers["location"]
            == "/console/login/code"
        )
        page = other.get("/console/login/code")
        reused = other.post(
            "/console/login/code", data={"token": form_token(page.text), "code": code}
        )
        assert reused.status_code == 401  # the code that turned it on was used already

        clock.advance(seconds=60)
        fresh = pyotp.TOTP(secret).at(clock.now())
        ok = other.post(
            "/console/login/code",
            data={"token": form_token(page.text), "code": fresh, "next": "/console/account"},
            follow_redirects=False,
        )
        assert ok.status_code == 303
        assert other.get("/console/account").status_code == 200


def test_security_headers(web: TestClient, container: Container, shop: dict[str, str]) -> None:
    page = web.get("/console/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text
    assert " style=" not in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_sign_in_never_redirects_off_site(
    web: TestClient, container: Container, shop: dict[str, str], target: str
) -> None:
    make_staff(container, email="ada@example.com", role="viewer", program="shop")
    page = web.get("/console/login")
    done = web.post(
        "/console/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "token": form_token(page.text),
            "next": target,
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console/"
