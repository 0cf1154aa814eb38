"""Signing in and out in a real browser: the sign-in page, a wrong password, sign-out ending the
session, a form without its token refused, and the account page (docs/console.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, assert_fits, shoot, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_lands_on_the_page_asked_for(desktop: Page, staff: Any) -> None:
    email = staff("manager")
    desktop.goto("/console/account")
    expect(desktop).to_have_url(re.compile(r"/console/login\?next=(/|%2F)console(/|%2F)account$"))
    expect(desktop.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(desktop)
    shoot(desktop, "sign-in")

    desktop.get_by_label("Email").fill(email)
    desktop.get_by_label("Password").fill("correct horse battery staple")
    desktop.get_by_role("button", name="Sign in").click()

    expect(desktop).to_have_url(re.compile(r"/console/account$"))
    expect(desktop.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    expect(desktop.get_by_text(email)).to_be_visible()
    expect(desktop.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(desktop)
    shoot(desktop, "account")


def test_a_wrong_password_says_so_and_signs_nobody_in(desktop: Page, staff: Any) -> None:
    email = staff("manager")
    sign_in(desktop, email, "not the password", to="/console/account")

    expect(desktop.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(desktop.get_by_label("Email")).to_have_value(email)
    expect(desktop.get_by_label("Password")).to_have_value("")
    assert_accessible(desktop)
    desktop.goto("/console/account")
    expect(desktop.get_by_role("heading", name="Sign in")).to_be_visible()


def test_sign_out_ends_the_session(desktop: Page, staff: Any) -> None:
    sign_in(desktop, staff("viewer"), to="/console/account")
    expect(desktop.get_by_role("heading", name="Your account")).to_be_visible()

    desktop.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(desktop.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(desktop.get_by_role("status")).to_have_text("You are signed out.")

    desktop.go_back()  # pages are not cached: going back asks the server, which says sign in
    expect(desktop.get_by_role("heading", name="Sign in")).to_be_visible()
    desktop.goto("/console/account")
    expect(desktop).to_have_url(re.compile(r"/console/login"))
    expect(desktop.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_form_without_its_token_is_refused(desktop: Page, staff: Any) -> None:
    sign_in(desktop, staff("owner"), to="/console/account")
    sign_out = desktop.locator("form[action='/console/logout']")
    sign_out.locator("input[name=token]").evaluate("input => input.remove()")

    with desktop.expect_response("**/console/logout") as answer:
        sign_out.get_by_role("button", name="Sign out").click()
    assert answer.value.status == 403
    expect(desktop.get_by_role("heading", name="This form has expired")).to_be_visible()

    refused = desktop.request.post("/console/account/two-step/off", form={"token": "forged.x"})
    assert refused.status == 403
    desktop.goto("/console/account")  # nothing happened: still signed in
    expect(desktop.get_by_role("heading", name="Your account")).to_be_visible()


def test_sign_in_and_account_fit_a_phone(phone: Page, staff: Any) -> None:
    phone.goto("/console/login")
    assert_fits(phone)
    sign_in(phone, staff("support"), to="/console/account")
    expect(phone.get_by_role("heading", name="Your account")).to_be_visible()
    assert_fits(phone)
