"""The member portal in a real phone-sized browser (SPEC §10; issue 17): sign in through an SSO
link, see balance and tier, redeem a reward and see the voucher's QR, a double tap redeems once,
change a consent, download my data, delete my account, a used link refused with a clear page;
axe-core finds no serious or critical violation on any page.

Screenshots go to docs/portal/ when PATRON_SCREENSHOTS=1 (docs/portal.md shows them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Live, assert_accessible, assert_fits
from tests.factories import COFFEE, auth

pytestmark = pytest.mark.browser

DOCS = Path(__file__).parent.parent.parent / "docs" / "portal"
PORTAL = "/portal/shop"


def shoot(page: Page, name: str) -> None:
    """docs/portal/NAME.png of the page at phone size, when PATRON_SCREENSHOTS=1."""
    if os.environ.get("PATRON_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or PHONE
    # As tall as the page, so the fixed tab bar sits at the bottom of the picture.
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": max(height, PHONE["height"])})
    page.screenshot(path=str(DOCS / f"{name}.png"), animations="disabled")
    page.set_viewport_size(size)


def mint(web: TestClient, shop: dict[str, str], member: str) -> str:
    made = web.post(
        f"/v1/programs/shop/members/{member}/portal-link",
        json={"return_url": "https://shop.example/account"},
        headers=auth(shop["admin"]),
    )
    assert made.status_code == 201, made.text
    url: str = made.json()["url"]
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def camille(web: TestClient, shop: dict[str, str], store: dict[str, Any]) -> str:
    """Camille of the store, with a welcome bonus and a coffee to choose."""
    member: str = store["C-1001"]["id"]
    headers = auth(shop["admin"])
    assert web.post("/v1/programs/shop/rewards", json=COFFEE, headers=headers).status_code == 201
    bonus = web.post(
        f"/v1/programs/shop/members/{member}/adjustments",
        json={"wallet": "points", "amount": 400, "reason": "Welcome to the new portal"},
        headers=headers,
    )
    assert bonus.status_code == 201, bonus.text
    return member


def available(web: TestClient, shop: dict[str, str], member: str) -> int:
    found = web.get(f"/v1/programs/shop/members/{member}", headers=auth(shop["admin"]))
    return int(found.json()["balances"]["points"]["available"])


def check(page: Page, name: str) -> None:
    assert_accessible(page)
    assert_fits(page, PHONE)
    shoot(page, name)


def test_sign_in_see_balance_redeem_and_show_the_voucher(
    phone: Page, web: TestClient, shop: dict[str, str], camille: str
) -> None:
    phone.goto(mint(web, shop, camille))
    expect(phone.get_by_role("heading", name="Hello, Camille")).to_be_visible()
    expect(phone.get_by_role("heading", name="Balance")).to_be_visible()
    expect(phone.get_by_role("heading", name="Tier")).to_be_visible()
    expect(phone.locator("progress")).to_be_visible()
    check(phone, "home")
    phone.get_by_role("navigation", name="Portal sections").get_by_role(
        "link", name="Rewards"
    ).click()
    expect(phone.get_by_role("heading", name="Rewards", level=1)).to_be_visible()
    expect(phone.get_by_role("heading", name="Vouchers")).to_be_visible()
    check(phone, "rewards")
    before = available(web, shop, camille)
    phone.get_by_role("button", name="Redeem Free coffee").click()
    expect(phone.get_by_role("status")).to_contain_text("Your voucher code")
    expect(phone.locator(".qr svg")).to_be_visible()
    assert available(web, shop, camille) == before - 100
    check(phone, "voucher")
    for tab, heading, name in (
        ("Activity", "Activity", "activity"),
        ("Invite", "Invite friends", "invite"),
        ("Card", "Card", "card"),
        ("Privacy", "Privacy", "privacy"),
    ):
        phone.get_by_role("navigation", name="Portal sections").get_by_role(
            "link", name=tab
        ).click()
        expect(phone.get_by_role("heading", name=heading, level=1)).to_be_visible()
        check(phone, name)


def test_a_double_tap_redeems_once(
    phone: Page, web: TestClient, shop: dict[str, str], camille: str
) -> None:
    phone.goto(mint(web, shop, camille))
    phone.goto(f"{PORTAL}/rewards")
    before = available(web, shop, camille)
    button = phone.get_by_role("button", name="Redeem Free coffee")
    token = phone.locator("form.redeem input[name=token]").first.get_attribute("value")
    button.dblclick()
    expect(phone.get_by_role("status")).to_contain_text("Your voucher code")
    # and the same form sent twice more by hand: still one redemption
    for _ in range(2):
        again = phone.request.post(f"{PORTAL}/rewards/coffee/redeem", form={"token": token or ""})
        assert again.ok
    assert available(web, shop, camille) == before - 100


def test_privacy_consent_download_and_delete(
    phone: Page, web: TestClient, shop: dict[str, str], camille: str, live: Live
) -> None:
    phone.goto(mint(web, shop, camille))
    phone.goto(f"{PORTAL}/privacy")
    sms = phone.get_by_label("SMS")
    expect(sms).not_to_be_checked()
    sms.check()
    phone.get_by_role("button", name="Save my choices").click()
    expect(phone.get_by_role("status")).to_contain_text("Your choices are saved")
    expect(phone.get_by_label("SMS")).to_be_checked()
    member = web.get(f"/v1/programs/shop/members/{camille}", headers=auth(shop["admin"])).json()
    assert member["consents"]["sms"] is True
    with phone.expect_download() as waiting:
        phone.get_by_role("link", name="Download my data").click()
    document = json.loads(Path(waiting.value.path()).read_text(encoding="utf-8"))
    assert document["member"]["id"] == camille
    phone.get_by_role("link", name="Delete my account").click()
    expect(phone.get_by_role("heading", name="Delete your account?")).to_be_visible()
    phone.get_by_label("Type DELETE to confirm").fill("delete")
    phone.get_by_role("button", name="Delete my account for good").click()
    expect(phone.get_by_text("Type DELETE, in capital letters")).to_be_visible()
    check(phone, "delete")
    phone.get_by_label("Type DELETE to confirm").fill("DELETE")
    phone.get_by_role("button", name="Delete my account for good").click()
    expect(phone.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    erased = web.get(f"/v1/programs/shop/members/{camille}", headers=auth(shop["admin"])).json()
    assert erased["status"] == "erased"
    phone.goto(f"{PORTAL}/")
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_used_link_is_refused_with_a_clear_page(
    phone: Page, web: TestClient, shop: dict[str, str], camille: str
) -> None:
    link = mint(web, shop, camille)
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Balance")).to_be_visible()
    phone.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_role("status")).to_contain_text("You are signed out")
    check(phone, "login")
    phone.goto(link)
    expect(phone.get_by_role("heading", name="This link was already used")).to_be_visible()
    expect(phone.get_by_role("button", name="Email me a sign-in link")).to_be_visible()
    check(phone, "link-used")
    phone.get_by_label("Email").fill("camille.laurent@example.com")
    phone.get_by_role("button", name="Email me a sign-in link").click()
    expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()
    check(phone, "link-sent")


def test_a_french_program_speaks_french(phone: Page, web: TestClient, shop: dict[str, str]) -> None:
    from tests.factories import create_program, enrol, program_key
    from tests.support_example import EXAMPLE_CONFIG

    create_program(
        web, shop["platform"], slug="boutique", config={**EXAMPLE_CONFIG, "locale": "fr"}
    )
    key = program_key(web, shop["platform"], program="boutique", role="admin")
    marie = enrol(web, key, program="boutique", first_name="Marie", email="marie@example.fr")
    web.post(
        f"/v1/programs/boutique/members/{marie['id']}/adjustments",
        json={"wallet": "points", "amount": 1234, "reason": "Bienvenue"},
        headers=auth(key),
    )
    made = web.post(
        f"/v1/programs/boutique/members/{marie['id']}/portal-link", json={}, headers=auth(key)
    )
    phone.goto("/" + made.json()["url"].split("/", 3)[3])
    expect(phone.get_by_role("heading", name="Bonjour Marie")).to_be_visible()
    expect(phone.get_by_role("heading", name="Solde")).to_be_visible()
    expect(phone.get_by_role("heading", name="Statut")).to_be_visible()
    check(phone, "home-fr")
